//! Case work: shelters, creating and updating cases, closing them, notes.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, ID};
use chrono::{NaiveDate, Utc};
use raccordo_entities::{case, case_exploitation, case_note, case_phase_change, project, shelter};
use raccordo_policies::{
    CaseAction, ClassSet, DataClass, FieldClass, Relationship, RelationshipSet,
};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{change_entry, new_id};
use crate::{
    access::{self, Principal},
    audit,
    error::{ApiError, ApiResult},
    graphql::{
        enums::{
            AgeGroup, CaseOutcome, CasePhase, EmersionChannel, Exploitation, Gender, PermitType,
        },
        query::load_case_for_viewer,
        scalars::Date,
        types::{
            case::{CaseNode, CaseNote},
            network::Shelter,
        },
        ContextExt,
    },
    state::AppState,
    validate,
};

/// A new case. The owner is the viewer's agency.
#[derive(InputObject)]
pub struct CaseInput {
    /// Pseudonymous code, unique in the hub.
    pub code: String,
    /// Phase the pathway starts in.
    pub phase: CasePhase,
    /// When the case was opened (not in the future).
    pub opened_on: Date,
    /// The project the case belongs to.
    pub project_id: Option<ID>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Adult or minor.
    pub age_group: Option<AgeGroup>,
    /// Nationality, ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
    /// Types of exploitation.
    pub exploitation: Option<Vec<Exploitation>>,
    /// How the person came to light.
    pub emersion_channel: Option<EmersionChannel>,
    /// Province where the person came to light.
    pub emersion_province: Option<String>,
    /// Number of accompanying minors.
    pub accompanying_minors: Option<i32>,
    /// Whether the person is pregnant.
    pub pregnant: Option<bool>,
    /// Name the person goes by.
    pub alias: Option<String>,
    /// Legal name.
    pub legal_name: Option<String>,
    /// Birth date.
    pub birth_date: Option<Date>,
    /// Telephone.
    pub phone: Option<String>,
    /// A shelter of the viewer's agency.
    pub shelter_id: Option<ID>,
    /// Permit at the start.
    pub permit_at_start: Option<PermitType>,
    /// Current permit.
    pub permit_current: Option<PermitType>,
    /// When the current permit expires.
    pub permit_expires_on: Option<Date>,
    /// Asylum procedure status.
    pub asylum_status: Option<String>,
    /// Whether a complaint was filed.
    pub complaint_filed: Option<bool>,
    /// When the complaint was filed.
    pub complaint_filed_on: Option<Date>,
    /// Health notes.
    pub health_notes: Option<String>,
    /// Psychological support.
    pub psych_support: Option<String>,
    /// Gender-based-violence indicators.
    pub gbv_indicators: Option<Vec<String>>,
    /// Gender-based-violence risk level.
    pub gbv_risk_level: Option<String>,
}

impl CaseInput {
    /// A new case with only the required fields; the rest can be set on the value.
    pub fn new(code: String, phase: CasePhase, opened_on: NaiveDate) -> Self {
        CaseInput {
            code,
            phase,
            opened_on: Date(opened_on),
            project_id: None,
            gender: None,
            age_group: None,
            nationality: None,
            exploitation: None,
            emersion_channel: None,
            emersion_province: None,
            accompanying_minors: None,
            pregnant: None,
            alias: None,
            legal_name: None,
            birth_date: None,
            phone: None,
            shelter_id: None,
            permit_at_start: None,
            permit_current: None,
            permit_expires_on: None,
            asylum_status: None,
            complaint_filed: None,
            complaint_filed_on: None,
            health_notes: None,
            psych_support: None,
            gbv_indicators: None,
            gbv_risk_level: None,
        }
    }
}

