//! The columns of the case and referral spreadsheets, and how a file's header is matched to them.
//!
//! Canonical names are the contract's input field names in camelCase, exactly as in `CaseInput`
//! and `ReferralInput` (`openedOn`, `permitAtStart`). A header cell matches a column when, with
//! case, accents, spaces and punctuation ignored, it equals the canonical name or one of the
//! column's Italian aliases: `opened_on`, `Opened On` and `data apertura` all name `openedOn`;
//! `Nazionalità` and `nazionalita` name `nationality`.
//!
//! Cases (`raccordo import cases`, `raccordo export cases`, `importCases`):
//!
//! | column | class | Italian aliases | value |
//! | --- | --- | --- | --- |
//! | `code` (required) | BASE | codice, codice caso, codice utente, id caso | the case's pseudonymous code, unique in the hub |
//! | `phase` (required) | BASE | fase, fase percorso | `CasePhase` or its Italian name (`prima accoglienza`) |
//! | `openedOn` (required) | BASE | data apertura, data presa in carico, data inizio | date |
//! | `projectId` | BASE | progetto, project | a project's id or exact name |
//! | `gender` | PROFILE | genere, sesso | `FEMALE`/`femmina`/`F`, `MALE`/`maschio`/`M`, `TRANSGENDER`/`trans` |
//! | `ageGroup` | PROFILE | fascia d'età, fascia di età, maggiore/minore età | `ADULT`/`adulto`/`maggiorenne`, `MINOR`/`minore`/`msna` |
//! | `nationality` | PROFILE | nazionalità, cittadinanza, paese di origine | ISO 3166-1 alpha-2 (`NG`) or a frequent Italian country name (`Nigeria`) |
//! | `exploitation` | PROFILE | tipologia sfruttamento, tipologia di sfruttamento, sfruttamento, ambito di sfruttamento | several `Exploitation` values or Italian names (`strada`, `indoor`, `lavorativo`, `accattonaggio`...) separated by `;` or `\|` |
//! | `emersionChannel` | PROFILE | canale di emersione, canale emersione | `EmersionChannel` or Italian name (`unità di strada`, `segretariato sociale`, `numero verde`...) |
//! | `emersionProvince` | PROFILE | provincia di emersione, provincia emersione | province sigla (`BG`) |
//! | `accompanyingMinors` | PROFILE | minori al seguito, minori a carico, numero minori | whole number |
//! | `pregnant` | PROFILE | gravidanza, in gravidanza | yes/no (`sì`, `no`, `true`, `false`, `1`, `0`) |
//! | `alias` | IDENTITY | soprannome, nome d'uso | text |
//! | `legalName` | IDENTITY | nome e cognome, cognome e nome, nominativo | text |
//! | `birthDate` | IDENTITY | data di nascita, data nascita | date |
//! | `phone` | IDENTITY | telefono, cellulare, recapito telefonico | text |
//! | `shelterId` | LOCATION | struttura, struttura di accoglienza, casa rifugio, shelter | the id or exact name of one of the agency's shelters |
//! | `permitAtStart` | LEGAL | titolo di soggiorno iniziale, titolo di soggiorno all'ingresso, permesso all'ingresso | `PermitType` or Italian name (`ex art. 18`, `richiesta protezione internazionale`, `protezione speciale`...) |
//! | `permitCurrent` | LEGAL | titolo di soggiorno, titolo di soggiorno attuale, permesso di soggiorno | as `permitAtStart` |
//! | `permitExpiresOn` | LEGAL | scadenza permesso, scadenza titolo di soggiorno, data scadenza permesso | date |
//! | `asylumStatus` | LEGAL | stato domanda asilo, procedura asilo, stato asilo | text |
//! | `complaintFiled` | JUDICIAL | denuncia, denuncia presentata | yes/no |
//! | `complaintFiledOn` | JUDICIAL | data denuncia | date |
//! | `healthNotes` | HEALTH | note sanitarie, note salute, salute | text |
//! | `psychSupport` | HEALTH | supporto psicologico | text |
//! | `gbvIndicators` | GBV | indicatori violenza di genere, indicatori vdg, indicatori gbv | several texts separated by `;` or `\|` (a backslash escapes them inside a text) |
//! | `gbvRiskLevel` | GBV | livello di rischio, rischio violenza di genere, livello rischio | text |
//! | `closedOn` (export) | BASE | data chiusura | date the case was closed |
//! | `outcome` (export) | PATHWAY | esito, esito percorso | `CaseOutcome` |
//!
//! Dates are `YYYY-MM-DD` or `dd/mm/yyyy`. An empty cell is "not known". Closed cases are
//! exported with `closedOn` and `outcome`, but an import opens cases: a closed row is accepted
//! only when the agency already holds that case as written (it is then "unchanged").
//!
//! Referrals (`raccordo import referrals`), sent by the `--agency`:
//!
//! | column | Italian aliases | value |
//! | --- | --- | --- |
//! | `target` (required) | ente, ente destinatario, destinatario | the id or exact name of an anti-trafficking ente |
//! | `receivedOn` (required) | data ricezione, data di ricezione, data richiesta, data invio | date |
//! | `subjectRef` (required) | riferimento, rif, riferimento pratica, codice pratica, protocollo | the sender's own dossier reference |
//! | `province` | provincia | province sigla; the target's when empty |
//! | `subjectGender` | genere, sesso | as `gender` |
//! | `subjectNationality` | nazionalità, cittadinanza | as `nationality` |
//! | `projectId` | progetto | a project's id or exact name |
//! | `status` | stato | empty or `RECEIVED` (`ricevuta`): imported referrals start received |
//! | `outcome` | esito | must be empty: the target ente records the outcome in the hub |

