//! How tokens are verified (and, in development, minted): flags and environment variables.

use std::path::PathBuf;

/// How tokens are verified (and, in development, minted).
#[derive(Debug, Clone, clap::Args, Default)]
pub struct TokenSettings {
    /// Development HS256 secret; when set, HS256 tokens are accepted and `raccordo token` can mint.
    #[arg(
        long,
        global = true,
        env = "RACCORDO_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// PEM public key (RS256 or ES256) or JWKS file of an identity provider.
    #[arg(long, global = true, env = "RACCORDO_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// Expected `iss` claim.
    #[arg(
        long,
        global = true,
        env = "RACCORDO_JWT_ISSUER",
        default_value = "raccordo"
    )]
    pub jwt_issuer: String,

    /// Expected `aud` claim.
    #[arg(
        long,
        global = true,
        env = "RACCORDO_JWT_AUDIENCE",
        default_value = "raccordo"
    )]
    pub jwt_audience: String,
}
