//! Wait strategies for `wait_for_condition`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{DurableError, ErrorKind};
use crate::retry::{Backoff, Jitter, backoff_builder};

/// What to do after a check of `wait_for_condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitDecision {
    /// Check again after `delay` (whole seconds, at least one).
    Continue {
        /// How long to wait before the next check.
        delay: Duration,
    },
    /// The condition is met: finish with the current state.
    Stop,
}

/// Decides, from the state a check returned and the attempt number
/// (counting from 1), whether to poll again.
///
/// Closures `Fn(&S, u32) -> WaitDecision` are policies too; an `Err` fails
/// the operation.
pub trait WaitPolicy<S>: Send + Sync {
    /// Decides after attempt `attempt` produced `state`.
    fn decide(&self, state: &S, attempt: u32) -> Result<WaitDecision, DurableError>;
}

impl<S, F> WaitPolicy<S> for F
where
    F: Fn(&S, u32) -> WaitDecision + Send + Sync,
{
    fn decide(&self, state: &S, attempt: u32) -> Result<WaitDecision, DurableError> {
        Ok(self(state, attempt))
    }
}

type Predicate<S> = Arc<dyn Fn(&S) -> bool + Send + Sync>;

/// Polls while a predicate holds, with exponential backoff and jitter, and
/// fails once `max_attempts` checks did not satisfy it.
///
/// Defaults: 60 attempts, 5 s initial delay, 300 s at most, ×1.5, full jitter.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use durable_core::condition::WaitStrategy;
/// use durable_core::retry::Jitter;
///
/// // Poll every 2 seconds, at most 10 times, while the job is not done.
/// let strategy = WaitStrategy::while_(|status: &String| status != "DONE")
///     .max_attempts(10)
///     .initial_delay(Duration::from_secs(2))
///     .backoff_rate(1.0)
///     .jitter(Jitter::None);
/// # let _ = strategy;
/// ```
pub struct WaitStrategy<S> {
    keep_polling: Predicate<S>,
    backoff: Backoff,
}

impl<S> WaitStrategy<S> {
    /// Polls while `keep_polling(state)` is true.
    pub fn while_(keep_polling: impl Fn(&S) -> bool + Send + Sync + 'static) -> Self {
        Self {
            keep_polling: Arc::new(keep_polling),
            backoff: Backoff {
                max_attempts: 60,
                initial_delay: Duration::from_secs(5),
                max_delay: Duration::from_secs(300),
                rate: 1.5,
                jitter: Jitter::Full,
            },
        }
    }

    backoff_builder!();
}

impl<S> WaitPolicy<S> for WaitStrategy<S> {
    fn decide(&self, state: &S, attempt: u32) -> Result<WaitDecision, DurableError> {
        if !(self.keep_polling)(state) {
            return Ok(WaitDecision::Stop);
        }
        if attempt >= self.backoff.max_attempts {
            return Err(DurableError::with_kind(
                ErrorKind::WaitForCondition,
                "WaitForConditionMaxAttemptsExceeded",
                format!("the condition was still not met after {attempt} checks"),
            ));
        }
        Ok(WaitDecision::Continue {
            delay: self.backoff.delay(attempt),
        })
    }
}

impl<S> Clone for WaitStrategy<S> {
    fn clone(&self) -> Self {
        Self {
            keep_polling: Arc::clone(&self.keep_polling),
            ..*self
        }
    }
}

impl<S> fmt::Debug for WaitStrategy<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitStrategy")
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_when_the_predicate_fails_and_errors_when_exhausted() {
        let s = WaitStrategy::while_(|n: &u32| *n < 3)
            .max_attempts(3)
            .jitter(Jitter::None);
        assert_eq!(s.decide(&3, 1).unwrap(), WaitDecision::Stop);
        assert_eq!(
            s.decide(&1, 1).unwrap(),
            WaitDecision::Continue {
                delay: Duration::from_secs(5)
            }
        );
        assert_eq!(
            s.decide(&1, 2).unwrap(),
            WaitDecision::Continue {
                delay: Duration::from_secs(8)
            }
        );
        let error = s.decide(&1, 3).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::WaitForCondition);
    }
}