use std::collections::HashMap;

use csv::StringRecord;

use super::{report::Rejection, values::fold};

/// One column of a spreadsheet.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The canonical (contract) name, written in exported headers.
    pub name: &'static str,
    /// A file without it is refused.
    pub required: bool,
    /// Italian names accepted in a header.
    pub aliases: &'static [&'static str],
}

const fn req(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        required: true,
        aliases,
    }
}

const fn opt(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        required: false,
        aliases,
    }
}

/// The case spreadsheet, in the order the export writes it.
pub const CASE_COLUMNS: &[Column] = &[
    req(
        "code",
        &["codice", "codice caso", "codice utente", "id caso"],
    ),
    req("phase", &["fase", "fase percorso"]),
    req(
        "openedOn",
        &["data apertura", "data presa in carico", "data inizio"],
    ),
    opt("projectId", &["progetto", "project"]),
    opt("gender", &["genere", "sesso"]),
    opt(
        "ageGroup",
        &["fascia d'età", "fascia di età", "maggiore/minore età"],
    ),
    opt(
        "nationality",
        &["nazionalità", "cittadinanza", "paese di origine"],
    ),
    opt(
        "exploitation",
        &[
            "tipologia sfruttamento",
            "tipologia di sfruttamento",
            "sfruttamento",
            "ambito di sfruttamento",
        ],
    ),
    opt(
        "emersionChannel",
        &["canale di emersione", "canale emersione"],
    ),
    opt(
        "emersionProvince",
        &["provincia di emersione", "provincia emersione"],
    ),
    opt(
        "accompanyingMinors",
        &["minori al seguito", "minori a carico", "numero minori"],
    ),
    opt("pregnant", &["gravidanza", "in gravidanza"]),
    opt("alias", &["soprannome", "nome d'uso"]),
    opt(
        "legalName",
        &["nome e cognome", "cognome e nome", "nominativo"],
    ),
    opt("birthDate", &["data di nascita", "data nascita"]),
    opt("phone", &["telefono", "cellulare", "recapito telefonico"]),
    opt(
        "shelterId",
        &[
            "struttura",
            "struttura di accoglienza",
            "casa rifugio",
            "shelter",
        ],
    ),
    opt(
        "permitAtStart",
        &[
            "titolo di soggiorno iniziale",
            "titolo di soggiorno all'ingresso",
            "permesso all'ingresso",
        ],
    ),
    opt(
        "permitCurrent",
        &[
            "titolo di soggiorno",
            "titolo di soggiorno attuale",
            "permesso di soggiorno",
        ],
    ),
    opt(
        "permitExpiresOn",
        &[
            "scadenza permesso",
            "scadenza titolo di soggiorno",
            "data scadenza permesso",
        ],
    ),
    opt(
        "asylumStatus",
        &["stato domanda asilo", "procedura asilo", "stato asilo"],
    ),
    opt("complaintFiled", &["denuncia", "denuncia presentata"]),
    opt("complaintFiledOn", &["data denuncia"]),
    opt("healthNotes", &["note sanitarie", "note salute", "salute"]),
    opt("psychSupport", &["supporto psicologico"]),
    opt(
        "gbvIndicators",
        &[
            "indicatori violenza di genere",
            "indicatori vdg",
            "indicatori gbv",
        ],
    ),
    opt(
        "gbvRiskLevel",
        &[
            "livello di rischio",
            "rischio violenza di genere",
            "livello rischio",
        ],
    ),
    opt("closedOn", &["data chiusura"]),
    opt("outcome", &["esito", "esito percorso"]),
];

