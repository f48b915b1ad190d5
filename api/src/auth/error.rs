//! Why a token or the token settings were refused: one variant per reason, each with a stable
//! code for logs and tests. A partner is only ever told `UNAUTHENTICATED`; the reason is logged.

use jsonwebtoken::{
    errors::{Error as JwtError, ErrorKind},
    Algorithm,
};

/// Why a token or the token settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWT, or its header or claims do not parse.
    #[error("the token is not valid: {0}")]
    Malformed(String),
    /// Past its `exp`.
    #[error("the token is not valid: it has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the token is not valid: it is not valid yet")]
    NotYetValid,
    /// The signature does not match the key.
    #[error("the token is not valid: bad signature")]
    BadSignature,
    /// Issued by another issuer than the configured one.
    #[error("the token is not valid: wrong issuer")]
    WrongIssuer,
    /// Meant for another audience than the hub.
    #[error("the token is not valid: wrong audience")]
    WrongAudience,
    /// A claim the hub requires (`exp`, `iss`, `aud`) is missing.
    #[error("the token is not valid: missing claim {0}")]
    MissingClaim(String),
    /// The token's algorithm is not one the configured keys accept.
    #[error("the token is not valid: algorithm {0:?} is not accepted here")]
    AlgorithmRefused(Algorithm),
    /// The token names a key id the key file does not list.
    #[error("the token is not valid: unknown kid")]
    UnknownKid,
    /// The key file is a JWKS and the token names no key id.
    #[error("the token is not valid: missing kid")]
    MissingKid,
    /// Signed by a key that left the key file before the token was issued.
    #[error("the token is not valid: key {0} was retired before the token was issued, or the token has no iat")]
    RetiredKey(String),
    /// The `role` claim is not a role of the contract.
    #[error("the token is not valid: unknown role {0:?}")]
    UnknownRole(String),
    /// The `sub` claim is empty.
    #[error("the token is not valid: empty sub")]
    EmptySubject,
    /// `sub` or `agency` is longer than an id can be.
    #[error("the token is not valid: sub and agency are at most {0} bytes")]
    ClaimTooLong(usize),
    /// A partner's token names no agency.
    #[error("the token is not valid: the token names no agency")]
    NoAgency,
    /// A platform admin's token names an agency.
    #[error("the token is not valid: a PLATFORM_ADMIN token names no agency")]
    AdminNamesAgency,
    /// The token settings (secret, key file) cannot be used.
    #[error("token settings: {0}")]
    Settings(String),
}

impl TokenError {
    /// The stable code of the reason, for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "MALFORMED",
            TokenError::Expired => "EXPIRED",
            TokenError::NotYetValid => "NOT_YET_VALID",
            TokenError::BadSignature => "BAD_SIGNATURE",
            TokenError::WrongIssuer => "WRONG_ISSUER",
            TokenError::WrongAudience => "WRONG_AUDIENCE",
            TokenError::MissingClaim(_) => "MISSING_CLAIM",
            TokenError::AlgorithmRefused(_) => "ALGORITHM_REFUSED",
            TokenError::UnknownKid => "UNKNOWN_KID",
            TokenError::MissingKid => "MISSING_KID",
            TokenError::RetiredKey(_) => "RETIRED_KEY",
            TokenError::UnknownRole(_) => "UNKNOWN_ROLE",
            TokenError::EmptySubject => "EMPTY_SUBJECT",
            TokenError::ClaimTooLong(_) => "CLAIM_TOO_LONG",
            TokenError::NoAgency => "NO_AGENCY",
            TokenError::AdminNamesAgency => "ADMIN_NAMES_AGENCY",
            TokenError::Settings(_) => "SETTINGS",
        }
    }
}

impl From<JwtError> for TokenError {
    /// The library's reason, by its kind (never by its message).
    fn from(e: JwtError) -> Self {
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
            ErrorKind::InvalidAlgorithm => {
                TokenError::Malformed("the algorithm does not match the key".into())
            }
            _ => TokenError::Malformed(e.to_string()),
        }
    }
}
