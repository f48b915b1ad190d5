//! The period and population of a release: one closed calendar month, quarter or year, for the
//! hub or one province (ACCESS.md §7.1).

use chrono::{Datelike, Days, NaiveDate};
use raccordo_policies::release::{Granularity, ReleaseSpec};

use crate::{
    error::{ApiError, ApiResult},
    validate,
};

/// One calendar period a release may cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePeriod {
    /// Month, quarter or year.
    pub granularity: Granularity,
    /// The contract's spelling: `2023`, `2023-Q2` or `2023-06`.
    pub label: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

const SHAPES: &str = "give a year (2023), a quarter (2023-Q2) or a month (2023-06)";

impl ReleasePeriod {
    /// Parses the contract's spelling; `field` is the input path for errors.
    pub fn parse(field: &str, text: &str) -> ApiResult<ReleasePeriod> {
        let bad = || ApiError::validation(field, format!("{text:?} is not a period: {SHAPES}"));
        let t = text.trim();
        let (year, rest) = match t.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (t, None),
        };
        let year: i32 = (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
            .then(|| year.parse().ok())
            .flatten()
            .filter(|y| *y >= 1900)
            .ok_or_else(bad)?;
        let two_digits = |s: &str| -> Option<u32> {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (granularity, first_month, months) = match rest {
            None => (Granularity::Year, 1, 12),
            Some(r) => match r.strip_prefix('Q') {
                Some(q) if q.len() == 1 => {
                    let q: u32 = q
                        .parse()
                        .ok()
                        .filter(|q| (1..=4).contains(q))
                        .ok_or_else(bad)?;
                    (Granularity::Quarter, 3 * q - 2, 3)
                }
                Some(_) => return Err(bad()),
                None => {
                    let m = two_digits(r)
                        .filter(|m| (1..=12).contains(m))
                        .ok_or_else(bad)?;
                    (Granularity::Month, m, 1)
                }
            },
        };
        Self::build(granularity, year, first_month, months).ok_or_else(bad)
    }

    fn build(granularity: Granularity, year: i32, first_month: u32, months: u32) -> Option<Self> {
        let from = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let to = from
            .checked_add_months(chrono::Months::new(months))?
            .pred_opt()?;
        let label = match granularity {
            Granularity::Year => format!("{year:04}"),
            Granularity::Quarter => format!("{year:04}-Q{}", first_month.div_ceil(3)),
            Granularity::Month => format!("{year:04}-{first_month:02}"),
        };
        Some(ReleasePeriod {
            granularity,
            label,
            from,
            to,
        })
    }

    /// The period whose first and last days are exactly `from` and `to`, if they bound a whole
    /// month, quarter or year.
    pub fn from_bounds(from: NaiveDate, to: NaiveDate) -> Option<ReleasePeriod> {
        if from.day() != 1 {
            return None;
        }
        [
            (Granularity::Month, 1),
            (Granularity::Quarter, 3),
            (Granularity::Year, 12),
        ]
        .into_iter()
        .filter(|(g, _)| match g {
            Granularity::Month => true,
            Granularity::Quarter => from.month() % 3 == 1,
            Granularity::Year => from.month() == 1,
        })
        .filter_map(|(g, months)| Self::build(g, from.year(), from.month(), months))
        .find(|p| p.to == to)
    }

    /// `VALIDATION` on `field` unless the document publishes this granularity and the period
    /// ended at least `grace_days` before `today`.
    pub fn check_releasable(
        &self,
        field: &str,
        spec: &ReleaseSpec,
        today: NaiveDate,
    ) -> ApiResult<()> {
        if !spec.publishes(self.granularity) {
            return Err(ApiError::validation(
                field,
                format!(
                    "the protocol publishes no {} releases",
                    self.granularity.as_str().to_lowercase()
                ),
            ));
        }
        let closed_on = self
            .to
            .checked_add_days(Days::new(u64::from(spec.grace_days)))
            .unwrap_or(NaiveDate::MAX);
        if closed_on >= today {
            return Err(ApiError::validation(
                field,
                format!(
                    "{} is not closed yet: a period can be released {} days after its last day ({})",
                    self.label, spec.grace_days, self.to
                ),
            ));
        }
        Ok(())
    }
}

/// Who a release counts: the whole hub, or the rows of one province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Population {
    /// Every row of the hub.
    Hub,
    /// The rows of one province (sigla, upper case).
    Province(String),
}

