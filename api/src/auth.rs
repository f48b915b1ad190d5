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

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock, Weak},
    time::Duration,
};

use jsonwebtoken::{
    decode, decode_header, encode, jwk::JwkSet, Algorithm, DecodingKey, EncodingKey, Header,
    Validation,
};
use raccordo_policies::UserRole;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::TokenSettings;

/// Leeway for clock skew between the identity provider and the hub.
const LEEWAY_SECONDS: u64 = 60;

/// How long a key that left the public-key file still verifies the tokens it signed before it
/// left.
///
/// Tokens are short-lived (minutes to a few hours at identity providers, 8 hours at most for the
/// hub's own development tokens), so after a day no token issued before the rotation can still be
/// unexpired: keeping the key longer would only widen the window in which a leaked old key is
/// useful. A token whose `exp` lies beyond this bound is refused once the bound is reached.
pub const RETIRED_KEY_GRACE: Duration = Duration::from_secs(24 * 3600);

/// At most this many retired keys are kept (the most recently retired win). Keys without a `kid`
/// (PEM keys) are tried one after the other, so the bound also bounds the work a token can cause
/// when a file is rotated often.
const MAX_RETIRED_KEYS: usize = 16;

/// A public-key file is a few kilobytes; anything larger is a configuration mistake, and this
/// bound keeps the periodic re-read cheap whatever the path points to.
const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// The shortest interval [`spawn_key_watcher`] polls at (a zero interval would spin).
const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(10);

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
    /// One audience, or several (identity providers often issue a list); the hub's must be in it.
    pub aud: Audience,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
///
/// Clones share the keys of the public-key file: a reload through one clone (or through the
/// watcher) is seen by all of them.
#[derive(Clone)]
pub struct TokenVerifier {
    hs256: Option<DecodingKey>,
    /// The keys of `--jwt-public-key`, when set.
    file: Option<Arc<KeyFile>>,
    issuer: String,
    audience: String,
}

/// One public key of the configured file.
#[derive(Clone)]
struct PublicKey {
    /// The JWKS `kid`; `None` for a PEM key, which tokens cannot name.
    kid: Option<String>,
    /// SHA-256 of the key material. It tells a `kid` whose key was replaced from one that stayed,
    /// and it is the identity of a PEM key across reloads.
    fingerprint: [u8; 32],
    alg: Algorithm,
    key: DecodingKey,
}

impl PublicKey {
    fn same_as(&self, other: &PublicKey) -> bool {
        self.kid == other.kid && self.fingerprint == other.fingerprint
    }

    /// How logs name the key (never the key itself).
    fn name(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => format!("pem:{}", hex::encode(&self.fingerprint[..8])),
        }
    }
}

/// The keys the file currently lists.
#[derive(Clone)]
enum ActiveKeys {
    /// A JWKS: tokens must name their key with `kid`.
    Jwks(HashMap<String, PublicKey>),
    /// A single PEM key: the token's `kid`, if any, is not looked at.
    Pem(PublicKey),
}

impl ActiveKeys {
    fn iter(&self) -> Box<dyn Iterator<Item = &PublicKey> + '_> {
        match self {
            ActiveKeys::Jwks(keys) => Box::new(keys.values()),
            ActiveKeys::Pem(key) => Box::new(std::iter::once(key)),
        }
    }

    fn contains(&self, key: &PublicKey) -> bool {
        self.iter().any(|k| k.same_as(key))
    }

    fn is_empty(&self) -> bool {
        matches!(self, ActiveKeys::Jwks(keys) if keys.is_empty())
    }
}

/// A key that left the file: it verifies only tokens issued before `retired_at`.
#[derive(Clone)]
struct RetiredKey {
    key: PublicKey,
    /// When the hub saw the key disappear (seconds since the epoch, the hub's clock). This is at
    /// most one poll later than the actual rotation, which errs on the side of the tokens the old
    /// key signed legitimately.
    retired_at: u64,
}

impl RetiredKey {
    fn usable_at(&self, now: u64) -> bool {
        now < self.retired_at.saturating_add(RETIRED_KEY_GRACE.as_secs())
    }
}

