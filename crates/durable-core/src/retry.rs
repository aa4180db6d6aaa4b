//! Retry strategies for steps.
//!
//! A strategy looks at the error and the attempt that just failed (counting
//! from 1) and decides whether to try again and after how long. Retries are
//! durable: the delay is a service-side timer, so a retry an hour away costs
//! nothing while it waits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::error::DurableError;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after `delay` (rounded to whole seconds, at least one).
    Retry {
        /// How long to wait first.
        delay: Duration,
    },
    /// Give up: the step fails with the error.
    Stop,
}

/// Decides whether a failed attempt is retried.
///
/// Closures `Fn(&DurableError, u32) -> RetryDecision` are policies too.
pub trait RetryPolicy: Send + Sync {
    /// `attempt` is the attempt that just failed, counting from 1.
    fn decide(&self, error: &DurableError, attempt: u32) -> RetryDecision;
}

impl<F> RetryPolicy for F
where
    F: Fn(&DurableError, u32) -> RetryDecision + Send + Sync,
{
    fn decide(&self, error: &DurableError, attempt: u32) -> RetryDecision {
        self(error, attempt)
    }
}

/// How much randomness to add to a delay, to keep many retries from firing together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// The computed delay as it is.
    None,
    /// Anywhere between zero and the delay.
    #[default]
    Full,
    /// Between half the delay and the delay.
    Half,
}

type ErrorFilter = Arc<dyn Fn(&DurableError) -> bool + Send + Sync>;

/// Exponential backoff: how many attempts, and how long between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    pub max_attempts: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub rate: f64,
    pub jitter: Jitter,
}

impl Backoff {
    /// The delay after `attempt` (counting from 1), jitter applied.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        backoff(
            self.initial_delay,
            self.max_delay,
            self.rate,
            self.jitter,
            attempt,
        )
    }
}

/// The builder methods of a strategy with a `backoff: Backoff` field.
macro_rules! backoff_builder {
    () => {
        /// Total attempts, the first included (at least 1).
        #[must_use]
        pub fn max_attempts(mut self, attempts: u32) -> Self {
            self.backoff.max_attempts = attempts.max(1);
            self
        }

        /// Delay after the first attempt.
        #[must_use]
        pub const fn initial_delay(mut self, delay: std::time::Duration) -> Self {
            self.backoff.initial_delay = delay;
            self
        }

        /// Longest delay.
        #[must_use]
        pub const fn max_delay(mut self, delay: std::time::Duration) -> Self {
            self.backoff.max_delay = delay;
            self
        }

        /// Factor between consecutive delays.
        #[must_use]
        pub const fn backoff_rate(mut self, rate: f64) -> Self {
            self.backoff.rate = rate;
            self
        }

        /// Randomness added to each delay.
        #[must_use]
        pub const fn jitter(mut self, jitter: $crate::retry::Jitter) -> Self {
            self.backoff.jitter = jitter;
            self
        }
    };
}
pub(crate) use backoff_builder;

/// Exponential backoff with jitter.
///
/// The delay after attempt `n` is `min(initial * rate^(n-1), max)`, then
/// jitter, rounded to whole seconds with a minimum of one. The step stops
/// after `max_attempts` attempts, or at once for errors the filter rejects.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use durable_core::retry::{Jitter, RetryStrategy};
///
/// let strategy = RetryStrategy::exponential()
///     .max_attempts(5)
///     .initial_delay(Duration::from_secs(1))
///     .max_delay(Duration::from_secs(30))
///     .backoff_rate(2.0)
///     .jitter(Jitter::Half);
/// # let _ = strategy;
/// ```
#[derive(Clone)]
pub struct RetryStrategy {
    backoff: Backoff,
    retryable: Option<ErrorFilter>,
}

impl Default for RetryStrategy {
    /// 6 attempts, 5 s initial delay, 60 s at most, doubling, full jitter.
    fn default() -> Self {
        Self {
            backoff: Backoff {
                max_attempts: 6,
                initial_delay: Duration::from_secs(5),
                max_delay: Duration::from_secs(60),
                rate: 2.0,
                jitter: Jitter::Full,
            },
            retryable: None,
        }
    }
}

