//! Loads the demo network and its synthetic cases and referrals into an empty database,
//! in one transaction. Ids are derived from the demo's own keys, so the same seed gives the
//! same rows every time.

use super::ids::demo_id;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use raccordo_entities::{
    agency, case, case_exploitation, case_phase_change, collaboration, network, network_member,
    project, project_ente, project_indicator, protocol, protocol_signatory, referral,
    referral_interview, shelter,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryOrder, QuerySelect, TransactionTrait,
};

use super::synth::{self, DemoCase, DemoNetwork, DemoReferral};
use crate::error::{ApiError, ApiResult};

/// The demo network (agencies, networks, protocols, collaborations, projects, shelters).
pub const NETWORK_TOML: &str = include_str!("../../demo/network.toml");
/// The report's tables the synthetic cases and referrals are built to match.
pub const CASES_TOML: &str = include_str!("../../demo/cases.toml");

/// Rows per INSERT: well under every backend's limit on bound parameters.
const CHUNK: usize = 50;

fn at(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN))
        .and_utc()
}

async fn insert_chunks<C, A>(db: &C, rows: Vec<A>) -> ApiResult<()>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn setup(e: String) -> ApiError {
    ApiError::Setup(format!("demo data: {e}"))
}

/// Loads the demo into an empty database. `Ok(false)` when the database already has agencies.
pub async fn seed_demo(db: &DatabaseConnection) -> ApiResult<bool> {
    if agency::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let network = synth::network(NETWORK_TOML).map_err(setup)?;
    let cases = synth::cases(&network, CASES_TOML).map_err(setup)?;
    let referrals = synth::referrals(&network, CASES_TOML).map_err(setup)?;
    let period_start = synth::expected(CASES_TOML).map_err(setup)?.period_start;
    let txn = db.begin().await?;
    // Two hubs started with --demo on one empty PostgreSQL database: the second waits for the
    // first's load, then finds the database loaded (without the lock it failed on a duplicate key).
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(727274003)")
            .await?;
        if agency::Entity::find().count(&txn).await? > 0 {
            return Ok(false);
        }
    }
    load_network(&txn, &network).await?;
    load_cases(&txn, &cases).await?;
    load_referrals(&txn, &referrals, period_start).await?;
    super::places::load(&txn, Utc::now()).await?;
    txn.commit().await?;
    Ok(true)
}

