//! The default document: it loads, it classifies exactly what ACCESS.md and the contract name,
//! bad documents are refused with the line, and the matrix is generated from it.

mod common;

use common::*;
use raccordo_policies::*;

#[test]
fn default_document_loads_with_its_version() {
    let p = policy();
    assert_eq!(p.version(), "2026-12-08.3");
    assert!(p.title().is_some());
    assert_eq!(p.suppression_k(), 3);
    assert_eq!(p.emergency_max_hours(), 72);
}

/// ACCESS.md section 2, verbatim (plus `history`, which section 2 names and the contract lacks).
const SECTION_2: &[(DataClass, &[&str])] = &[
    (
        DataClass::Base,
        &[
            "id", "code", "owner", "project", "phase", "openedOn", "closedOn", "version", "access",
        ],
    ),
    (
        DataClass::Profile,
        &[
            "gender",
            "ageGroup",
            "nationality",
            "exploitation",
            "emersionChannel",
            "emersionProvince",
            "accompanyingMinors",
            "pregnant",
        ],
    ),
    (
        DataClass::Identity,
        &["alias", "legalName", "birthDate", "phone"],
    ),
    (DataClass::Location, &["shelter"]),
    (
        DataClass::Legal,
        &[
            "permitAtStart",
            "permitCurrent",
            "permitExpiresOn",
            "asylumStatus",
        ],
    ),
    (DataClass::Judicial, &["complaintFiled", "complaintFiledOn"]),
    (DataClass::Health, &["healthNotes", "psychSupport"]),
    (DataClass::Gbv, &["gbvIndicators", "gbvRiskLevel"]),
    (
        DataClass::Pathway,
        &["activities", "outcome", "outcomeOn", "history"],
    ),
    (DataClass::Notes, &["notes"]),
];

#[test]
fn case_fields_are_classified_as_section_2_says() {
    let p = policy();
    let mut count = 0;
    for (class, fields) in SECTION_2 {
        for f in *fields {
            assert_eq!(
                p.class_of("Case", f),
                Some(FieldClass::Case(*class)),
                "Case.{f}"
            );
            count += 1;
        }
    }
    let classified = p
        .classified_fields()
        .filter(|(t, _, _)| *t == "Case")
        .count();
    assert_eq!(classified, count, "Case has fields section 2 does not name");
}

#[test]
fn referral_fields_are_grouped_as_section_6_says() {
    use ReferralClass::*;
    let p = policy();
    let expected: &[(ReferralClass, &[&str])] = &[
        (
            ReferralCore,
            &[
                "id",
                "requestedBy",
                "target",
                "receivedOn",
                "province",
                "status",
                "concludedOn",
                // Not data of §6: what the viewer may do, and the corrections, each entry
                // filtered by the classes of the fields it changed (issue 12).
                "access",
                "corrections",
            ],
        ),
        (
            ReferralSubject,
            &["subjectRef", "subjectGender", "subjectNationality"],
        ),
        (
            ReferralOutcome,
            &[
                "interviewsHeld",
                "outcome",
                "programmeAdhesion",
                "outcomeNote",
            ],
        ),
        (ReferralInternal, &["interviewNotes", "case"]),
    ];
    let mut count = 0;
    for (class, fields) in expected {
        for f in *fields {
            assert_eq!(
                p.class_of("Referral", f),
                Some(FieldClass::Referral(*class)),
                "Referral.{f}"
            );
            count += 1;
        }
    }
    assert_eq!(
        p.classified_fields()
            .filter(|(t, _, _)| *t == "Referral")
            .count(),
        count
    );
}

