//! The verifier, the key file's rotation and the development tokens.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use jsonwebtoken::{decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header};
use raccordo_policies::UserRole;

use super::{
    keys::{prune, sha256, PublicKey, RetiredKey},
    mint, now_seconds, parse_ttl, spawn_key_watcher, Audience, Claims, TokenSettings,
    TokenVerifier, RETIRED_KEY_GRACE,
};

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
    let dir = std::env::temp_dir().join(format!("raccordo-keys-{}", uuid::Uuid::new_v4().simple()));
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
    let without_kid = serde_json::to_vec(&serde_json::json!({ "keys": [without_kid] })).unwrap();
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