impl Population {
    /// The population named by an optional province sigla (`VALIDATION` on `field` for a string
    /// that is not an Italian sigla).
    pub fn parse(field: &str, province: Option<&str>) -> ApiResult<Population> {
        match province {
            None => Ok(Population::Hub),
            Some(p) => Ok(Population::Province(validate::province(field, p)?)),
        }
    }

    /// How storage spells it: `HUB` or the sigla.
    pub fn key(&self) -> &str {
        match self {
            Population::Hub => "HUB",
            Population::Province(p) => p,
        }
    }

    /// The province, or `None` for the hub.
    pub fn province(&self) -> Option<&str> {
        match self {
            Population::Hub => None,
            Population::Province(p) => Some(p),
        }
    }

    /// The population a stored key names.
    pub fn from_key(key: &str) -> Population {
        match key {
            "HUB" => Population::Hub,
            p => Population::Province(p.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn parses_the_three_shapes() {
        let y = ReleasePeriod::parse("period", "2023").expect("year");
        assert_eq!(
            (y.granularity, y.from, y.to),
            (Granularity::Year, d(2023, 1, 1), d(2023, 12, 31))
        );
        let q = ReleasePeriod::parse("period", "2023-Q2").expect("quarter");
        assert_eq!(
            (q.granularity, q.from, q.to),
            (Granularity::Quarter, d(2023, 4, 1), d(2023, 6, 30))
        );
        let m = ReleasePeriod::parse("period", "2024-02").expect("month");
        assert_eq!(
            (m.granularity, m.from, m.to),
            (Granularity::Month, d(2024, 2, 1), d(2024, 2, 29))
        );
        assert_eq!(m.label, "2024-02");
    }

    #[test]
    fn refuses_what_is_not_a_period() {
        for bad in [
            "2023-Q5",
            "2023-Q0",
            "2023-13",
            "2023-00",
            "2023-1",
            "23",
            "2023-",
            "2023-Q",
            "abcd",
            "",
            "2023-06-01",
            "1800",
            "2023-Q12",
        ] {
            let err = ReleasePeriod::parse("period", bad).expect_err(bad);
            assert!(
                matches!(err, ApiError::Validation { ref field, .. } if field == "period"),
                "{bad}"
            );
        }
    }

    #[test]
    fn bounds_name_only_whole_periods() {
        let p = |a, b| ReleasePeriod::from_bounds(a, b).map(|p| p.label);
        assert_eq!(p(d(2023, 1, 1), d(2023, 12, 31)), Some("2023".into()));
        assert_eq!(p(d(2023, 4, 1), d(2023, 6, 30)), Some("2023-Q2".into()));
        assert_eq!(p(d(2023, 1, 1), d(2023, 1, 31)), Some("2023-01".into()));
        assert_eq!(p(d(2023, 1, 1), d(2023, 3, 31)), Some("2023-Q1".into()));
        assert_eq!(p(d(2023, 1, 7), d(2023, 1, 7)), None);
        assert_eq!(p(d(2023, 1, 1), d(2023, 1, 30)), None);
        assert_eq!(p(d(2023, 2, 1), d(2023, 4, 30)), None);
        assert_eq!(p(d(2023, 1, 1), d(2023, 2, 28)), None);
    }

    #[test]
    fn a_period_is_releasable_after_its_grace_days() {
        let spec = raccordo_policies::Policy::default_protocol()
            .expect("default protocol")
            .release_spec()
            .clone();
        let june = ReleasePeriod::parse("period", "2023-06").expect("month");
        let grace = i64::from(spec.grace_days);
        assert!(june
            .check_releasable(
                "period",
                &spec,
                d(2023, 6, 30) + chrono::Duration::days(grace)
            )
            .is_err());
        assert!(june
            .check_releasable(
                "period",
                &spec,
                d(2023, 7, 1) + chrono::Duration::days(grace)
            )
            .is_ok());
        assert!(june
            .check_releasable("period", &spec, d(2023, 6, 15))
            .is_err());
    }

    #[test]
    fn populations() {
        assert_eq!(
            Population::parse("province", None).expect("hub"),
            Population::Hub
        );
        assert_eq!(
            Population::parse("province", Some("bg")).expect("bg").key(),
            "BG"
        );
        assert!(Population::parse("province", Some("XX")).is_err());
        assert_eq!(Population::from_key("HUB"), Population::Hub);
        assert_eq!(Population::from_key("BG").province(), Some("BG"));
    }
}
