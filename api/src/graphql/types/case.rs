//! Cases: every field is read through the policy document's class for it and the viewer's
//! relationships to the case. A hidden field resolves to null (not an error); every read of a
//! class beyond `BASE` is recorded for the access log.

use async_graphql::{Context, Object, SimpleObject, ID};
use raccordo_entities::{activity, case, case_note, case_phase_change};
use raccordo_policies::{FieldClass, NotesScope};

use super::{agency::Agency, load_agency, network::Project, network::Shelter};
use crate::{
    access::{find_case, CaseAccessInfo},
    domain::{permissions::case_permissions, reads},
    error::{internal, ApiError, ApiResult},
    graphql::{
        enums::{
            AgeGroup, CaseOutcome, CasePhase, DataClass, EmersionChannel, Exploitation, Gender,
            PermitType, Relationship,
        },
        scalars::{Date, DateTime},
        ContextExt,
    },
};

/// A case by id as the viewer sees it; `None` when it does not exist for them.
pub(crate) async fn load_case_for_viewer(
    ctx: &Context<'_>,
    id: &str,
) -> ApiResult<Option<CaseNode>> {
    let state = ctx.state();
    let request = ctx.request();
    let principal = request.require()?;
    let found = find_case(&state.db, &state.policy, principal, id, request.now).await?;
    Ok(found.map(|(row, access)| CaseNode { row, access }))
}

/// A case as one viewer may see it.
#[derive(Clone)]
pub struct CaseNode {
    /// The case as stored.
    pub row: case::Model,
    /// What the viewer may see and do with it.
    pub access: CaseAccessInfo,
}

impl CaseNode {
    /// Asks the policy document which class `field` belongs to and whether the viewer reads it;
    /// records the read. Unclassified fields are never readable.
    fn read(&self, ctx: &Context<'_>, field: &str) -> bool {
        if cfg!(feature = "unenforced-baseline") {
            return true;
        }
        match ctx.state().policy.class_of("Case", field) {
            Some(FieldClass::Case(class)) if self.access.readable.contains(class) => {
                ctx.request()
                    .reads
                    .record(&self.row.id, self.access.rels, class);
                true
            }
            _ => false,
        }
    }

    /// For the contract's non-null fields: a viewer who can see the case always reads them; if the
    /// document ever said otherwise the field fails closed with an error instead of a value.
    fn base(&self, ctx: &Context<'_>, field: &str) -> ApiResult<()> {
        if self.read(ctx, field) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the protocol does not let you read {field}"
            )))
        }
    }

    fn text<'a>(
        &'a self,
        ctx: &Context<'_>,
        field: &str,
        value: &'a Option<String>,
    ) -> Option<&'a str> {
        self.read(ctx, field).then_some(value.as_deref()).flatten()
    }
}

/// Which relationships the viewer has to a case and which classes it can therefore read, so a
/// client can tell "redacted" from "unknown".
#[derive(SimpleObject)]
pub struct CaseAccess {
    /// The viewer's relationships to the case.
    pub relationships: Vec<Relationship>,
    /// The classes of fields the viewer may read.
    pub visible_classes: Vec<DataClass>,
    /// The mutations the viewer may call on this case (`updateCase`, `closeCase`, ...), as the
    /// protocol decides them.
    pub actions: Vec<String>,
    /// The `CasePatch` fields the viewer may set through `updateCase`.
    pub writable_fields: Vec<String>,
}

