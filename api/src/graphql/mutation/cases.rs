//! Case work: shelters, creating and updating cases, closing them, notes.

use async_graphql::{Context, Object, ID};
use chrono::{NaiveDate, Utc};
use raccordo_entities::{case, case_exploitation, case_note, case_phase_change, project, shelter};
use raccordo_policies::{
    CaseAction, ClassSet, DataClass, FieldClass, Relationship, RelationshipSet,
};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

pub use super::case_input::{CaseInput, CasePatch};
use super::{
    case_input::{changes, new_case_row, patch_path, touched_fields, value},
    log_change, new_id,
};
use crate::{
    access::{self, Principal},
    error::{ApiError, ApiResult},
    graphql::{
        enums::{CaseOutcome, CasePhase, Exploitation},
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

/// Closes a case an import has just opened in its first phase, as `closeCase` would: phase,
/// day, outcome, the closure in its history, and the access-log entry of the change.
pub(crate) async fn close_imported<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    id: &str,
    on: NaiveDate,
    outcome: CaseOutcome,
) -> ApiResult<()> {
    case::Entity::update_many()
        .col_expr(case::Column::Phase, Expr::value(CasePhase::Closed.as_str()))
        .col_expr(case::Column::ClosedOn, Expr::value(Some(on)))
        .col_expr(case::Column::Outcome, Expr::value(Some(outcome.as_str())))
        .col_expr(case::Column::OutcomeOn, Expr::value(Some(on)))
        .filter(case::Column::Id.eq(id))
        .exec(db)
        .await?;
    record_phase(
        db,
        principal,
        id,
        Some(CasePhase::ProntoIntervento.as_str()),
        CasePhase::Closed.as_str(),
        Some(format!("closed on {on}, imported from a spreadsheet")),
    )
    .await?;
    log_change(
        db,
        principal,
        Some(id),
        crate::import::CASE_OPERATION,
        RelationshipSet::empty().with(Relationship::Owner),
        ClassSet::empty()
            .with(DataClass::Base)
            .with(DataClass::Pathway),
        None,
    )
    .await
}

/// Codes are the holding agency's own: unique per owner, so no ente learns another's codes.
/// `except` is the case being renamed (its own code is no clash).
async fn code_is_free<C: ConnectionTrait>(
    db: &C,
    field: &str,
    owner: &str,
    code: &str,
    except: Option<&str>,
) -> ApiResult<()> {
    let mut taken = case::Entity::find()
        .filter(case::Column::OwnerId.eq(owner))
        .filter(case::Column::Code.eq(code));
    if let Some(id) = except {
        taken = taken.filter(case::Column::Id.ne(id));
    }
    if taken.one(db).await?.is_some() {
        return Err(ApiError::validation(
            field,
            "your agency already holds a case with this code",
        ));
    }
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
    code_is_free(db, "input.code", owner, input.code.trim(), None).await?;
    case::Entity::insert(row).exec_without_returning(db).await?;
    replace_exploitation(db, &id, input.exploitation.as_deref().unwrap_or_default()).await?;
    record_phase(db, principal, &id, None, input.phase.as_str(), None).await?;
    let rels = RelationshipSet::empty().with(Relationship::Owner);
    log_change(
        db,
        principal,
        Some(&id),
        operation,
        rels,
        ClassSet::all(),
        None,
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
            .exec_with_returning(w.txn())
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
            w.txn(),
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
            access::require_case(w.txn(), &state.policy, principal, &id, request.now).await?;
        for field in touched_fields(&patch) {
            if !state
                .policy
                .may(&viewer, access.rels, CaseAction::UpdateField(field))
            {
                return Err(ApiError::ForbiddenField {
                    field: patch_path(field),
                    message: format!(
                        "the protocol does not let your agency change {field} of this case"
                    ),
                });
            }
        }
        if !patch.phase.is_undefined()
            && !state
                .policy
                .may(&viewer, access.rels, CaseAction::ChangePhase)
        {
            return Err(ApiError::ForbiddenField {
                field: "patch.phase".into(),
                message: "the protocol does not let your agency change this case's phase".into(),
            });
        }
        let mut c = changes(&patch)?;
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
            check_shelter(w.txn(), "patch.shelterId", shelter, &row.owner_id).await?;
        }
        if let sea_orm::ActiveValue::Set(code) = &c.row.code {
            code_is_free(w.txn(), "patch.code", &row.owner_id, code, Some(&row.id)).await?;
        }
        let exploitation = c.exploitation.take();
        let classes = classes_of(state, &c.fields);
        bump_version(w.txn(), &id, version, c.row).await?;
        if let Some(items) = exploitation {
            replace_exploitation(w.txn(), &id, &items).await?;
        }
        if let Some((from, to, reason)) = phase_change {
            record_phase(
                w.txn(),
                principal,
                &id,
                Some(from.as_str()),
                to.as_str(),
                reason,
            )
            .await?;
        }
        log_change(
            w.txn(),
            principal,
            Some(&id),
            "updateCase",
            access.rels,
            classes,
            None,
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
            access::require_case(w.txn(), &state.policy, principal, &id, request.now).await?;
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
        bump_version(w.txn(), &id, version, change).await?;
        record_phase(
            w.txn(),
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
        log_change(
            w.txn(),
            principal,
            Some(&id),
            "closeCase",
            access.rels,
            classes,
            None,
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
            access::require_case(w.txn(), &state.policy, principal, &id, request.now).await?;
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
        bump_version(w.txn(), &id, version, change).await?;
        record_phase(
            w.txn(),
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
        log_change(
            w.txn(),
            principal,
            Some(&id),
            "reopenCase",
            access.rels,
            classes,
            None,
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
            access::require_case(w.txn(), &state.policy, principal, &case_id, request.now).await?;
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
            .exec_with_returning(w.txn())
            .await?;
        let classes = ClassSet::empty().with(DataClass::Notes);
        log_change(
            w.txn(),
            principal,
            Some(&case_id),
            "addCaseNote",
            access.rels,
            classes,
            None,
        )
        .await?;
        w.commit().await?;
        Ok(CaseNote(model))
    }
}
