//! What an import did, row by row: the report printed by the command line and returned by the
//! `importCases` mutation.

use std::collections::BTreeSet;

/// One problem with one row (row 1 is the header; problems with the whole file are on row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The row as a spreadsheet numbers it: 1 is the header, 2 the first data row.
    pub row: usize,
    /// The column as the file names it, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong, for the person who keeps the spreadsheet.
    pub reason: String,
}

impl Rejection {
    /// A problem in `row`, possibly in one column.
    pub fn new(row: usize, column: Option<String>, reason: impl Into<String>) -> Self {
        Rejection {
            row,
            column,
            reason: reason.into(),
        }
    }

    /// A problem with the whole file, reported on the header row.
    pub fn file(reason: impl Into<String>) -> Self {
        Rejection::new(1, None, reason)
    }
}

/// The outcome of one import.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Rows created, or that a dry run would create. 0 when rejected rows stopped the import.
    pub created: usize,
    /// Rows whose record already is in the hub with the same values.
    pub unchanged: usize,
    /// Valid new rows, whether or not they were written.
    pub valid: usize,
    /// Every problem found, in row order.
    pub rejected: Vec<Rejection>,
    /// Nothing was meant to be written.
    pub dry_run: bool,
    /// Whether the rows were committed to the database.
    pub written: bool,
    /// Valid rows were committed although others were rejected (`--partial`).
    pub partial: bool,
}

impl Report {
    /// A report for a file refused as a whole.
    pub fn refused(problems: Vec<Rejection>, dry_run: bool) -> Self {
        Report {
            rejected: problems,
            dry_run,
            ..Report::default()
        }
    }

    /// How many distinct rows were rejected.
    pub fn rejected_rows(&self) -> usize {
        self.rejected
            .iter()
            .map(|r| r.row)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The report as a table and totals, for a terminal.
    pub fn render(&self, what: &str) -> String {
        let mut out = String::new();
        if !self.rejected.is_empty() {
            let col_width = self
                .rejected
                .iter()
                .map(|r| r.column.as_deref().unwrap_or("-").chars().count())
                .max()
                .unwrap_or(0)
                .clamp(6, 32);
            out.push_str(&format!("{:>6}  {:<col_width$}  reason\n", "row", "column"));
            for r in &self.rejected {
                out.push_str(&format!(
                    "{:>6}  {:<col_width$}  {}\n",
                    r.row,
                    r.column.as_deref().unwrap_or("-"),
                    r.reason.replace('\n', " ")
                ));
            }
            out.push('\n');
        }
        let refused = self.valid == 0
            && self.unchanged == 0
            && !self.rejected.is_empty()
            && self.rejected.iter().all(|r| r.row == 1);
        if refused {
            out.push_str(&format!(
                "{what}: the file was refused; nothing was written\n"
            ));
            return out;
        }
        let verb = if self.dry_run {
            "would be created"
        } else {
            "created"
        };
        out.push_str(&format!(
            "{what}: {} {verb}, {} unchanged, {} rows rejected\n",
            self.created,
            self.unchanged,
            self.rejected_rows()
        ));
        let status = if self.dry_run {
            "dry run: nothing was written".to_string()
        } else if self.written && self.partial {
            format!(
                "--partial: the {} valid rows were written; the rejected rows were not",
                self.created
            )
        } else if self.written && self.created == 0 {
            "nothing new to write".to_string()
        } else if self.written {
            "written".to_string()
        } else if self.valid > 0 {
            format!(
                "nothing was written: every row must be valid, so the {} valid rows were held back too; fix the rejected rows, or pass --partial to write the valid ones",
                self.valid
            )
        } else {
            "nothing was written".to_string()
        };
        out.push_str(&status);
        out.push('\n');
        if self.unchanged > 0 || self.rejected.iter().any(|r| r.reason.contains("differ")) {
            out.push_str(
                "note: rows whose code is already in the hub are never changed by an import in this version\n",
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_table_and_totals() {
        let report = Report {
            rejected: vec![
                Rejection::new(3, Some("nazionalità".into()), "\"XX\" is not a code"),
                Rejection::new(3, None, "second problem"),
                Rejection::new(7, Some("code".into()), "duplicate"),
            ],
            valid: 5,
            ..Report::default()
        };
        let text = report.render("cases");
        assert!(
            text.contains("     3  nazionalità  \"XX\" is not a code"),
            "{text}"
        );
        assert!(
            text.contains("0 created, 0 unchanged, 2 rows rejected"),
            "{text}"
        );
        assert!(text.contains("nothing was written"), "{text}");
    }
}
