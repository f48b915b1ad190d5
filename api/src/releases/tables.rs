//! The true counts of a release's tables, from the rows of one period and population: every
//! category of every dimension listed, zeros included, so that which cells appear says nothing
//! about the rows (ACCESS.md §7.2).

use raccordo_policies::{
    places::{PlaceGroup, Urgency},
    release::{ReleaseSpec, ReleaseSubject, TableSpec, OTHER},
    AgencyKind,
};

use crate::domain::{
    enums::{
        CaseOutcome, CasePhase, EmersionChannel, Exploitation, Gender, PermitType, ReferralOutcome,
        ReferralStatus,
    },
    statistics::UNKNOWN,
};

/// A case as a release counts it: its values as they stood at the cut-off.
#[derive(Debug, Clone, Default)]
pub struct CaseRow {
    /// Province where the person came to light.
    pub province: Option<String>,
    /// Nationality.
    pub nationality: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Permit at the start.
    pub permit_at_start: Option<String>,
    /// Current permit.
    pub permit_current: Option<String>,
    /// How the person came to light.
    pub emersion_channel: Option<String>,
    /// Phase at the cut-off.
    pub phase: Option<String>,
    /// Outcome, when closed by the cut-off.
    pub outcome: Option<String>,
    /// The agency holding the case.
    pub owner: Option<String>,
    /// Its exploitation types, any order.
    pub exploitations: Vec<String>,
}

/// A referral as a release counts it.
#[derive(Debug, Clone, Default)]
pub struct ReferralRow {
    /// Province.
    pub province: Option<String>,
    /// The target ente.
    pub target: Option<String>,
    /// The kind of agency that sent it.
    pub requester_kind: Option<String>,
    /// Status at the cut-off.
    pub status: Option<String>,
    /// Outcome, when concluded by the cut-off.
    pub outcome: Option<String>,
    /// Nationality of the person.
    pub nationality: Option<String>,
}

/// A placement request as a release counts it (it holds no names, no shelter and no offering
/// ente; none of them is a dimension either).
#[derive(Debug, Clone, Default)]
pub struct PlacementRow {
    /// Province asked for.
    pub province: Option<String>,
    /// Who the places are for.
    pub takes: Option<String>,
    /// How urgent.
    pub urgency: Option<String>,
    /// Status at the cut-off.
    pub status: Option<String>,
    /// The kind of agency that asked.
    pub requester_kind: Option<String>,
    /// How long an accepted request waited for the offer it took (`WAIT` categories).
    pub wait: Option<String>,
}

/// The `WAIT` categories of placement requests, shortest first; `NONE`: no offer accepted.
pub const WAITS: [&str; 4] = ["WITHIN_24_HOURS", "WITHIN_72_HOURS", "LONGER", "NONE"];

/// The `STATUS` categories of placement requests.
pub const PLACEMENT_STATUSES: [&str; 4] = ["OPEN", "ACCEPTED", "PLACED", "WITHDRAWN"];

/// The categories that depend on the network rather than on the protocol: the agencies that may
/// hold cases (`OWNER`) and receive referrals (`TARGET`). Agencies are public (ACCESS.md §8).
#[derive(Debug, Clone, Default)]
pub struct Agencies {
    /// The agencies that may hold cases.
    pub holders: Vec<String>,
    /// The agencies that may receive referrals.
    pub targets: Vec<String>,
}

fn strings<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| name(*v).to_string()).collect()
}

/// Every category of a dimension, in a fixed order, `UNKNOWN` last (a missing value, or one
/// outside the list).
pub fn categories(
    spec: &ReleaseSpec,
    subject: ReleaseSubject,
    dimension: &str,
    agencies: &Agencies,
) -> Vec<String> {
    let pooled = |list: &[String]| {
        let mut v = list.to_vec();
        v.push(OTHER.to_string());
        v
    };
    let mut out = match (subject, dimension) {
        (_, "PROVINCE") => pooled(&spec.provinces),
        (_, "NATIONALITY") => pooled(&spec.nationalities),
        (ReleaseSubject::Cases, "GENDER") => strings(Gender::ALL, Gender::as_str),
        (ReleaseSubject::Cases, "EXPLOITATION") => strings(Exploitation::ALL, Exploitation::as_str),
        (ReleaseSubject::Cases, "PERMIT_AT_START" | "PERMIT_CURRENT") => {
            strings(PermitType::ALL, PermitType::as_str)
        }
        (ReleaseSubject::Cases, "EMERSION_CHANNEL") => {
            strings(EmersionChannel::ALL, EmersionChannel::as_str)
        }
        (ReleaseSubject::Cases, "PHASE") => strings(CasePhase::ALL, CasePhase::as_str),
        (ReleaseSubject::Cases, "OUTCOME") => strings(CaseOutcome::ALL, CaseOutcome::as_str),
        (ReleaseSubject::Cases, "OWNER") => agencies.holders.clone(),
        (ReleaseSubject::Referrals, "TARGET") => agencies.targets.clone(),
        (ReleaseSubject::Referrals, "REQUESTER_KIND") => {
            strings(&AgencyKind::ALL, AgencyKind::as_str)
        }
        (ReleaseSubject::Referrals, "STATUS") => {
            strings(ReferralStatus::ALL, ReferralStatus::as_str)
        }
        (ReleaseSubject::Referrals, "OUTCOME") => {
            strings(ReferralOutcome::ALL, ReferralOutcome::as_str)
        }
        (ReleaseSubject::Placements, "TAKES") => strings(&PlaceGroup::ALL, PlaceGroup::as_str),
        (ReleaseSubject::Placements, "URGENCY") => strings(&Urgency::ALL, Urgency::as_str),
        (ReleaseSubject::Placements, "STATUS") => strings(&PLACEMENT_STATUSES, |s| s),
        (ReleaseSubject::Placements, "REQUESTER_KIND") => {
            strings(&AgencyKind::ALL, AgencyKind::as_str)
        }
        (ReleaseSubject::Placements, "WAIT") => strings(&WAITS, |s| s),
        _ => Vec::new(),
    };
    out.push(UNKNOWN.to_string());
    out
}

