//! Tokens: verification of partners' JWTs and minting of development tokens.
//!
//! Only the configured algorithms are accepted: HS256 when a development secret is set, RS256 or
//! ES256 when a PEM key or a JWKS file is set. The public key is never used as an HMAC secret,
//! so "algorithm switching" cannot work. `exp`, `iss` and `aud` are required; `nbf` is honoured.
//!
//! The public-key file can be rotated without a restart: [`spawn_key_watcher`] polls it and
//! [`TokenVerifier::reload_if_changed`] swaps the keys in. A key that leaves the file is *retired*
//! rather than dropped, so that the tokens it signed before the rotation keep working until they
//! expire (see [`RETIRED_KEY_GRACE`]); a file that cannot be read or parsed never replaces the
//! keys in use.

mod claims;
mod error;
mod keys;
mod mint;
mod settings;
mod verify;

pub use claims::{now_seconds, Audience, Claims, TokenIdentity, MAX_CLAIM_BYTES};
pub use error::TokenError;
pub use keys::RETIRED_KEY_GRACE;
pub use mint::{mint, parse_ttl};
pub use settings::TokenSettings;
pub use verify::{spawn_key_watcher, TokenVerifier};

#[cfg(test)]
mod tests;
