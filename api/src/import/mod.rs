//! Spreadsheets in and out: `raccordo import cases|referrals FILE.csv --agency ID`,
//! `raccordo export cases --agency ID`, and the `importCases` mutation.
//!
//! The enti attuatori keep their cases in spreadsheets; this moves them to the hub without
//! retyping. The rules are those of the hub, not new ones:
//!
//! - An import acts as a user of the agency (the command line uses a synthetic coordinator named
//!   `import:<file name>`); the protocol must let the agency hold cases (or send referrals).
//! - Every row goes through the same function as `createCase` (`open_case`) or `createReferral`
//!   (`open_referral`), in ONE write transaction: the same validation, the same checks of
//!   references, one access-log entry per created record.
//! - All or nothing: one rejected row and nothing is written, unless `partial` (then the valid
//!   rows are written and the rejected ones reported). A dry run validates everything, writes
//!   nothing, and reports the same.
//! - Idempotent: a row whose case code is already held by the agency with the same values is
//!   "unchanged"; with different values it is rejected as a conflict (an import never updates).
//!   Codes repeated inside the file reject every row that carries them.
//! - An export is a read: the agency's own cases, each cell only if the policy lets it read the
//!   cell's class, one access-log entry per case.
//!
//! Columns and accepted spellings: see [`columns`].

pub mod cases;
pub mod columns;
pub mod command;
pub mod export;
mod record;
pub mod referrals;
pub mod report;
mod source;
pub mod values;

pub use cases::import_cases;
pub use export::export_cases;
pub use referrals::import_referrals;
pub use report::{Rejection, Report};

use crate::{
    audit::{self, NewEntry},
    error::ApiResult,
    state::{AppState, WriteTxn},
};

/// Largest file the command line reads: checked before a byte is parsed.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// Largest CSV text the `importCases` mutation takes (the HTTP body limit of 1 MiB is lower: a
/// large import uses the command line).
pub const MAX_MUTATION_BYTES: usize = 2 * 1024 * 1024;

pub use crate::domain::cases::CASE_OPERATION;

/// The access-log operation of a referral sent by an import.
pub const REFERRAL_OPERATION: &str = "importReferrals";

/// How to run an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Validate everything, write nothing.
    pub dry_run: bool,
    /// Write the valid rows even when others are rejected.
    pub partial: bool,
    /// The delimiter; `None` detects `,`, `;` or tab from the header.
    pub delimiter: Option<u8>,
}

/// Records a cell may name by id or by name: (id, name).
type ReferenceList = Vec<(String, String)>;

/// The id of the record `value` names: its id, or its name (case and accents ignored) when
/// exactly one record has it.
fn resolve(list: &ReferenceList, what: &str, value: &str) -> Result<String, String> {
    if let Some((id, _)) = list.iter().find(|(id, _)| id == value) {
        return Ok(id.clone());
    }
    let key = values::fold(value);
    let named: Vec<&String> = list
        .iter()
        .filter(|(_, name)| values::fold(name) == key)
        .map(|(id, _)| id)
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "{value:?} names no {what} of the hub (give its id or exact name)"
        )),
        _ => Err(format!(
            "{} records are named {value:?}: give the {what}'s id",
            named.len()
        )),
    }
}

/// The access-log operation of an import's comparison of a row with a stored case (ACCESS.md
/// §9: telling "unchanged" from "values differ" reads the stored values).
pub const COMPARE_OPERATION: &str = "import";

/// Commits or rolls back the import's transaction and fills in what was written. `reads` (the
/// comparisons with stored values) are logged either way, dry run included: a rolled-back
/// import still told its caller something about stored values. They are durable before the
/// report is returned.
async fn finish(
    state: &AppState,
    w: WriteTxn,
    report: &mut Report,
    opts: &Options,
    reads: Vec<NewEntry>,
) -> ApiResult<()> {
    report.rejected.sort_by_key(|r| r.row);
    let clean = report.rejected.is_empty();
    let keep = clean || opts.partial;
    if keep && !opts.dry_run {
        audit::append(w.txn(), reads).await?;
        w.commit().await?;
        report.written = true;
        report.partial = !clean;
    } else {
        w.rollback().await?;
        if !reads.is_empty() {
            let log = state.write().await?;
            audit::append(log.txn(), reads).await?;
            log.commit().await?;
        }
    }
    report.created = if keep { report.valid } else { 0 };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_by_id_or_name() {
        let list: ReferenceList = vec![
            ("p1".into(), "Derive e Approdi".into()),
            ("p2".into(), "Città".into()),
            ("p3".into(), "città".into()),
        ];
        assert_eq!(resolve(&list, "project", "p1"), Ok("p1".into()));
        assert_eq!(
            resolve(&list, "project", "derive e approdi"),
            Ok("p1".into())
        );
        assert!(resolve(&list, "project", "Citta")
            .unwrap_err()
            .contains("2 records"));
        assert!(resolve(&list, "project", "nope").is_err());
    }
}