/// A row's values under each dimension.
pub trait Microdata {
    /// What the row counts under for `dimension`: one value, or for a case's exploitation its
    /// first `exploitations_per_case` types in the contract's order. `None` is a missing value.
    fn values(&self, spec: &ReleaseSpec, dimension: &str) -> Vec<Option<String>>;
}

fn pooled(list: &[String], v: &Option<String>) -> Option<String> {
    v.as_ref().map(|v| {
        if list.contains(v) {
            v.clone()
        } else {
            OTHER.to_string()
        }
    })
}

impl Microdata for CaseRow {
    fn values(&self, spec: &ReleaseSpec, dimension: &str) -> Vec<Option<String>> {
        let one = match dimension {
            "PROVINCE" => pooled(&spec.provinces, &self.province),
            "NATIONALITY" => pooled(&spec.nationalities, &self.nationality),
            "GENDER" => self.gender.clone(),
            "PERMIT_AT_START" => self.permit_at_start.clone(),
            "PERMIT_CURRENT" => self.permit_current.clone(),
            "EMERSION_CHANNEL" => self.emersion_channel.clone(),
            "PHASE" => self.phase.clone(),
            "OUTCOME" => self.outcome.clone(),
            "OWNER" => self.owner.clone(),
            "EXPLOITATION" => {
                // A fixed order, so that which types a capped case counts under does not depend
                // on how the database returned them.
                let mut types: Vec<&Exploitation> = Exploitation::ALL
                    .iter()
                    .filter(|e| self.exploitations.iter().any(|x| x == e.as_str()))
                    .collect();
                types.truncate(spec.exploitations_per_case as usize);
                if types.is_empty() {
                    return vec![None];
                }
                return types
                    .into_iter()
                    .map(|e| Some(e.as_str().to_string()))
                    .collect();
            }
            _ => None,
        };
        vec![one]
    }
}

impl Microdata for ReferralRow {
    fn values(&self, spec: &ReleaseSpec, dimension: &str) -> Vec<Option<String>> {
        vec![match dimension {
            "PROVINCE" => pooled(&spec.provinces, &self.province),
            "NATIONALITY" => pooled(&spec.nationalities, &self.nationality),
            "TARGET" => self.target.clone(),
            "REQUESTER_KIND" => self.requester_kind.clone(),
            "STATUS" => self.status.clone(),
            "OUTCOME" => self.outcome.clone(),
            _ => None,
        }]
    }
}

impl Microdata for PlacementRow {
    fn values(&self, spec: &ReleaseSpec, dimension: &str) -> Vec<Option<String>> {
        vec![match dimension {
            "PROVINCE" => pooled(&spec.provinces, &self.province),
            "TAKES" => self.takes.clone(),
            "URGENCY" => self.urgency.clone(),
            "STATUS" => self.status.clone(),
            "REQUESTER_KIND" => self.requester_kind.clone(),
            "WAIT" => self.wait.clone(),
            _ => None,
        }]
    }
}

/// One table's cells before noise: every combination of categories, in order, with its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrueTable {
    /// The keys of each cell, in order.
    pub keys: Vec<Vec<String>>,
    /// The true count of each cell.
    pub counts: Vec<i64>,
}

