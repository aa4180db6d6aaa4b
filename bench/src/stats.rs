//! Summaries of measured durations.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Median, 99th percentile and mean of a set of samples, in microseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Summary {
    /// How many samples.
    pub samples: usize,
    /// The median, µs.
    pub median_us: f64,
    /// The 99th percentile (nearest rank), µs.
    pub p99_us: f64,
    /// The mean, µs.
    pub mean_us: f64,
}

impl Summary {
    /// The summary of `samples` (all zeros when there are none).
    pub fn of(samples: &[Duration]) -> Self {
        if samples.is_empty() {
            return Self {
                samples: 0,
                median_us: 0.0,
                p99_us: 0.0,
                mean_us: 0.0,
            };
        }
        let mut micros: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        micros.sort_by(f64::total_cmp);
        let mean = micros.iter().sum::<f64>() / count_f64(micros.len());
        Self {
            samples: micros.len(),
            median_us: nearest_rank(&micros, 0.5),
            p99_us: nearest_rank(&micros, 0.99),
            mean_us: mean,
        }
    }
}

/// The nearest-rank percentile `q` (0..=1) of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * count_f64(sorted.len())).ceil();
    // Ranks are small positive integers here; the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let index = (rank as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// `n` as a float, for rates and means (exact below 2^52).
#[allow(clippy::cast_precision_loss)]
pub fn count_f64(n: usize) -> f64 {
    n as f64
}

/// `count` events in `elapsed`, per second.
pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count_f64(count) / elapsed.as_secs_f64().max(1e-9)
}

/// `a / b`, or `None` when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.samples, 100);
        assert!((summary.median_us - 50.0).abs() < 1e-6);
        assert!((summary.p99_us - 99.0).abs() < 1e-6);
        assert!((summary.mean_us - 50.5).abs() < 1e-6);
    }

    #[test]
    fn empty_samples_summarise_to_zero() {
        assert_eq!(Summary::of(&[]).samples, 0);
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
