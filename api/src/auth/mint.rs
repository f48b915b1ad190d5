//! Minting development tokens (`raccordo token`, the demo, the tests) and reading their lifetime.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use raccordo_policies::UserRole;

use super::{
    claims::{now_seconds, Claims},
    error::TokenError,
    settings::TokenSettings,
};

/// Mints an HS256 development token (the `raccordo token` command and the demo).
pub fn mint(
    settings: &TokenSettings,
    user_id: &str,
    agency_id: Option<&str>,
    role: UserRole,
    ttl_seconds: u64,
) -> Result<String, TokenError> {
    let secret = settings
        .jwt_secret
        .as_ref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            TokenError::Settings(
                "no development secret is configured (set RACCORDO_JWT_SECRET or --jwt-secret)"
                    .into(),
            )
        })?;
    let now = now_seconds();
    let claims = Claims {
        sub: user_id.to_string(),
        agency: agency_id.map(str::to_string),
        role: role.as_str().to_string(),
        iss: settings.jwt_issuer.clone(),
        aud: settings.jwt_audience.clone().into(),
        exp: now + ttl_seconds,
        nbf: None,
        iat: Some(now),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| TokenError::Settings(e.to_string()))
}

/// Parses a duration such as `8h`, `30m`, `2d` or `3600s` (or plain seconds).
pub fn parse_ttl(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 8h, 30m or 2d"))?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too long"))
}
