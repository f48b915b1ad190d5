//! `raccordo report --project ID --from DATE --to DATE [--format markdown|csv] [--output FILE]`.

use std::{io::Write, path::Path, process::ExitCode};

use super::{csv, markdown, tables};
use crate::{
    cli::{ReportArgs, ReportFormat},
    config::Settings,
    error::{ApiError, ApiResult},
    prepare,
};

/// Writes `bytes` to a new or truncated file only its owner can read: the tables hold exact
/// small counts.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Computes the tables and writes them to `--output` or standard output.
pub async fn report_command(settings: &Settings, args: ReportArgs) -> ApiResult<ExitCode> {
    if args.to < args.from {
        return Err(ApiError::Setup(format!(
            "--to {} is before --from {}",
            args.to, args.from
        )));
    }
    let state = prepare(settings).await?;
    let t = tables(&state.db, &args.project, args.from, args.to)
        .await
        .map_err(|e| match e {
            ApiError::Validation { message, .. } => ApiError::Setup(message),
            other => other,
        })?;
    let text = match args.format {
        ReportFormat::Markdown => markdown(&t),
        ReportFormat::Csv => csv(&t)?,
    };
    match &args.output {
        Some(path) => write_private(path, text.as_bytes())
            .map_err(|e| ApiError::Setup(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| ApiError::Setup(format!("cannot write the report: {e}")))?,
    }
    eprintln!(
        "report of {} from {} to {}: exact counts, for the coordination's own use",
        t.project, t.from, t.to
    );
    Ok(ExitCode::SUCCESS)
}