/// The referral spreadsheet.
pub const REFERRAL_COLUMNS: &[Column] = &[
    req("target", &["ente", "ente destinatario", "destinatario"]),
    req(
        "receivedOn",
        &[
            "data ricezione",
            "data di ricezione",
            "data richiesta",
            "data invio",
        ],
    ),
    req(
        "subjectRef",
        &[
            "riferimento",
            "rif",
            "riferimento pratica",
            "codice pratica",
            "protocollo",
        ],
    ),
    opt("province", &["provincia"]),
    opt("subjectGender", &["genere", "sesso"]),
    opt("subjectNationality", &["nazionalità", "cittadinanza"]),
    opt("projectId", &["progetto", "project"]),
    opt("status", &["stato"]),
    opt("outcome", &["esito"]),
];

/// How header cells are compared: folded, then without spaces (`Opened On` = `openedOn`).
pub fn key(text: &str) -> String {
    fold(text).replace(' ', "")
}

/// A file's header matched to a column table.
#[derive(Debug)]
pub struct Header {
    /// Canonical name → position in the file.
    at: HashMap<&'static str, usize>,
    /// The header cells as the file writes them, for the report.
    labels: Vec<String>,
    /// Positions of header cells left empty (spreadsheets add them).
    nameless: Vec<usize>,
}

impl Header {
    /// Matches `cells` to `table`; every unknown, repeated or missing column is a problem on row 1.
    pub fn resolve(table: &[Column], cells: &[String]) -> Result<Header, Vec<Rejection>> {
        let mut at: HashMap<&'static str, usize> = HashMap::new();
        let mut problems = Vec::new();
        let mut nameless = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            if cell.trim().is_empty() {
                nameless.push(i);
                continue;
            }
            let k = key(cell);
            let found = table
                .iter()
                .find(|c| key(c.name) == k || c.aliases.iter().any(|a| key(a) == k));
            match found {
                Some(c) => {
                    if let Some(first) = at.insert(c.name, i) {
                        problems.push(Rejection::new(
                            1,
                            Some(cell.clone()),
                            format!(
                                "names the same column ({}) as {:?}: keep one of them",
                                c.name, cells[first]
                            ),
                        ));
                    }
                }
                None => problems.push(Rejection::new(
                    1,
                    Some(cell.clone()),
                    format!(
                        "unknown column; the columns are {} (or their Italian names in the README)",
                        table.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        for c in table.iter().filter(|c| c.required) {
            if !at.contains_key(c.name) {
                problems.push(Rejection::new(
                    1,
                    Some(c.name.to_string()),
                    format!(
                        "required column missing (also accepted as: {})",
                        c.aliases.join(", ")
                    ),
                ));
            }
        }
        if cells.len() == 1 {
            problems.push(Rejection::file(
                "the header is a single column: is the file delimited by ',', ';' or tab?",
            ));
        }
        if problems.is_empty() {
            Ok(Header {
                at,
                labels: cells.to_vec(),
                nameless,
            })
        } else {
            Err(problems)
        }
    }

    /// The non-empty cell of column `name` in `record`.
    pub fn get<'r>(&self, record: &'r StringRecord, name: &str) -> Option<&'r str> {
        let i = *self.at.get(name)?;
        record.get(i).filter(|v| !v.is_empty())
    }

    /// Whether the file has column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.at.contains_key(name)
    }

    /// The column as the file names it (the canonical name when the file does not have it).
    pub fn label(&self, name: &str) -> String {
        self.at
            .get(name)
            .and_then(|i| self.labels.get(*i))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// Problems with the shape of a row: more cells than the header, values under nameless columns.
    pub fn shape(&self, row: usize, record: &StringRecord) -> Vec<Rejection> {
        let mut out = Vec::new();
        if record.len() > self.labels.len()
            && record.iter().skip(self.labels.len()).any(|v| !v.is_empty())
        {
            out.push(Rejection::new(
                row,
                None,
                format!(
                    "has {} cells but the header has {} columns (a delimiter inside an unquoted cell?)",
                    record.len(),
                    self.labels.len()
                ),
            ));
        }
        for i in &self.nameless {
            if record.get(*i).is_some_and(|v| !v.is_empty()) {
                out.push(Rejection::new(
                    row,
                    Some(format!("column {}", i + 1)),
                    "a value under a column without a name in the header",
                ));
            }
        }
        out
    }
}

/// The cells of one row, read column by column; problems are collected, not returned at once,
/// so the report lists every wrong cell of the row.
pub struct Cells<'a> {
    header: &'a Header,
    record: &'a StringRecord,
    row: usize,
    /// Every problem found so far.
    pub problems: Vec<Rejection>,
}

impl<'a> Cells<'a> {
    /// Starts reading `record` (row `row`); problems with its shape are the first problems.
    pub fn new(header: &'a Header, record: &'a StringRecord, row: usize) -> Self {
        Cells {
            header,
            record,
            row,
            problems: header.shape(row, record),
        }
    }