#[test]
fn network_types_are_classified_as_section_8_says() {
    let p = policy();
    for f in [
        "id",
        "name",
        "kind",
        "province",
        "city",
        "publicContact",
        "website",
    ] {
        assert_eq!(
            p.class_of("Agency", f),
            Some(FieldClass::Network(NetworkClass::Public)),
            "Agency.{f}"
        );
    }
    for f in ["referralContact", "notes"] {
        assert_eq!(
            p.class_of("Agency", f),
            Some(FieldClass::Network(NetworkClass::Partner)),
            "Agency.{f}"
        );
    }
    for t in ["Network", "Protocol", "Collaboration", "Project"] {
        let fields: Vec<_> = p
            .classified_fields()
            .filter(|(tt, _, _)| *tt == t)
            .collect();
        assert!(!fields.is_empty(), "{t}");
        for (_, f, c) in fields {
            assert_eq!(c, FieldClass::Network(NetworkClass::Partner), "{t}.{f}");
        }
    }
    for f in ["id", "name", "address", "city"] {
        assert_eq!(
            p.class_of("Shelter", f),
            Some(FieldClass::Network(NetworkClass::OwnerOnly)),
            "Shelter.{f}"
        );
    }
    assert_eq!(
        p.class_of("Query", "directory"),
        Some(FieldClass::Network(NetworkClass::Public))
    );
    assert_eq!(
        p.class_of("Query", "networks"),
        Some(FieldClass::Network(NetworkClass::Partner))
    );
}

#[test]
fn nested_case_types_carry_their_class() {
    let p = policy();
    for f in [
        "id",
        "author",
        "writtenAt",
        "text",
        "sharedWithJointPartners",
    ] {
        assert_eq!(
            p.class_of("CaseNote", f),
            Some(FieldClass::Case(DataClass::Notes))
        );
    }
    for f in ["id", "kind", "startedOn", "endedOn"] {
        assert_eq!(
            p.class_of("Activity", f),
            Some(FieldClass::Case(DataClass::Pathway))
        );
    }
    assert_eq!(p.class_of("StatCell", "count"), Some(FieldClass::Open));
    assert_eq!(p.class_of("PageInfo", "endCursor"), Some(FieldClass::Open));
    assert_eq!(p.class_of("Case", "nope"), None);
    assert_eq!(p.class_of("Nope", "id"), None);
}

#[test]
fn inputs_and_filters_agree_with_the_row_types() {
    let p = policy();
    let fields: Vec<(String, String, FieldClass)> = p
        .classified_fields()
        .map(|(t, f, c)| (t.to_string(), f.to_string(), c))
        .collect();
    for (t, f, c) in &fields {
        for home in ["Case", "Referral"] {
            let mirrors = ["Input", "Patch", "Filter"]
                .iter()
                .any(|s| *t == format!("{home}{s}"));
            if mirrors {
                if let Some(hc) = p.class_of(home, f) {
                    assert_eq!(*c, hc, "{t}.{f} vs {home}.{f}");
                }
            }
        }
    }
    // Filters on hidden data: nationality and gender are PROFILE, so a PERMIT viewer cannot filter on them.
    assert_eq!(
        p.class_of("CaseFilter", "nationality"),
        Some(FieldClass::Case(DataClass::Profile))
    );
    assert_eq!(
        p.class_of("CasePatch", "shelterId"),
        Some(FieldClass::Case(DataClass::Location))
    );
}

