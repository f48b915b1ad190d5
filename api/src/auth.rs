//! Tokens: verification of partners' JWTs and minting of development tokens.
//!
//! Only the configured algorithms are accepted: HS256 when a development secret is set, RS256 or
//! ES256 when a PEM key or a JWKS file is set. The public key is never used as an HMAC secret,
//! so "algorithm switching" cannot work. `exp`, `iss` and `aud` are required; `nbf` is honoured.

use std::{collections::HashMap, path::Path};

use jsonwebtoken::{
    decode, decode_header, encode, jwk::JwkSet, Algorithm, DecodingKey, EncodingKey, Header,
    Validation,
};
use raccordo_policies::UserRole;
use serde::{Deserialize, Serialize};

use crate::config::TokenSettings;

/// Leeway for clock skew between the identity provider and the hub.
const LEEWAY_SECONDS: u64 = 60;

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
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// A verified token's identity, before the agency is looked up in the database.
#[derive(Debug, Clone)]
pub struct TokenIdentity {
    pub user_id: String,
    pub agency_id: Option<String>,
    pub role: UserRole,
}

/// Why a token or the token settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("token settings: {0}")]
    Settings(String),
}

/// Verifies tokens with the configured keys.
#[derive(Clone)]
pub struct TokenVerifier {
    hs256: Option<DecodingKey>,
    /// PEM key: one key for one algorithm.
    pem: Option<(Algorithm, DecodingKey)>,
    /// JWKS: keys by `kid`, each with its algorithm.
    jwks: HashMap<String, (Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("hs256", &self.hs256.is_some())
            .field("pem", &self.pem.as_ref().map(|(a, _)| *a))
            .field("jwks_kids", &self.jwks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenVerifier {
    /// Builds the verifier from settings; fails on an unreadable or unusable key file.
    pub fn from_settings(settings: &TokenSettings) -> Result<Self, TokenError> {
        let hs256 = settings
            .jwt_secret
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| DecodingKey::from_secret(s.as_bytes()));
        let mut verifier = TokenVerifier {
            hs256,
            pem: None,
            jwks: HashMap::new(),
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        };
        if let Some(path) = &settings.jwt_public_key {
            verifier.load_public_key(path)?;
        }
        Ok(verifier)
    }

    fn load_public_key(&mut self, path: &Path) -> Result<(), TokenError> {
        let bytes = std::fs::read(path).map_err(|e| {
            TokenError::Settings(format!(
                "cannot read the public key {}: {e}",
                path.display()
            ))
        })?;
        if let Ok(set) = serde_json::from_slice::<JwkSet>(&bytes) {
            for jwk in &set.keys {
                let Some(kid) = jwk.common.key_id.clone() else {
                    return Err(TokenError::Settings("every JWKS key needs a kid".into()));
                };
                let alg = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => {
                        return Err(TokenError::Settings(format!(
                            "JWKS key {kid}: only RSA and EC keys are accepted"
                        )))
                    }
                };
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| TokenError::Settings(format!("JWKS key {kid}: {e}")))?;
                self.jwks.insert(kid, (alg, key));
            }
            return Ok(());
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(&bytes) {
            self.pem = Some((Algorithm::RS256, key));
        } else if let Ok(key) = DecodingKey::from_ec_pem(&bytes) {
            self.pem = Some((Algorithm::ES256, key));
        } else {
            return Err(TokenError::Settings(format!(
                "{} is neither a PEM public key (RSA or EC) nor a JWKS file",
                path.display()
            )));
        }
        Ok(())
    }

    /// Whether any key is configured at all (otherwise every token is refused).
    pub fn has_keys(&self) -> bool {
        self.hs256.is_some() || self.pem.is_some() || !self.jwks.is_empty()
    }

    /// Verifies a compact JWT and returns who it names.
    pub fn verify(&self, token: &str) -> Result<TokenIdentity, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let (alg, key) = self.key_for(&header)?;
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = decode::<Claims>(token, key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let role: UserRole = claims
            .role
            .parse()
            .map_err(|_| TokenError::Invalid(format!("unknown role {:?}", claims.role)))?;
        if claims.sub.is_empty() {
            return Err(TokenError::Invalid("empty sub".into()));
        }
        // A platform admin's token should name no agency; if an identity provider adds one, the
        // evaluator still gives that role no case or referral data, whatever the agency.
        if role != UserRole::PlatformAdmin && claims.agency.is_none() {
            return Err(TokenError::Invalid("the token names no agency".into()));
        }
        Ok(TokenIdentity {
            user_id: claims.sub,
            agency_id: claims.agency,
            role,
        })
    }

    fn key_for(&self, header: &Header) -> Result<(Algorithm, &DecodingKey), TokenError> {
        let refused =
            || TokenError::Invalid(format!("algorithm {:?} is not accepted here", header.alg));
        match header.alg {
            Algorithm::HS256 => self
                .hs256
                .as_ref()
                .map(|k| (Algorithm::HS256, k))
                .ok_or_else(refused),
            Algorithm::RS256 | Algorithm::ES256 => {
                if !self.jwks.is_empty() {
                    let kid = header
                        .kid
                        .as_deref()
                        .ok_or_else(|| TokenError::Invalid("missing kid".into()))?;
                    let (alg, key) = self
                        .jwks
                        .get(kid)
                        .ok_or_else(|| TokenError::Invalid("unknown kid".into()))?;
                    if *alg != header.alg {
                        return Err(refused());
                    }
                    return Ok((*alg, key));
                }
                match &self.pem {
                    Some((alg, key)) if *alg == header.alg => Ok((*alg, key)),
                    _ => Err(refused()),
                }
            }
            _ => Err(refused()),
        }
    }
}

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
        aud: settings.jwt_audience.clone(),
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

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TokenSettings {
        TokenSettings {
            jwt_secret: Some("dev-secret".into()),
            jwt_public_key: None,
            jwt_issuer: "raccordo".into(),
            jwt_audience: "raccordo".into(),
        }
    }