/// A case (presa in carico) as the viewer may see it: each field is null unless the protocol lets the viewer read its class; `access` says which classes are visible.
#[Object(name = "Case")]
impl CaseNode {
    /// The case's id.
    async fn id(&self, ctx: &Context<'_>) -> ApiResult<ID> {
        self.base(ctx, "id").map(|_| ID(self.row.id.clone()))
    }
    /// Pseudonymous code of the case.
    async fn code(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        self.base(ctx, "code").map(|_| self.row.code.as_str())
    }
    /// The ente that holds the case.
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        self.base(ctx, "owner")?;
        load_agency(ctx, &self.row.owner_id).await
    }
    /// The project the case belongs to.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let Some(id) = self
            .row
            .project_id
            .clone()
            .filter(|_| self.read(ctx, "project"))
        else {
            return Ok(None);
        };
        let row = ctx.loaders().project.load_one(id).await.map_err(internal)?;
        Ok(row.map(Project))
    }
    /// Current phase of the pathway.
    async fn phase(&self, ctx: &Context<'_>) -> ApiResult<CasePhase> {
        self.base(ctx, "phase")?;
        CasePhase::parse(&self.row.phase).ok_or_else(|| internal("unknown phase in the database"))
    }
    /// When the case was opened.
    async fn opened_on(&self, ctx: &Context<'_>) -> ApiResult<Date> {
        self.base(ctx, "openedOn").map(|_| Date(self.row.opened_on))
    }
    /// When the case was closed.
    async fn closed_on(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "closedOn")
            .then_some(self.row.closed_on.map(Date))
            .flatten()
    }
    /// Version for optimistic concurrency: send it back with every change.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        self.base(ctx, "version").map(|_| self.row.version)
    }
    /// The viewer's relationships to the case, the classes it may read, and what it may do.
    async fn access(&self, ctx: &Context<'_>) -> ApiResult<CaseAccess> {
        let principal = ctx.request().require()?;
        let (actions, fields) = case_permissions(
            &ctx.state().policy,
            &principal.viewer(),
            self.access.rels,
            &self.row,
        );
        Ok(CaseAccess {
            relationships: self.access.rels.iter().map(Into::into).collect(),
            visible_classes: self.access.readable.iter().map(Into::into).collect(),
            actions: actions.into_iter().map(str::to_string).collect(),
            writable_fields: fields.into_iter().map(str::to_string).collect(),
        })
    }
    /// Gender (PROFILE).
    async fn gender(&self, ctx: &Context<'_>) -> Option<Gender> {
        self.text(ctx, "gender", &self.row.gender)
            .and_then(Gender::parse)
    }
    /// Adult or minor (PROFILE).
    async fn age_group(&self, ctx: &Context<'_>) -> Option<AgeGroup> {
        self.text(ctx, "ageGroup", &self.row.age_group)
            .and_then(AgeGroup::parse)
    }
    /// Nationality, ISO 3166-1 alpha-2 (PROFILE).
    async fn nationality(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "nationality", &self.row.nationality)
    }
    /// Types of exploitation (PROFILE).
    async fn exploitation(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<Exploitation>>> {
        if !self.read(ctx, "exploitation") {
            return Ok(None);
        }
        let rows = ctx
            .loaders()
            .exploitation
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        Ok(Some(
            rows.unwrap_or_default()
                .iter()
                .filter_map(|r| Exploitation::parse(&r.exploitation))
                .collect(),
        ))
    }
    /// How the person came to light (PROFILE).
    async fn emersion_channel(&self, ctx: &Context<'_>) -> Option<EmersionChannel> {
        self.text(ctx, "emersionChannel", &self.row.emersion_channel)
            .and_then(EmersionChannel::parse)
    }
    /// Province where the person came to light (PROFILE).
    async fn emersion_province(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "emersionProvince", &self.row.emersion_province)
    }
    /// Number of accompanying minors (PROFILE).
    async fn accompanying_minors(&self, ctx: &Context<'_>) -> Option<i32> {
        self.read(ctx, "accompanyingMinors")
            .then_some(self.row.accompanying_minors)
            .flatten()
    }
    /// Whether the person is pregnant (PROFILE).
    async fn pregnant(&self, ctx: &Context<'_>) -> Option<bool> {
        self.read(ctx, "pregnant")
            .then_some(self.row.pregnant)
            .flatten()
    }
    /// Name the person goes by (IDENTITY).
    async fn alias(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "alias", &self.row.alias)
    }
    /// Legal name (IDENTITY).
    async fn legal_name(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "legalName", &self.row.legal_name)
    }
    /// Birth date (IDENTITY).
    async fn birth_date(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "birthDate")
            .then_some(self.row.birth_date.map(Date))
            .flatten()
    }
    /// Telephone (IDENTITY).
    async fn phone(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "phone", &self.row.phone)
    }
    /// The protected shelter where the person lives (LOCATION; the address is secret).
    async fn shelter(&self, ctx: &Context<'_>) -> ApiResult<Option<Shelter>> {
        let Some(id) = self
            .row
            .shelter_id
            .clone()
            .filter(|_| self.read(ctx, "shelter"))
        else {
            return Ok(None);
        };
        let row = ctx.loaders().shelter.load_one(id).await.map_err(internal)?;
        Ok(row.map(Shelter))
    }
    /// Residence permit when the pathway started (LEGAL).
    async fn permit_at_start(&self, ctx: &Context<'_>) -> Option<PermitType> {
        self.text(ctx, "permitAtStart", &self.row.permit_at_start)
            .and_then(PermitType::parse)
    }
    /// Current residence permit (LEGAL).
    async fn permit_current(&self, ctx: &Context<'_>) -> Option<PermitType> {
        self.text(ctx, "permitCurrent", &self.row.permit_current)
            .and_then(PermitType::parse)
    }
    /// When the current permit expires (LEGAL).
    async fn permit_expires_on(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "permitExpiresOn")
            .then_some(self.row.permit_expires_on.map(Date))
            .flatten()
    }
    /// Asylum procedure status (LEGAL).
    async fn asylum_status(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "asylumStatus", &self.row.asylum_status)
    }
    /// Whether a complaint against the exploiters was filed (JUDICIAL).
    async fn complaint_filed(&self, ctx: &Context<'_>) -> Option<bool> {
        self.read(ctx, "complaintFiled")
            .then_some(self.row.complaint_filed)
            .flatten()
    }
    /// When the complaint was filed (JUDICIAL).
    async fn complaint_filed_on(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "complaintFiledOn")
            .then_some(self.row.complaint_filed_on.map(Date))
            .flatten()
    }
    /// Health notes (HEALTH).
    async fn health_notes(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "healthNotes", &self.row.health_notes)
    }
    /// Psychological support (HEALTH).
    async fn psych_support(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "psychSupport", &self.row.psych_support)
    }
    /// Gender-based-violence indicators (GBV).
    async fn gbv_indicators(&self, ctx: &Context<'_>) -> Option<Vec<String>> {
        let text = self.text(ctx, "gbvIndicators", &self.row.gbv_indicators)?;
        serde_json::from_str(text).ok()
    }
    /// Gender-based-violence risk level (GBV).
    async fn gbv_risk_level(&self, ctx: &Context<'_>) -> Option<&str> {
        self.text(ctx, "gbvRiskLevel", &self.row.gbv_risk_level)
    }
    /// Activities of the pathway: courses, internships, work grants, jobs, housing (PATHWAY).
    async fn activities(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<Activity>>> {
        if !self.read(ctx, "activities") {
            return Ok(None);
        }
        let rows = ctx
            .loaders()
            .activities
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        Ok(Some(
            rows.unwrap_or_default().into_iter().map(Activity).collect(),
        ))
    }
    /// How the pathway ended (PATHWAY).
    async fn outcome(&self, ctx: &Context<'_>) -> Option<CaseOutcome> {
        self.text(ctx, "outcome", &self.row.outcome)
            .and_then(CaseOutcome::parse)
    }
    /// When it ended (PATHWAY).
    async fn outcome_on(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "outcomeOn")
            .then_some(self.row.outcome_on.map(Date))
            .flatten()
    }
    /// Phase changes, oldest first (PATHWAY).
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<PhaseChange>>> {
        if !self.read(ctx, "history") {
            return Ok(None);
        }
        let rows = ctx
            .loaders()
            .history
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        Ok(Some(
            rows.unwrap_or_default()
                .into_iter()
                .map(PhaseChange)
                .collect(),
        ))
    }
    /// The case diary (NOTES): all notes for the owner; for joint partners, the notes their
    /// agency wrote and those the owner shared with joint partners.
    async fn notes(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<CaseNote>>> {
        let scope = self.access.notes;
        if scope == NotesScope::None || !self.read(ctx, "notes") {
            return Ok(None);
        }
        let own_agency = ctx
            .request()
            .principal
            .as_ref()
            .and_then(|p| p.agency_id())
            .map(str::to_string);
        let rows = ctx
            .loaders()
            .notes
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        let visible = rows
            .unwrap_or_default()
            .into_iter()
            .filter(|n| reads::note_visible(scope, n, own_agency.as_deref()))
            .map(CaseNote)
            .collect();
        Ok(Some(visible))
    }
}