/// An immutable snapshot of the keys; a reload builds a new one and swaps it in, so a
/// verification in progress always sees one consistent set.
struct KeySet {
    active: ActiveKeys,
    retired: Vec<RetiredKey>,
}

impl KeySet {
    /// The set after the file came to list `active`, at `now`.
    fn rotated(&self, active: ActiveKeys, now: u64) -> KeySet {
        // A key that comes back is active again, not retired.
        let mut retired: Vec<RetiredKey> = self
            .retired
            .iter()
            .filter(|r| !active.contains(&r.key))
            .cloned()
            .collect();
        retired.extend(
            self.active
                .iter()
                .filter(|k| !active.contains(k))
                .map(|k| RetiredKey {
                    key: k.clone(),
                    retired_at: now,
                }),
        );
        prune(&mut retired, now);
        KeySet { active, retired }
    }

    fn same_active_keys(&self, other: &KeySet) -> bool {
        self.active.iter().count() == other.active.iter().count()
            && self.active.iter().all(|k| other.active.contains(k))
    }

    /// The keys that may have signed a token with this header, each with its retirement time
    /// when it is retired, in the order to try them.
    fn candidates(
        &self,
        header: &Header,
        now: u64,
    ) -> Result<Vec<(&PublicKey, Option<u64>)>, TokenError> {
        let kid = header.kid.as_deref();
        let mut found = Vec::new();
        if let ActiveKeys::Pem(key) = &self.active {
            found.push((key, None));
        }
        if let (ActiveKeys::Jwks(keys), Some(kid)) = (&self.active, kid) {
            found.extend(keys.get(kid).map(|k| (k, None)));
        }
        for r in self.retired.iter().filter(|r| r.usable_at(now)) {
            let named = match &r.key.kid {
                Some(retired_kid) => kid == Some(retired_kid.as_str()),
                // A PEM key never had a kid, and a PEM configuration never looked at the token's.
                None => true,
            };
            if named {
                found.push((&r.key, Some(r.retired_at)));
            }
        }
        if found.is_empty() {
            if let ActiveKeys::Jwks(_) = &self.active {
                return Err(TokenError::Invalid(
                    if kid.is_none() {
                        "missing kid"
                    } else {
                        "unknown kid"
                    }
                    .into(),
                ));
            }
        }
        found.retain(|(k, _)| k.alg == header.alg);
        if found.is_empty() {
            return Err(algorithm_refused(header.alg));
        }
        Ok(found)
    }
}

/// Drops the retired keys past their grace, then the oldest beyond [`MAX_RETIRED_KEYS`].
fn prune(retired: &mut Vec<RetiredKey>, now: u64) {
    retired.retain(|r| r.usable_at(now));
    if retired.len() > MAX_RETIRED_KEYS {
        retired.sort_by_key(|r| std::cmp::Reverse(r.retired_at));
        retired.truncate(MAX_RETIRED_KEYS);
    }
}

/// What the last look at the file found, so that an unchanged file is neither parsed nor
/// reported again at every poll.
#[derive(PartialEq, Eq)]
enum LastSeen {
    /// SHA-256 of the content read (whether it was loaded or refused). Comparing content rather
    /// than modification time and length catches a rewrite within the file system's timestamp
    /// granularity, a same-length key swap, and a file put back with an old timestamp.
    Content([u8; 32]),
    /// The file could not be read; the error as reported.
    Unreadable(String),
}

/// The configured public-key file and the keys loaded from it.
struct KeyFile {
    path: PathBuf,
    keys: RwLock<Arc<KeySet>>,
    /// Serialises reloads, and remembers the last look at the file.
    last_seen: Mutex<LastSeen>,
}

impl KeyFile {
    fn load(path: &Path) -> Result<KeyFile, TokenError> {
        let bytes = read_key_file(path)?;
        let active = parse_key_file(path, &bytes)?;
        Ok(KeyFile {
            path: path.to_path_buf(),
            keys: RwLock::new(Arc::new(KeySet {
                active,
                retired: Vec::new(),
            })),
            last_seen: Mutex::new(LastSeen::Content(sha256(&bytes))),
        })
    }

