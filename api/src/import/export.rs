//! Exporting an agency's own cases as CSV, in the columns the import reads.
//!
//! An export is a read: the cases are those the agency holds and can see, every cell is written
//! only when the policy lets the agency read its class (a hidden class leaves the cell empty), and
//! each exported case gets one access-log entry (operation `export`, the classes written) before
//! the file is produced. If the log cannot be written, nothing is exported.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use raccordo_entities::{case, case_exploitation};
use raccordo_policies::{ClassSet, FieldClass, Policy};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{cases::CHUNK, columns::CASE_COLUMNS, record};
use crate::{
    access::{self, Principal},
    audit::{self, NewEntry},
    error::{ApiError, ApiResult},
    state::AppState,
};

/// The access-log operation of an export.
pub const EXPORT_OPERATION: &str = "export";

/// The `Case` field whose class governs a column (the input's `projectId` is the case's `project`).
fn case_field(column: &str) -> &str {
    match column {
        "projectId" => "project",
        "shelterId" => "shelter",
        other => other,
    }
}

/// The class of each column, per the policy document; `None` (unclassified) is never written.
fn column_classes(policy: &Policy) -> Vec<Option<raccordo_policies::DataClass>> {
    CASE_COLUMNS
        .iter()
        .map(|c| match policy.class_of("Case", case_field(c.name)) {
            Some(FieldClass::Case(class)) => Some(class),
            _ => None,
        })
        .collect()
}

/// An export: the CSV text and how many cases it holds.
pub struct Export {
    /// The CSV text.
    pub csv: Vec<u8>,
    /// How many cases it holds.
    pub cases: usize,
}

/// The cases `principal`'s agency holds, as CSV with `delimiter`, logged as read.
pub async fn export_cases(
    state: &AppState,
    principal: &Principal,
    now: DateTime<Utc>,
    delimiter: u8,
) -> ApiResult<Export> {
    let agency = principal
        .agency_id()
        .ok_or_else(|| ApiError::Forbidden("only a partner agency exports its cases".into()))?;
    let policy = &state.policy;
    let rows = case::Entity::find()
        .filter(case::Column::OwnerId.eq(agency))
        .filter(access::visible_cases(policy, principal, now))
        .order_by_asc(case::Column::Code)
        .all(&state.db)
        .await?;
    let mut decided = Vec::with_capacity(rows.len());
    let mut types: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|c| c.id.clone()).collect();
        decided
            .extend(access::decide_cases(&state.db, policy, principal, chunk.to_vec(), now).await?);
        for e in case_exploitation::Entity::find()
            .filter(case_exploitation::Column::CaseId.is_in(ids))
            .all(&state.db)
            .await?
        {
            types.entry(e.case_id).or_default().push(e.exploitation);
        }
    }
    let classes = column_classes(policy);
    // Every cell guarded: a partner's `=HYPERLINK(…)` is text in the owner's spreadsheet.
    let mut writer = crate::spreadsheet::Writer::new(delimiter);
    let csv_error = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}").into());
    writer
        .write_record(CASE_COLUMNS.iter().map(|c| c.name))
        .map_err(csv_error)?;
    let mut entries = Vec::with_capacity(decided.len());
    for (row, access) in &decided {
        let none = Vec::new();
        let row_types = types.get(&row.id).unwrap_or(&none);
        let mut written = ClassSet::empty();
        let cells: Vec<String> = CASE_COLUMNS
            .iter()
            .zip(&classes)
            .map(|(c, class)| match class {
                Some(class) if access.readable.contains(*class) => {
                    written.insert(*class);
                    record::stored(row, row_types, c.name)
                }
                _ => String::new(),
            })
            .collect();
        writer.write_record(&cells).map_err(csv_error)?;
        entries.push(NewEntry {
            user_id: principal.user_id.clone(),
            agency_id: Some(agency.to_string()),
            role: principal.role,
            case_id: Some(row.id.clone()),
            operation: EXPORT_OPERATION.to_string(),
            relationships: access.rels,
            classes: written,
            detail: None,
        });
    }
    let csv = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}").into()))?;
    // One transaction; a bounded number of statements per chunk of entries (one INSERT holds at
    // most SQLite's limit of bound values).
    let w = state.write().await?;
    for chunk in entries.chunks(CHUNK) {
        audit::append(w.txn(), chunk.to_vec()).await?;
    }
    w.commit().await?;
    Ok(Export {
        csv,
        cases: decided.len(),
    })
}
