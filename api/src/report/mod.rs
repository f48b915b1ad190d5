//! `raccordo report`: the tables of a project's periodic report ("Attività di prima assistenza"
//! and the referral service), computed from the rows so that an ente no longer compiles them by
//! hand.
//!
//! The tables go through the same statistics code as `caseStatistics`, with the grant of the
//! project's coordination (scope `MINE`, exact counts): they are **exact**, small numbers
//! included, and meant for the coordination's own use (ACCESS.md §7). This is an operator's tool
//! on the database, not a partner's request: nothing here passes through a token. Share the output
//! as the report's tables are shared today, not as network statistics.
//!
//! People: the cases of the project in assistance at some time in the period (opened on or before
//! its last day, not closed before its first), as of its last day (phase held then; outcomes of
//! the cases closed in the period). Referrals: see
//! [`crate::domain::statistics::referral_counts::ProvinceRow`].

pub mod command;
mod render;

use chrono::NaiveDate;
use raccordo_entities::project;
use sea_orm::{ConnectionTrait, EntityTrait};

pub use crate::domain::statistics::referral_counts::ProvinceRow;
use crate::{
    domain::{
        enums::{CaseDimension, CasePhase},
        filters::CaseFilter,
        scalars::Date,
        statistics::{
            case_counts::{self, CaseQuery, Period},
            referral_counts, Grant,
        },
    },
    error::{ApiError, ApiResult},
    validate,
};

pub use render::{csv, markdown};

/// One table of people, by one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTable {
    /// The `CaseDimension` it is grouped by (e.g. `GENDER`).
    pub dimension: &'static str,
    /// The report's title of the table.
    pub title: String,
    /// (key, people), the largest first.
    pub rows: Vec<(String, u64)>,
}

/// The report's tables for one project and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTables {
    /// The project's id.
    pub project: String,
    /// The project's name.
    pub project_name: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// People in assistance in the period.
    pub total: u64,
    /// Of which opened in the period ("nuove prese in carico").
    pub new_in_period: u64,
    /// Of which opened before it ("in continuità").
    pub continuing: u64,
    /// People by gender, nationality, exploitation, permits, emersion channel, phase, outcome.
    pub cases: Vec<CaseTable>,
    /// Referrals by province.
    pub referrals: Vec<ProvinceRow>,
}

impl ReportTables {
    /// The table grouped by `dimension`, as a map key → people.
    pub fn table(&self, dimension: &str) -> Option<std::collections::BTreeMap<String, u64>> {
        self.cases
            .iter()
            .find(|t| t.dimension == dimension)
            .map(|t| t.rows.iter().cloned().collect())
    }
}

/// The tables, in the report's order: (dimension, title).
fn case_tables(to: NaiveDate) -> Vec<(CaseDimension, &'static str, String)> {
    let day = to.format("%d.%m.%Y");
    vec![
        (
            CaseDimension::Gender,
            "GENDER",
            "Persone in assistenza per sesso".to_string(),
        ),
        (
            CaseDimension::Nationality,
            "NATIONALITY",
            "Nazioni di provenienza".to_string(),
        ),
        (
            CaseDimension::Exploitation,
            "EXPLOITATION",
            "Sfruttamento subito (una persona può averne più di uno)".to_string(),
        ),
        (
            CaseDimension::PermitAtStart,
            "PERMIT_AT_START",
            "Titoli di soggiorno all'avvio del programma".to_string(),
        ),
        (
            CaseDimension::PermitCurrent,
            "PERMIT_CURRENT",
            "Titoli di soggiorno in possesso (valore attuale: i titoli non sono storicizzati)"
                .to_string(),
        ),
        (
            CaseDimension::EmersionChannel,
            "EMERSION_CHANNEL",
            "Modalità di emersione dallo sfruttamento".to_string(),
        ),
        (
            CaseDimension::Phase,
            "PHASE",
            format!("Fase del percorso al {day}"),
        ),
        (
            CaseDimension::Outcome,
            "OUTCOME",
            "Esiti dei percorsi conclusi nel periodo".to_string(),
        ),
    ]
}

/// Computes the tables of `project` over `from..=to`, exact, as its coordination sees them.
/// `VALIDATION` when `to` is before `from` or the project does not exist.
pub async fn tables<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<ReportTables> {
    validate::not_before("to", to, from, "from")?;
    // A project by its id, or by its name as the coordination writes it (any case).
    let project = match project::Entity::find_by_id(project_id.to_string())
        .one(db)
        .await?
    {
        Some(p) => Some(p),
        None => {
            let wanted = project_id.trim().to_lowercase();
            project::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .find(|p| p.name.trim().to_lowercase() == wanted)
        }
    }
    .ok_or_else(|| {
        ApiError::validation(
            "project",
            format!("no project has the id or the name {project_id:?}"),
        )
    })?;
    let grant = Grant::coordination(&project.coordinator_id);
    let period = Period { from, to };
    let of_project = CaseFilter {
        project: Some(project.id.clone().into()),
        ..Default::default()
    };
    let count = |dim: CaseDimension, filter: CaseFilter| {
        let grant = &grant;
        async move {
            let dims = [dim];
            let q = CaseQuery {
                dims: &dims,
                filter: &filter,
                as_of: None,
                period: Some(period),
            };
            let cells = case_counts::count(db, grant, &q, 0).await?;
            Ok::<_, ApiError>(
                cells
                    .into_iter()
                    .map(|c| {
                        let key = c.keys.into_iter().next().unwrap_or_default();
                        (key, c.count.map_or(0, |n| n.max(0) as u64))
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let mut cases = Vec::new();
    for (dim, name, title) in case_tables(to) {
        let filter = if dim == CaseDimension::Outcome {
            CaseFilter {
                phase: Some(CasePhase::Closed),
                ..of_project.clone()
            }
        } else {
            of_project.clone()
        };
        let mut rows = count(dim, filter).await?;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        cases.push(CaseTable {
            dimension: name,
            title,
            rows,
        });
    }
    let total = cases
        .iter()
        .find(|t| t.dimension == "PHASE")
        .map_or(0, |t| t.rows.iter().map(|r| r.1).sum());
    let new_filter = CaseFilter {
        opened_from: Some(Date(from)),
        ..of_project.clone()
    };
    let new_in_period: u64 = count(CaseDimension::Phase, new_filter)
        .await?
        .iter()
        .map(|r| r.1)
        .sum();
    let referrals = referral_counts::province_table(db, &grant, &project.id, from, to).await?;
    Ok(ReportTables {
        project: project.id,
        project_name: project.name,
        from,
        to,
        total,
        new_in_period,
        continuing: total.saturating_sub(new_in_period),
        cases,
        referrals,
    })
}
