//! The command line (see the contract README): `serve`, `migrate`, `seed`, `token`, `audit`,
//! `policy`, `schema`, `import`, `export`, `report`. Settings are global flags with environment variables.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// Raccordo: the data-sharing hub of the anti-trafficking multi-agency network.
#[derive(Debug, Parser)]
#[command(name = "raccordo", version, about)]
pub struct Cli {
    #[command(flatten)]
    /// Settings shared by every command.
    pub settings: Settings,
    #[command(subcommand)]
    /// What to do.
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the hub; applies pending migrations first.
    Serve {
        /// Load the demo network and cases into an empty database and print ready-made tokens.
        #[arg(long)]
        demo: bool,
    },
    /// Applies pending migrations and exits.
    Migrate,
    /// Loads data into the database.
    Seed {
        /// The demo network and synthetic cases (into an empty database).
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Mints a development token signed with the configured secret.
    Token {
        /// The user's agency id (omit for a platform admin).
        #[arg(long)]
        agency: Option<String>,
        /// The user's role: OPERATOR, COORDINATOR, ANALYST or PLATFORM_ADMIN.
        #[arg(long)]
        role: String,
        /// The user's id.
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// How long the token lives: 30m, 8h, 2d...
        #[arg(long, default_value = "8h")]
        ttl: String,
    },
    /// The access log.
    Audit {
        #[command(subcommand)]
        /// What to do with the access log.
        action: AuditAction,
    },
    /// The policy document.
    Policy {
        #[command(subcommand)]
        /// What to do with the policy document.
        action: PolicyAction,
    },
    /// Prints the GraphQL schema (SDL) the hub serves.
    Schema {
        /// Print only what one kind of caller may ever learn of the schema under the loaded
        /// policy: `anonymous`, or `KIND:ROLE` (e.g. `QUESTURA:OPERATOR`, `-:PLATFORM_ADMIN`).
        #[arg(long, conflicts_with = "federation")]
        viewer: Option<String>,
        /// Print the Apollo Federation v2 subgraph SDL a gateway composes (as `_service { sdl }`).
        #[arg(long)]
        federation: bool,
    },
    /// Imports a spreadsheet (CSV) of cases or referrals for an agency.
    Import {
        #[command(subcommand)]
        /// Cases or referrals.
        what: ImportWhat,
    },
    /// Exports an agency's own cases as CSV, in the columns the import reads.
    Export {
        #[command(subcommand)]
        /// What to export.
        what: ExportWhat,
    },
    /// Writes a project's report tables (people in assistance, referrals by province) for a
    /// period, computed from the rows. Exact counts, as the project's coordination sees them:
    /// an operator's tool for the coordination's own use.
    Report(ReportArgs),
    /// Network statistics releases (ACCESS.md §7).
    Statistics {
        #[command(subcommand)]
        /// What to do with the releases.
        action: StatisticsAction,
    },
}

/// Statistics commands.
#[derive(Debug, Subcommand)]
pub enum StatisticsAction {
    /// Publishes the release of a closed period (or prints it, when already published): the
    /// same frozen release every partner reads.
    Release {
        /// `2023` (a year), `2023-Q2` (a quarter) or `2023-06` (a month).
        #[arg(long)]
        period: String,
        /// A province (sigla); the whole hub when left out.
        #[arg(long)]
        province: Option<String>,
        /// Markdown tables or JSON.
        #[arg(long, value_enum, default_value_t = ReleaseFormat::Markdown)]
        format: ReleaseFormat,
    },
}

/// How `raccordo statistics release` prints a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReleaseFormat {
    /// Markdown tables.
    Markdown,
    /// JSON, as stored.
    Json,
}

/// What `raccordo report` computes and where it writes it.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The project's id (e.g. mettiamo-le-ali) or its name ("Mettiamo le Ali").
    #[arg(long)]
    pub project: String,
    /// First day of the period (dd/mm/yyyy, or YYYY-MM-DD).
    #[arg(long, value_parser = date)]
    pub from: chrono::NaiveDate,
    /// Last day of the period (dd/mm/yyyy, or YYYY-MM-DD).
    #[arg(long, value_parser = date)]
    pub to: chrono::NaiveDate,
    /// Markdown tables or CSV (one number per line: table,key,column,value).
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Where to write the tables (default: standard output).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// A date as the enti write it (dd/mm/yyyy) or as ISO 8601 (YYYY-MM-DD).
fn date(text: &str) -> Result<chrono::NaiveDate, String> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| format!("{text:?} is not a date: write dd/mm/yyyy (31/12/2023) or 2023-12-31"))
}

/// The report's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown tables.
    Markdown,
    /// CSV, one number per line.
    Csv,
}

/// What to import.
#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Opens one case per row, held by the agency (columns: README, "Import and export").
    Cases(ImportArgs),
    /// Sends one referral per row from the agency, received by the target ente.
    Referrals(ImportArgs),
}

/// How to import a file.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file: UTF-8 or Windows-1252, delimited by `,`, `;` or tab; at most 20 MB.
    pub file: PathBuf,
    /// The id of the agency the rows belong to.
    #[arg(long)]
    pub agency: String,
    /// Check every row and report; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the valid rows even when others are rejected (default: all or nothing).
    #[arg(long)]
    pub partial: bool,
    /// The delimiter, e.g. ';' (default: detected from the header line).
    #[arg(long)]
    pub delimiter: Option<char>,
}

/// What to export.
#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// The cases the agency holds, every column it may read; one access-log entry per case.
    Cases {
        /// The id of the agency whose cases are exported.
        #[arg(long)]
        agency: String,
        /// Where to write the CSV (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Access-log commands.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Checks the hash chain; exits non-zero at the first broken entry.
    Verify,
}

/// Policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Validates a policy document (default: the one configured, else the shipped protocol).
    Check {
        /// The document to check.
        file: Option<PathBuf>,
    },
    /// Prints the who-sees-what matrix of the loaded document, as Markdown.
    Matrix,
}
