//! `importCases`: the spreadsheet import of the command line, for a front-end. Same columns, same
//! rules (see `crate::import`), limited in size: large files go through `raccordo import cases`.

use async_graphql::{Context, Object, SimpleObject};

use crate::{
    error::{ApiError, ApiResult},
    graphql::ContextExt,
    import::{self, Options, Report, MAX_MUTATION_BYTES},
};

/// What an import did. When any row is rejected nothing is written (the whole file is one
/// transaction), so fix the rows and send the file again.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Cases created (with `dryRun`: that would be created). 0 when rejected rows stopped the import.
    pub created: i32,
    /// Rows whose case code your agency already holds with the same values; an import never
    /// changes an existing case.
    pub unchanged: i32,
    /// Every problem found, by row and column; empty when the whole file is valid.
    pub rejected: Vec<ImportRejection>,
    /// Whether this was a dry run (nothing written in any case).
    pub dry_run: bool,
}

/// One problem with one row of the file.
#[derive(SimpleObject)]
pub struct ImportRejection {
    /// The row as a spreadsheet numbers it: 1 is the header, 2 the first data row.
    pub row: i32,
    /// The column as the file names it, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<Report> for ImportReport {
    fn from(r: Report) -> Self {
        ImportReport {
            created: count(r.created),
            unchanged: count(r.unchanged),
            dry_run: r.dry_run,
            rejected: r
                .rejected
                .into_iter()
                .map(|x| ImportRejection {
                    row: count(x.row),
                    column: x.column,
                    reason: x.reason,
                })
                .collect(),
        }
    }
}

/// Importing cases from a spreadsheet.
#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Opens one case per row of a CSV text (columns and accepted spellings: the README, "Import
    /// and export"), held by the viewer's agency. All or nothing; `dryRun` checks every row and
    /// writes nothing. At most 2 MB of text (`LIMIT_EXCEEDED` beyond).
    async fn import_cases(
        &self,
        ctx: &Context<'_>,
        csv: String,
        dry_run: Option<bool>,
    ) -> ApiResult<ImportReport> {
        let request = ctx.request();
        let (principal, _) = request.require_agency()?;
        if csv.len() > MAX_MUTATION_BYTES {
            return Err(ApiError::LimitExceeded(format!(
                "importCases takes at most {} MB of CSV; import larger files with `raccordo import cases`",
                MAX_MUTATION_BYTES / (1024 * 1024)
            )));
        }
        let opts = Options {
            dry_run: dry_run.unwrap_or(false),
            partial: false,
            delimiter: None,
        };
        let report =
            import::import_cases(ctx.state(), principal, csv.as_bytes(), request.now, &opts)
                .await?;
        Ok(report.into())
    }
}