/// (type, field) of every object and input type of an SDL text. Enough of a parser for the
/// contract: comments, `type`/`input` blocks, field arguments, directives.
fn sdl_fields(sdl: &str) -> Vec<(String, String)> {
    let text: String = sdl
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(pos) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[pos..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[word.len()..];
        if word != "type" && word != "input" {
            // Skip other declarations whole (enum bodies hold values, not fields).
            if word == "enum" {
                if let Some(end) = rest.find('}') {
                    rest = &rest[end + 1..];
                }
            }
            continue;
        }
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let (Some(open), Some(close)) = (rest.find('{'), rest.find('}')) else {
            break;
        };
        let body = &rest[open + 1..close];
        // Field names: identifiers at parenthesis depth 0 followed by ':' or '('.
        let mut depth = 0;
        let mut expect_name = true;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 && expect_name && (c.is_ascii_alphabetic() || c == '_') => {
                    let ident: String = body[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    for _ in 1..ident.len() {
                        chars.next();
                    }
                    let after = body[i + ident.len()..].trim_start();
                    if after.starts_with(':') || after.starts_with('(') {
                        out.push((name.clone(), ident));
                        expect_name = false;
                    }
                }
                // A new field starts after the type: at a line break or after `!`/`]`+space.
                '\n' if depth == 0 => expect_name = true,
                _ if depth == 0 && !expect_name && (c == ' ') => {
                    // `a: Int b: Int` on one line: the type ends at whitespace.
                    let prev = body[..i].trim_end();
                    if !prev.ends_with(':') {
                        expect_name = true;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[close + 1..];
    }
    out
}

#[test]
fn the_document_covers_the_contract_schema() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/contract/schema.graphql"
    );
    let Ok(sdl) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is not there");
        return;
    };
    let fields = sdl_fields(&sdl);
    assert!(
        fields.len() > 200,
        "parser found only {} fields",
        fields.len()
    );
    assert!(fields.contains(&("Mutation".into(), "shareCase".into())));
    assert!(fields.contains(&("Network".into(), "municipalities".into())));
    let p = policy();
    let problems = p.check_schema_fields(&fields);
    // Nothing of the contract is unclassified.
    let missing: Vec<&String> = problems
        .iter()
        .filter(|m| m.contains("not classified"))
        .collect();
    assert!(missing.is_empty(), "{missing:#?}");
    // Fields the hub serves beyond the contract are checked against the live schema by the
    // api crate (`raccordo policy check`, and the hub refuses to start on a mismatch).
}

#[test]
fn check_schema_fields_names_both_directions() {
    let p = policy();
    let mut fields: Vec<(String, String)> = p
        .classified_fields()
        .map(|(t, f, _)| (t.to_string(), f.to_string()))
        .collect();
    assert!(p.check_schema_fields(&fields).is_empty());
    // Introspection is not the hub's and is ignored.
    fields.push(("__Schema".into(), "types".into()));
    fields.push(("Query".into(), "__typename".into()));
    assert!(p.check_schema_fields(&fields).is_empty());
    fields.push(("Case".into(), "foo".into()));
    fields.retain(|(t, f)| !(t == "Case" && f == "phase"));
    let problems = p.check_schema_fields(&fields);
    assert_eq!(
        problems,
        [
            "Case.foo is not classified by the policy document",
            "policy classifies Case.phase, which the schema does not have"
        ]
    );
    // A field given twice is reported once.
    fields.push(("Case".into(), "foo".into()));
    assert_eq!(p.check_schema_fields(&fields).len(), 2);
}

#[test]
fn matrix_is_deterministic_and_has_every_section() {
    let p = policy();
    let m = p.matrix_markdown();
    assert_eq!(m, policy().matrix_markdown());
    for section in [
        "## Reading cases",
        "## Changing cases",
        "## Share purposes",
        "## Referrals",
        "## Statistics",
        "## Network data",
    ] {
        assert!(m.contains(section), "{section}");
    }
    assert!(m.contains("2026-12-08.3"));
    assert!(m.contains("| `LOCATION` | `shelter` | yes | – | – | – | – | – |"));
    assert!(m.contains("| `NOTES` | `notes` | all notes | notes its own agency wrote"));
    assert!(m.contains(
        "| `JUDICIAL_COOPERATION` | a share | `FORZE_ORDINE`, `PROCURA` | JUDICIAL | allowed |"
    ));
    assert!(m.contains("| `ENTE_ANTITRATTA` | exact | release | MINE |"));
    assert!(m.contains("ε per table: 0.25"));
    assert!(m.contains("ε a person is exposed to in a year: 36"));
    assert!(m.contains("| PERMIT | – | `permitCurrent`, `permitExpiresOn` |"));
}