/// Changes to a case: only the fields present are changed; `null` clears a field.
#[derive(InputObject, Default)]
pub struct CasePatch {
    /// New phase (use `closeCase` to close). Going back needs `phaseReason`.
    pub phase: MaybeUndefined<CasePhase>,
    /// Why the phase goes back (required when it does).
    pub phase_reason: Option<String>,
    /// Nationality, ISO 3166-1 alpha-2.
    pub nationality: MaybeUndefined<String>,
    /// Gender.
    pub gender: MaybeUndefined<Gender>,
    /// Adult or minor.
    pub age_group: MaybeUndefined<AgeGroup>,
    /// Types of exploitation (replaces the list).
    pub exploitation: MaybeUndefined<Vec<Exploitation>>,
    /// How the person came to light.
    pub emersion_channel: MaybeUndefined<EmersionChannel>,
    /// Province where the person came to light.
    pub emersion_province: MaybeUndefined<String>,
    /// Number of accompanying minors.
    pub accompanying_minors: MaybeUndefined<i32>,
    /// Whether the person is pregnant.
    pub pregnant: MaybeUndefined<bool>,
    /// Name the person goes by.
    pub alias: MaybeUndefined<String>,
    /// Legal name.
    pub legal_name: MaybeUndefined<String>,
    /// Birth date.
    pub birth_date: MaybeUndefined<Date>,
    /// Telephone.
    pub phone: MaybeUndefined<String>,
    /// A shelter of the owner's agency.
    pub shelter_id: MaybeUndefined<ID>,
    /// Permit at the start.
    pub permit_at_start: MaybeUndefined<PermitType>,
    /// Current permit.
    pub permit_current: MaybeUndefined<PermitType>,
    /// When the current permit expires.
    pub permit_expires_on: MaybeUndefined<Date>,
    /// Asylum procedure status.
    pub asylum_status: MaybeUndefined<String>,
    /// Whether a complaint was filed.
    pub complaint_filed: MaybeUndefined<bool>,
    /// When the complaint was filed.
    pub complaint_filed_on: MaybeUndefined<Date>,
    /// Health notes.
    pub health_notes: MaybeUndefined<String>,
    /// Psychological support.
    pub psych_support: MaybeUndefined<String>,
    /// Gender-based-violence indicators.
    pub gbv_indicators: MaybeUndefined<Vec<String>>,
    /// Gender-based-violence risk level.
    pub gbv_risk_level: MaybeUndefined<String>,
}

/// Turns a patch into column changes, naming every contract field it touches.
struct Changes {
    row: case::ActiveModel,
    fields: Vec<&'static str>,
    exploitation: Option<Vec<Exploitation>>,
}

fn value<T, U>(
    m: &MaybeUndefined<T>,
    f: impl FnOnce(&T) -> ApiResult<U>,
) -> ApiResult<Option<Option<U>>> {
    match m {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => Ok(Some(Some(f(v)?))),
    }
}

fn text_field(path: &'static str) -> impl Fn(&String) -> ApiResult<String> {
    move |v| validate::text(path, v)
}

macro_rules! patch_field {
    ($changes:ident, $patch:ident . $field:ident, $name:literal, $col:ident, $conv:expr) => {
        if let Some(v) = value(&$patch.$field, $conv)? {
            $changes.row.$col = Set(v);
            $changes.fields.push($name);
        }
    };
}

