//! Turning the bytes of a spreadsheet export into records: the encoding, the delimiter, the rows.
//!
//! Spreadsheets save CSV in more than one way. Excel's "CSV UTF-8" starts with a byte-order mark;
//! its plain "CSV" on an Italian Windows is Windows-1252 and uses `;` as delimiter (the comma is
//! the decimal separator). All of these are read without asking; only a delimiter given by hand
//! that does not fit the header is refused, with the one that does.

use csv::{ReaderBuilder, StringRecord, Trim};

use super::report::Rejection;

/// Delimiters tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];

/// Bytes as text: UTF-8 (a byte-order mark is dropped), else Windows-1252. A file that is
/// UTF-8 in places and not in others was pasted together from two encodings: decoding it either
/// way would silently garble names, so it is refused.
pub fn decode(bytes: &[u8]) -> Result<String, Rejection> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    if bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii()) {
        return Err(Rejection::file(
            "the file mixes UTF-8 with another encoding: save it again as \"CSV UTF-8\"",
        ));
    }
    Ok(bytes.iter().map(|b| windows_1252(*b)).collect())
}

/// One byte of Windows-1252. It agrees with Latin-1 except for 0x80-0x9F, where it has the
/// euro sign and typographic quotes that Italian text often carries.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// How many fields the first line has with `delimiter` (quotes respected).
fn header_width(text: &str, delimiter: u8) -> usize {
    let first = reader(text, delimiter).records().next();
    match first {
        Some(Ok(record)) => record.len(),
        _ => 0,
    }
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(text.as_bytes())
}

/// The delimiter that splits the header into the most fields.
fn detect(text: &str) -> u8 {
    let mut best = (CANDIDATES[0], 0);
    for d in CANDIDATES {
        let width = header_width(text, d);
        if width > best.1 {
            best = (d, width);
        }
    }
    best.0
}

/// How a delimiter is written in a message.
pub fn show(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_string(),
        d => format!("'{}'", char::from(d)),
    }
}

/// A file read into its header and data rows. Row numbers are the spreadsheet's: 1 is the header.
pub struct Table {
    pub header: Vec<String>,
    /// (row number, record) for every row that has at least one non-empty cell.
    pub rows: Vec<(usize, StringRecord)>,
    /// Rows that could not be read at all.
    pub unreadable: Vec<Rejection>,
}

/// Splits `text` into records with the given or the detected delimiter.
pub fn read(text: &str, delimiter: Option<u8>) -> Result<Table, Rejection> {
    if text.trim().is_empty() {
        return Err(Rejection::file(
            "the file is empty: it needs a header row and data rows",
        ));
    }
    let delimiter = match delimiter {
        Some(d) => {
            let width = header_width(text, d);
            let better = CANDIDATES
                .into_iter()
                .filter(|c| *c != d)
                .map(|c| (c, header_width(text, c)))
                .max_by_key(|(_, w)| *w);
            if let Some((c, w)) = better.filter(|(_, w)| width <= 1 && *w > 1) {
                return Err(Rejection::file(format!(
                    "with {} as delimiter the header is a single column, with {} it has {w}: the file seems to use {} as delimiter: pass --delimiter {} (or leave --delimiter out to detect it)",
                    show(d),
                    show(c),
                    show(c),
                    show(c),
                )));
            }
            d
        }
        None => detect(text),
    };
    let mut records = reader(text, delimiter).into_records();
    let header = match records.next() {
        Some(Ok(h)) => h.iter().map(str::to_string).collect(),
        Some(Err(e)) => return Err(Rejection::file(format!("the header cannot be read: {e}"))),
        None => return Err(Rejection::file("the file has no header row")),
    };
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        match record {
            Ok(r) if r.iter().all(str::is_empty) => {}
            // What the hub's own exports guarded against formulas is read back as it was.
            Ok(r) => rows.push((row, r.iter().map(crate::spreadsheet::unguard).collect())),
            Err(e) => unreadable.push(Rejection::new(row, None, format!("cannot be read: {e}"))),
        }
    }
    Ok(Table {
        header,
        rows,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let ok = |b: &[u8]| decode(b).map_err(|e| e.reason);
        assert_eq!(ok(b"\xEF\xBB\xBFcode"), Ok("code".to_string()));
        assert_eq!(ok(b"nazionalit\xE0"), Ok("nazionalità".to_string()));
        assert_eq!(ok(b"\x80 5"), Ok("€ 5".to_string()));
        assert_eq!(ok("già".as_bytes()), Ok("già".to_string()));
        // "già" in UTF-8, then "à" in Windows-1252.
        assert!(ok(b"gi\xC3\xA0;gi\xE0").is_err());
    }

    #[test]
    fn delimiters() {
        let semi = "code;phase;openedOn\nA;PRIMA_ACCOGLIENZA;2023-01-10\n";
        let t = read(semi, None).unwrap();
        assert_eq!(t.header, vec!["code", "phase", "openedOn"]);
        assert_eq!(t.rows.len(), 1);
        let tab = "code\tphase\topenedOn\n";
        assert_eq!(read(tab, None).unwrap().header.len(), 3);
        // A comma inside quotes does not make the file comma-separated.
        let quoted = "code;\"note, with comma\";phase\n";
        assert_eq!(read(quoted, None).unwrap().header.len(), 3);
        let err = read(semi, Some(b',')).err().unwrap();
        assert!(
            err.reason.contains("pass --delimiter ';'"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn rows_are_numbered_as_in_the_spreadsheet() {
        let text = "code,phase\nA,X\n,\n\"multi\nline\",Y\n";
        let t = read(text, None).unwrap();
        let numbers: Vec<usize> = t.rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![2, 4]);
        assert!(read("  \n", None).is_err());
    }
}
