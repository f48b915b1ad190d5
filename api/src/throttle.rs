//! Throttling, so that one partner's runaway script cannot starve the others: a request rate
//! and a cost budget per user and per agency (token buckets: a minute's allowance as a burst,
//! then a steady rate), a cap on requests in flight per agency, and a cap on requests in flight
//! for the whole hub. Refusals say when to come back (`Retry-After`).
//!
//! The cost budget charges what a request asks for, not that it asked (issue 12: one request of
//! 10 operations × 20 aliased statistics fields paid as much as `{ me { userId } }`): each root
//! field of each operation pays its complexity (`cost`), heavier for statistics, releases and
//! imports, as GitHub's and Shopify's GraphQL APIs charge.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::Limits;

/// Buckets kept before idle (full) ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

/// Why a request was turned away, and in how many seconds to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The user's or the agency's allowance of requests is used up (HTTP 429).
    TooManyRequests {
        /// Whose allowance: the user's or the agency's.
        who: &'static str,
        /// Seconds until a request is admitted again.
        retry_after: u64,
    },
    /// The request costs more than what is left of the user's or the agency's cost budget
    /// (HTTP 429).
    OverBudget {
        /// Whose budget: the user's or the agency's.
        who: &'static str,
        /// What the request costs.
        cost: u64,
        /// What is left of the budget.
        left: u64,
        /// Seconds until the budget allows the request.
        retry_after: u64,
    },
    /// The agency already has its share of requests in flight (HTTP 429).
    AgencyBusy {
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The hub is working on as many requests as it may (HTTP 503).
    HubBusy {
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
}

impl Refusal {
    /// The same refusal, to be tried again after `seconds`.
    fn with_retry_after(&self, seconds: u64) -> Refusal {
        let mut r = self.clone();
        match &mut r {
            Refusal::TooManyRequests { retry_after, .. }
            | Refusal::OverBudget { retry_after, .. }
            | Refusal::AgencyBusy { retry_after }
            | Refusal::HubBusy { retry_after } => *retry_after = seconds,
        }
        r
    }

    /// Seconds after which the caller may try again.
    pub fn retry_after(&self) -> u64 {
        match self {
            Refusal::TooManyRequests { retry_after, .. }
            | Refusal::OverBudget { retry_after, .. }
            | Refusal::AgencyBusy { retry_after }
            | Refusal::HubBusy { retry_after } => *retry_after,
        }
    }

    /// The refusal in a partner's words.
    pub fn message(&self) -> String {
        match self {
            Refusal::TooManyRequests { who, retry_after } => format!(
                "too many requests from this {who}: the rate limit is reached; try again in {retry_after} s"
            ),
            Refusal::OverBudget { who, cost, left, retry_after } => format!(
                "this request costs {cost} and this {who}'s cost budget has {left} left; try again in {retry_after} s, or ask for less"
            ),
            Refusal::AgencyBusy { retry_after } => format!(
                "this agency already has as many requests in progress as it may; try again in {retry_after} s"
            ),
            Refusal::HubBusy { retry_after } => format!(
                "the hub is busy with other requests; try again in {retry_after} s"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// Its allowance per minute, which is also its capacity.
    per_minute: u32,
}

/// What a request was charged, and what is left, for `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// The cost charged.
    pub cost: u64,
    /// What is left of the user's cost budget (`None`: unlimited).
    pub user_left: Option<u64>,
    /// What is left of the agency's cost budget (`None`: unlimited).
    pub agency_left: Option<u64>,
}

/// One allowance a request draws from.
struct Draw {
    who: &'static str,
    key: String,
    per_minute: u32,
    amount: f64,
    /// Whether it is a cost budget (its refusal says what the request costs).
    cost: bool,
}

/// The hub's throttle. One per running hub, shared by every request.
#[derive(Debug)]
pub struct Throttle {
    per_user: u32,
    per_agency: u32,
    cost_per_user: u32,
    cost_per_agency: u32,
    agency_cap: usize,
    agency_cost_cap: u64,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Users told to come back later, until when, and why: one that comes back sooner is turned
    /// away at the door, before its body is parsed (see [`Throttle::door`]).
    barred: Mutex<HashMap<String, Barred>>,
    in_flight: Arc<Mutex<HashMap<String, InFlight>>>,
    hub: Arc<Semaphore>,
}

/// Why the [door](Throttle::door) turned a request away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtTheDoor {
    /// The user keeps coming back sooner than it was told to: still barred.
    Barred(Refusal),
    /// The user's or the agency's request rate is used up.
    Refused(Refusal),
}

impl AtTheDoor {
    /// The refusal, whichever way it came.
    pub fn refusal(self) -> Refusal {
        match self {
            AtTheDoor::Barred(r) | AtTheDoor::Refused(r) => r,
        }
    }
}

/// A user refused and told when to come back.
#[derive(Debug, Clone)]
struct Barred {
    until: Instant,
    /// Refusals before `until`: from the second on, the door turns the user away.
    strikes: u32,
    refusal: Refusal,
}

/// What one agency has in flight: requests, and their cost together.
#[derive(Debug, Default, Clone, Copy)]
struct InFlight {
    requests: usize,
    cost: u64,
}

/// A request's place among its agency's requests in flight; freed when dropped.
#[derive(Debug)]
pub struct AgencySlot {
    key: String,
    cost: u64,
    in_flight: Arc<Mutex<HashMap<String, InFlight>>>,
}

impl Drop for AgencySlot {
    fn drop(&mut self) {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            n.requests = n.requests.saturating_sub(1);
            n.cost = n.cost.saturating_sub(self.cost);
            if n.requests == 0 {
                map.remove(&self.key);
            }
        }
    }
}

impl Throttle {
    /// A throttle with `limits`' rates and caps.
    pub fn new(limits: &Limits) -> Throttle {
        Throttle {
            per_user: limits.per_user_per_minute,
            per_agency: limits.per_agency_per_minute,
            cost_per_user: limits.cost_per_user_per_minute,
            cost_per_agency: limits.cost_per_agency_per_minute,
            agency_cap: limits.concurrent_per_agency.max(1),
            agency_cost_cap: limits.cost_in_flight_per_agency as u64,
            buckets: Mutex::new(HashMap::new()),
            barred: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            hub: Arc::new(Semaphore::new(limits.concurrent.max(1))),
        }
    }

    /// A place among the requests the hub works on at once; refused when all are taken
    /// (the request is not queued: a queue would only hide the overload from the caller).
    pub fn enter(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        self.hub
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::HubBusy { retry_after: 1 })
    }

    /// Turns away, before anything of its request is parsed, a user that was refused, told to
    /// come back in N seconds, and came back sooner to be refused again (a client ignoring
    /// `Retry-After`): until those N seconds have passed. Parsing and costing a request is work
    /// too; without this door a partner that ignores `Retry-After` makes the hub parse its
    /// largest bodies without pause, on the cores others need (issue 19, item 1). A user that
    /// waits as told never meets it, nor does one that asks for less after a refusal, nor do its
    /// colleagues.
    ///
    /// Past the door, the request counts against the user's and the agency's request rates,
    /// whatever becomes of it (a request refused later by the limits was parsed all the same).
    pub fn door(&self, user: &str, agency: &str) -> Result<(), AtTheDoor> {
        self.door_at(Instant::now(), user, agency)
    }

    fn door_at(&self, now: Instant, user: &str, agency: &str) -> Result<(), AtTheDoor> {
        {
            let mut barred = self.barred.lock().unwrap_or_else(|e| e.into_inner());
            match barred.get(user) {
                Some(b) if now < b.until && b.strikes >= 2 => {
                    let left = b.until.saturating_duration_since(now).as_secs_f64().ceil() as u64;
                    return Err(AtTheDoor::Barred(b.refusal.with_retry_after(left.max(1))));
                }
                Some(b) if now >= b.until => {
                    barred.remove(user);
                }
                _ => {}
            }
        }
        self.draw_at(now, user, agency, true, 0)
            .map(|_| ())
            .inspect_err(|refusal| self.bar_at(now, user, refusal))
            .map_err(AtTheDoor::Refused)
    }

    /// Remembers that `user` was refused and told to come back after `refusal.retry_after()`
    /// seconds; a second refusal before then bars it at the door until the later of the two.
    fn bar_at(&self, now: Instant, user: &str, refusal: &Refusal) {
        let mut barred = self.barred.lock().unwrap_or_else(|e| e.into_inner());
        if barred.len() > MAX_BUCKETS {
            barred.retain(|_, b| now < b.until);
        }
        let until = now + std::time::Duration::from_secs(refusal.retry_after());
        let strikes = match barred.get(user) {
            Some(b) if now < b.until => b.strikes.saturating_add(1),
            _ => 1,
        };
        let until = match barred.get(user) {
            Some(b) if now < b.until => until.max(b.until),
            _ => until,
        };
        barred.insert(
            user.to_string(),
            Barred {
                until,
                strikes,
                refusal: refusal.clone(),
            },
        );
    }

    /// Charges a request's `cost` to the user and to the agency (the request itself was counted
    /// at the [door](Throttle::door)); refused, and charged to neither, when either budget is
    /// short. A user refused twice before it was told to come back is turned away at the door.
    pub fn charge(&self, user: &str, agency: &str, cost: u64) -> Result<Spent, Refusal> {
        self.charge_or_bar_at(Instant::now(), user, agency, cost)
    }

    fn charge_or_bar_at(
        &self,
        now: Instant,
        user: &str,
        agency: &str,
        cost: u64,
    ) -> Result<Spent, Refusal> {
        self.draw_at(now, user, agency, false, cost)
            .inspect_err(|refusal| self.bar_at(now, user, refusal))
    }

    /// Charges the request (1) and its `cost` together: what the door and [`Throttle::charge`]
    /// charge one after the other.
    #[cfg(test)]
    fn charge_at(
        &self,
        now: Instant,
        user: &str,
        agency: &str,
        cost: u64,
    ) -> Result<Spent, Refusal> {
        self.draw_at(now, user, agency, true, cost)
    }

    /// Draws from the user's and the agency's allowances: one request when `request`, and
    /// `cost`; all or nothing.
    fn draw_at(
        &self,
        now: Instant,
        user: &str,
        agency: &str,
        request: bool,
        cost: u64,
    ) -> Result<Spent, Refusal> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_BUCKETS {
            buckets.retain(|_, b| refill(*b, now).tokens < f64::from(b.per_minute));
        }
        let draws = [
            ("user", format!("user:{user}"), self.per_user, 1.0, false),
            (
                "agency",
                format!("agency:{agency}"),
                self.per_agency,
                1.0,
                false,
            ),
            (
                "user",
                format!("cost-user:{user}"),
                self.cost_per_user,
                cost as f64,
                true,
            ),
            (
                "agency",
                format!("cost-agency:{agency}"),
                self.cost_per_agency,
                cost as f64,
                true,
            ),
        ]
        .into_iter()
        .filter(|(_, _, _, _, is_cost)| request || *is_cost)
        .map(|(who, key, per_minute, amount, cost)| Draw {
            who,
            key,
            per_minute,
            // A request that costs more than a whole minute's budget pays the whole budget: it
            // runs when the budget is full and then leaves nothing for a minute. Charging more
            // would make it wait for ever (a 429 it can never get past), since the budget never
            // holds more than a minute's allowance.
            amount: amount.min(f64::from(per_minute)),
            cost,
        });
        let mut refilled = Vec::new();
        for d in draws {
            if d.per_minute == u32::MAX {
                continue;
            }
            let bucket = buckets.get(&d.key).copied().unwrap_or(Bucket {
                tokens: f64::from(d.per_minute),
                at: now,
                per_minute: d.per_minute,
            });
            let bucket = refill(
                Bucket {
                    per_minute: d.per_minute,
                    ..bucket
                },
                now,
            );
            if bucket.tokens < d.amount {
                let per_second = f64::from(d.per_minute) / 60.0;
                let retry_after = ((d.amount - bucket.tokens) / per_second)
                    .ceil()
                    .clamp(1.0, 60.0) as u64;
                return Err(if d.cost {
                    Refusal::OverBudget {
                        who: d.who,
                        cost,
                        left: bucket.tokens.max(0.0) as u64,
                        retry_after,
                    }
                } else {
                    Refusal::TooManyRequests {
                        who: d.who,
                        retry_after,
                    }
                });
            }
            refilled.push((d, bucket));
        }
        let mut spent = Spent {
            cost,
            user_left: None,
            agency_left: None,
        };
        for (d, mut bucket) in refilled {
            bucket.tokens -= d.amount;
            if d.cost {
                let left = Some(bucket.tokens.max(0.0) as u64);
                match d.who {
                    "user" => spent.user_left = left,
                    _ => spent.agency_left = left,
                }
            }
            buckets.insert(d.key, bucket);
        }
        Ok(spent)
    }

    /// A place among the agency's requests in flight for a request of this `cost`; refused when
    /// the agency has its share of requests in flight already, or when their cost together
    /// would pass the agency's cost in flight (a request alone always fits: the complexity
    /// limit bounds it). So one partner's expensive requests run one after another, never on
    /// every core at once, whatever its number of connections.
    pub fn agency_slot(&self, user: &str, agency: &str, cost: u64) -> Result<AgencySlot, Refusal> {
        self.agency_slot_inner(agency, cost)
            .inspect_err(|refusal| self.bar_at(Instant::now(), user, refusal))
    }

    fn agency_slot_inner(&self, agency: &str, cost: u64) -> Result<AgencySlot, Refusal> {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(agency.to_string()).or_default();
        let over_cost = n.requests > 0 && n.cost.saturating_add(cost) > self.agency_cost_cap;
        if n.requests >= self.agency_cap || over_cost {
            if n.requests == 0 {
                map.remove(agency);
            }
            return Err(Refusal::AgencyBusy { retry_after: 1 });
        }
        n.requests += 1;
        n.cost = n.cost.saturating_add(cost);
        Ok(AgencySlot {
            key: agency.to_string(),
            cost,
            in_flight: self.in_flight.clone(),
        })
    }
}