fn changes(p: &CasePatch) -> ApiResult<Changes> {
    let mut c = Changes {
        row: case::ActiveModel::default(),
        fields: Vec::new(),
        exploitation: None,
    };
    patch_field!(
        c,
        p.nationality,
        "nationality",
        nationality,
        |v: &String| validate::nationality("patch.nationality", v)
    );
    patch_field!(c, p.gender, "gender", gender, |v: &Gender| Ok(v
        .as_str()
        .to_string()));
    patch_field!(c, p.age_group, "ageGroup", age_group, |v: &AgeGroup| Ok(v
        .as_str()
        .to_string()));
    patch_field!(
        c,
        p.emersion_channel,
        "emersionChannel",
        emersion_channel,
        |v: &EmersionChannel| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.emersion_province,
        "emersionProvince",
        emersion_province,
        |v: &String| validate::province("patch.emersionProvince", v)
    );
    patch_field!(
        c,
        p.accompanying_minors,
        "accompanyingMinors",
        accompanying_minors,
        |v: &i32| validate::count("patch.accompanyingMinors", *v)
    );
    patch_field!(c, p.pregnant, "pregnant", pregnant, |v: &bool| Ok(*v));
    patch_field!(c, p.alias, "alias", alias, text_field("patch.alias"));
    patch_field!(
        c,
        p.legal_name,
        "legalName",
        legal_name,
        text_field("patch.legalName")
    );
    patch_field!(c, p.birth_date, "birthDate", birth_date, |v: &Date| Ok(v.0));
    patch_field!(c, p.phone, "phone", phone, text_field("patch.phone"));
    patch_field!(c, p.shelter_id, "shelter", shelter_id, |v: &ID| Ok(
        v.to_string()
    ));
    patch_field!(
        c,
        p.permit_at_start,
        "permitAtStart",
        permit_at_start,
        |v: &PermitType| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.permit_current,
        "permitCurrent",
        permit_current,
        |v: &PermitType| Ok(v.as_str().to_string())
    );
    patch_field!(
        c,
        p.permit_expires_on,
        "permitExpiresOn",
        permit_expires_on,
        |v: &Date| Ok(v.0)
    );
    patch_field!(
        c,
        p.asylum_status,
        "asylumStatus",
        asylum_status,
        text_field("patch.asylumStatus")
    );
    patch_field!(
        c,
        p.complaint_filed,
        "complaintFiled",
        complaint_filed,
        |v: &bool| Ok(*v)
    );
    patch_field!(
        c,
        p.complaint_filed_on,
        "complaintFiledOn",
        complaint_filed_on,
        |v: &Date| Ok(v.0)
    );
    patch_field!(
        c,
        p.health_notes,
        "healthNotes",
        health_notes,
        text_field("patch.healthNotes")
    );
    patch_field!(
        c,
        p.psych_support,
        "psychSupport",
        psych_support,
        text_field("patch.psychSupport")
    );
    patch_field!(
        c,
        p.gbv_indicators,
        "gbvIndicators",
        gbv_indicators,
        |v: &Vec<String>| gbv_json("patch.gbvIndicators", v)
    );
    patch_field!(
        c,
        p.gbv_risk_level,
        "gbvRiskLevel",
        gbv_risk_level,
        text_field("patch.gbvRiskLevel")
    );
    match &p.exploitation {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            c.exploitation = Some(Vec::new());
            c.fields.push("exploitation");
        }
        MaybeUndefined::Value(v) => {
            c.exploitation = Some(v.clone());
            c.fields.push("exploitation");
        }
    }
    Ok(c)
}

