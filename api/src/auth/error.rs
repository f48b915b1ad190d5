//! Why a token or the token settings were refused.

/// Why a token or the token settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    /// The token is refused; the reason is logged, never shown to the caller.
    Invalid(String),
    #[error("token settings: {0}")]
    /// The token settings (secret, key file) cannot be used.
    Settings(String),
}
