//! The report's tables as Markdown (to read and paste) and as CSV (to compute with).

use super::{ProvinceRow, ReportTables};
use crate::error::{ApiError, ApiResult};

/// The referral table's columns: (CSV name, the report's heading).
const REFERRAL_COLUMNS: [(&str, &str); 6] = [
    ("reported", "Persone segnalate"),
    ("met", "Nuove persone incontrate"),
    ("interviews", "Colloqui svolti"),
    ("identified", "Persone identificate"),
    ("adhesions", "Adesioni al programma"),
    ("queue", "Coda a fine periodo"),
];

fn referral_values(r: &ProvinceRow) -> [u64; 6] {
    [
        r.reported,
        r.met,
        r.interviews,
        r.identified,
        r.adhesions,
        r.queue,
    ]
}

/// Markdown: one section per table, with totals, and a header saying the counts are exact.
pub fn markdown(t: &ReportTables) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "# {} ({}): tabelle dal {} al {}",
        t.project_name,
        t.project,
        t.from.format("%d.%m.%Y"),
        t.to.format("%d.%m.%Y")
    ));
    line(String::new());
    line("Conteggi esatti calcolati da Raccordo sui dati del progetto, come li vede il coordinamento: per uso interno del coordinamento (i numeri piccoli non sono oscurati).".into());
    line(String::new());
    line("## Utenza in assistenza".into());
    line(String::new());
    line("| | Persone |".into());
    line("| --- | ---: |".into());
    line(format!("| Nuove prese in carico | {} |", t.new_in_period));
    line(format!(
        "| In continuità dagli avvisi precedenti | {} |",
        t.continuing
    ));
    line(format!("| Totale | {} |", t.total));
    for table in &t.cases {
        line(String::new());
        line(format!("## {} ({})", table.title, table.dimension));
        line(String::new());
        line(format!("| {} | Persone |", table.dimension));
        line("| --- | ---: |".into());
        for (key, n) in &table.rows {
            line(format!("| {key} | {n} |"));
        }
        line(format!(
            "| Totale | {} |",
            table.rows.iter().map(|r| r.1).sum::<u64>()
        ));
    }
    line(String::new());
    line("## Servizio di valutazione e filtro: segnalazioni per provincia".into());
    line(String::new());
    line(format!(
        "| Provincia | {} |",
        REFERRAL_COLUMNS
            .iter()
            .map(|c| c.1)
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    line(format!(
        "| --- |{}",
        " ---: |".repeat(REFERRAL_COLUMNS.len())
    ));
    let mut totals = [0u64; 6];
    for r in &t.referrals {
        let v = referral_values(r);
        for (sum, x) in totals.iter_mut().zip(v) {
            *sum += x;
        }
        line(format!(
            "| {} | {} |",
            r.province,
            v.map(|x| x.to_string()).join(" | ")
        ));
    }
    line(format!(
        "| Totale | {} |",
        totals.map(|x| x.to_string()).join(" | ")
    ));
    out
}

/// CSV in long form, one number per line: `table,key,column,value`. Tables: `cases_total` (keys
/// `NEW`, `CONTINUING`, `TOTAL`), `cases_by_<dimension>` (column `people`),
/// `referrals_by_province` (columns `reported`, `met`, `interviews`, `identified`, `adhesions`,
/// `queue`).
pub fn csv(t: &ReportTables) -> ApiResult<String> {
    let mut w = crate::spreadsheet::Writer::new(b',');
    let fail =
        |e: ::csv::Error| ApiError::Internal(format!("writing the report's CSV: {e}").into());
    w.write_record(["table", "key", "column", "value"])
        .map_err(fail)?;
    for (key, n) in [
        ("NEW", t.new_in_period),
        ("CONTINUING", t.continuing),
        ("TOTAL", t.total),
    ] {
        w.write_record(["cases_total", key, "people", &n.to_string()])
            .map_err(fail)?;
    }
    for table in &t.cases {
        let name = format!("cases_by_{}", table.dimension.to_ascii_lowercase());
        for (key, n) in &table.rows {
            w.write_record([name.as_str(), key, "people", &n.to_string()])
                .map_err(fail)?;
        }
    }
    for r in &t.referrals {
        for ((column, _), v) in REFERRAL_COLUMNS.iter().zip(referral_values(r)) {
            w.write_record(["referrals_by_province", &r.province, column, &v.to_string()])
                .map_err(fail)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("writing the report's CSV: {e}").into()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(format!("report CSV: {e}").into()))
}
