//! Clocks: the wall clock, and a virtual one that tests move by hand.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use durable_core::model::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to, so that hour-long waits take no
/// real time.
#[derive(Debug)]
pub struct VirtualClock {
    millis: AtomicI64,
}

impl VirtualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            millis: AtomicI64::new(start.as_millis()),
        }
    }

    /// A clock showing the current wall-clock time.
    pub fn starting_now() -> Self {
        Self::new(Timestamp::now())
    }

    /// The time it shows.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }

    /// Moves it forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |millis| {
                Some(millis.saturating_add(by))
            });
    }

    /// Makes it show `to` (which may be earlier; timers that fired stay fired).
    pub fn set(&self, to: Timestamp) {
        self.millis.store(to.as_millis(), Ordering::SeqCst);
    }

    /// Moves it forward to `to`; does nothing if it already shows a later time.
    pub fn advance_to(&self, to: Timestamp) {
        self.millis.fetch_max(to.as_millis(), Ordering::SeqCst);
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::starting_now()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        Self::now(self)
    }
}