/// Counts `rows` into `table`: a row adds one to the cell of each combination of its values (for
/// a capped multi-valued dimension, up to the cap), so no row moves any table by more than the
/// sensitivity the noise is scaled by.
pub fn count<R: Microdata>(
    spec: &ReleaseSpec,
    table: &TableSpec,
    agencies: &Agencies,
    rows: &[R],
) -> TrueTable {
    let cats: Vec<Vec<String>> = table
        .dimensions
        .iter()
        .map(|d| categories(spec, table.subject, d, agencies))
        .collect();
    let index = |dim: usize, v: &Option<String>| -> usize {
        let c = &cats[dim];
        let unknown = c.len() - 1;
        v.as_ref()
            .and_then(|v| c.iter().position(|x| x == v))
            .unwrap_or(unknown)
    };
    let width: usize = cats.iter().map(Vec::len).product();
    let mut counts = vec![0i64; width];
    for row in rows {
        let per_dim: Vec<Vec<usize>> = table
            .dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| row.values(spec, d).iter().map(|v| index(i, v)).collect())
            .collect();
        match per_dim.as_slice() {
            [a] => a.iter().for_each(|&i| counts[i] += 1),
            [a, b] => {
                let n = cats[1].len();
                for &i in a {
                    for &j in b {
                        counts[i * n + j] += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let keys = match cats.as_slice() {
        [a] => a.iter().map(|x| vec![x.clone()]).collect(),
        [a, b] => a
            .iter()
            .flat_map(|x| b.iter().map(move |y| vec![x.clone(), y.clone()]))
            .collect(),
        _ => Vec::new(),
    };
    TrueTable { keys, counts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ReleaseSpec {
        raccordo_policies::Policy::default_protocol()
            .expect("default protocol")
            .release_spec()
            .clone()
    }

    fn table(subject: ReleaseSubject, dims: &[&str]) -> TableSpec {
        TableSpec {
            subject,
            dimensions: dims.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn every_category_is_listed_even_with_no_rows() {
        let s = spec();
        let t = count::<CaseRow>(
            &s,
            &table(ReleaseSubject::Cases, &["GENDER"]),
            &Agencies::default(),
            &[],
        );
        assert_eq!(
            t.keys,
            vec![
                vec!["FEMALE".to_string()],
                vec!["MALE".into()],
                vec!["TRANSGENDER".into()],
                vec![UNKNOWN.into()]
            ]
        );
        assert_eq!(t.counts, vec![0, 0, 0, 0]);
        let t = count::<CaseRow>(
            &s,
            &table(ReleaseSubject::Cases, &["NATIONALITY", "GENDER"]),
            &Agencies::default(),
            &[],
        );
        assert_eq!(t.counts.len(), (s.nationalities.len() + 2) * 4);
    }

    #[test]
    fn unlisted_values_pool_as_other_and_missing_ones_as_unknown() {
        let s = spec();
        let rows = vec![
            CaseRow {
                nationality: Some("NG".into()),
                ..Default::default()
            },
            CaseRow {
                nationality: Some("ZZ".into()),
                ..Default::default()
            },
            CaseRow::default(),
        ];
        let t = count(
            &s,
            &table(ReleaseSubject::Cases, &["NATIONALITY"]),
            &Agencies::default(),
            &rows,
        );
        let at = |k: &str| t.keys.iter().position(|x| x[0] == k).map(|i| t.counts[i]);
        assert_eq!(at("NG"), Some(1));
        assert_eq!(at(OTHER), Some(1));
        assert_eq!(at(UNKNOWN), Some(1));
        assert_eq!(t.counts.iter().sum::<i64>(), 3);
    }

    #[test]
    fn a_case_counts_under_at_most_the_cap_of_exploitation_types() {
        let s = spec();
        let row = CaseRow {
            gender: Some("FEMALE".into()),
            exploitations: Exploitation::ALL
                .iter()
                .rev()
                .map(|e| e.as_str().to_string())
                .collect(),
            ..Default::default()
        };
        for dims in [&["EXPLOITATION"][..], &["EXPLOITATION", "GENDER"][..]] {
            let t = count(
                &s,
                &table(ReleaseSubject::Cases, dims),
                &Agencies::default(),
                std::slice::from_ref(&row),
            );
            assert_eq!(
                t.counts.iter().sum::<i64>(),
                i64::from(s.exploitations_per_case),
                "{dims:?}"
            );
            // The first types in the contract's order, whatever order the rows came in.
            let first = Exploitation::ALL[0].as_str();
            let i = t
                .keys
                .iter()
                .position(|k| k[0] == first)
                .expect("first type");
            assert_eq!(t.counts[i], 1);
        }
    }

    #[test]
    fn referral_targets_come_from_the_agencies() {
        let s = spec();
        let agencies = Agencies {
            holders: vec![],
            targets: vec!["e1".into(), "e2".into()],
        };
        let rows = vec![
            ReferralRow {
                target: Some("e2".into()),
                status: Some("RECEIVED".into()),
                ..Default::default()
            },
            ReferralRow {
                target: Some("gone".into()),
                status: Some("RECEIVED".into()),
                ..Default::default()
            },
        ];
        let t = count(
            &s,
            &table(ReleaseSubject::Referrals, &["TARGET", "STATUS"]),
            &agencies,
            &rows,
        );
        let n = ReferralStatus::ALL.len() + 1;
        assert_eq!(t.counts.len(), 3 * n);
        assert_eq!(t.counts[n], 1); // e2, RECEIVED
        assert_eq!(t.counts[2 * n], 1); // UNKNOWN target, RECEIVED
    }
}