/// An activity of the pathway.
pub struct Activity(pub activity::Model);

/// An activity of the pathway: a course, an internship, a work grant, a job, housing.
#[Object]
impl Activity {
    /// The activity's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// What kind: `LITERACY_COURSE`, `VOCATIONAL_COURSE`, `INTERNSHIP`, `WORK_GRANT`, `JOB`, `HOUSING`...
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Details (e.g. the contract type of a job).
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// When it started.
    async fn started_on(&self) -> Option<Date> {
        self.0.started_on.map(Date)
    }
    /// When it ended.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
}

/// A note in the case diary.
pub struct CaseNote(pub case_note::Model);

/// A note in the case diary.
#[Object]
impl CaseNote {
    /// The note's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The agency whose operator wrote it.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.author_agency_id).await
    }
    /// When it was written.
    async fn written_at(&self) -> DateTime {
        DateTime(self.0.written_at)
    }
    /// The note.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Whether the owner shared it with joint partners.
    async fn shared_with_joint_partners(&self) -> bool {
        self.0.shared_with_joint_partners
    }
}

/// A change of phase in a case's pathway.
pub struct PhaseChange(pub case_phase_change::Model);

/// A change of phase in a case's pathway.
#[Object]
impl PhaseChange {
    /// When.
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
    /// The phase before (none when the case was opened).
    async fn from(&self) -> Option<CasePhase> {
        self.0.from_phase.as_deref().and_then(CasePhase::parse)
    }
    /// The phase after.
    async fn to(&self) -> Option<CasePhase> {
        CasePhase::parse(&self.0.to_phase)
    }
    /// The agency whose user made the change.
    async fn by(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.agency_id).await
    }
    /// Why (required when going back).
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}