    /// Records a problem with column `name`.
    pub fn fail(&mut self, name: &str, reason: impl Into<String>) {
        self.problems.push(Rejection::new(
            self.row,
            Some(self.header.label(name)),
            reason,
        ));
    }

    /// The cell as text, when not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.header.get(self.record, name).map(str::to_string)
    }

    /// The cell read by `f`, when not empty; a failure is recorded.
    pub fn parse<T>(&mut self, name: &str, f: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let cell = self.header.get(self.record, name)?;
        match f(cell) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.fail(name, reason);
                None
            }
        }
    }

    /// Like [`Cells::parse`], and an empty cell is a problem.
    pub fn required<T>(&mut self, name: &str, f: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        if self.header.get(self.record, name).is_none() {
            self.fail(name, "required: this cell must not be empty");
            return None;
        }
        self.parse(name, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn canonical_snake_and_italian_names() {
        let h = Header::resolve(
            CASE_COLUMNS,
            &cells(&[
                "Codice",
                "FASE",
                "opened_on",
                "Nazionalità",
                "Tipologia sfruttamento",
                "Titolo di soggiorno",
                "Fascia d'età",
                "",
            ]),
        )
        .unwrap();
        assert!(h.has("code") && h.has("phase") && h.has("openedOn"));
        assert_eq!(h.label("nationality"), "Nazionalità");
        assert!(h.has("exploitation") && h.has("permitCurrent") && h.has("ageGroup"));
        assert_eq!(h.label("gender"), "gender");
    }

    #[test]
    fn header_problems() {
        let problems = Header::resolve(
            CASE_COLUMNS,
            &cells(&["code", "fase", "nazionalita", "colore"]),
        )
        .unwrap_err();
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{:?} {}", p.column, p.reason))
            .collect();
        assert!(text
            .iter()
            .any(|t| t.contains("colore") && t.contains("unknown column")));
        assert!(text
            .iter()
            .any(|t| t.contains("openedOn") && t.contains("required")));
        let dup = Header::resolve(
            CASE_COLUMNS,
            &cells(&["code", "codice", "phase", "openedOn"]),
        )
        .unwrap_err();
        assert!(dup[0].reason.contains("same column"), "{}", dup[0].reason);
    }

    #[test]
    fn aliases_are_unique_per_table() {
        for table in [CASE_COLUMNS, REFERRAL_COLUMNS] {
            let mut seen = std::collections::HashSet::new();
            for c in table {
                for name in std::iter::once(&c.name).chain(c.aliases.iter()) {
                    assert!(seen.insert(key(name)), "{name} is used twice");
                }
            }
        }
    }

    #[test]
    fn case_columns_are_case_input_fields() {
        // Every importable column is a CaseInput field of the contract, classified in the policy.
        let policy = raccordo_policies::Policy::default_protocol().unwrap();
        for c in CASE_COLUMNS {
            let (ty, field) = match c.name {
                "closedOn" | "outcome" => ("Case", c.name),
                other => ("CaseInput", other),
            };
            assert!(policy.class_of(ty, field).is_some(), "{}", c.name);
        }
    }
}
