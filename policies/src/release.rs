//! Network statistics releases (ACCESS.md §7): what the protocol document fixes about them, and
//! the pure arithmetic on top of it.
//!
//! A release covers one closed calendar period (a month, a quarter or a year) for one population
//! (the hub, or one province). It holds the tables the document lists, each with every category
//! of its dimensions. Every count gets noise from a vetted discrete mechanism (the `api` crate
//! draws it with OpenDP), at the document's ε per table, scaled by the table's sensitivity; then
//! [`ReleaseSpec::publish`] post-processes it. Nothing here draws noise: the decisions stay pure
//! and testable.

use crate::model::UnknownName;

/// What a release counts: cases, referrals or placement requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReleaseSubject {
    /// Cases opened in the period.
    Cases,
    /// Referrals received in the period.
    Referrals,
    /// Placement requests made in the period (ACCESS.md §8: through releases for everyone but
    /// the requester).
    Placements,
}

impl ReleaseSubject {
    /// The subject as the contract spells it (`ReleaseTable.subject`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseSubject::Cases => "cases",
            ReleaseSubject::Referrals => "referrals",
            ReleaseSubject::Placements => "placements",
        }
    }
    /// The dimensions a table of this subject may use (the contract's `CaseDimension` and
    /// `ReferralDimension` spellings).
    pub fn dimensions(self) -> &'static [&'static str] {
        match self {
            ReleaseSubject::Cases => &CASE_DIMENSIONS,
            ReleaseSubject::Referrals => &REFERRAL_DIMENSIONS,
            ReleaseSubject::Placements => &PLACEMENT_DIMENSIONS,
        }
    }
}

/// Case dimensions a release table may use.
pub const CASE_DIMENSIONS: [&str; 10] = [
    "PROVINCE",
    "NATIONALITY",
    "GENDER",
    "EXPLOITATION",
    "PERMIT_AT_START",
    "PERMIT_CURRENT",
    "EMERSION_CHANNEL",
    "PHASE",
    "OUTCOME",
    "OWNER",
];

/// Referral dimensions a release table may use.
pub const REFERRAL_DIMENSIONS: [&str; 6] = [
    "PROVINCE",
    "TARGET",
    "REQUESTER_KIND",
    "STATUS",
    "OUTCOME",
    "NATIONALITY",
];

/// Placement-request dimensions a release table may use: where, who it is for, how urgent, what
/// became of it by the cut-off, which kind of agency asked, and how long an accepted offer took.
/// None of them names a shelter or an ente that offered.
pub const PLACEMENT_DIMENSIONS: [&str; 6] = [
    "PROVINCE",
    "TAKES",
    "URGENCY",
    "STATUS",
    "REQUESTER_KIND",
    "WAIT",
];

/// The one dimension under which a case counts more than once (once per exploitation type).
pub const MULTI_VALUED_CASE_DIMENSION: &str = "EXPLOITATION";

/// A calendar granularity a release may cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    /// A calendar month (`2023-06`).
    Month,
    /// A calendar quarter (`2023-Q2`).
    Quarter,
    /// A calendar year (`2023`).
    Year,
}

impl Granularity {
    /// Every granularity, shortest first.
    pub const ALL: [Granularity; 3] = [Granularity::Month, Granularity::Quarter, Granularity::Year];

    /// The document's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Month => "MONTH",
            Granularity::Quarter => "QUARTER",
            Granularity::Year => "YEAR",
        }
    }
}

impl std::str::FromStr for Granularity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_string()))
    }
}

/// One table of a release: a subject grouped by one dimension, or crossed by two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// Cases or referrals.
    pub subject: ReleaseSubject,
    /// One or two dimension names, in the order the cells' keys follow.
    pub dimensions: Vec<String>,
}

/// A table found for a requested grouping: its index in [`ReleaseSpec::tables`] and whether the
/// request names its two dimensions the other way round (keys to be swapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableMatch {
    /// Index into [`ReleaseSpec::tables`].
    pub index: usize,
    /// The request's dimensions are the table's, reversed.
    pub swapped: bool,
}

