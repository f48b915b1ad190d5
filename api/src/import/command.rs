//! The command-line side of import and export: reading the file within the size limit, the
//! synthetic user of the agency, printing the report, the exit code.

use std::{
    io::{Read, Write},
    path::Path,
    process::ExitCode,
};

use chrono::Utc;
use raccordo_entities::agency;
use raccordo_policies::{AgencyKind, UserRole};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{export_cases, import_cases, import_referrals, Options, Report, MAX_FILE_BYTES};
use crate::{
    access::Principal,
    cli::{ExportWhat, ImportArgs, ImportWhat},
    config::Settings,
    error::{ApiError, ApiResult},
    prepare,
};

/// Exit code when `--partial` wrote the valid rows and rejected others: not a failure of the
/// command, but not everything in the file is in the hub either.
const PARTIAL_EXIT: u8 = 2;

/// The file's bytes, refused before parsing when larger than [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> ApiResult<Vec<u8>> {
    let too_big = |size: u64| {
        ApiError::LimitExceeded(format!(
            "{} is {:.1} MB; an import reads files up to {} MB: split it into smaller files (nothing was imported)",
            path.display(),
            size as f64 / 1_048_576.0,
            MAX_FILE_BYTES / 1_048_576
        ))
    };
    let cannot =
        |e: std::io::Error| ApiError::Setup(format!("cannot read {}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_big(size));
    }
    let mut bytes = Vec::new();
    // A file that grows while it is read is still cut at the limit.
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A coordinator of `agency_id` named `user`, the agency as the hub knows it. An unknown agency
/// is an error; so is a disabled one when `for_new_work`.
pub async fn agency_principal(
    db: &DatabaseConnection,
    agency_id: &str,
    user: String,
    for_new_work: bool,
) -> ApiResult<Principal> {
    let row = agency::Entity::find_by_id(agency_id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::Setup(format!("no agency has the id {agency_id:?} in this hub"))
        })?;
    if for_new_work && row.disabled {
        return Err(ApiError::Setup(format!(
            "agency {agency_id:?} is disabled: it takes no new work"
        )));
    }
    let kind = row.kind.parse::<AgencyKind>().map_err(|_| {
        ApiError::Internal(format!("agency {agency_id:?} has an unknown kind").into())
    })?;
    Ok(Principal {
        user_id: user,
        role: UserRole::Coordinator,
        agency: Some(row),
        kind: Some(kind),
    })
}

fn delimiter_byte(d: char) -> ApiResult<u8> {
    u8::try_from(d)
        .ok()
        .filter(|b| b.is_ascii() && !b.is_ascii_alphanumeric() && *b != b'"')
        .ok_or_else(|| {
            ApiError::Setup(format!(
                "--delimiter {d:?} cannot separate CSV cells: use ',', ';' or a tab"
            ))
        })
}

/// What the shell sees: 0 when every row is in the hub (or would be), 1 when rows were rejected
/// and nothing was written, 2 when `--partial` wrote the valid rows and rejected others.
pub fn exit_code(report: &Report) -> ExitCode {
    if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else if report.written {
        ExitCode::from(PARTIAL_EXIT)
    } else {
        ExitCode::FAILURE
    }
}

/// `raccordo import cases|referrals FILE --agency ID [--dry-run] [--partial] [--delimiter D]`.
pub async fn import_command(settings: &Settings, what: ImportWhat) -> ApiResult<ExitCode> {
    let (cases, args): (bool, ImportArgs) = match what {
        ImportWhat::Cases(a) => (true, a),
        ImportWhat::Referrals(a) => (false, a),
    };
    let opts = Options {
        dry_run: args.dry_run,
        partial: args.partial,
        delimiter: args.delimiter.map(delimiter_byte).transpose()?,
    };
    let bytes = read_limited(&args.file)?;
    let state = prepare(settings).await?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let principal =
        agency_principal(&state.db, &args.agency, format!("import:{name}"), true).await?;
    let viewer = principal.viewer();
    let kind = principal.kind.map(|k| k.as_str()).unwrap_or_default();
    let now = Utc::now();
    let report = if cases {
        if !state.policy.may_create_case(&viewer) {
            return Err(ApiError::Setup(format!(
                "agency {:?} is a {kind}: the protocol does not let it hold cases",
                args.agency
            )));
        }
        import_cases(&state, &principal, &bytes, now, &opts).await?
    } else {
        if !state.policy.may_create_referral(&viewer) {
            return Err(ApiError::Setup(format!(
                "agency {:?} is a {kind}: the protocol does not let it send referrals",
                args.agency
            )));
        }
        import_referrals(&state, &principal, &bytes, now, &opts).await?
    };
    print!(
        "{}",
        report.render(if cases { "cases" } else { "referrals" })
    );
    Ok(exit_code(&report))
}

/// Writes `bytes` to a new or truncated file that only its owner can read: an export holds
/// identities, health notes and shelter ids.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// `raccordo export cases --agency ID [--output FILE]`.
pub async fn export_command(settings: &Settings, what: ExportWhat) -> ApiResult<ExitCode> {
    let ExportWhat::Cases { agency, output } = what;
    let state = prepare(settings).await?;
    let target = output
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdout".into());
    let principal = agency_principal(&state.db, &agency, format!("export:{target}"), false).await?;
    let export = export_cases(&state, &principal, Utc::now(), b',').await?;
    match &output {
        Some(path) => write_private(path, &export.csv)
            .map_err(|e| ApiError::Setup(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout()
            .write_all(&export.csv)
            .map_err(|e| ApiError::Setup(format!("cannot write the export: {e}")))?,
    }
    eprintln!(
        "exported {} cases of {agency} (one access-log entry each, operation \"export\")",
        export.cases
    );
    Ok(ExitCode::SUCCESS)
}