    #[test]
    fn minted_tokens_verify() {
        let s = settings();
        let token = mint(&s, "u1", Some("micaela-bg"), UserRole::Operator, 60).unwrap();
        let who = TokenVerifier::from_settings(&s)
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(who.user_id, "u1");
        assert_eq!(who.agency_id.as_deref(), Some("micaela-bg"));
        assert_eq!(who.role, UserRole::Operator);
    }

    #[test]
    fn wrong_audience_and_secret_are_refused() {
        let s = settings();
        let token = mint(&s, "u1", Some("a"), UserRole::Operator, 60).unwrap();
        let mut other = settings();
        other.jwt_audience = "someone-else".into();
        assert!(TokenVerifier::from_settings(&other)
            .unwrap()
            .verify(&token)
            .is_err());
        other = settings();
        other.jwt_secret = Some("another".into());
        assert!(TokenVerifier::from_settings(&other)
            .unwrap()
            .verify(&token)
            .is_err());
    }

    /// Generates a key pair with the system's openssl (skips when it is missing).
    fn keypair(kind: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let dir =
            std::env::temp_dir().join(format!("raccordo-keys-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).ok()?;
        let private = dir.join("private.pem");
        let public = dir.join("public.pem");
        let gen = match kind {
            "rsa" => vec![
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            _ => vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
        };
        let ok = std::process::Command::new("openssl")
            .args(&gen)
            .arg("-out")
            .arg(&private)
            .status()
            .ok()?
            .success();
        let pk8 = dir.join("private8.pem");
        let ok = ok
            && std::process::Command::new("openssl")
                .args(["pkcs8", "-topk8", "-nocrypt", "-in"])
                .arg(&private)
                .arg("-out")
                .arg(&pk8)
                .status()
                .ok()?
                .success();
        let ok = ok
            && std::process::Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(&private)
                .arg("-out")
                .arg(&public)
                .status()
                .ok()?
                .success();
        if !ok {
            return None;
        }
        Some((std::fs::read(&pk8).ok()?, std::fs::read(&public).ok()?))
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &Claims) -> String {
        encode(&Header::new(alg), claims, key).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            sub: "u".into(),
            agency: Some("a".into()),
            role: "OPERATOR".into(),
            iss: "raccordo".into(),
            aud: "raccordo".into(),
            exp: now_seconds() + 60,
            nbf: None,
            iat: None,
        }
    }

    #[test]
    fn public_keys_verify_and_algorithms_are_pinned() {
        for (kind, alg) in [("rsa", Algorithm::RS256), ("ec", Algorithm::ES256)] {
            let Some((private, public)) = keypair(kind) else {
                eprintln!("openssl is missing: {kind} key test skipped");
                return;
            };
            let path = std::env::temp_dir().join(format!(
                "raccordo-pub-{}.pem",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::write(&path, &public).unwrap();
            let settings = TokenSettings {
                jwt_public_key: Some(path),
                ..settings()
            };
            let verifier = TokenVerifier::from_settings(&settings).unwrap();
            let key = match kind {
                "rsa" => EncodingKey::from_rsa_pem(&private).unwrap(),
                _ => EncodingKey::from_ec_pem(&private).unwrap(),
            };
            assert!(
                verifier.verify(&sign(alg, &key, &claims())).is_ok(),
                "{kind}"
            );
            // HS256 signed with the public key's bytes as a secret: refused (no algorithm switching).
            let forged = sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(&public),
                &claims(),
            );
            let without_secret = TokenVerifier::from_settings(&TokenSettings {
                jwt_secret: None,
                ..settings.clone()
            })
            .unwrap();
            assert!(
                without_secret.verify(&forged).is_err(),
                "{kind}: HS256 with the public key as secret"
            );
            // Expired beyond the leeway: refused.
            let mut old = claims();
            old.exp = now_seconds() - 3600;
            assert!(verifier.verify(&sign(alg, &key, &old)).is_err());
        }
    }

    #[test]
    fn alg_none_is_refused() {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        let token = format!("{header}.{body}.");
        assert!(TokenVerifier::from_settings(&settings())
            .unwrap()
            .verify(&token)
            .is_err());
    }

    #[test]
    fn ttl_parses() {
        assert_eq!(parse_ttl("8h"), Ok(28800));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert!(parse_ttl("8y").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
