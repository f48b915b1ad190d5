//! Tokens: valid, expired, forged, malformed, and what the hub must make of each.

use std::fmt;

use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use raccordo_api::auth;
use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    answer::{codes, HttpRequest},
    fixture::Fixture,
    hub::SECRET,
    runner::run_property,
};

/// What is wrong with a token (or nothing).
#[derive(Clone, Debug)]
enum TokenKind {
    Valid,
    LowercaseBearer,
    Expired,
    NotYetValid,
    WrongSecret,
    AlgNone,
    OtherHmac,
    AlgConfusionRs256,
    WrongAudience,
    WrongIssuer,
    MissingExp,
    MissingAudience,
    TamperedPayload,
    SignatureStripped,
    UnknownAgency,
    OperatorWithoutAgency,
    UnknownRole,
    EmptySub,
    NoScheme,
    BasicScheme,
    Garbage(String),
    GarbageParts(Vec<String>),
    NonAscii(Vec<u8>),
    Twice,
}

impl TokenKind {
    fn valid(&self) -> bool {
        matches!(self, TokenKind::Valid | TokenKind::LowercaseBearer)
    }
}

fn token_kind() -> impl Strategy<Value = TokenKind> {
    let fixed = prop_oneof![
        Just(TokenKind::Valid),
        Just(TokenKind::LowercaseBearer),
        Just(TokenKind::Expired),
        Just(TokenKind::NotYetValid),
        Just(TokenKind::WrongSecret),
        Just(TokenKind::AlgNone),
        Just(TokenKind::OtherHmac),
        Just(TokenKind::AlgConfusionRs256),
        Just(TokenKind::WrongAudience),
        Just(TokenKind::WrongIssuer),
        Just(TokenKind::MissingExp),
        Just(TokenKind::MissingAudience),
        Just(TokenKind::TamperedPayload),
        Just(TokenKind::SignatureStripped),
        Just(TokenKind::UnknownAgency),
        Just(TokenKind::OperatorWithoutAgency),
        Just(TokenKind::UnknownRole),
        Just(TokenKind::EmptySub),
        Just(TokenKind::NoScheme),
        Just(TokenKind::BasicScheme),
        Just(TokenKind::Twice),
    ];
    prop_oneof![
        6 => fixed,
        1 => "[ -~]{0,300}".prop_map(TokenKind::Garbage),
        1 => prop::collection::vec("[A-Za-z0-9_=+/-]{0,80}", 1..5).prop_map(TokenKind::GarbageParts),
        1 => prop::collection::vec(0x80u8..=0xff, 1..20).prop_map(TokenKind::NonAscii),
    ]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct TokenCase {
    kind: TokenKind,
    role: UserRole,
    query: &'static str,
    graphql_response: bool,
    authorization: Vec<u8>,
}

impl fmt::Debug for TokenCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "token: {:?} for a {}", self.kind, self.role.as_str())?;
        writeln!(
            f,
            "authorization: {}",
            String::from_utf8_lossy(&self.authorization)
        )?;
        writeln!(f, "graphql-response+json: {}", self.graphql_response)?;
        write!(f, "query: {}", self.query)
    }
}

const TOKEN_QUERIES: [&str; 5] = [
    "{ me { userId role agency { id } } }",
    "{ directory(province: \"BG\") { name } }",
    "{ cases(first: 2) { totalCount } }",
    "{ __typename }",
    "mutation { createShelter(name: \"x\") { id } }",
];