impl RetryStrategy {
    /// The default strategy, to adjust with the builder methods.
    pub fn exponential() -> Self {
        Self::default()
    }

    /// One attempt, no retries.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    backoff_builder!();

    /// Retries only errors for which `filter` returns true.
    #[must_use]
    pub fn retry_if(
        mut self,
        filter: impl Fn(&DurableError) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.retryable = Some(Arc::new(filter));
        self
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to >= 1 and finite
fn whole_seconds(secs: f64) -> Duration {
    Duration::from_secs(secs.round().clamp(1.0, 31_622_400.0) as u64)
}

/// `min(initial * rate^(attempt-1), max)`, then jitter, in whole seconds (at least one).
pub(crate) fn backoff(
    initial: Duration,
    max: Duration,
    rate: f64,
    jitter: Jitter,
    attempt: u32,
) -> Duration {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let mut base = (initial.as_secs_f64() * rate.powi(exponent)).min(max.as_secs_f64());
    if !base.is_finite() || base < 0.0 {
        base = max.as_secs_f64();
    }
    let secs = match jitter {
        Jitter::None => base,
        Jitter::Full => rand::rng().random::<f64>() * base,
        Jitter::Half => base / 2.0 + rand::rng().random::<f64>() * base / 2.0,
    };
    whole_seconds(secs)
}

impl RetryPolicy for RetryStrategy {
    fn decide(&self, error: &DurableError, attempt: u32) -> RetryDecision {
        if attempt >= self.backoff.max_attempts
            || self.retryable.as_ref().is_some_and(|f| !f(error))
        {
            return RetryDecision::Stop;
        }
        RetryDecision::Retry {
            delay: self.backoff.delay(attempt),
        }
    }
}

impl fmt::Debug for RetryStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryStrategy")
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// When a step's side effect may happen relative to its START checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepSemantics {
    /// The body may run more than once per attempt if the invocation is cut
    /// off after it ran but before its result was recorded. The START is
    /// batched with the result: one write per step.
    #[default]
    AtLeastOncePerRetry,
    /// START is recorded before the body runs; an attempt cut off after that
    /// is not run again but counts as failed (`StepInterrupted`) and goes to
    /// the retry strategy.
    AtMostOncePerRetry,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> DurableError {
        DurableError::message("boom")
    }

    #[test]
    fn default_matches_the_reference_sdks() {
        let s = RetryStrategy::default().jitter(Jitter::None);
        let delays: Vec<_> = (1..6)
            .map(|a| match s.decide(&error(), a) {
                RetryDecision::Retry { delay } => delay.as_secs(),
                RetryDecision::Stop => 0,
            })
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 60]);
        assert_eq!(s.decide(&error(), 6), RetryDecision::Stop);
    }

    #[test]
    fn full_jitter_stays_within_bounds_and_at_least_one_second() {
        let s = RetryStrategy::default();
        for _ in 0..200 {
            let RetryDecision::Retry { delay } = s.decide(&error(), 1) else {
                panic!("stopped")
            };
            assert!((1..=5).contains(&delay.as_secs()), "{delay:?}");
            let RetryDecision::Retry { delay } = s.decide(&error(), 2) else {
                panic!("stopped")
            };
            assert!((1..=10).contains(&delay.as_secs()), "{delay:?}");
        }
    }

    #[test]
    fn half_jitter_keeps_at_least_half() {
        let s = RetryStrategy::default()
            .jitter(Jitter::Half)
            .initial_delay(Duration::from_secs(10));
        for _ in 0..200 {
            let RetryDecision::Retry { delay } = s.decide(&error(), 1) else {
                panic!("stopped")
            };
            assert!((5..=10).contains(&delay.as_secs()), "{delay:?}");
        }
    }

    #[test]
    fn filter_and_none_stop() {
        assert_eq!(
            RetryStrategy::none().decide(&error(), 1),
            RetryDecision::Stop
        );
        let s = RetryStrategy::default().retry_if(|e| e.error_type() == "Transient");
        assert_eq!(s.decide(&error(), 1), RetryDecision::Stop);
        assert!(matches!(
            s.decide(&DurableError::new("Transient", "x"), 1),
            RetryDecision::Retry { .. }
        ));
    }
}
