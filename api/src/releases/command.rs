//! `raccordo statistics release --period P [--province XX] [--format markdown|json]`: publishes
//! the release, or prints the one already published. The same checks as the GraphQL field: a
//! refused period or province writes nothing.

use std::fmt::Write;

use super::{get_or_publish, Population, Release, ReleasePeriod};
use crate::{
    access::local_date,
    cli::ReleaseFormat,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// Checks the period and province, publishes or reads the release, and renders it.
pub async fn release_command(
    state: &AppState,
    period: &str,
    province: Option<&str>,
    format: ReleaseFormat,
) -> ApiResult<String> {
    let setup = |e: ApiError| match e {
        ApiError::Validation { field, message } => ApiError::Setup(format!("--{field}: {message}")),
        other => other,
    };
    let now = chrono::Utc::now();
    let period = ReleasePeriod::parse("period", period).map_err(setup)?;
    let population = Population::parse("province", province).map_err(setup)?;
    period
        .check_releasable("period", state.policy.release_spec(), local_date(now))
        .map_err(setup)?;
    let release = get_or_publish(&state.db, &state.policy, &period, &population, now).await?;
    match format {
        ReleaseFormat::Json => json(&release),
        ReleaseFormat::Markdown => Ok(markdown(&release)),
    }
}

fn json(r: &Release) -> ApiResult<String> {
    let value = serde_json::json!({
        "id": r.id,
        "period": r.period,
        "province": r.population.province(),
        "cutOff": r.cut_off.to_string(),
        "publishedAt": r.published_at.to_rfc3339(),
        "epsilonPerTable": r.epsilon_per_table,
        "method": r.method,
        "policyVersion": r.policy_version,
        "tables": r.tables,
    });
    serde_json::to_string_pretty(&value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| ApiError::Internal(format!("release not serialisable: {e}").into()))
}

/// The release as Markdown: a heading, its parameters, then one table per release table.
pub fn markdown(r: &Release) -> String {
    let mut out = String::new();
    let population = r.population.province().unwrap_or("the whole hub");
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# Statistics release {} ({population})\n", r.period);
    let _ = writeln!(
        out,
        "Rows as of {}; published {}; protocol {}; ε per table {}.\n\n{}\n",
        r.cut_off,
        r.published_at.to_rfc3339(),
        r.policy_version,
        r.epsilon_per_table,
        r.method
    );
    for t in &r.tables {
        let _ = writeln!(out, "## {} by {}\n", t.subject, t.group_by.join(" × "));
        let _ = writeln!(out, "| {} | count |", t.group_by.join(" | "));
        let _ = writeln!(out, "|{}---: |", " --- |".repeat(t.group_by.len()));
        for c in &t.cells {
            let count = c.count.map_or("suppressed".to_string(), |n| n.to_string());
            let _ = writeln!(out, "| {} | {count} |", c.keys.join(" | "));
        }
        let _ = writeln!(out);
    }
    out
}
