//! `raccordo report`, run as a real process on the demo: its CSV equals the report's tables cell by
//! cell, its Markdown carries the same numbers, and bad arguments fail with a message.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use raccordo_api::demo::{load::CASES_TOML, synth};

const BIN: &str = env!("CARGO_BIN_EXE_raccordo");

fn workdir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("raccordo-report-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn raccordo(dir: &Path, args: &[&str]) -> Output {
    let url = format!("sqlite://{}?mode=rwc", dir.join("hub.db").display());
    Command::new(BIN)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("RACCORDO_POLICY")
        .output()
        .expect("raccordo runs")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn report_command_writes_the_reports_tables() {
    let dir = workdir();
    ok(&raccordo(&dir, &["seed", "--demo"]));
    let expected = synth::expected(CASES_TOML).expect("the report's tables");
    let (from, to) = (
        expected.period_start.to_string(),
        expected.period_end.to_string(),
    );
    let csv_path = dir.join("tables.csv");
    let out = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "mettiamo-le-ali",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            "csv",
            "--output",
            csv_path.to_str().expect("path"),
        ],
    );
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exact counts"));

    // table -> key -> column -> value
    let mut cells: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(&csv_path).expect("the CSV");
    assert_eq!(
        reader.headers().expect("header"),
        vec!["table", "key", "column", "value"]
    );
    for record in reader.records() {
        let r = record.expect("a record");
        cells
            .entry(r[0].to_string())
            .or_default()
            .entry(r[1].to_string())
            .or_default()
            .insert(r[2].to_string(), r[3].parse().expect("a number"));
    }
    let total = &cells["cases_total"];
    assert_eq!(total["TOTAL"]["people"], u64::from(expected.total_cases));
    assert_eq!(total["NEW"]["people"], u64::from(expected.new_in_period));
    assert_eq!(
        total["CONTINUING"]["people"],
        u64::from(expected.continuing)
    );
    for (dim, rows) in &expected.cases {
        if ["AGE_GROUP", "EMERSION_AREA"].contains(&dim.as_str()) {
            continue;
        }
        let name = format!("cases_by_{}", dim.to_ascii_lowercase());
        let live: BTreeMap<String, u64> = cells[&name]
            .iter()
            .map(|(k, c)| (k.clone(), c["people"]))
            .collect();
        let want: BTreeMap<String, u64> = rows
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), u64::from(*n)))
            .collect();
        assert_eq!(live, want, "people by {dim}");
    }
    let referrals = &cells["referrals_by_province"];
    assert_eq!(
        referrals.keys().collect::<Vec<_>>(),
        expected.referral_rows.keys().collect::<Vec<_>>()
    );
    for (province, want) in &expected.referral_rows {
        let live = &referrals[province];
        for (column, value) in [
            ("reported", want.reported),
            ("met", want.met),
            ("interviews", want.interviews),
            ("identified", want.identified),
            ("adhesions", want.adhesions),
            ("queue", want.queue),
        ] {
            assert_eq!(live[column], u64::from(value), "{province} {column}");
        }
    }

    // Markdown on standard output.
    let out = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "mettiamo-le-ali",
            "--from",
            &from,
            "--to",
            &to,
        ],
    );
    ok(&out);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("# "), "{md}");
    assert!(md.contains("| Nuove prese in carico | 28 |"), "{md}");
    assert!(md.contains("| PRONTO_INTERVENTO | 7 |"), "{md}");

    // Bad arguments: a period ending before it starts, an unknown project, a bad date.
    for (args, says) in [
        (
            vec![
                "report",
                "--project",
                "mettiamo-le-ali",
                "--from",
                &to,
                "--to",
                &from,
            ],
            "before",
        ),
        (
            vec!["report", "--project", "nope", "--from", &from, "--to", &to],
            "no project",
        ),
        (
            vec![
                "report",
                "--project",
                "mettiamo-le-ali",
                "--from",
                "31/02/2023",
                "--to",
                &to,
            ],
            "31/02/2023",
        ),
    ] {
        let out = raccordo(&dir, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 15: the report takes a project's name and dates as the enti write them (dd/mm/yyyy),
/// answers exactly as with the id and ISO dates, ends with a newline, and says what a bad date is.
#[test]
fn report_takes_a_projects_name_and_italian_dates() {
    let dir = workdir();
    ok(&raccordo(&dir, &["seed", "--demo"]));
    let expected = synth::expected(CASES_TOML).expect("the report's tables");
    let iso = |d: chrono::NaiveDate| d.to_string();
    let italian = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    let by_id = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "mettiamo-le-ali",
            "--from",
            &iso(expected.period_start),
            "--to",
            &iso(expected.period_end),
        ],
    );
    ok(&by_id);
    let by_name = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "Mettiamo le Ali – dall'Emersione all'integrazione",
            "--from",
            &italian(expected.period_start),
            "--to",
            &italian(expected.period_end),
        ],
    );
    ok(&by_name);
    assert_eq!(by_name.stdout, by_id.stdout);
    assert!(
        by_id.stdout.ends_with(b"\n"),
        "the report ends with a newline"
    );
    let bad = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "mettiamo-le-ali",
            "--from",
            "31/02/2023",
            "--to",
            "01/03/2023",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("dd/mm/yyyy"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let unknown = raccordo(
        &dir,
        &[
            "report",
            "--project",
            "Nessun progetto",
            "--from",
            "01/01/2023",
            "--to",
            "31/12/2023",
        ],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("id or the name"));
}
