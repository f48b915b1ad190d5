//! Case work: shelters, opening and changing cases, closing and reopening them, notes.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::{case, case_exploitation, case_note, case_phase_change, project, shelter};
use raccordo_policies::{
    CaseAction, ClassSet, DataClass, FieldClass, Policy, Relationship, RelationshipSet,
};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{
    case_input::{changes, new_case_row, patch_path, touched_fields, value, CaseInput, CasePatch},
    enums::{CaseOutcome, CasePhase, Exploitation},
    log_change, new_id, Change, LogEntry,
};
use crate::{
    access::{CaseAccessInfo, Principal, RequestContext},
    error::{ApiError, ApiResult},
    state::AppState,
    validate,
};

/// The access-log operation of a case opened by an import (the CSV's `importCases`).
pub const CASE_OPERATION: &str = "importCases";

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
fn classes_of(policy: &Policy, fields: &[&str]) -> ClassSet {
    fields
        .iter()
        .filter_map(|f| match policy.class_of("Case", f) {
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
    let set: BTreeSet<&str> = items.iter().map(|e| e.as_str()).collect();
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
    at: DateTime<Utc>,
    case_id: &str,
    from: Option<&str>,
    to: &str,
    reason: Option<String>,
) -> ApiResult<()> {
    case_phase_change::Entity::insert(case_phase_change::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        at: Set(at),
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
pub async fn close_imported<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    now: DateTime<Utc>,
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
        now,
        id,
        Some(CasePhase::ProntoIntervento.as_str()),
        CasePhase::Closed.as_str(),
        Some(format!("closed on {on}, imported from a spreadsheet")),
    )
    .await?;
    log_change(
        db,
        principal,
        LogEntry::case(
            id,
            CASE_OPERATION,
            RelationshipSet::empty().with(Relationship::Owner),
            ClassSet::empty()
                .with(DataClass::Base)
                .with(DataClass::Pathway),
        ),
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
    now: DateTime<Utc>,
    id: &str,
    version: i32,
    mut row: case::ActiveModel,
) -> ApiResult<()> {
    row.updated_at = Set(now);
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
pub async fn open_case<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    owner: &str,
    input: &CaseInput,
    now: DateTime<Utc>,
    operation: &str,
) -> ApiResult<String> {
    let id = new_id();
    let row = new_case_row(input, owner, &id, now)?;
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
    record_phase(db, principal, now, &id, None, input.phase.as_str(), None).await?;
    let rels = RelationshipSet::empty().with(Relationship::Owner);
    log_change(
        db,
        principal,
        LogEntry::case(&id, operation, rels, ClassSet::all()),
    )
    .await?;
    Ok(id)
}

/// Registers a protected shelter of the principal's agency (`createShelter`).
pub async fn create_shelter(
    state: &AppState,
    request: &RequestContext,
    name: &str,
    address: &Option<String>,
    city: &Option<String>,
    province: Option<&str>,
) -> ApiResult<shelter::Model> {
    let (principal, agency) = request.require_agency()?;
    if !state.policy.may_create_case(&principal.viewer()) {
        return Err(ApiError::Forbidden(
            "your agency cannot hold shelters under the protocol".into(),
        ));
    }
    let now = request.now;
    let row = shelter::ActiveModel {
        id: Set(new_id()),
        owner_id: Set(agency.to_string()),
        name: Set(validate::required("name", name)?),
        address: Set(validate::opt_text("address", address)?),
        city: Set(validate::opt_text("city", city)?),
        province: Set(province
            .map(|p| validate::province("province", p))
            .transpose()?),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let change = Change::begin(state, request).await?;
    let model = shelter::Entity::insert(row)
        .exec_with_returning(change.db())
        .await?;
    change.commit().await?;
    Ok(model)
}

/// Opens a case held by the principal's agency (`createCase`). Returns its id.
pub async fn create_case(
    state: &AppState,
    request: &RequestContext,
    input: &CaseInput,
) -> ApiResult<String> {
    let (principal, agency) = request.require_agency()?;
    if !state.policy.may_create_case(&principal.viewer()) {
        return Err(ApiError::Forbidden(
            "your agency or role cannot open cases under the protocol".into(),
        ));
    }
    let change = Change::begin(state, request).await?;
    let id = open_case(
        change.db(),
        principal,
        agency,
        input,
        change.now,
        "createCase",
    )
    .await?;
    change.commit().await?;
    Ok(id)
}

/// Changes fields of a case (`updateCase`) and answers the case as the change left it; `version`
/// must be its current version (else `CONFLICT`).
pub async fn update_case(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    version: i32,
    patch: &CasePatch,
) -> ApiResult<(case::Model, CaseAccessInfo)> {
    let change = Change::begin(state, request).await?;
    let policy = change.policy;
    let viewer = change.viewer();
    let (row, access) = change.visible_case(id).await?;
    for field in touched_fields(patch) {
        if !policy.may(&viewer, access.rels, CaseAction::UpdateField(field)) {
            return Err(ApiError::ForbiddenField {
                field: patch_path(field),
                message: format!(
                    "the protocol does not let your agency change {field} of this case"
                ),
            });
        }
    }
    if !patch.phase.is_undefined() && !policy.may(&viewer, access.rels, CaseAction::ChangePhase) {
        return Err(ApiError::ForbiddenField {
            field: "patch.phase".into(),
            message: "the protocol does not let your agency change this case's phase".into(),
        });
    }
    let mut c = changes(patch)?;
    let mut phase_change = None;
    if let Some(new_phase) = value(&patch.phase, |p| Ok(*p))? {
        let Some(new_phase) = new_phase else {
            return Err(ApiError::validation(
                "patch.phase",
                "a case always has a phase",
            ));
        };
        change.allow(
            policy.may(&viewer, access.rels, CaseAction::ChangePhase),
            "the protocol does not let your agency change this case's phase",
        )?;
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
    let db = change.db();
    if let sea_orm::ActiveValue::Set(Some(shelter)) = &c.row.shelter_id {
        check_shelter(db, "patch.shelterId", shelter, &row.owner_id).await?;
    }
    if let sea_orm::ActiveValue::Set(code) = &c.row.code {
        code_is_free(db, "patch.code", &row.owner_id, code, Some(&row.id)).await?;
    }
    let exploitation = c.exploitation.take();
    let classes = classes_of(policy, &c.fields);
    bump_version(db, change.now, id, version, c.row).await?;
    if let Some(items) = exploitation {
        replace_exploitation(db, id, &items).await?;
    }
    if let Some((from, to, reason)) = phase_change {
        record_phase(
            db,
            change.principal,
            change.now,
            id,
            Some(from.as_str()),
            to.as_str(),
            reason,
        )
        .await?;
    }
    // The answer is the case as this change left it, read in its transaction: read after the
    // commit, it could already show a concurrent update's version.
    let updated = change.visible_case(id).await?;
    change
        .finish(LogEntry::case(id, "updateCase", access.rels, classes))
        .await?;
    Ok(updated)
}

/// Ends a case's pathway with an outcome on day `on` (`closeCase`).
pub async fn close_case(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    version: i32,
    outcome: CaseOutcome,
    on: NaiveDate,
) -> ApiResult<()> {
    let change = Change::begin(state, request).await?;
    let (row, access) = change
        .case(
            id,
            CaseAction::Close,
            "only the agency that holds the case can close it",
        )
        .await?;
    if row.phase == CasePhase::Closed.as_str() {
        return Err(ApiError::validation("id", "the case is already closed"));
    }
    validate::not_future("on", on, change.today())?;
    validate::not_before("on", on, row.opened_on, "the day the case was opened")?;
    let closed = case::ActiveModel {
        phase: Set(CasePhase::Closed.as_str().to_string()),
        closed_on: Set(Some(on)),
        outcome: Set(Some(outcome.as_str().to_string())),
        outcome_on: Set(Some(on)),
        ..Default::default()
    };
    bump_version(change.db(), change.now, id, version, closed).await?;
    record_phase(
        change.db(),
        change.principal,
        change.now,
        id,
        Some(&row.phase),
        CasePhase::Closed.as_str(),
        None,
    )
    .await?;
    let classes = ClassSet::empty()
        .with(DataClass::Base)
        .with(DataClass::Pathway);
    change
        .finish(LogEntry::case(id, "closeCase", access.rels, classes))
        .await
}

/// Reopens a closed case in `phase`, with the reason, recorded in its history (`reopenCase`).
pub async fn reopen_case(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    version: i32,
    phase: CasePhase,
    reason: &str,
) -> ApiResult<()> {
    let change = Change::begin(state, request).await?;
    let (row, access) = change
        .case(
            id,
            CaseAction::ChangePhase,
            "only the agency that holds the case can reopen it",
        )
        .await?;
    if row.phase != CasePhase::Closed.as_str() {
        return Err(ApiError::validation("id", "the case is not closed"));
    }
    if phase == CasePhase::Closed {
        return Err(ApiError::validation("phase", "reopen into an open phase"));
    }
    let reason = validate::required("reason", reason)?;
    let reopened = case::ActiveModel {
        phase: Set(phase.as_str().to_string()),
        closed_on: Set(None),
        outcome: Set(None),
        outcome_on: Set(None),
        ..Default::default()
    };
    bump_version(change.db(), change.now, id, version, reopened).await?;
    record_phase(
        change.db(),
        change.principal,
        change.now,
        id,
        Some(&row.phase),
        phase.as_str(),
        Some(reason),
    )
    .await?;
    let classes = ClassSet::empty()
        .with(DataClass::Base)
        .with(DataClass::Pathway);
    change
        .finish(LogEntry::case(id, "reopenCase", access.rels, classes))
        .await
}

/// Adds a note to the case diary (`addCaseNote`). Only the owner can share a note with joint
/// partners.
pub async fn add_case_note(
    state: &AppState,
    request: &RequestContext,
    case_id: &str,
    text: &str,
    shared_with_joint_partners: Option<bool>,
) -> ApiResult<case_note::Model> {
    let (principal, agency) = request.require_agency()?;
    let change = Change::begin(state, request).await?;
    let (_, access) = change
        .case(
            case_id,
            CaseAction::AddNote,
            "the protocol does not let your agency write in this case's diary",
        )
        .await?;
    let shared = shared_with_joint_partners.unwrap_or(false);
    if shared && !access.rels.contains(Relationship::Owner) {
        return Err(ApiError::validation(
            "sharedWithJointPartners",
            "only the agency that holds the case can share notes with joint partners",
        ));
    }
    let now = change.now;
    let note = case_note::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        author_agency_id: Set(agency.to_string()),
        author_user_id: Set(principal.user_id.clone()),
        written_at: Set(now),
        text: Set(validate::required("text", text)?),
        shared_with_joint_partners: Set(shared),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = case_note::Entity::insert(note)
        .exec_with_returning(change.db())
        .await?;
    let classes = ClassSet::empty().with(DataClass::Notes);
    change
        .finish(LogEntry::case(case_id, "addCaseNote", access.rels, classes))
        .await?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{NaiveDate, Utc};
    use raccordo_entities::{agency, case};
    use raccordo_policies::UserRole;
    use sea_orm::{
        ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
        TransactionTrait,
    };

    use super::open_case;
    use crate::{
        access::Principal,
        db::{connect, migrate, StatementCounter},
        domain::{case_input::CaseInput, enums::CasePhase},
        error::ApiError,
    };

    /// A migrated throw-away database with one ente, and how to drop it.
    async fn database(url: &str) -> (DatabaseConnection, Principal) {
        let db = connect(url, &StatementCounter::default())
            .await
            .expect("connect");
        migrate(&db).await.expect("migrate");
        let now = Utc::now();
        let ente = agency::Model {
            id: "ente".into(),
            name: "Ente".into(),
            kind: "ENTE_ANTITRATTA".into(),
            province: None,
            city: None,
            public_contact: None,
            website: None,
            referral_contact: None,
            notes: None,
            latitude: None,
            longitude: None,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        agency::Entity::insert(agency::ActiveModel::from(ente.clone()))
            .exec_without_returning(&db)
            .await
            .expect("the ente");
        let principal = Principal {
            user_id: "op".into(),
            role: UserRole::Operator,
            agency: Some(ente),
            kind: Some(raccordo_policies::AgencyKind::EnteAntitratta),
        };
        (db, principal)
    }

    fn input() -> CaseInput {
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).expect("a day");
        CaseInput::new("C-1".into(), CasePhase::ProntoIntervento, day)
    }

    /// A unique index refusing a row is `CONFLICT`, not `INTERNAL`: on SQLite (one writer at a
    /// time, so no race) the database refuses a second case with the same owner and code.
    #[tokio::test]
    async fn a_duplicate_row_is_a_conflict() {
        let path = std::env::temp_dir().join(format!("raccordo-dup-{}.db", uuid::Uuid::new_v4()));
        let (db, principal) = database(&format!("sqlite://{}?mode=rwc", path.display())).await;
        let id = open_case(&db, &principal, "ente", &input(), Utc::now(), "createCase")
            .await
            .expect("the first case opens");
        let mut again: case::ActiveModel = case::Entity::find_by_id(id)
            .one(&db)
            .await
            .expect("read")
            .expect("the case")
            .into();
        again.id = Set("another-id".into());
        let err = case::Entity::insert(again)
            .exec_without_returning(&db)
            .await
            .expect_err("the unique index refuses the same code twice");
        let err = ApiError::from(err);
        assert_eq!(err.code(), "CONFLICT", "{err:?}");
        db.close().await.ok();
        let _ = std::fs::remove_file(path);
    }

    /// On PostgreSQL two requests opening a case with the same code race: both find the code
    /// free, the second's insert waits for the first and is refused by the unique index. The
    /// loser is told `CONFLICT`. Skipped without `TEST_DATABASE_URL`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_race_in_opening_a_case_is_a_conflict() {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let name = format!("raccordo_race_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.expect("PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the database");
        let url = format!(
            "{}/{name}",
            &admin_url[..admin_url.rfind('/').expect("a path")]
        );
        let (db, principal) = database(&url).await;
        assert_eq!(db.get_database_backend(), DbBackend::Postgres);
        let first = db.begin().await.expect("begin");
        let second = db.begin().await.expect("begin");
        open_case(
            &first,
            &principal,
            "ente",
            &input(),
            Utc::now(),
            "createCase",
        )
        .await
        .expect("the first request opens the case");
        let loser = principal.clone();
        let race = tokio::spawn(async move {
            open_case(&second, &loser, "ente", &input(), Utc::now(), "createCase").await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.commit().await.expect("commit");
        let err = race
            .await
            .expect("the second request ends")
            .expect_err("the second request is refused");
        assert_eq!(err.code(), "CONFLICT", "{err:?}");
        db.close().await.ok();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
}
