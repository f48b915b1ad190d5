//! Deterministic ids for demo records, so that a demo loaded twice names its records alike.

/// A deterministic id for a demo record of `kind` known by `key`.
pub fn demo_id(kind: &str, key: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("raccordo-demo:{kind}:{key}").as_bytes(),
    )
    .to_string()
}
