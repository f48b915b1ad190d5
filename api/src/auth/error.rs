//! Why a token or the token settings were refused.

/// Why a token or the token settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("token settings: {0}")]
    Settings(String),
}