fn refill(bucket: Bucket, now: Instant) -> Bucket {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    let capacity = f64::from(bucket.per_minute);
    Bucket {
        tokens: (bucket.tokens + elapsed * capacity / 60.0).min(capacity),
        at: now,
        per_minute: bucket.per_minute,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn throttle(per_user: u32, per_agency: u32) -> Throttle {
        Throttle::new(&Limits {
            per_user_per_minute: per_user,
            per_agency_per_minute: per_agency,
            concurrent: 2,
            concurrent_per_agency: 1,
            ..Limits::default()
        })
    }

    #[test]
    fn a_user_gets_a_minutes_allowance_then_a_steady_rate() {
        let t = throttle(60, 1000);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(t.charge_at(start, "u", "a", 0).is_ok());
        }
        let refused = t.charge_at(start, "u", "a", 0);
        assert_eq!(
            refused,
            Err(Refusal::TooManyRequests {
                who: "user",
                retry_after: 1
            })
        );
        // Another user of the same agency is not held back by the first.
        assert!(t.charge_at(start, "v", "a", 0).is_ok());
        // One request a second comes back.
        assert!(t
            .charge_at(start + Duration::from_secs(1), "u", "a", 0)
            .is_ok());
        assert!(t
            .charge_at(start + Duration::from_secs(1), "u", "a", 0)
            .is_err());
    }

    #[test]
    fn an_agency_allowance_covers_all_its_users_and_refusals_cost_nothing() {
        let t = throttle(1000, 3);
        let now = Instant::now();
        assert!(t.charge_at(now, "u1", "a", 0).is_ok());
        assert!(t.charge_at(now, "u2", "a", 0).is_ok());
        assert!(t.charge_at(now, "u3", "a", 0).is_ok());
        let refused = t
            .charge_at(now, "u4", "a", 0)
            .expect_err("agency allowance used up");
        assert_eq!(refused.retry_after(), 20);
        assert!(refused.message().contains("agency"));
        // Another agency is unaffected.
        assert!(t.charge_at(now, "w", "b", 0).is_ok());
        // u4 was refused before being charged: its own allowance is intact.
        let t2 = throttle(1, 1000);
        assert!(t2.charge_at(now, "x", "a", 0).is_ok());
        assert!(t2.charge_at(now, "x", "a", 0).is_err());
        assert!(t2
            .charge_at(now + Duration::from_secs(60), "x", "a", 0)
            .is_ok());
    }

    /// Issue 12, item 3: a request pays its cost; what is left is reported; a request that costs
    /// more than is left is refused, charged nothing, and told when to come back.
    #[test]
    fn requests_pay_their_cost() {
        let t = Throttle::new(&Limits {
            cost_per_user_per_minute: 600,
            cost_per_agency_per_minute: 1000,
            ..Limits::default()
        });
        let now = Instant::now();
        let spent = t.charge_at(now, "u", "a", 500).expect("within");
        assert_eq!(spent.user_left, Some(100));
        assert_eq!(spent.agency_left, Some(500));
        let refused = t
            .charge_at(now, "u", "a", 200)
            .expect_err("over the user's");
        assert!(matches!(
            refused,
            Refusal::OverBudget {
                who: "user",
                cost: 200,
                left: 100,
                retry_after: 10
            }
        ));
        // The refusal cost nothing: 100 still fit.
        assert!(t.charge_at(now, "u", "a", 100).is_ok());
        // Another user of the agency draws on the agency's 400.
        assert!(matches!(
            t.charge_at(now, "v", "a", 500),
            Err(Refusal::OverBudget { who: "agency", .. })
        ));
        // More than a minute's budget runs when the budget is full and pays all of it (else it
        // could never run): the next request of that user waits.
        assert!(t.charge_at(now, "w", "b", 10_000).is_ok());
        assert!(matches!(
            t.charge_at(now, "w", "c", 1),
            Err(Refusal::OverBudget { who: "user", .. })
        ));
    }

    #[test]
    fn in_flight_caps_free_their_places() {
        let t = throttle(1000, 1000);
        let a = t.agency_slot("u", "a", 0).expect("first");
        assert_eq!(
            t.agency_slot("u", "a", 0).map(|_| ()),
            Err(Refusal::AgencyBusy { retry_after: 1 })
        );
        assert!(t.agency_slot("u", "b", 0).is_ok());
        drop(a);
        assert!(t.agency_slot("u", "a", 0).is_ok());
        let p1 = t.enter().expect("1");
        let _p2 = t.enter().expect("2");
        assert!(t.enter().is_err());
        drop(p1);
        assert!(t.enter().is_ok());
    }

    /// An agency's expensive requests run one after another: their cost in flight together is
    /// capped, while one request alone always fits and cheap ones go alongside.
    #[test]
    fn an_agencys_cost_in_flight_is_capped() {
        let t = Throttle::new(&Limits {
            cost_in_flight_per_agency: 1000,
            ..Limits::default()
        });
        let big = t.agency_slot("u", "a", 900).expect("alone, it fits");
        assert!(t.agency_slot("u", "a", 50).is_ok());
        assert_eq!(
            t.agency_slot("u", "a", 200).map(|_| ()),
            Err(Refusal::AgencyBusy { retry_after: 1 })
        );
        assert!(
            t.agency_slot("u", "b", 5000).is_ok(),
            "another agency goes on"
        );
        drop(big);
        assert!(t.agency_slot("u", "a", 900).is_ok());
    }

    /// Issue 19, item 1: a user refused, and refused again before the time it was told to wait,
    /// is turned away at the door until then; one that waits, or asks for less and fits, is not;
    /// nor are its colleagues.
    #[test]
    fn a_user_ignoring_retry_after_is_turned_away_at_the_door() {
        let t = Throttle::new(&Limits {
            cost_per_user_per_minute: 600,
            cost_per_agency_per_minute: 100_000,
            ..Limits::default()
        });
        let now = Instant::now();
        assert!(t.charge_or_bar_at(now, "u", "a", 500).is_ok());
        // One refusal: told to come back in 20 s, not yet barred (it may ask for less).
        let first = t
            .charge_or_bar_at(now, "u", "a", 300)
            .expect_err("over the budget");
        assert_eq!(first.retry_after(), 20);
        assert_eq!(t.door_at(now, "u", "a"), Ok(()));
        assert!(t.charge_or_bar_at(now, "u", "a", 50).is_ok(), "less fits");
        // Refused again within the 20 s: barred at the door until they have passed.
        assert!(t.charge_or_bar_at(now, "u", "a", 300).is_err());
        let at_door = match t.door_at(now + Duration::from_secs(5), "u", "a") {
            Err(AtTheDoor::Barred(r)) => r,
            other => panic!("barred, not {other:?}"),
        };
        assert!(matches!(at_door, Refusal::OverBudget { .. }), "{at_door:?}");
        assert!(at_door.retry_after() >= 15 && at_door.retry_after() <= 30);
        assert!(at_door.message().contains("try again in"));
        assert_eq!(
            t.door_at(now, "v", "a"),
            Ok(()),
            "a colleague is not barred"
        );
        // Once the time has passed, the door is open again and forgets the refusals.
        let later = now + Duration::from_secs(31);
        assert_eq!(t.door_at(later, "u", "a"), Ok(()));
        assert!(t.charge_or_bar_at(later, "u", "a", 500).is_err());
        assert_eq!(
            t.door_at(later, "u", "a"),
            Ok(()),
            "a single refusal does not bar"
        );
    }

    #[test]
    fn unlimited_rates_never_refuse() {
        let t = Throttle::new(&Limits::default().without_rate_limits());
        let now = Instant::now();
        for _ in 0..10_000 {
            assert!(t.charge_at(now, "u", "a", 0).is_ok());
        }
    }
}