fn gbv_json(path: &str, items: &[String]) -> ApiResult<String> {
    for i in items {
        validate::text(path, i)?;
    }
    serde_json::to_string(items).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Where a phase sits on the pathway, to tell forward from back.
fn phase_rank(p: CasePhase) -> u8 {
    match p {
        CasePhase::ProntoIntervento => 0,
        CasePhase::PrimaAccoglienza => 1,
        CasePhase::SecondaAccoglienza => 2,
        CasePhase::PresaInCaricoTerritoriale => 3,
        CasePhase::Closed => 4,
    }
}

/// The classes a set of contract fields belongs to, per the policy document.
fn classes_of(state: &AppState, fields: &[&str]) -> ClassSet {
    fields
        .iter()
        .filter_map(|f| match state.policy.class_of("Case", f) {
            Some(FieldClass::Case(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// A shelter id must name a shelter of the case owner's agency; anything else is unknown.
async fn check_shelter<C: ConnectionTrait>(
    db: &C,
    path: &str,
    id: &str,
    owner: &str,
) -> ApiResult<()> {
    let found = shelter::Entity::find_by_id(id.to_string())
        .filter(shelter::Column::OwnerId.eq(owner))
        .one(db)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::validation(path, "names a shelter your agency does not have"))
}

async fn replace_exploitation<C: ConnectionTrait>(
    db: &C,
    case_id: &str,
    items: &[Exploitation],
) -> ApiResult<()> {
    case_exploitation::Entity::delete_many()
        .filter(case_exploitation::Column::CaseId.eq(case_id))
        .exec(db)
        .await?;
    let set: std::collections::BTreeSet<&str> = items.iter().map(|e| e.as_str()).collect();
    let rows: Vec<case_exploitation::ActiveModel> = set
        .into_iter()
        .map(|e| case_exploitation::ActiveModel {
            case_id: Set(case_id.to_string()),
            exploitation: Set(e.to_string()),
        })
        .collect();
    if !rows.is_empty() {
        case_exploitation::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn record_phase<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    case_id: &str,
    from: Option<&str>,
    to: &str,
    reason: Option<String>,
) -> ApiResult<()> {
    case_phase_change::Entity::insert(case_phase_change::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        at: Set(Utc::now()),
        user_id: Set(principal.user_id.clone()),
        agency_id: Set(principal.agency_id().unwrap_or_default().to_string()),
        from_phase: Set(from.map(str::to_string)),
        to_phase: Set(to.to_string()),
        reason: Set(reason),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Bumps the version if it still is `version`; otherwise `CONFLICT` with the current one.
async fn bump_version<C: ConnectionTrait>(
    db: &C,
    id: &str,
    version: i32,
    mut row: case::ActiveModel,
) -> ApiResult<()> {
    row.updated_at = Set(Utc::now());
    let result = case::Entity::update_many()
        .set(row)
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .filter(case::Column::Id.eq(id))
        .filter(case::Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        return Ok(());
    }
    let current = case::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .map(|c| c.version)
        .unwrap_or(version);
    Err(ApiError::Conflict {
        current_version: current,
    })
}

/// Validates a new case and builds its row; every failure names `input.<field>`.
fn new_case_row(
    input: &CaseInput,
    owner: &str,
    id: &str,
    today: NaiveDate,
) -> ApiResult<case::ActiveModel> {
    let code = validate::required("input.code", &input.code)?;
    validate::not_future("input.openedOn", input.opened_on.0, today)?;
    if input.phase == CasePhase::Closed {
        return Err(ApiError::validation(
            "input.phase",
            "a case cannot start closed",
        ));
    }
    let now = Utc::now();
    Ok(case::ActiveModel {
        id: Set(id.to_string()),
        code: Set(code),
        owner_id: Set(owner.to_string()),
        project_id: Set(input.project_id.as_ref().map(|p| p.to_string())),
        phase: Set(input.phase.as_str().to_string()),
        opened_on: Set(input.opened_on.0),
        closed_on: Set(None),
        version: Set(1),
        gender: Set(input.gender.map(|g| g.as_str().to_string())),
        age_group: Set(input.age_group.map(|g| g.as_str().to_string())),
        nationality: Set(input
            .nationality
            .as_deref()
            .map(|n| validate::nationality("input.nationality", n))
            .transpose()?),
        emersion_channel: Set(input.emersion_channel.map(|g| g.as_str().to_string())),
        emersion_province: Set(input
            .emersion_province
            .as_deref()
            .map(|p| validate::province("input.emersionProvince", p))
            .transpose()?),
        accompanying_minors: Set(input
            .accompanying_minors
            .map(|n| validate::count("input.accompanyingMinors", n))
            .transpose()?),
        pregnant: Set(input.pregnant),
        alias: Set(validate::opt_text("input.alias", &input.alias)?),
        legal_name: Set(validate::opt_text("input.legalName", &input.legal_name)?),
        birth_date: Set(input
            .birth_date
            .map(|d| validate::not_future("input.birthDate", d.0, today))
            .transpose()?),
        phone: Set(validate::opt_text("input.phone", &input.phone)?),
        shelter_id: Set(input.shelter_id.as_ref().map(|s| s.to_string())),
        permit_at_start: Set(input.permit_at_start.map(|g| g.as_str().to_string())),
        permit_current: Set(input.permit_current.map(|g| g.as_str().to_string())),
        permit_expires_on: Set(input.permit_expires_on.map(|d| d.0)),
        asylum_status: Set(validate::opt_text(
            "input.asylumStatus",
            &input.asylum_status,
        )?),
        complaint_filed: Set(input.complaint_filed),
        complaint_filed_on: Set(input
            .complaint_filed_on
            .map(|d| validate::not_future("input.complaintFiledOn", d.0, today))
            .transpose()?),
        health_notes: Set(validate::opt_text(
            "input.healthNotes",
            &input.health_notes,
        )?),
        psych_support: Set(validate::opt_text(
            "input.psychSupport",
            &input.psych_support,
        )?),
        gbv_indicators: Set(input
            .gbv_indicators
            .as_deref()
            .map(|g| gbv_json("input.gbvIndicators", g))
            .transpose()?),
        gbv_risk_level: Set(validate::opt_text(
            "input.gbvRiskLevel",
            &input.gbv_risk_level,
        )?),
        outcome: Set(None),
        outcome_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// Opens a case held by `owner` in the caller's transaction: validates the input, checks its
/// references (project, a shelter of the owner, a code not yet used), writes the case, its
/// exploitation types, the first entry of its history and the access-log entry. Returns its id.
pub(crate) async fn open_case<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    owner: &str,
    input: &CaseInput,
    today: NaiveDate,
    operation: &str,
) -> ApiResult<String> {
    let id = new_id();
    let row = new_case_row(input, owner, &id, today)?;
    if let Some(p) = &input.project_id {
        if project::Entity::find_by_id(p.to_string())
            .one(db)
            .await?
            .is_none()
        {
            return Err(ApiError::validation(
                "input.projectId",
                "names a project the hub does not know",
            ));
        }
    }
    if let Some(s) = &input.shelter_id {
        check_shelter(db, "input.shelterId", s, owner).await?;
    }
    if case::Entity::find()
        .filter(case::Column::Code.eq(input.code.trim()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(ApiError::validation(
            "input.code",
            "this code is already used by a case in the hub",
        ));
    }
    case::Entity::insert(row).exec_without_returning(db).await?;
    replace_exploitation(db, &id, input.exploitation.as_deref().unwrap_or_default()).await?;
    record_phase(db, principal, &id, None, input.phase.as_str(), None).await?;
    let rels = RelationshipSet::empty().with(Relationship::Owner);
    audit::append(
        db,
        vec![change_entry(
            principal,
            Some(&id),
            operation,
            rels,
            ClassSet::all(),
            None,
        )],
    )
    .await?;
    Ok(id)
}

/// After a committed change, the case as the viewer now sees it.
async fn reload(ctx: &Context<'_>, id: &str) -> ApiResult<CaseNode> {
    load_case_for_viewer(ctx, id)
        .await?
        .ok_or(ApiError::NotFound("case"))
}

#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Registers a protected shelter of the viewer's agency. Its address is secret.
    async fn create_shelter(
        &self,
        ctx: &Context<'_>,
        name: String,
        address: Option<String>,
        city: Option<String>,
        province: Option<String>,
    ) -> ApiResult<Shelter> {
        let (principal, agency) = ctx.request().require_agency()?;
        let state = ctx.state();
        if !state.policy.may_create_case(&principal.viewer()) {
            return Err(ApiError::Forbidden(
                "your agency cannot hold shelters under the protocol".into(),
            ));
        }
        let now = Utc::now();
        let row = shelter::ActiveModel {
            id: Set(new_id()),
            owner_id: Set(agency.to_string()),
            name: Set(validate::required("name", &name)?),
            address: Set(validate::opt_text("address", &address)?),
            city: Set(validate::opt_text("city", &city)?),
            province: Set(province
                .as_deref()
                .map(|p| validate::province("province", p))
                .transpose()?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let w = state.write().await?;
        let model = shelter::Entity::insert(row)
            .exec_with_returning(&w.txn)
            .await?;
        w.commit().await?;
        Ok(Shelter(model))
    }

    /// Opens a case held by the viewer's agency.
    async fn create_case(&self, ctx: &Context<'_>, input: CaseInput) -> ApiResult<CaseNode> {
        let request = ctx.request();
        let (principal, agency) = request.require_agency()?;
        let state = ctx.state();
        if !state.policy.may_create_case(&principal.viewer()) {
            return Err(ApiError::Forbidden(
                "your agency or role cannot open cases under the protocol".into(),
            ));
        }
        let w = state.write().await?;
        let id = open_case(
            &w.txn,
            principal,
            agency,
            &input,
            request.today(),
            "createCase",
        )
        .await?;
        w.commit().await?;
        reload(ctx, &id).await
    }

    /// Changes fields of a case. `version` must be the case's current version (else `CONFLICT`).
    async fn update_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        patch: CasePatch,
    ) -> ApiResult<CaseNode> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let viewer = principal.viewer();
        let w = state.write().await?;
        let (row, access) =
            access::require_case(&w.txn, &state.policy, principal, &id, request.now).await?;
        let mut c = changes(&patch)?;
        for field in &c.fields {
            if !state
                .policy
                .may(&viewer, access.rels, CaseAction::UpdateField(field))
            {
                return Err(ApiError::Forbidden(format!(
                    "the protocol does not let your agency change {field} of this case"
                )));
            }
        }
        let mut phase_change = None;
        if let Some(new_phase) = value(&patch.phase, |p| Ok(*p))? {
            let Some(new_phase) = new_phase else {
                return Err(ApiError::validation(
                    "patch.phase",
                    "a case always has a phase",
                ));
            };
            if !state
                .policy
                .may(&viewer, access.rels, CaseAction::ChangePhase)
            {
                return Err(ApiError::Forbidden(
                    "the protocol does not let your agency change this case's phase".into(),
                ));
            }
            let current = CasePhase::parse(&row.phase)
                .ok_or_else(|| ApiError::Internal("unknown phase".into()))?;
            if current == CasePhase::Closed {
                return Err(ApiError::validation(
                    "patch.phase",
                    "the case is closed; reopen it first",
                ));
            }
            if new_phase == CasePhase::Closed {
                return Err(ApiError::validation(
                    "patch.phase",
                    "use closeCase to close a case, with its outcome",
                ));
            }
            let reason = validate::opt_text("patch.phaseReason", &patch.phase_reason)?;
            if phase_rank(new_phase) < phase_rank(current)
                && reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(ApiError::validation(
                    "patch.phaseReason",
                    "going back to an earlier phase needs a reason",
                ));
            }
            if new_phase != current {
                c.row.phase = Set(new_phase.as_str().to_string());
                c.fields.push("phase");
                phase_change = Some((current, new_phase, reason));
            }
        }
        if c.fields.is_empty() {
            return Err(ApiError::validation("patch", "the patch changes nothing"));
        }
        if let sea_orm::ActiveValue::Set(Some(shelter)) = &c.row.shelter_id {
            check_shelter(&w.txn, "patch.shelterId", shelter, &row.owner_id).await?;
        }
        let exploitation = c.exploitation.take();
        let classes = classes_of(state, &c.fields);
        bump_version(&w.txn, &id, version, c.row).await?;
        if let Some(items) = exploitation {
            replace_exploitation(&w.txn, &id, &items).await?;
        }
        if let Some((from, to, reason)) = phase_change {
            record_phase(
                &w.txn,
                principal,
                &id,
                Some(from.as_str()),
                to.as_str(),
                reason,
            )
            .await?;
        }
        audit::append(
            &w.txn,
            vec![change_entry(
                principal,
                Some(&id),
                "updateCase",
                access.rels,
                classes,
                None,
            )],
        )
        .await?;
        w.commit().await?;
        reload(ctx, &id).await
    }

    /// Ends a case's pathway with an outcome.
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        outcome: CaseOutcome,
        on: Date,
    ) -> ApiResult<CaseNode> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let (row, access) =
            access::require_case(&w.txn, &state.policy, principal, &id, request.now).await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::Close)
        {
            return Err(ApiError::Forbidden(
                "only the agency that holds the case can close it".into(),
            ));
        }
        if row.phase == CasePhase::Closed.as_str() {
            return Err(ApiError::validation("id", "the case is already closed"));
        }
        validate::not_future("on", on.0, request.today())?;
        validate::not_before("on", on.0, row.opened_on, "the day the case was opened")?;
        let change = case::ActiveModel {
            phase: Set(CasePhase::Closed.as_str().to_string()),
            closed_on: Set(Some(on.0)),
            outcome: Set(Some(outcome.as_str().to_string())),
            outcome_on: Set(Some(on.0)),
            ..Default::default()
        };
        bump_version(&w.txn, &id, version, change).await?;
        record_phase(
            &w.txn,
            principal,
            &id,
            Some(&row.phase),
            CasePhase::Closed.as_str(),
            None,
        )
        .await?;
        let classes = ClassSet::empty()
            .with(DataClass::Base)
            .with(DataClass::Pathway);
        audit::append(
            &w.txn,
            vec![change_entry(
                principal,
                Some(&id),
                "closeCase",
                access.rels,
                classes,
                None,
            )],
        )
        .await?;
        w.commit().await?;
        reload(ctx, &id).await
    }

    /// Reopens a closed case in a phase, with the reason; the reopening is recorded in its history.
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        phase: CasePhase,
        reason: String,
    ) -> ApiResult<CaseNode> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let (row, access) =
            access::require_case(&w.txn, &state.policy, principal, &id, request.now).await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::ChangePhase)
        {
            return Err(ApiError::Forbidden(
                "only the agency that holds the case can reopen it".into(),
            ));
        }
        if row.phase != CasePhase::Closed.as_str() {
            return Err(ApiError::validation("id", "the case is not closed"));
        }
        if phase == CasePhase::Closed {
            return Err(ApiError::validation("phase", "reopen into an open phase"));
        }
        let reason = validate::required("reason", &reason)?;
        let change = case::ActiveModel {
            phase: Set(phase.as_str().to_string()),
            closed_on: Set(None),
            outcome: Set(None),
            outcome_on: Set(None),
            ..Default::default()
        };
        bump_version(&w.txn, &id, version, change).await?;
        record_phase(
            &w.txn,
            principal,
            &id,
            Some(&row.phase),
            phase.as_str(),
            Some(reason),
        )
        .await?;
        let classes = ClassSet::empty()
            .with(DataClass::Base)
            .with(DataClass::Pathway);
        audit::append(
            &w.txn,
            vec![change_entry(
                principal,
                Some(&id),
                "reopenCase",
                access.rels,
                classes,
                None,
            )],
        )
        .await?;
        w.commit().await?;
        reload(ctx, &id).await
    }

    /// Adds a note to the case diary. Only the owner can share a note with joint partners.
    async fn add_case_note(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        text: String,
        shared_with_joint_partners: Option<bool>,
    ) -> ApiResult<CaseNote> {
        let request = ctx.request();
        let (principal, agency) = request.require_agency()?;
        let state = ctx.state();
        let w = state.write().await?;
        let (_, access) =
            access::require_case(&w.txn, &state.policy, principal, &case_id, request.now).await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::AddNote)
        {
            return Err(ApiError::Forbidden(
                "the protocol does not let your agency write in this case's diary".into(),
            ));
        }
        let shared = shared_with_joint_partners.unwrap_or(false);
        if shared && !access.rels.contains(Relationship::Owner) {
            return Err(ApiError::validation(
                "sharedWithJointPartners",
                "only the agency that holds the case can share notes with joint partners",
            ));
        }
        let now = Utc::now();
        let note = case_note::ActiveModel {
            id: Set(new_id()),
            case_id: Set(case_id.to_string()),
            author_agency_id: Set(agency.to_string()),
            author_user_id: Set(principal.user_id.clone()),
            written_at: Set(now),
            text: Set(validate::required("text", &text)?),
            shared_with_joint_partners: Set(shared),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let model = case_note::Entity::insert(note)
            .exec_with_returning(&w.txn)
            .await?;
        let classes = ClassSet::empty().with(DataClass::Notes);
        audit::append(
            &w.txn,
            vec![change_entry(
                principal,
                Some(&case_id),
                "addCaseNote",
                access.rels,
                classes,
                None,
            )],
        )
        .await?;
        w.commit().await?;
        Ok(CaseNote(model))
    }
}
