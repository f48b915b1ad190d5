//! The order and meaning of a referral's steps (ACCESS.md §6), as pure checks: dates keep their
//! order (received ≤ scheduled ≤ interviews ≤ concluded), an identification needs at least one
//! interview, `NOT_IDENTIFIED` never opens a case. Each error names its rule and its input path.

use chrono::NaiveDate;

use crate::error::{ApiError, ApiResult};

/// The rule of dates, quoted in every error about it.
const ORDER: &str = "dates keep their order (received ≤ scheduled ≤ interviews ≤ concluded)";

/// A referral's dates so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    pub received: NaiveDate,
    pub scheduled: Option<NaiveDate>,
    /// The days of the interviews held, in any order.
    pub interviews: Vec<NaiveDate>,
}

fn order_error(field: &str, on: NaiveDate, what: &str, when: NaiveDate) -> ApiError {
    ApiError::validation(field, format!("{ORDER}: {field} ({on}) is {what} ({when})"))
}

impl Timeline {
    fn first_interview(&self) -> Option<NaiveDate> {
        self.interviews.iter().min().copied()
    }

    fn last_interview(&self) -> Option<NaiveDate> {
        self.interviews.iter().max().copied()
    }

    fn after_received(&self, field: &str, on: NaiveDate) -> ApiResult<()> {
        if on < self.received {
            return Err(order_error(
                field,
                on,
                "before the day the referral was received",
                self.received,
            ));
        }
        Ok(())
    }

    fn not_future(field: &str, on: NaiveDate, today: NaiveDate) -> ApiResult<()> {
        if on > today {
            return Err(ApiError::validation(
                field,
                format!("{field} ({on}) is in the future: record what has happened"),
            ));
        }
        Ok(())
    }

    /// Scheduling the first interview on `on` (may be a future day).
    pub fn schedule(&self, field: &str, on: NaiveDate) -> ApiResult<()> {
        self.after_received(field, on)?;
        if let Some(first) = self.first_interview().filter(|f| on > *f) {
            return Err(order_error(field, on, "after the first interview", first));
        }
        Ok(())
    }

    /// Recording an interview held on `on`.
    pub fn interview(&self, field: &str, on: NaiveDate, today: NaiveDate) -> ApiResult<()> {
        self.after_received(field, on)?;
        if let Some(s) = self.scheduled.filter(|s| on < *s) {
            return Err(order_error(
                field,
                on,
                "before the day the interview was scheduled",
                s,
            ));
        }
        Self::not_future(field, on, today)
    }

    /// Ending the referral on `on` without an assessment (the person was unreachable).
    pub fn end(&self, field: &str, on: NaiveDate, today: NaiveDate) -> ApiResult<()> {
        self.after_received(field, on)?;
        if let Some(last) = self.last_interview().filter(|l| on < *l) {
            return Err(order_error(field, on, "before the last interview", last));
        }
        Self::not_future(field, on, today)
    }

    /// Concluding the assessment on `on` with `identified` (any outcome but `NOT_IDENTIFIED`)
    /// and `adhesion`. `fields` are the input paths of the date, the outcome and the adhesion.
    pub fn conclusion(
        &self,
        fields: [&str; 3],
        on: NaiveDate,
        today: NaiveDate,
        identified: bool,
        adhesion: bool,
    ) -> ApiResult<()> {
        let [date, outcome, adhesion_field] = fields;
        self.end(date, on, today)?;
        if let Some(s) = self.scheduled.filter(|s| on < *s) {
            return Err(order_error(
                date,
                on,
                "before the day the interview was scheduled",
                s,
            ));
        }
        if identified && self.interviews.is_empty() {
            return Err(ApiError::validation(
                outcome,
                "an identification needs at least one interview: record the interview first",
            ));
        }
        if !identified && adhesion {
            return Err(ApiError::validation(
                adhesion_field,
                "NOT_IDENTIFIED never opens a case: programmeAdhesion must be false",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn field(r: ApiResult<()>) -> Option<String> {
        match r {
            Err(ApiError::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    const FIELDS: [&str; 3] = ["on", "outcome", "programmeAdhesion"];

    #[test]
    fn dates_keep_their_order() {
        let today = d("2024-01-31");
        let mut t = Timeline {
            received: d("2024-01-10"),
            ..Timeline::default()
        };
        assert_eq!(
            field(t.schedule("on", d("2024-01-09"))).as_deref(),
            Some("on")
        );
        assert!(
            t.schedule("on", d("2024-02-10")).is_ok(),
            "a future schedule"
        );
        t.scheduled = Some(d("2024-01-15"));
        assert!(field(t.interview("on", d("2024-01-14"), today)).is_some());
        assert!(field(t.interview("on", d("2024-02-01"), today)).is_some());
        assert!(t.interview("on", d("2024-01-15"), today).is_ok());
        t.interviews = vec![d("2024-01-20"), d("2024-01-16")];
        assert!(field(t.schedule("on", d("2024-01-17"))).is_some());
        assert!(field(t.conclusion(FIELDS, d("2024-01-19"), today, true, false)).is_some());
        assert!(t
            .conclusion(FIELDS, d("2024-01-20"), today, true, true)
            .is_ok());
        assert!(field(t.end("on", d("2024-01-19"), today)).is_some());
    }

    #[test]
    fn meaning_of_outcomes() {
        let today = d("2024-01-31");
        let t = Timeline {
            received: d("2024-01-10"),
            ..Timeline::default()
        };
        assert_eq!(
            field(t.conclusion(FIELDS, d("2024-01-11"), today, true, false)).as_deref(),
            Some("outcome"),
            "an identification without an interview"
        );
        assert!(t
            .conclusion(FIELDS, d("2024-01-11"), today, false, false)
            .is_ok());
        assert_eq!(
            field(t.conclusion(FIELDS, d("2024-01-11"), today, false, true)).as_deref(),
            Some("programmeAdhesion")
        );
    }
}
