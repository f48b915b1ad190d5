//! Verifying a partner's token: only the configured algorithms, `exp`, `iss` and `aud` required,
//! `nbf` honoured; and the task that reloads the public-key file.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Header, Validation};
use raccordo_policies::UserRole;

use super::{
    claims::{now_seconds, Claims, TokenIdentity, MAX_CLAIM_BYTES},
    error::TokenError,
    keys::{algorithm_refused, KeyFile},
    settings::TokenSettings,
};

/// Leeway for clock skew between the identity provider and the hub.
pub(super) const LEEWAY_SECONDS: u64 = 60;

/// The shortest interval [`spawn_key_watcher`] polls at (a zero interval would spin).
const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(10);
/// Verifies tokens with the configured keys.
///
/// Clones share the keys of the public-key file: a reload through one clone (or through the
/// watcher) is seen by all of them.
#[derive(Clone)]
pub struct TokenVerifier {
    pub(super) hs256: Option<DecodingKey>,
    /// The keys of `--jwt-public-key`, when set.
    pub(super) file: Option<Arc<KeyFile>>,
    pub(super) issuer: String,
    pub(super) audience: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (active, retired) = self
            .file
            .as_ref()
            .map(|file| file.summary())
            .unwrap_or_default();
        f.debug_struct("TokenVerifier")
            .field("hs256", &self.hs256.is_some())
            .field(
                "public_key_file",
                &self.file.as_ref().map(|file| &file.path),
            )
            .field("active_keys", &active)
            .field("retired_keys", &retired)
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
        let file = match &settings.jwt_public_key {
            Some(path) => Some(Arc::new(KeyFile::load(path)?)),
            None => None,
        };
        Ok(TokenVerifier {
            hs256,
            file,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        })
    }

    /// Whether any key is configured at all (otherwise every token is refused).
    pub fn has_keys(&self) -> bool {
        self.hs256.is_some()
            || self
                .file
                .as_ref()
                .is_some_and(|file| !file.snapshot().active.is_empty())
    }

    /// Re-reads the public-key file if its content changed since the last look, and returns
    /// whether the set of active keys changed.
    ///
    /// Keys that left the file are retired (see [`RETIRED_KEY_GRACE`]); retired keys past their
    /// grace are forgotten here too. When the file cannot be read, is not a valid key file or
    /// lists no key, the keys in use stay as they are and the error is returned, once per
    /// distinct problem: a broken file must never lock everyone out, nor fill the logs. Without
    /// a public-key file this does nothing and returns `Ok(false)`.
    pub fn reload_if_changed(&self) -> Result<bool, TokenError> {
        match &self.file {
            Some(file) => file.reload_if_changed(now_seconds()),
            None => Ok(false),
        }
    }

    /// Verifies a compact JWT and returns who it names.
    pub fn verify(&self, token: &str) -> Result<TokenIdentity, TokenError> {
        let header = decode_header(token)?;
        let claims = self.verified_claims(token, &header, now_seconds())?;
        let role: UserRole = claims
            .role
            .parse()
            .map_err(|_| TokenError::UnknownRole(claims.role.clone()))?;
        if claims.sub.is_empty() {
            return Err(TokenError::EmptySubject);
        }
        // Claims end up in logs and in the access log: a 60 KB `sub` is no user id.
        if claims.sub.len() > MAX_CLAIM_BYTES
            || claims
                .agency
                .as_ref()
                .is_some_and(|a| a.len() > MAX_CLAIM_BYTES)
        {
            return Err(TokenError::ClaimTooLong(MAX_CLAIM_BYTES));
        }
        if role != UserRole::PlatformAdmin && claims.agency.is_none() {
            return Err(TokenError::NoAgency);
        }
        // The hub's operator belongs to no partner agency (ACCESS.md §1): a token that makes it
        // a member of one would lend it that agency's owner-only data (issue 19: its shelters).
        if role == UserRole::PlatformAdmin && claims.agency.is_some() {
            return Err(TokenError::AdminNamesAgency);
        }
        Ok(TokenIdentity {
            user_id: claims.sub,
            agency_id: claims.agency,
            role,
        })
    }

    /// The claims of `token` once its signature and standard claims are checked with a key
    /// accepted for its header.
    pub(super) fn verified_claims(
        &self,
        token: &str,
        header: &Header,
        now: u64,
    ) -> Result<Claims, TokenError> {
        match header.alg {
            Algorithm::HS256 => {
                let key = self
                    .hs256
                    .as_ref()
                    .ok_or_else(|| algorithm_refused(header.alg))?;
                self.decode(token, Algorithm::HS256, key)
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                let Some(file) = &self.file else {
                    return Err(algorithm_refused(header.alg));
                };
                let set = file.snapshot();
                let mut first_error = None;
                let mut retired_refusal = None;
                for (key, retired_at) in set.candidates(header, now)? {
                    match (self.decode(token, key.alg, &key.key), retired_at) {
                        (Ok(claims), None) => return Ok(claims),
                        (Ok(claims), Some(at)) => {
                            // Tokens the old key signed before the rotation keep working until
                            // they expire; anything it signs afterwards (or without saying when)
                            // is refused.
                            if claims.iat.is_some_and(|iat| iat < at) {
                                return Ok(claims);
                            }
                            retired_refusal
                                .get_or_insert_with(|| TokenError::RetiredKey(key.name()));
                        }
                        (Err(e), _) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                // The key whose signature matched explains the refusal best.
                Err(retired_refusal
                    .or(first_error)
                    .unwrap_or_else(|| algorithm_refused(header.alg)))
            }
            _ => Err(algorithm_refused(header.alg)),
        }
    }

    fn decode(&self, token: &str, alg: Algorithm, key: &DecodingKey) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(TokenError::from)
    }
}

/// Starts a task that reloads the public-key file every `every` (see
/// [`TokenVerifier::reload_if_changed`]), logging each reload and each problem with the file.
///
/// Returns `None` when no public-key file is configured. The task holds no strong reference to
/// the keys: it ends by itself once every verifier sharing them is dropped, so it needs no
/// shutdown. Must be called from within a Tokio runtime.
pub fn spawn_key_watcher(
    verifier: &TokenVerifier,
    every: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let file: Weak<KeyFile> = Arc::downgrade(verifier.file.as_ref()?);
    let every = every.max(MIN_WATCH_INTERVAL);
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and the keys were just loaded.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(strong) = file.upgrade() else {
                return;
            };
            let path = strong.path.clone();
            // Reading the file is blocking I/O (possibly on a network file system): keep it off
            // the request workers.
            let outcome =
                tokio::task::spawn_blocking(move || strong.reload_if_changed(now_seconds())).await;
            match outcome {
                Ok(Ok(true)) => {
                    let (active, retired) = file.upgrade().map(|f| f.summary()).unwrap_or_default();
                    tracing::info!(
                        file = %path.display(),
                        ?active,
                        ?retired,
                        "token keys reloaded"
                    );
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(
                    file = %path.display(),
                    error = %e,
                    "the token key file was not reloaded; the keys in use stay"
                ),
                Err(e) => tracing::warn!(error = %e, "the token key reload task failed"),
            }
        }
    }))
}
