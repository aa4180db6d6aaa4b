//! Where the service reads the time.

use durable_core::model::Timestamp;

/// A source of the current time.
///
/// The service reads it once per attempt of a rule and hands the time to the
/// pure rules of [`durable_core::service`], so tests can run hour-long waits
/// in no time. Any `Fn() -> Timestamp` is a clock, which lets tests share
/// one virtual clock with other parts, for example
/// `durable_testing::VirtualClock`:
///
/// ```
/// # use std::sync::Arc;
/// # use durable_core::model::Timestamp;
/// # use durable_runtime::{MemoryPersistence, Service};
/// let virtual_now = Arc::new(std::sync::atomic::AtomicI64::new(1_700_000_000_000));
/// let clock = {
///     let now = virtual_now.clone();
///     move || Timestamp::from_millis(now.load(std::sync::atomic::Ordering::SeqCst))
/// };
/// let service = Service::new(MemoryPersistence::new()).with_clock(clock);
/// assert_eq!(service.now(), Timestamp::from_millis(1_700_000_000_000));
/// ```
pub trait Clock: Send + Sync {
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

impl<F> Clock for F
where
    F: Fn() -> Timestamp + Send + Sync,
{
    fn now(&self) -> Timestamp {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_and_the_wall_clock_are_clocks() {
        let fixed = || Timestamp::from_millis(42);
        assert_eq!(Clock::now(&fixed), Timestamp::from_millis(42));
        assert!(SystemClock.now() > Timestamp::from_millis(1_600_000_000_000));
    }
}
