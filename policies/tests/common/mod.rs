//! Helpers shared by the integration tests.
#![allow(dead_code)]

use raccordo_policies::*;

/// The default protocol; the tests fail loudly if it does not load.
pub fn policy() -> Policy {
    match Policy::default_protocol() {
        Ok(p) => p,
        Err(e) => panic!("the default protocol does not load: {e}"),
    }
}

pub fn viewer(role: UserRole, kind: AgencyKind) -> Viewer {
    Viewer {
        role,
        agency_kind: Some(kind),
    }
}

pub fn rels(list: &[Relationship]) -> RelationshipSet {
    list.iter().copied().collect()
}

/// Every subset of relationships (2^6 = 64).
pub fn all_rel_sets() -> Vec<RelationshipSet> {
    (0u32..64)
        .map(|bits| {
            Relationship::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, r)| r)
                .collect()
        })
        .collect()
}

/// Every viewer the protocol can meet: each role with each kind, and with no agency.
pub fn all_viewers() -> Vec<Viewer> {
    let mut out = Vec::new();
    for role in UserRole::ALL {
        for kind in AgencyKind::ALL {
            out.push(viewer(role, kind));
        }
        out.push(Viewer {
            role,
            agency_kind: None,
        });
    }
    out
}

pub fn acting(role: UserRole) -> bool {
    matches!(role, UserRole::Operator | UserRole::Coordinator)
}

/// The default document with the first occurrence of `from` replaced by `to`, and the
/// 1-based line where the replacement starts.
pub fn mutate(from: &str, to: &str) -> (String, usize) {
    mutate_in(DEFAULT_PROTOCOL, from, to)
}

pub fn mutate_in(source: &str, from: &str, to: &str) -> (String, usize) {
    let Some(at) = source.find(from) else {
        panic!("test document does not contain {from:?}");
    };
    let line = source[..at].matches('\n').count() + 1;
    let mut out = String::with_capacity(source.len() + to.len());
    out.push_str(&source[..at]);
    out.push_str(to);
    out.push_str(&source[at + from.len()..]);
    (out, line)
}

/// Loads `source` and returns the error's text; panics if it loads.
pub fn load_err(source: &str) -> String {
    match Policy::from_toml(source) {
        Ok(_) => panic!("the document was accepted but should not be"),
        Err(e) => e.to_string(),
    }
}