fn token_for(fixture: &Fixture, kind: &TokenKind, role: UserRole) -> Vec<u8> {
    let now = auth::now_seconds();
    let agency = if role == UserRole::PlatformAdmin {
        Value::Null
    } else {
        Value::String(fixture.ente.clone())
    };
    let mut claims = json!({
        "sub": "fuzz-user", "role": role.as_str(), "iss": "raccordo", "aud": "raccordo",
        "exp": now + 3600, "iat": now,
    });
    if !agency.is_null() {
        claims["agency"] = agency;
    }
    let sign = |claims: &Value, alg: Algorithm, secret: &str| {
        encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    };
    let bearer = |t: String| format!("Bearer {t}").into_bytes();
    let valid = sign(&claims, Algorithm::HS256, SECRET);
    match kind {
        TokenKind::Valid => bearer(valid),
        TokenKind::LowercaseBearer => format!("bearer {valid}").into_bytes(),
        TokenKind::Expired => {
            claims["exp"] = json!(now - 3600);
            claims["iat"] = json!(now - 7200);
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::NotYetValid => {
            claims["nbf"] = json!(now + 3600);
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::WrongSecret => bearer(sign(&claims, Algorithm::HS256, "another-secret")),
        TokenKind::AlgNone => {
            let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = b64(claims.to_string().as_bytes());
            bearer(format!("{header}.{payload}."))
        }
        TokenKind::OtherHmac => bearer(sign(&claims, Algorithm::HS512, SECRET)),
        TokenKind::AlgConfusionRs256 => {
            // An RS256 header over an HMAC signature made with the development secret.
            let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
            let payload = b64(claims.to_string().as_bytes());
            let hs = sign(&claims, Algorithm::HS256, SECRET);
            let signature = hs.rsplit('.').next().unwrap_or_default().to_string();
            bearer(format!("{header}.{payload}.{signature}"))
        }
        TokenKind::WrongAudience => {
            claims["aud"] = json!("another-hub");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::WrongIssuer => {
            claims["iss"] = json!("someone-else");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::MissingExp => {
            claims.as_object_mut().expect("object").remove("exp");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::MissingAudience => {
            claims.as_object_mut().expect("object").remove("aud");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::TamperedPayload => {
            // The signature of the real claims over claims that say more.
            let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
            claims["role"] = json!("PLATFORM_ADMIN");
            claims["agency"] = json!(fixture.questura);
            parts[1] = b64(claims.to_string().as_bytes());
            bearer(parts.join("."))
        }
        TokenKind::SignatureStripped => {
            let cut = valid.rfind('.').expect("three parts");
            bearer(valid[..=cut].to_string())
        }
        TokenKind::UnknownAgency => {
            claims["agency"] = json!("no-such-agency");
            claims["role"] = json!("OPERATOR");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::OperatorWithoutAgency => {
            claims.as_object_mut().expect("object").remove("agency");
            claims["role"] = json!("OPERATOR");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::UnknownRole => {
            claims["role"] = json!("SUPERUSER");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::EmptySub => {
            claims["sub"] = json!("");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::NoScheme => valid.into_bytes(),
        TokenKind::BasicScheme => format!("Basic {}", b64(b"admin:admin")).into_bytes(),
        TokenKind::Garbage(text) => bearer(text.clone()),
        TokenKind::GarbageParts(parts) => bearer(parts.join(".")),
        TokenKind::NonAscii(bytes) => {
            let mut out = b"Bearer ".to_vec();
            out.extend_from_slice(bytes);
            out
        }
        TokenKind::Twice => bearer(format!("{valid} {valid}")),
    }
}

pub fn tokens() {
    let fixture = Fixture::boot();
    let roles = [
        UserRole::Operator,
        UserRole::Coordinator,
        UserRole::Analyst,
        UserRole::PlatformAdmin,
    ];
    let strategy = (
        token_kind(),
        0..roles.len(),
        0..TOKEN_QUERIES.len(),
        any::<bool>(),
    )
        .prop_map(|(kind, role, query, graphql_response)| {
            let role = roles[role];
            TokenCase {
                authorization: token_for(&fixture, &kind, role),
                kind,
                role,
                query: TOKEN_QUERIES[query],
                graphql_response,
            }
        });
    run_property("tokens", &fixture, 60, strategy, |t| {
        let mut request = HttpRequest::post(None, json!({ "query": t.query }));
        request.authorization = Some(t.authorization.clone());
        request.accept_graphql_response = t.graphql_response;
        let answer = fixture.exchange(false, &request)?;
        let codes = codes(&answer.body);
        let unauthenticated = codes.iter().any(|c| c == "UNAUTHENTICATED");
        if t.kind.valid() {
            if unauthenticated {
                return Err(format!("a valid token was refused: {}", answer.body));
            }
            if t.query.contains("me {") && answer.body["data"]["me"]["role"] != t.role.as_str() {
                return Err(format!(
                    "the answer is not the token's identity: {}",
                    answer.body
                ));
            }
        } else {
            if !unauthenticated {
                return Err(format!(
                    "a bad token was not refused with UNAUTHENTICATED: HTTP {} {}",
                    answer.status, answer.body
                ));
            }
            if !answer.body["data"].is_null() {
                return Err(format!("a bad token got data: {}", answer.body));
            }
            if t.graphql_response && answer.status != 401 {
                return Err(format!(
                    "a bad token with graphql-response+json answered HTTP {}, not 401",
                    answer.status
                ));
            }
        }
        Ok(())
    });
}