/// Everything the protocol document fixes about releases.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSpec {
    /// A period is closed `grace_days` after its last day.
    pub grace_days: u32,
    /// ε spent on each table of each release.
    pub epsilon_per_table: f64,
    /// The yearly ε a person's data is exposed to, as the document states it (at least
    /// [`ReleaseSpec::exposure_per_year`]; `raccordo policy check` refuses less).
    pub epsilon_per_year: f64,
    /// The granularities published.
    pub granularities: Vec<Granularity>,
    /// Every table of a release, cases first, in document order.
    pub tables: Vec<TableSpec>,
    /// Nationalities listed by name (ISO 3166-1 alpha-2); any other is pooled as `OTHER`.
    pub nationalities: Vec<String>,
    /// Provinces listed by name (sigle); any other is pooled as `OTHER`.
    pub provinces: Vec<String>,
    /// A case counts under at most this many exploitation types (its first ones in the
    /// contract's order); the noise of tables with `EXPLOITATION` is scaled by it.
    pub exploitations_per_case: u32,
    /// The suppression threshold k: published counts below it are `suppressed`.
    pub k: u64,
}

/// How many populations a row falls in: the hub's and its province's.
pub const POPULATIONS_PER_ROW: u32 = 2;

impl ReleaseSpec {
    /// The ε a person's data is exposed to in one year: each case (and each referral) counts in
    /// the releases of the one period it was opened (received) in, at every published
    /// granularity, for the hub and for its province, once in every table of its subject. A
    /// person with a case and a referral counts in both subjects' tables.
    pub fn exposure_per_year(&self) -> f64 {
        let releases = self.granularities.len() as f64 * f64::from(POPULATIONS_PER_ROW);
        releases * self.tables.len() as f64 * self.epsilon_per_table
    }

    /// How much one person can change a cell's count in a table: the L1 sensitivity that the
    /// noise is scaled by. A case counts once per exploitation type, up to the cap.
    pub fn sensitivity(&self, table: &TableSpec) -> u32 {
        let multi = table.subject == ReleaseSubject::Cases
            && table
                .dimensions
                .iter()
                .any(|d| d == MULTI_VALUED_CASE_DIMENSION);
        if multi {
            self.exploitations_per_case
        } else {
            1
        }
    }

    /// The noise scale of a table: sensitivity / ε (a discrete Laplace with this scale makes
    /// the table ε-differentially private).
    pub fn noise_scale(&self, table: &TableSpec) -> f64 {
        f64::from(self.sensitivity(table)) / self.epsilon_per_table
    }

    /// The table a request grouped by `dimensions` reads, if the release has one (either order
    /// for a crossing).
    pub fn find(&self, subject: ReleaseSubject, dimensions: &[&str]) -> Option<TableMatch> {
        self.tables.iter().enumerate().find_map(|(index, t)| {
            if t.subject != subject || t.dimensions.len() != dimensions.len() {
                return None;
            }
            let same = t.dimensions.iter().zip(dimensions).all(|(a, b)| a == b);
            let reversed = dimensions.len() == 2
                && t.dimensions[0] == dimensions[1]
                && t.dimensions[1] == dimensions[0];
            (same || reversed).then_some(TableMatch {
                index,
                swapped: !same,
            })
        })
    }

    /// Whether the document publishes releases of this granularity.
    pub fn publishes(&self, granularity: Granularity) -> bool {
        self.granularities.contains(&granularity)
    }

    /// The category a nationality counts under: itself when listed, else `OTHER`.
    pub fn nationality_category<'a>(&'a self, code: &'a str) -> &'a str {
        listed_or_other(&self.nationalities, code)
    }

    /// The category a province counts under: itself when listed, else `OTHER`.
    pub fn province_category<'a>(&'a self, sigla: &'a str) -> &'a str {
        listed_or_other(&self.provinces, sigla)
    }

    /// Post-processing of one noisy count (no further privacy cost): a negative count becomes
    /// 0, and a count below k is published as suppressed (`None`).
    pub fn publish(&self, noisy: i64) -> Option<u64> {
        let count = u64::try_from(noisy).unwrap_or(0);
        (count >= self.k).then_some(count)
    }
}

/// The category pooled values count under.
pub const OTHER: &str = "OTHER";