/// Agency ids and kinds, sorted by id (for the demo's tokens).
pub async fn agency_ids(db: &DatabaseConnection) -> ApiResult<Vec<(String, String)>> {
    Ok(agency::Entity::find()
        .select_only()
        .column(agency::Column::Id)
        .column(agency::Column::Kind)
        .order_by_asc(agency::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

async fn load_network<C: ConnectionTrait>(db: &C, n: &DemoNetwork) -> ApiResult<()> {
    let now = Utc::now();
    insert_chunks(
        db,
        n.agencies
            .iter()
            .map(|a| agency::ActiveModel {
                id: Set(a.id.clone()),
                name: Set(a.name.clone()),
                kind: Set(a.kind.to_string()),
                province: Set(a.province.clone()),
                city: Set(a.city.clone()),
                public_contact: Set(a.public_contact.clone()),
                website: Set(a.website.clone()),
                referral_contact: Set(a.referral_contact.clone()),
                notes: Set(None),
                latitude: Set(a.latitude),
                longitude: Set(a.longitude),
                disabled: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.networks
            .iter()
            .map(|g| network::ActiveModel {
                id: Set(g.id.clone()),
                name: Set(g.name.clone()),
                province: Set(g.province.clone()),
                lead_id: Set(g.lead.clone()),
                municipalities: Set(g.municipalities.map(|m| m as i32)),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.networks
            .iter()
            .flat_map(|g| {
                g.members.iter().map(|m| network_member::ActiveModel {
                    network_id: Set(g.id.clone()),
                    agency_id: Set(m.clone()),
                })
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.protocols
            .iter()
            .map(|p| protocol::ActiveModel {
                id: Set(p.id.clone()),
                title: Set(p.title.clone()),
                signed_on: Set(p.signed_on),
                policy_version: Set(p.policy_version.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.protocols
            .iter()
            .flat_map(|p| {
                p.signatories
                    .iter()
                    .map(|s| protocol_signatory::ActiveModel {
                        protocol_id: Set(p.id.clone()),
                        agency_id: Set(s.clone()),
                    })
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.collaborations
            .iter()
            .map(|c| collaboration::ActiveModel {
                id: Set(c.id.clone()),
                kind: Set(c.kind.clone()),
                from_id: Set(c.from.clone()),
                to_id: Set(c.to.clone()),
                since: Set(c.since),
                weight: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.projects
            .iter()
            .map(|p| project::ActiveModel {
                id: Set(p.id.clone()),
                name: Set(p.name.clone()),
                coordinator_id: Set(p.coordinator.clone()),
                starts_on: Set(p.starts_on),
                ends_on: Set(p.ends_on),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.projects
            .iter()
            .flat_map(|p| {
                p.enti.iter().map(|e| project_ente::ActiveModel {
                    project_id: Set(p.id.clone()),
                    agency_id: Set(e.clone()),
                })
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.projects
            .iter()
            .flat_map(|p| {
                p.indicators.iter().map(|i| project_indicator::ActiveModel {
                    id: Set(demo_id("indicator", &format!("{}:{}", p.id, i.key))),
                    project_id: Set(p.id.clone()),
                    key: Set(i.key.clone()),
                    label: Set(i.label.clone()),
                    expected: Set(i64::from(i.expected)),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        n.shelters
            .iter()
            .map(|s| shelter::ActiveModel {
                id: Set(s.id.clone()),
                owner_id: Set(s.owner.clone()),
                name: Set(s.name.clone()),
                address: Set(Some(s.address.clone())),
                city: Set(Some(s.city.clone())),
                province: Set(n.agency(&s.owner).and_then(|a| a.province.clone())),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    Ok(())
}

async fn load_cases<C: ConnectionTrait>(db: &C, cases: &[DemoCase]) -> ApiResult<()> {
    let now = Utc::now();
    let id = |c: &DemoCase| demo_id("case", &c.code);
    insert_chunks(
        db,
        cases
            .iter()
            .map(|c| case::ActiveModel {
                id: Set(id(c)),
                code: Set(c.code.clone()),
                owner_id: Set(c.owner.clone()),
                project_id: Set(Some(c.project.clone())),
                phase: Set(c.phase.to_string()),
                opened_on: Set(c.opened_on),
                closed_on: Set(c.closed_on),
                version: Set(1),
                gender: Set(Some(c.gender.to_string())),
                age_group: Set(Some(c.age_group.to_string())),
                nationality: Set(Some(c.nationality.clone())),
                emersion_channel: Set(Some(c.emersion_channel.to_string())),
                emersion_province: Set(Some(c.emersion_province.clone())),
                accompanying_minors: Set(Some(c.accompanying_minors as i32)),
                pregnant: Set(Some(c.pregnant)),
                alias: Set(Some(c.alias.clone())),
                legal_name: Set(None),
                birth_date: Set(None),
                phone: Set(None),
                shelter_id: Set(c.shelter.clone()),
                permit_at_start: Set(Some(c.permit_at_start.to_string())),
                permit_current: Set(Some(c.permit_current.to_string())),
                permit_expires_on: Set(None),
                asylum_status: Set(None),
                complaint_filed: Set(Some(c.complaint_filed)),
                complaint_filed_on: Set(c.complaint_filed_on),
                health_notes: Set(None),
                psych_support: Set(None),
                gbv_indicators: Set(None),
                gbv_risk_level: Set(None),
                outcome: Set(c.outcome.map(str::to_string)),
                outcome_on: Set(c.outcome_on),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert_chunks(
        db,
        cases
            .iter()
            .flat_map(|c| {
                c.exploitation
                    .iter()
                    .map(move |e| case_exploitation::ActiveModel {
                        case_id: Set(id(c)),
                        exploitation: Set(e.to_string()),
                    })
            })
            .collect(),
    )
    .await?;
    let mut history = Vec::new();
    for c in cases {
        // Opened in the phase it holds now, or (if closed) in first reception, then closed.
        let first = if c.phase == "CLOSED" {
            "PRIMA_ACCOGLIENZA"
        } else {
            c.phase
        };
        history.push(phase(c, None, first, c.opened_on));
        if let Some(closed) = c.closed_on {
            history.push(phase(c, Some(first), "CLOSED", closed));
        }
    }
    insert_chunks(db, history).await
}

fn phase(
    c: &DemoCase,
    from: Option<&str>,
    to: &str,
    on: NaiveDate,
) -> case_phase_change::ActiveModel {
    case_phase_change::ActiveModel {
        id: Set(demo_id("phase", &format!("{}:{to}", c.code))),
        case_id: Set(demo_id("case", &c.code)),
        at: Set(at(on)),
        user_id: Set("demo".into()),
        agency_id: Set(c.owner.clone()),
        from_phase: Set(from.map(str::to_string)),
        to_phase: Set(to.to_string()),
        reason: Set(None),
    }
}

/// Interview dates: weekly from the first interview. For a referral carried over with interviews
/// before the period, those come first and the ones of the period (`DemoReferral::interviews`)
/// start weekly from the period's first day (no later than the conclusion), so that counting
/// interview rows by date gives the report's "colloqui svolti".
fn interview_dates(r: &DemoReferral, period_start: NaiveDate) -> Vec<NaiveDate> {
    let Some(first) = r.first_interview_on else {
        return Vec::new();
    };
    let weekly = |from: NaiveDate, i: u32| from + Duration::days(7 * i64::from(i));
    let before = r.interviews_before_period;
    let mut dates: Vec<NaiveDate> = (0..before).map(|i| weekly(first, i)).collect();
    let resume = if before == 0 {
        first
    } else {
        std::cmp::max(weekly(first, before), period_start)
    };
    dates.extend((0..r.interviews).map(|i| {
        let d = weekly(resume, i);
        match r.concluded_on {
            Some(c) if before > 0 && d > c => c,
            _ => d,
        }
    }));
    dates
}

async fn load_referrals<C: ConnectionTrait>(
    db: &C,
    referrals: &[DemoReferral],
    period_start: NaiveDate,
) -> ApiResult<()> {
    let now = Utc::now();
    let id = |r: &DemoReferral| demo_id("referral", &r.code);
    insert_chunks(
        db,
        referrals
            .iter()
            .map(|r| referral::ActiveModel {
                id: Set(id(r)),
                requested_by_id: Set(r.requested_by.clone()),
                target_id: Set(r.target.clone()),
                project_id: Set(Some(r.project.clone())),
                received_on: Set(r.received_on),
                province: Set(Some(r.province.clone())),
                status: Set(r.status.to_string()),
                scheduled_on: Set(r.first_interview_on),
                concluded_on: Set(r.concluded_on),
                subject_ref: Set(Some(r.subject_ref.clone())),
                subject_gender: Set(Some(r.subject_gender.to_string())),
                subject_nationality: Set(Some(r.subject_nationality.clone())),
                outcome: Set(r.outcome.map(str::to_string)),
                programme_adhesion: Set(r.programme_adhesion),
                outcome_note: Set(None),
                case_id: Set(None),
                version: Set(1),
                created_by: Set("demo".into()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    let mut interviews = Vec::new();
    for r in referrals {
        for (i, held_on) in interview_dates(r, period_start).into_iter().enumerate() {
            interviews.push(referral_interview::ActiveModel {
                id: Set(demo_id("interview", &format!("{}:{i}", r.code))),
                referral_id: Set(id(r)),
                held_on: Set(held_on),
                notes: Set(None),
                recorded_by: Set("demo".into()),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    insert_chunks(db, interviews).await
}
