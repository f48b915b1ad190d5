//! One deadline and one answer-size budget for a whole HTTP request, shared by every operation of
//! a batch (issue 19: a batch within every per-operation limit once built a 627 MB answer in
//! 6 GB over 51 s).
//!
//! The engine calls [`BudgetExtension`] around every field it resolves. Each resolved value is
//! charged its approximate size in the JSON answer (only its own part: the fields inside an
//! object and the items of a list are charged when they are resolved themselves). Once the answer
//! is over its budget or the deadline has passed, every field still to resolve fails at once, so
//! the engine stops building; `http` then answers `LIMIT_EXCEEDED` for the whole request and drops
//! what was built.

use std::{
    sync::{
        atomic::{AtomicU8, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use async_graphql::{
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
    ServerError, ServerResult, Value,
};

const WITHIN: u8 = 0;
const TOO_LARGE: u8 = 1;
const TOO_LONG: u8 = 2;

/// Why a request's budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// The answer grew past the size budget.
    TooLarge,
    /// The deadline passed.
    TooLong,
}

/// What one HTTP request may still spend: time until its deadline and bytes of answer.
#[derive(Debug)]
pub struct RequestBudget {
    deadline: Instant,
    timeout: Duration,
    max_bytes: usize,
    bytes: AtomicUsize,
    state: AtomicU8,
    /// Fields resolved so far, to yield the worker thread now and then.
    fields: AtomicUsize,
}

/// Fields a request resolves between two yields of its worker thread: building a large answer is
/// one long computation that would otherwise hold a worker until it ends, while other partners'
/// requests wait behind it.
const FIELDS_PER_YIELD: usize = 64;

impl RequestBudget {
    /// A budget of `timeout` from now and `max_bytes` of answer.
    pub fn new(timeout: Duration, max_bytes: usize) -> Arc<RequestBudget> {
        Arc::new(RequestBudget {
            deadline: Instant::now() + timeout,
            timeout,
            max_bytes,
            bytes: AtomicUsize::new(0),
            state: AtomicU8::new(WITHIN),
            fields: AtomicUsize::new(0),
        })
    }

    /// The request's deadline, for the timer that cancels its execution.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Why the budget ran out, if it did.
    pub fn exhausted(&self) -> Option<Exhausted> {
        match self.state.load(Ordering::Relaxed) {
            TOO_LARGE => Some(Exhausted::TooLarge),
            TOO_LONG => Some(Exhausted::TooLong),
            _ => None,
        }
    }

    /// Records that the deadline passed (the timer fired before the engine noticed).
    pub fn expire(&self) {
        let _ = self
            .state
            .compare_exchange(WITHIN, TOO_LONG, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The refusal, in a partner's words.
    pub fn message(&self, why: Exhausted) -> String {
        match why {
            Exhausted::TooLarge => format!(
                "the answer exceeds the response size limit ({} bytes): ask for fewer items or fields",
                self.max_bytes
            ),
            Exhausted::TooLong if self.timeout.as_secs() == 0 => format!(
                "the request took longer than the {} ms limit and was cancelled",
                self.timeout.as_millis()
            ),
            Exhausted::TooLong => format!(
                "the request took longer than the {} s limit and was cancelled",
                self.timeout.as_secs()
            ),
        }
    }

    /// Fails once the budget is spent, so that no more of the answer is built.
    fn check(&self) -> ServerResult<()> {
        if self.state.load(Ordering::Relaxed) == WITHIN && Instant::now() >= self.deadline {
            self.expire();
        }
        match self.exhausted() {
            None => Ok(()),
            Some(why) => Err(ServerError::new(self.message(why), None)),
        }
    }

    /// Charges `bytes` of answer.
    fn spend(&self, bytes: usize) -> ServerResult<()> {
        let total = self
            .bytes
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if total > self.max_bytes {
            let _ = self.state.compare_exchange(
                WITHIN,
                TOO_LARGE,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        self.check()
    }
}

/// The size a value adds to the JSON answer by itself: a scalar whole, an object its keys, a list
/// its separators (the fields and items inside are charged when they are resolved).
fn own_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Boolean(_) => 5,
        Value::Number(_) => 12,
        Value::String(s) => s.len() + 2,
        Value::Enum(e) => e.len() + 2,
        Value::Binary(b) => b.len() * 2,
        Value::List(items) => items.len() + 2,
        Value::Object(fields) => fields.keys().map(|k| k.len() + 4).sum::<usize>() + 2,
    }
}

/// The engine extension that enforces each request's [`RequestBudget`] (requests without one
/// are not limited here).
pub struct BudgetExtension;

impl ExtensionFactory for BudgetExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(BudgetExtension)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for BudgetExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let Some(budget) = ctx.data_opt::<Arc<RequestBudget>>() else {
            return next.run(ctx, info).await;
        };
        budget.check()?;
        if budget.fields.fetch_add(1, Ordering::Relaxed) % FIELDS_PER_YIELD == FIELDS_PER_YIELD - 1
        {
            tokio::task::yield_now().await;
        }
        let value = next.run(ctx, info).await?;
        if let Some(v) = &value {
            budget.spend(own_size(v))?;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_runs_out_once_and_says_why() {
        let b = RequestBudget::new(Duration::from_secs(60), 100);
        assert!(b.spend(60).is_ok());
        assert_eq!(b.exhausted(), None);
        assert!(b.spend(60).is_err());
        assert_eq!(b.exhausted(), Some(Exhausted::TooLarge));
        // The first reason stays.
        b.expire();
        assert_eq!(b.exhausted(), Some(Exhausted::TooLarge));
        let late = RequestBudget::new(Duration::from_secs(0), 100);
        assert!(late.check().is_err());
        assert_eq!(late.exhausted(), Some(Exhausted::TooLong));
    }
}