    fn snapshot(&self) -> Arc<KeySet> {
        // Only an `Arc` is swapped under the write lock, so a poisoned lock still holds a
        // consistent set.
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, set: KeySet) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
    }

    fn reload_if_changed(&self, now: u64) -> Result<bool, TokenError> {
        let mut last_seen = self
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Retired keys past their grace go even while the file stays the same.
        let current = self.snapshot();
        if current.retired.iter().any(|r| !r.usable_at(now)) {
            let mut retired = current.retired.clone();
            prune(&mut retired, now);
            self.replace(KeySet {
                active: current.active.clone(),
                retired,
            });
        }
        let bytes = match read_key_file(&self.path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let seen = LastSeen::Unreadable(e.to_string());
                if *last_seen == seen {
                    return Ok(false);
                }
                *last_seen = seen;
                return Err(e);
            }
        };
        let seen = LastSeen::Content(sha256(&bytes));
        if *last_seen == seen {
            return Ok(false);
        }
        // Remembered before parsing: a bad file is reported once, not at every poll, and is
        // looked at again as soon as its content changes.
        *last_seen = seen;
        let active = parse_key_file(&self.path, &bytes)?;
        if active.is_empty() {
            // Retiring every key would soon refuse every token; an operator who means that can
            // empty the file and restart.
            return Err(TokenError::Settings(format!(
                "{} lists no key: the current keys stay in use",
                self.path.display()
            )));
        }
        let current = self.snapshot();
        let next = current.rotated(active, now);
        let changed = !next.same_active_keys(&current);
        self.replace(next);
        Ok(changed)
    }

    /// The active and retired keys' names, for logs.
    fn summary(&self) -> (Vec<String>, Vec<String>) {
        let set = self.snapshot();
        let mut active: Vec<String> = set.active.iter().map(PublicKey::name).collect();
        active.sort();
        let retired = set.retired.iter().map(|r| r.key.name()).collect();
        (active, retired)
    }
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

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn algorithm_refused(alg: Algorithm) -> TokenError {
    TokenError::Invalid(format!("algorithm {alg:?} is not accepted here"))
}