/// `policies/MATRIX.md` is the committed copy of the default matrix; it must not drift.
/// Regenerate with `RACCORDO_BLESS=1 cargo test -p raccordo-policies --test document`
/// (or `raccordo policy matrix > policies/MATRIX.md`).
#[test]
fn committed_matrix_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/MATRIX.md");
    let fresh = policy().matrix_markdown();
    if std::env::var_os("RACCORDO_BLESS").is_some() {
        if let Err(e) = std::fs::write(path, &fresh) {
            panic!("cannot write {path}: {e}");
        }
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == fresh.trim_end(),
        "policies/MATRIX.md is stale: regenerate it (RACCORDO_BLESS=1 cargo test -p raccordo-policies --test document)"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad documents
// ---------------------------------------------------------------------------------------------

fn assert_err_at_line(source: &str, line: usize, needle: &str) {
    let err = load_err(source);
    assert!(
        err.contains(&format!("line {line}")),
        "expected line {line} in: {err}"
    );
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

#[test]
fn unknown_class_name_names_its_line() {
    let (doc, line) = mutate("legalName = \"IDENTITY\"", "legalName = \"IDENTITTY\"");
    assert_err_at_line(&doc, line, "IDENTITTY");
    match Policy::from_toml(&doc) {
        Err(PolicyError::Syntax { line: l, .. }) => assert_eq!(l, line),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn unknown_names_name_their_line() {
    let cases = [
        // kind
        (
            "recipients = [\"QUESTURA\"]",
            "recipients = [\"QUESTURE\"]",
            "QUESTURE",
        ),
        // role
        (
            "rows = [\"OPERATOR\", \"COORDINATOR\"]",
            "rows = [\"OPERATOR\", \"BOSS\"]",
            "BOSS",
        ),
        // relationship as a value
        (
            "relationship = \"PERMIT\"",
            "relationship = \"PERMITS\"",
            "PERMITS",
        ),
        // relationship as a table name
        ("[read.SERVICE]", "[read.SERVICES]", "SERVICES"),
        // purpose as a table name
        (
            "[purposes.SERVICE_REFERRAL]",
            "[purposes.SERVICE_REFERAL]",
            "SERVICE_REFERAL",
        ),
        // action
        (
            "actions = [\"ADD_NOTE\"]",
            "actions = [\"ADD_NOTES\"]",
            "ADD_NOTES",
        ),
        // notes scope
        (
            "notes = \"OWN_AND_SHARED_WITH_JOINT\"",
            "notes = \"SHARED\"",
            "SHARED",
        ),
        // unknown key (a typo)
        ("max_hours = 72", "max_hour = 72", "max_hour"),
        // class inside a read list
        (
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\"]",
            "classes = [\"BASE\", \"IDENTITY\", \"LEGALE\"]",
            "LEGALE",
        ),
        // statistics access
        (
            "PREFETTURA = { mine = \"EXACT\"",
            "PREFETTURA = { mine = \"NEVER\"",
            "NEVER",
        ),
        // network viewer
        (
            "OWNER_ONLY = [\"OWNER\"]",
            "OWNER_ONLY = [\"OWNERS\"]",
            "OWNERS",
        ),
        // referral column
        ("OTHER = []", "OTHERS = []", "OTHERS"),
    ];
    for (from, to, needle) in cases {
        let (doc, line) = mutate(from, to);
        assert_err_at_line(&doc, line, needle);
    }
}

#[test]
fn a_field_classified_twice_is_refused_at_its_line() {
    let (doc, line) = mutate(
        "phone = \"IDENTITY\"\n",
        "phone = \"IDENTITY\"\nphone = \"BASE\"\n",
    );
    assert_err_at_line(&doc, line + 1, "phone");
}

#[test]
fn contradictions_are_refused() {
    let cases: &[(&str, &str, &str)] = &[
        ("recipients = [\"QUESTURA\"]", "recipients = []", "empty"),
        (
            "purposes = [\"JUDICIAL_COOPERATION\", \"SERVICE_REFERRAL\"]",
            "purposes = [\"JUDICIAL_COOPERATION\", \"TRANSFER\"]",
            "transfer request",
        ),
        ("k = 3", "k = 1", "at least 2"),
        ("k = 3", "k = 0", "at least 2"),
        ("k = 3", "k = -4", "at least 2"),
        ("max_hours = 72", "max_hours = 0", "at least 1"),
        (
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\"]",
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\", \"NOTES\"]",
            "NOTES",
        ),
        (
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\"]",
            "classes = [\"IDENTITY\", \"LEGAL\"]",
            "BASE",
        ),
        (
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\"]",
            "classes = [\"BASE\", \"IDENTITY\", \"LEGAL\", \"LEGAL\"]",
            "twice",
        ),
        (
            "fields = [\"permitCurrent\", \"permitExpiresOn\"]",
            "fields = [\"permitCurrent\", \"permitExpires\"]",
            "permitExpires",
        ),
        (
            "fields = [\"permitCurrent\", \"permitExpiresOn\"]",
            "fields = [\"permitCurrent\", \"healthNotes\"]",
            "not readable",
        ),
        (
            "actions = [\"ADD_NOTE\"]\nclasses = [\"GBV\"]",
            "actions = [\"ADD_NOTE\"]\nclasses = [\"HEALTH\"]",
            "not readable",
        ),
        (
            "actions = [\"DECIDE_TRANSFER\"]",
            "actions = [\"DECIDE_TRANSFER\", \"ADD_NOTE\"]",
            "ADD_NOTE",
        ),
        (
            "rows = [\"OPERATOR\", \"COORDINATOR\"]",
            "rows = [\"OPERATOR\"]",
            "rows",
        ),
        (
            "administer = [\"PLATFORM_ADMIN\"]",
            "administer = [\"PLATFORM_ADMIN\", \"OPERATOR\"]",
            "administer",
        ),
        (
            "roles = [\"OPERATOR\", \"COORDINATOR\", \"ANALYST\"]",
            "roles = [\"OPERATOR\", \"COORDINATOR\", \"ANALYST\", \"PLATFORM_ADMIN\"]",
            "administer",
        ),
        (
            "anonymous = \"FORBIDDEN\"",
            "anonymous = \"EXACT\"",
            "EXACT",
        ),
        (
            "PREFETTURA = { mine = \"EXACT\", network = \"RELEASE\", default = \"NETWORK\" }",
            "PREFETTURA = { mine = \"FORBIDDEN\", network = \"RELEASE\", default = \"MINE\" }",
            "default",
        ),
        (
            "PREFETTURA = { mine = \"EXACT\", network = \"RELEASE\", default = \"NETWORK\" }",
            "PREFETTURA = { mine = \"EXACT\", network = \"EXACT\", default = \"NETWORK\" }",
            "only from releases",
        ),
        (
            "PREFETTURA = { mine = \"EXACT\", network = \"RELEASE\", default = \"NETWORK\" }",
            "PREFETTURA = { mine = \"RELEASE\", network = \"RELEASE\", default = \"NETWORK\" }",
            "only from releases",
        ),
        ("epsilon_per_year = 36.0", "epsilon_per_year = 35.9", "36"),
        (
            "[\"PROVINCE\"], [\"URGENCY\"], [\"STATUS\"]",
            "[\"PROVINCE\"], [\"SHELTER\"], [\"STATUS\"]",
            "placements tables",
        ),
        (
            "epsilon_per_table = 0.25",
            "epsilon_per_table = 0",
            "ε must be above 0",
        ),
        (
            "epsilon_per_table = 0.25",
            "epsilon_per_table = -1.0",
            "ε must be above 0",
        ),
        ("grace_days = 30", "grace_days = -1", "grace_days"),
        (
            "exploitations_per_case = 2",
            "exploitations_per_case = 0",
            "exploitations_per_case",
        ),
        (
            "periods = [\"MONTH\", \"QUARTER\", \"YEAR\"]",
            "periods = [\"MONTH\", \"WEEK\"]",
            "WEEK",
        ),
        (
            "periods = [\"MONTH\", \"QUARTER\", \"YEAR\"]",
            "periods = [\"MONTH\", \"MONTH\"]",
            "twice",
        ),
        (
            "periods = [\"MONTH\", \"QUARTER\", \"YEAR\"]",
            "periods = []",
            "at least one",
        ),
        (
            "provinces = [\"BG\",",
            "provinces = [\"Bergamo\",",
            "Bergamo",
        ),
        (
            "nationalities = [\"NG\",",
            "nationalities = [\"NG\", \"NG\",",
            "twice",
        ),
        (
            "[\"NATIONALITY\", \"GENDER\"], [\"EXPLOITATION\", \"GENDER\"],",
            "[\"NATIONALITY\", \"GENDER\"], [\"GENDER\", \"NATIONALITY\"],",
            "listed twice",
        ),
        (
            "[\"NATIONALITY\", \"GENDER\"], [\"EXPLOITATION\", \"GENDER\"],",
            "[\"NATIONALITY\", \"NATIONALITY\"], [\"EXPLOITATION\", \"GENDER\"],",
            "two different",
        ),
        (
            "[\"REQUESTER_KIND\", \"OUTCOME\"], [\"TARGET\", \"STATUS\"],",
            "[\"REQUESTER_KIND\", \"OUTCOME\"], [\"TARGET\", \"PHASE\"],",
            "PHASE",
        ),
        (
            "[\"REQUESTER_KIND\", \"OUTCOME\"], [\"TARGET\", \"STATUS\"],",
            "[\"REQUESTER_KIND\", \"OUTCOME\"], [\"TARGET\", \"STATUS\", \"OUTCOME\"],",
            "two different",
        ),
        (
            "relationship = \"PERMIT\"",
            "relationship = \"OWNER\"",
            "OWNER",
        ),
        (
            "relationship = \"PERMIT\"",
            "relationship = \"JOINT\"",
            "already",
        ),
        (
            "law_enforcement = [\"FORZE_ORDINE\", \"PROCURA\"]",
            "law_enforcement = [\"FORZE_ORDINE\", \"FORZE_ORDINE\"]",
            "twice",
        ),
        (
            "  \"NUMERO_VERDE\",             # the national",
            "  # \"NUMERO_VERDE\",             # the national",
            "NUMERO_VERDE",
        ),
        (
            "all = [\"OPERATOR\", \"COORDINATOR\", \"ANALYST\", \"PLATFORM_ADMIN\"]",
            "all = [\"OPERATOR\", \"COORDINATOR\", \"ANALYST\"]",
            "PLATFORM_ADMIN",
        ),
        (
            "PARTNER = [\"PARTNER\", \"OWNER\"]",
            "PARTNER = [\"PARTNER\"]",
            "OWNER must read",
        ),
        (
            "REQUESTER = [\"REFERRAL_CORE\", \"REFERRAL_SUBJECT\", \"REFERRAL_OUTCOME\"]",
            "REQUESTER = [\"REFERRAL_SUBJECT\"]",
            "REFERRAL_CORE",
        ),
        (
            "WORK = [\"TARGET\"]",
            "WORK = [\"TARGET\", \"OTHER\"]",
            "OTHER",
        ),
        (
            "READ_ACCESS_LOG = [\"COORDINATOR\"]",
            "READ_ACCESS_LOG = [\"ANALYST\"]",
            "[roles] act",
        ),
        ("roles = [\"COORDINATOR\"]", "roles = []", "empty"),
        ("holders = [\"ENTE_ANTITRATTA\"]", "holders = []", "holders"),
        (
            "permitAtStart = \"LEGAL\"\npermitCurrent",
            "permitAtStart = \"REFERRAL_CORE\"\npermitCurrent",
            "case class",
        ),
        (
            "nationality = \"PROFILE\"\ngender = \"PROFILE\"\nexploitation",
            "nationality = \"BASE\"\ngender = \"PROFILE\"\nexploitation",
            "same class",
        ),
        ("version = \"2026-12-08.3\"", "version = \"  \"", "version"),
    ];
    for (from, to, needle) in cases {
        let (doc, line) = mutate(from, to);
        let err = load_err(&doc);
        assert!(
            err.contains(needle),
            "{from:?} -> {to:?}: expected {needle:?} in: {err}"
        );
        // Every one of these can point at the offending line, and does.
        assert!(
            err.contains("line "),
            "{from:?} -> {to:?}: no line in: {err}"
        );
        let named: usize = err
            .trim_start_matches("line ")
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        // The line named is where the offending value starts, which for a list written over
        // several lines may be a few lines before the edit, or the related key just after it.
        assert!(
            named.abs_diff(line) <= 12 && named > 0,
            "{from:?} -> {to:?}: line {named}, expected about {line}: {err}"
        );
    }
}

#[test]
fn missing_tables_are_refused() {
    let remove = |header: &str| -> String {
        // The header at the start of a line (the opening comments quote some headers).
        let start = DEFAULT_PROTOCOL
            .find(&format!("\n{header}"))
            .map(|s| s + 1)
            .unwrap_or_else(|| panic!("{header}"));
        let end = DEFAULT_PROTOCOL[start + 1..]
            .find("\n[")
            .map(|e| start + 1 + e + 1)
            .unwrap_or(DEFAULT_PROTOCOL.len());
        format!("{}{}", &DEFAULT_PROTOCOL[..start], &DEFAULT_PROTOCOL[end..])
    };
    for (header, needle) in [
        ("[read.JUDICIAL]", "JUDICIAL"),
        ("[read.OWNER]", "OWNER"),
        ("[change.SERVICE]", "SERVICE"),
        ("[purposes.PERMIT_PROCEDURE]", "PERMIT_PROCEDURE"),
        ("[fields.Case]", "Case"),
        ("[fields.Referral]", "Referral"),
        ("[emergency]", "emergency"),
        ("[referrals.changes]", "changes"),
    ] {
        let err = load_err(&remove(header));
        assert!(err.contains(needle), "{header}: {err}");
    }
    let (doc, _) = mutate(
        "COORDINAMENTO = { mine = \"EXACT\", network = \"RELEASE\", default = \"MINE\" }\n",
        "",
    );
    assert!(load_err(&doc).contains("COORDINAMENTO"));
    let (doc, _) = mutate("OWNER_ONLY = [\"OWNER\"]\n", "");
    assert!(load_err(&doc).contains("OWNER_ONLY"));
    let (doc, _) = mutate("OTHER = []\n", "");
    assert!(load_err(&doc).contains("OTHER"));
}

#[test]
fn not_toml_is_a_syntax_error_with_a_line() {
    let (doc, line) = mutate("[emergency]", "[emergency");
    match Policy::from_toml(&doc) {
        Err(PolicyError::Syntax { line: l, .. }) => assert_eq!(l, line),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(Policy::from_toml("").is_err());
    assert!(Policy::from_toml("version = 3").is_err());
}

#[test]
fn bad_graphql_names_are_refused() {
    let (doc, line) = mutate("[fields.PageInfo]", "[fields.\"Page Info\"]");
    assert_err_at_line(&doc, line, "not a GraphQL type name");
    let (doc, line) = mutate("hasNextPage = \"OPEN\"", "\"has-next\" = \"OPEN\"");
    assert_err_at_line(&doc, line, "not a GraphQL field name");
}
