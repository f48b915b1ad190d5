//! The claims of a hub token and the identity a verified token names.

use raccordo_policies::UserRole;
use serde::{Deserialize, Serialize};

/// The claims of a hub token (see the contract README).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's agency id in the hub; absent for a platform admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// A `UserRole` spelled as in the contract.
    pub role: String,
    /// The issuer; must be the configured one.
    pub iss: String,
    /// One audience, or several (identity providers often issue a list); the hub's must be in it.
    pub aud: Audience,
    /// When the token expires (seconds since the epoch).
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Not valid before (seconds since the epoch).
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When it was issued (seconds since the epoch).
    pub iat: Option<u64>,
}

/// The `aud` claim: one audience or a list of them, as RFC 7519 allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "raccordo"`
    One(String),
    /// `"aud": ["raccordo", "another-service"]`
    Many(Vec<String>),
}

impl From<String> for Audience {
    fn from(aud: String) -> Self {
        Audience::One(aud)
    }
}

impl From<&str> for Audience {
    fn from(aud: &str) -> Self {
        Audience::One(aud.to_string())
    }
}

/// Longest `sub` or `agency` claim a token may carry, in bytes.
pub const MAX_CLAIM_BYTES: usize = 256;

/// A verified token's identity, before the agency is looked up in the database.
#[derive(Debug, Clone)]
pub struct TokenIdentity {
    /// The user (`sub`).
    pub user_id: String,
    /// The user's agency id (`agency`); none for a platform admin.
    pub agency_id: Option<String>,
    /// The user's role.
    pub role: UserRole,
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
