//! The command line (see the contract README): `serve`, `migrate`, `seed`, `token`, `audit`,
//! `policy`, `schema`. Settings are global flags with environment variables.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// Raccordo: the data-sharing hub of the anti-trafficking multi-agency network.
#[derive(Debug, Parser)]
#[command(name = "raccordo", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
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
        action: AuditAction,
    },
    /// The policy document.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Prints the GraphQL schema (SDL) the hub serves.
    Schema,
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