fn listed_or_other<'a>(list: &'a [String], value: &'a str) -> &'a str {
    if list.iter().any(|v| v == value) {
        value
    } else {
        OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ReleaseSpec {
        ReleaseSpec {
            grace_days: 30,
            epsilon_per_table: 0.25,
            epsilon_per_year: 30.0,
            granularities: Granularity::ALL.to_vec(),
            tables: vec![
                TableSpec {
                    subject: ReleaseSubject::Cases,
                    dimensions: vec!["GENDER".into()],
                },
                TableSpec {
                    subject: ReleaseSubject::Cases,
                    dimensions: vec!["EXPLOITATION".into(), "GENDER".into()],
                },
                TableSpec {
                    subject: ReleaseSubject::Referrals,
                    dimensions: vec!["GENDER".into()],
                },
            ],
            nationalities: vec!["NG".into()],
            provinces: vec!["BG".into()],
            exploitations_per_case: 2,
            k: 3,
        }
    }

    #[test]
    fn exposure_counts_every_table_release_and_population() {
        // 3 granularities x 2 populations x 3 tables x 0.25
        assert_eq!(spec().exposure_per_year(), 4.5);
        let mut s = spec();
        s.granularities = vec![Granularity::Year];
        assert_eq!(s.exposure_per_year(), 1.5);
    }

    #[test]
    fn sensitivity_and_scale_follow_the_exploitation_cap() {
        let s = spec();
        assert_eq!(s.sensitivity(&s.tables[0]), 1);
        assert_eq!(s.sensitivity(&s.tables[1]), 2);
        // A referral table never counts a person twice, whatever its dimension is called.
        let r = TableSpec {
            subject: ReleaseSubject::Referrals,
            dimensions: vec!["EXPLOITATION".into()],
        };
        assert_eq!(s.sensitivity(&r), 1);
        assert_eq!(s.noise_scale(&s.tables[0]), 4.0);
        assert_eq!(s.noise_scale(&s.tables[1]), 8.0);
    }

    #[test]
    fn find_matches_subject_dimensions_and_either_order() {
        let s = spec();
        assert_eq!(
            s.find(ReleaseSubject::Cases, &["GENDER"]),
            Some(TableMatch {
                index: 0,
                swapped: false
            })
        );
        assert_eq!(
            s.find(ReleaseSubject::Referrals, &["GENDER"]),
            Some(TableMatch {
                index: 2,
                swapped: false
            })
        );
        assert_eq!(
            s.find(ReleaseSubject::Cases, &["GENDER", "EXPLOITATION"]),
            Some(TableMatch {
                index: 1,
                swapped: true
            })
        );
        assert_eq!(
            s.find(ReleaseSubject::Cases, &["EXPLOITATION", "GENDER"]),
            Some(TableMatch {
                index: 1,
                swapped: false
            })
        );
        assert_eq!(s.find(ReleaseSubject::Cases, &["EXPLOITATION"]), None);
        assert_eq!(s.find(ReleaseSubject::Cases, &["GENDER", "GENDER"]), None);
        assert_eq!(
            s.find(ReleaseSubject::Referrals, &["EXPLOITATION", "GENDER"]),
            None
        );
    }

    #[test]
    fn publish_clamps_then_suppresses_below_k() {
        let s = spec();
        assert_eq!(s.publish(-5), None);
        assert_eq!(s.publish(0), None);
        assert_eq!(s.publish(2), None);
        assert_eq!(s.publish(3), Some(3));
        assert_eq!(s.publish(40), Some(40));
    }

    #[test]
    fn pooled_categories() {
        let s = spec();
        assert_eq!(s.nationality_category("NG"), "NG");
        assert_eq!(s.nationality_category("CI"), OTHER);
        assert_eq!(s.province_category("BG"), "BG");
        assert_eq!(s.province_category("MI"), OTHER);
    }

    #[test]
    fn granularities_parse_and_are_published_only_when_listed() {
        assert_eq!("QUARTER".parse::<Granularity>(), Ok(Granularity::Quarter));
        assert!("WEEK".parse::<Granularity>().is_err());
        let mut s = spec();
        s.granularities = vec![Granularity::Year];
        assert!(s.publishes(Granularity::Year));
        assert!(!s.publishes(Granularity::Month));
    }
}