/// Reads a public-key file, refusing anything larger than a key file can be.
fn read_key_file(path: &Path) -> Result<Vec<u8>, TokenError> {
    let cannot_read = |e: std::io::Error| {
        TokenError::Settings(format!(
            "cannot read the public key {}: {e}",
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(TokenError::Settings(format!(
            "{} is larger than {MAX_KEY_FILE_BYTES} bytes: not a public key or JWKS file",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Parses a JWKS or a PEM public key (RSA or EC).
fn parse_key_file(path: &Path, bytes: &[u8]) -> Result<ActiveKeys, TokenError> {
    if let Ok(set) = serde_json::from_slice::<JwkSet>(bytes) {
        let mut keys = HashMap::new();
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
            // Only the key material: a change of `use` or of certificate hints is no rotation.
            let material = serde_json::to_vec(&jwk.algorithm)
                .map_err(|e| TokenError::Settings(format!("JWKS key {kid}: {e}")))?;
            keys.insert(
                kid.clone(),
                PublicKey {
                    kid: Some(kid),
                    fingerprint: sha256(&material),
                    alg,
                    key,
                },
            );
        }
        return Ok(ActiveKeys::Jwks(keys));
    }
    let (alg, key) = if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        (Algorithm::RS256, key)
    } else if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        (Algorithm::ES256, key)
    } else {
        return Err(TokenError::Settings(format!(
            "{} is neither a PEM public key (RSA or EC) nor a JWKS file",
            path.display()
        )));
    };
    // Whitespace is left out so that re-wrapping the same key is not taken for a rotation.
    let material: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    Ok(ActiveKeys::Pem(PublicKey {
        kid: None,
        fingerprint: sha256(&material),
        alg,
        key,
    }))
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
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = self.verified_claims(token, &header, now_seconds())?;
        let role: UserRole = claims
            .role
            .parse()
            .map_err(|_| TokenError::Invalid(format!("unknown role {:?}", claims.role)))?;
        if claims.sub.is_empty() {
            return Err(TokenError::Invalid("empty sub".into()));
        }
        // Claims end up in logs and in the access log: a 60 KB `sub` is no user id.
        if claims.sub.len() > MAX_CLAIM_BYTES
            || claims
                .agency
                .as_ref()
                .is_some_and(|a| a.len() > MAX_CLAIM_BYTES)
        {
            return Err(TokenError::Invalid(format!(
                "sub and agency are at most {MAX_CLAIM_BYTES} bytes"
            )));
        }
        if role != UserRole::PlatformAdmin && claims.agency.is_none() {
            return Err(TokenError::Invalid("the token names no agency".into()));
        }
        // The hub's operator belongs to no partner agency (ACCESS.md §1): a token that makes it
        // a member of one would lend it that agency's owner-only data (issue 19: its shelters).
        if role == UserRole::PlatformAdmin && claims.agency.is_some() {
            return Err(TokenError::Invalid(
                "a PLATFORM_ADMIN token names no agency".into(),
            ));
        }
        Ok(TokenIdentity {
            user_id: claims.sub,
            agency_id: claims.agency,
            role,
        })
    }

    /// The claims of `token` once its signature and standard claims are checked with a key
    /// accepted for its header.
    fn verified_claims(
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
                            retired_refusal.get_or_insert_with(|| {
                                TokenError::Invalid(format!(
                                    "key {} was retired before the token was issued, or the token has no iat",
                                    key.name()
                                ))
                            });
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
            .map_err(|e| TokenError::Invalid(e.to_string()))
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

    /// Issue 19: a platform admin naming an agency, and claims too long to be ids, are refused.
    #[test]
    fn admins_name_no_agency_and_claims_are_short() {
        let s = settings();
        let verifier = TokenVerifier::from_settings(&s).unwrap();
        let admin = mint(&s, "adm", Some("micaela-bg"), UserRole::PlatformAdmin, 60).unwrap();
        assert!(verifier.verify(&admin).is_err());
        let admin = mint(&s, "adm", None, UserRole::PlatformAdmin, 60).unwrap();
        assert!(verifier.verify(&admin).is_ok());
        let long = "u".repeat(60 * 1024);
        let token = mint(&s, &long, Some("a"), UserRole::Operator, 60).unwrap();
        assert!(verifier.verify(&token).is_err());
        let token = mint(&s, "u", Some(&long), UserRole::Operator, 60).unwrap();
        assert!(verifier.verify(&token).is_err());
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
        let keys = if ok {
            std::fs::read(&pk8).ok().zip(std::fs::read(&public).ok())
        } else {
            None
        };
        // The private keys are of no use once read: leave none behind in the temp folder.
        let _ = std::fs::remove_dir_all(&dir);
        keys
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &Claims) -> String {
        encode(&Header::new(alg), claims, key).unwrap()
    }

    /// Identity providers often issue `aud` as a list: the hub's audience must be in it.
    #[test]
    fn an_audience_list_is_accepted_when_it_names_the_hub() {
        let settings = settings();
        let verifier = TokenVerifier::from_settings(&settings).expect("verifier");
        let key = EncodingKey::from_secret(settings.jwt_secret.as_deref().unwrap_or("").as_bytes());
        let with = |aud: Audience| {
            let mut c = claims();
            c.aud = aud;
            c.agency = Some("agency-1".into());
            encode(&Header::new(Algorithm::HS256), &c, &key).expect("sign")
        };
        let listed = with(Audience::Many(vec!["other".into(), "raccordo".into()]));
        assert!(verifier.verify(&listed).is_ok());
        let elsewhere = with(Audience::Many(vec!["other".into()]));
        assert!(verifier.verify(&elsewhere).is_err());
        assert!(verifier.verify(&with("raccordo".into())).is_ok());
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
            let _ = std::fs::remove_file(settings.jwt_public_key.unwrap());
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

    // ---- Key rotation -------------------------------------------------------------------------

    /// A signing key with its public half, for the rotation tests.
    struct TestKey {
        alg: Algorithm,
        signing: EncodingKey,
        public_pem: Vec<u8>,
    }

    /// A fresh key (`"rsa"` or `"ec"`); `None` when openssl is missing.
    fn test_key(kind: &str) -> Option<TestKey> {
        let (private, public_pem) = keypair(kind)?;
        let (alg, signing) = match kind {
            "rsa" => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(&private).unwrap(),
            ),
            _ => (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(&private).unwrap(),
            ),
        };
        Some(TestKey {
            alg,
            signing,
            public_pem,
        })
    }

    /// Two fresh EC keys, or `None` (with a note) when openssl is missing.
    fn two_ec_keys(test: &str) -> Option<(TestKey, TestKey)> {
        let keys = test_key("ec").zip(test_key("ec"));
        if keys.is_none() {
            eprintln!("openssl is missing: {test} skipped");
        }
        keys
    }

    /// The JWK of a P-256 public key in PEM.
    fn ec_jwk(key: &TestKey, kid: &str) -> serde_json::Value {
        use base64::{
            engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
            Engine,
        };
        let text = String::from_utf8(key.public_pem.clone()).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).unwrap();
        // A P-256 SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y.
        assert_eq!(der[der.len() - 65], 4, "not an uncompressed P-256 point");
        let point = &der[der.len() - 64..];
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "alg": "ES256",
            "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[..32]),
            "y": URL_SAFE_NO_PAD.encode(&point[32..]),
        })
    }

    fn jwks(keys: &[(&TestKey, &str)]) -> Vec<u8> {
        let keys: Vec<_> = keys.iter().map(|(key, kid)| ec_jwk(key, kid)).collect();
        serde_json::to_vec_pretty(&serde_json::json!({ "keys": keys })).unwrap()
    }

    /// A file name no other test (or test run) uses.
    fn temp_file(ext: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "raccordo-rotation-{}.{ext}",
            uuid::Uuid::new_v4().simple()
        ))
    }

    fn file_verifier(path: &Path) -> TokenVerifier {
        TokenVerifier::from_settings(&TokenSettings {
            jwt_secret: None,
            jwt_public_key: Some(path.to_path_buf()),
            ..settings()
        })
        .unwrap()
    }

    /// A valid token signed by `key`, naming `kid`, issued at `iat`.
    fn token(key: &TestKey, kid: Option<&str>, iat: Option<u64>) -> String {
        let mut header = Header::new(key.alg);
        header.kid = kid.map(str::to_string);
        let claims = Claims { iat, ..claims() };
        encode(&header, &claims, &key.signing).unwrap()
    }

    fn refusal(verifier: &TokenVerifier, token: &str) -> String {
        match verifier.verify(token) {
            Ok(who) => panic!("token accepted for {}", who.user_id),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_rewritten_jwks_is_picked_up_without_restart() {
        let Some((old, new)) = two_ec_keys("JWKS rotation") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = file_verifier(&path);
        let shared = Arc::new(verifier.clone());
        let new_token = token(&new, Some("new"), Some(now_seconds()));
        assert!(refusal(&verifier, &new_token).contains("unknown kid"));
        assert!(
            !verifier.reload_if_changed().unwrap(),
            "nothing changed yet"
        );

        // Rewritten at once, very likely within the same timestamp tick as the first write.
        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert_eq!(verifier.verify(&new_token).unwrap().user_id, "u");
        // Clones (such as the one in the application state) see the new keys too.
        assert!(shared.verify(&new_token).is_ok());
        assert!(
            !verifier.reload_if_changed().unwrap(),
            "an unchanged file is no reload"
        );
        assert!(verifier.has_keys());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn an_old_kid_token_issued_before_the_rotation_still_verifies() {
        let Some((old, new)) = two_ec_keys("old kid before rotation") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = file_verifier(&path);
        let issued_before = token(&old, Some("old"), Some(now_seconds() - 30));
        let no_iat = token(&old, Some("old"), None);
        assert!(verifier.verify(&issued_before).is_ok());
        assert!(
            verifier.verify(&no_iat).is_ok(),
            "an active key needs no iat"
        );

        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&issued_before).is_ok());
        // Without iat nothing says the token predates the rotation.
        assert!(refusal(&verifier, &no_iat).contains("retired"));
        // The retired key verifies only its own signatures under its kid.
        let forged = token(&new, Some("old"), Some(now_seconds() - 30));
        assert!(verifier.verify(&forged).is_err());

        // Past the grace, the retired key is no longer used, then forgotten.
        let file = verifier.file.as_ref().unwrap();
        let later = now_seconds() + RETIRED_KEY_GRACE.as_secs() + 1;
        let header = decode_header(&issued_before).unwrap();
        assert!(verifier
            .verified_claims(&issued_before, &header, later)
            .is_err());
        assert!(!file.reload_if_changed(later).unwrap());
        assert!(file.snapshot().retired.is_empty());
        assert!(refusal(&verifier, &issued_before).contains("unknown kid"));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn an_old_kid_token_issued_after_the_rotation_is_refused() {
        let Some((old, new)) = two_ec_keys("old kid after rotation") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = file_verifier(&path);
        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        // Issued once the hub saw the rotation: iat is not earlier than the retirement.
        let issued_after = token(&old, Some("old"), Some(now_seconds()));
        assert!(refusal(&verifier, &issued_after).contains("retired"));
        let much_later = token(&old, Some("old"), Some(now_seconds() + 20));
        assert!(verifier.verify(&much_later).is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_broken_file_keeps_the_keys_in_use_and_reports_an_error() {
        let Some((old, new)) = two_ec_keys("broken JWKS") else {
            return;
        };
        let path = temp_file("json");
        let good = jwks(&[(&old, "old")]);
        std::fs::write(&path, &good).unwrap();
        let verifier = file_verifier(&path);
        let old_token = token(&old, Some("old"), None);

        let truncated = &good[..good.len() / 2];
        let mut without_kid = ec_jwk(&new, "x");
        without_kid.as_object_mut().unwrap().remove("kid");
        let without_kid =
            serde_json::to_vec(&serde_json::json!({ "keys": [without_kid] })).unwrap();
        for broken in [
            truncated,
            b"{ not json".as_slice(),
            b"".as_slice(),
            br#"{"keys": []}"#.as_slice(),
            without_kid.as_slice(),
        ] {
            std::fs::write(&path, broken).unwrap();
            let what = String::from_utf8_lossy(broken).into_owned();
            assert!(verifier.reload_if_changed().is_err(), "{what}");
            // Reported once; the keys in use stay.
            assert!(!verifier.reload_if_changed().unwrap(), "{what}");
            assert!(verifier.verify(&old_token).is_ok(), "{what}");
        }
        std::fs::remove_file(&path).unwrap();
        assert!(verifier.reload_if_changed().is_err());
        assert!(!verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&old_token).is_ok());

        // A good file again is loaded as soon as it appears.
        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&token(&new, Some("new"), None)).is_ok());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_replaced_pem_key_rotates_the_same_way() {
        let (Some(old), Some(new)) = (test_key("rsa"), test_key("ec")) else {
            eprintln!("openssl is missing: PEM rotation skipped");
            return;
        };
        let path = temp_file("pem");
        std::fs::write(&path, &old.public_pem).unwrap();
        let verifier = file_verifier(&path);
        let issued_before = token(&old, None, Some(now_seconds() - 30));
        let no_iat = token(&old, None, None);
        let new_token = token(&new, None, Some(now_seconds()));
        assert!(verifier.verify(&issued_before).is_ok());
        assert!(verifier.verify(&new_token).is_err());

        // The same key re-wrapped is no rotation.
        let mut rewrapped = old.public_pem.clone();
        rewrapped.extend_from_slice(b"\n\n");
        std::fs::write(&path, &rewrapped).unwrap();
        assert!(!verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&no_iat).is_ok());

        std::fs::write(&path, &new.public_pem).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&new_token).is_ok());
        assert!(verifier.verify(&issued_before).is_ok());
        assert!(refusal(&verifier, &no_iat).contains("retired"));
        let issued_after = token(&old, None, Some(now_seconds()));
        assert!(refusal(&verifier, &issued_after).contains("retired"));

        // A broken PEM keeps the new key.
        std::fs::write(
            &path,
            b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        assert!(verifier.reload_if_changed().is_err());
        assert!(verifier.verify(&new_token).is_ok());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn an_unknown_kid_is_still_refused() {
        let Some((old, new)) = two_ec_keys("unknown kid") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = file_verifier(&path);
        let now = now_seconds();
        assert!(verifier.verify(&token(&old, Some("old"), None)).is_ok());
        assert!(refusal(&verifier, &token(&old, Some("other"), None)).contains("unknown kid"));
        assert!(refusal(&verifier, &token(&old, None, None)).contains("missing kid"));
        assert!(verifier.verify(&token(&new, Some("old"), None)).is_err());

        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        for kid in [Some("other"), None] {
            assert!(verifier.verify(&token(&old, kid, Some(now - 30))).is_err());
            assert!(verifier.verify(&token(&new, kid, Some(now - 30))).is_err());
        }
        // Algorithm pinning holds for retired keys too.
        let forged = encode(
            &Header {
                kid: Some("old".into()),
                ..Header::new(Algorithm::HS256)
            },
            &Claims {
                iat: Some(now - 30),
                ..claims()
            },
            &EncodingKey::from_secret(&old.public_pem),
        )
        .unwrap();
        assert!(verifier.verify(&forged).is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_kid_that_comes_back_is_active_again() {
        let Some((old, new)) = two_ec_keys("returning kid") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = file_verifier(&path);
        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        let recent = token(&old, Some("old"), Some(now_seconds() + 60));
        assert!(verifier.verify(&recent).is_err());

        std::fs::write(&path, jwks(&[(&new, "new"), (&old, "old")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&recent).is_ok());
        assert!(verifier
            .file
            .as_ref()
            .unwrap()
            .snapshot()
            .retired
            .is_empty());

        // A kid whose key was replaced: the new material is active, the old one retired.
        let (active, retired) = verifier.file.as_ref().unwrap().summary();
        assert_eq!(active, ["new", "old"]);
        assert!(retired.is_empty());
        std::fs::write(&path, jwks(&[(&new, "old")])).unwrap();
        assert!(verifier.reload_if_changed().unwrap());
        assert!(verifier.verify(&token(&new, Some("old"), None)).is_ok());
        assert!(verifier
            .verify(&token(&old, Some("old"), Some(now_seconds() - 30)))
            .is_ok());
        assert!(verifier.verify(&recent).is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn without_a_key_file_there_is_nothing_to_reload() {
        let verifier = TokenVerifier::from_settings(&settings()).unwrap();
        assert!(!verifier.reload_if_changed().unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            assert!(spawn_key_watcher(&verifier, Duration::from_millis(10)).is_none());
        });
    }

    #[tokio::test]
    async fn the_watcher_reloads_and_ends_with_the_verifier() {
        let Some((old, new)) = two_ec_keys("key watcher") else {
            return;
        };
        let path = temp_file("json");
        std::fs::write(&path, jwks(&[(&old, "old")])).unwrap();
        let verifier = Arc::new(file_verifier(&path));
        let watcher = spawn_key_watcher(&verifier, Duration::from_millis(20)).unwrap();
        let new_token = token(&new, Some("new"), None);
        assert!(verifier.verify(&new_token).is_err());

        std::fs::write(&path, jwks(&[(&new, "new")])).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while verifier.verify(&new_token).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the watcher did not reload the file"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(verifier);
        tokio::time::timeout(Duration::from_secs(10), watcher)
            .await
            .expect("the watcher outlived the verifier")
            .unwrap();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn retired_keys_are_bounded_in_time_and_number() {
        let now = now_seconds();
        let retired_at = |age: u64| RetiredKey {
            key: PublicKey {
                kid: Some(format!("k{age}")),
                fingerprint: sha256(&age.to_be_bytes()),
                alg: Algorithm::ES256,
                key: DecodingKey::from_secret(b"unused"),
            },
            retired_at: now - age,
        };
        let grace = RETIRED_KEY_GRACE.as_secs();
        let mut retired: Vec<RetiredKey> = (0..20).map(retired_at).collect();
        retired.push(retired_at(grace));
        retired.push(retired_at(grace - 1));
        prune(&mut retired, now);
        let mut kept: Vec<u64> = retired.iter().map(|r| now - r.retired_at).collect();
        kept.sort_unstable();
        // The most recently retired win; the one at the end of its grace is gone.
        assert_eq!(kept, (0..16).collect::<Vec<u64>>());
        let mut few = vec![retired_at(grace), retired_at(grace - 1)];
        prune(&mut few, now);
        assert_eq!(few.len(), 1);
        assert_eq!(now - few[0].retired_at, grace - 1);
    }
}
