//! Settings: every setting is a flag and an environment variable (flags win), as the contract says.

use std::path::PathBuf;

pub use crate::auth::TokenSettings;

/// Where the hub listens, what it stores into, and how it trusts tokens.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded) or `postgres://…`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://raccordo.db?mode=rwc"
    )]
    pub database_url: String,

    /// Address to listen on; `127.0.0.1:0` picks a free port and prints it.
    #[arg(
        long,
        global = true,
        env = "RACCORDO_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: String,

    #[command(flatten)]
    /// How tokens are verified.
    pub tokens: TokenSettings,

    /// Limits on what one request, one user and one agency may ask.
    #[command(flatten)]
    pub limits: crate::limits::Limits,

    /// A protocol document to enforce instead of the default shipped in `policies/`.
    #[arg(long = "policy", global = true, env = "RACCORDO_POLICY")]
    pub policy: Option<PathBuf>,

    /// Log format: `pretty` for people, `json` for machines.
    #[arg(long, global = true, env = "RACCORDO_LOG_FORMAT", default_value = "pretty", value_parser = ["pretty", "json"])]
    pub log_format: String,
}

impl Settings {
    /// A hub on a free loopback port that accepts development HS256 tokens signed with `secret`,
    /// with the default protocol and pretty logs (tests and load runs).
    pub fn loopback(database_url: String, secret: &str, limits: crate::limits::Limits) -> Settings {
        Settings {
            database_url,
            bind: "127.0.0.1:0".into(),
            tokens: TokenSettings {
                jwt_secret: Some(secret.into()),
                jwt_public_key: None,
                jwt_issuer: "raccordo".into(),
                jwt_audience: "raccordo".into(),
            },
            policy: None,
            log_format: "pretty".into(),
            limits,
        }
    }
}
