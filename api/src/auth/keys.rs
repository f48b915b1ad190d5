//! The public keys of an identity provider: a PEM key or a JWKS file, reloaded when the file
//! changes, with the keys that left it kept for a grace period (see [`RETIRED_KEY_GRACE`]).

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::Duration,
};

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Header};
use sha2::{Digest, Sha256};

use super::error::TokenError;

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
pub(super) const MAX_RETIRED_KEYS: usize = 16;

/// A public-key file is a few kilobytes; anything larger is a configuration mistake, and this
/// bound keeps the periodic re-read cheap whatever the path points to.
const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// One public key of the configured file.
#[derive(Clone)]
pub(super) struct PublicKey {
    /// The JWKS `kid`; `None` for a PEM key, which tokens cannot name.
    pub(super) kid: Option<String>,
    /// SHA-256 of the key material. It tells a `kid` whose key was replaced from one that stayed,
    /// and it is the identity of a PEM key across reloads.
    pub(super) fingerprint: [u8; 32],
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
}

impl PublicKey {
    pub(super) fn same_as(&self, other: &PublicKey) -> bool {
        self.kid == other.kid && self.fingerprint == other.fingerprint
    }

    /// How logs name the key (never the key itself).
    pub(super) fn name(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => format!("pem:{}", hex::encode(&self.fingerprint[..8])),
        }
    }
}

/// The keys the file currently lists.
#[derive(Clone)]
pub(super) enum ActiveKeys {
    /// A JWKS: tokens must name their key with `kid`.
    Jwks(HashMap<String, PublicKey>),
    /// A single PEM key: the token's `kid`, if any, is not looked at.
    Pem(PublicKey),
}

impl ActiveKeys {
    pub(super) fn iter(&self) -> Box<dyn Iterator<Item = &PublicKey> + '_> {
        match self {
            ActiveKeys::Jwks(keys) => Box::new(keys.values()),
            ActiveKeys::Pem(key) => Box::new(std::iter::once(key)),
        }
    }

    pub(super) fn contains(&self, key: &PublicKey) -> bool {
        self.iter().any(|k| k.same_as(key))
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(self, ActiveKeys::Jwks(keys) if keys.is_empty())
    }
}

/// A key that left the file: it verifies only tokens issued before `retired_at`.
#[derive(Clone)]
pub(super) struct RetiredKey {
    pub(super) key: PublicKey,
    /// When the hub saw the key disappear (seconds since the epoch, the hub's clock). This is at
    /// most one poll later than the actual rotation, which errs on the side of the tokens the old
    /// key signed legitimately.
    pub(super) retired_at: u64,
}

impl RetiredKey {
    pub(super) fn usable_at(&self, now: u64) -> bool {
        now < self.retired_at.saturating_add(RETIRED_KEY_GRACE.as_secs())
    }
}

/// An immutable snapshot of the keys; a reload builds a new one and swaps it in, so a
/// verification in progress always sees one consistent set.
pub(super) struct KeySet {
    pub(super) active: ActiveKeys,
    pub(super) retired: Vec<RetiredKey>,
}

impl KeySet {
    /// The set after the file came to list `active`, at `now`.
    pub(super) fn rotated(&self, active: ActiveKeys, now: u64) -> KeySet {
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

    pub(super) fn same_active_keys(&self, other: &KeySet) -> bool {
        self.active.iter().count() == other.active.iter().count()
            && self.active.iter().all(|k| other.active.contains(k))
    }

    /// The keys that may have signed a token with this header, each with its retirement time
    /// when it is retired, in the order to try them.
    pub(super) fn candidates(
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
                return Err(if kid.is_none() {
                    TokenError::MissingKid
                } else {
                    TokenError::UnknownKid
                });
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
pub(super) fn prune(retired: &mut Vec<RetiredKey>, now: u64) {
    retired.retain(|r| r.usable_at(now));
    if retired.len() > MAX_RETIRED_KEYS {
        retired.sort_by_key(|r| std::cmp::Reverse(r.retired_at));
        retired.truncate(MAX_RETIRED_KEYS);
    }
}

/// What the last look at the file found, so that an unchanged file is neither parsed nor
/// reported again at every poll.
#[derive(PartialEq, Eq)]
pub(super) enum LastSeen {
    /// SHA-256 of the content read (whether it was loaded or refused). Comparing content rather
    /// than modification time and length catches a rewrite within the file system's timestamp
    /// granularity, a same-length key swap, and a file put back with an old timestamp.
    Content([u8; 32]),
    /// The file could not be read; the error as reported.
    Unreadable(String),
}

/// The configured public-key file and the keys loaded from it.
pub(super) struct KeyFile {
    pub(super) path: PathBuf,
    pub(super) keys: RwLock<Arc<KeySet>>,
    /// Serialises reloads, and remembers the last look at the file.
    pub(super) last_seen: Mutex<LastSeen>,
}

impl KeyFile {
    pub(super) fn load(path: &Path) -> Result<KeyFile, TokenError> {
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

    pub(super) fn snapshot(&self) -> Arc<KeySet> {
        // Only an `Arc` is swapped under the write lock, so a poisoned lock still holds a
        // consistent set.
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn replace(&self, set: KeySet) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
    }

    pub(super) fn reload_if_changed(&self, now: u64) -> Result<bool, TokenError> {
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
    pub(super) fn summary(&self) -> (Vec<String>, Vec<String>) {
        let set = self.snapshot();
        let mut active: Vec<String> = set.active.iter().map(PublicKey::name).collect();
        active.sort();
        let retired = set.retired.iter().map(|r| r.key.name()).collect();
        (active, retired)
    }
}

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(super) fn algorithm_refused(alg: Algorithm) -> TokenError {
    TokenError::AlgorithmRefused(alg)
}

/// Reads a public-key file, refusing anything larger than a key file can be.
pub(super) fn read_key_file(path: &Path) -> Result<Vec<u8>, TokenError> {
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
pub(super) fn parse_key_file(path: &Path, bytes: &[u8]) -> Result<ActiveKeys, TokenError> {
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
