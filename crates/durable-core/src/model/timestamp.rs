//! Points in time on the wire.
//!
//! The Lambda service sends epoch milliseconds inside the invocation envelope,
//! the Python emulator sometimes sends `str(datetime)`, and other producers send
//! RFC 3339. We accept all of them and always write epoch milliseconds.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A timestamp from epoch milliseconds.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Epoch milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self(millis)
    }

    /// This timestamp moved forward by `duration` (saturating).
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// Parses the textual forms seen on the wire: integer or fractional epoch
    /// milliseconds, RFC 3339, and Python's `str(datetime)` with an offset.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(millis) = text.parse::<i64>() {
            return Some(Self(millis));
        }
        if let Ok(millis) = text.parse::<f64>() {
            return Self::from_float_millis(millis);
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
            return Some(Self(dt.timestamp_millis()));
        }
        if let Ok(dt) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
            return Some(Self(dt.timestamp_millis()));
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|dt| Self(dt.and_utc().timestamp_millis()))
    }

    #[allow(clippy::cast_possible_truncation)] // checked against the i64 range first
    fn from_float_millis(millis: f64) -> Option<Self> {
        (millis.is_finite() && millis.abs() < 9.2e18).then(|| Self(millis.round() as i64))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::from_timestamp_millis(self.0) {
            Some(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            None => write!(f, "{}ms", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Lenient;
        impl Visitor<'_> for Lenient {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds or a date-time string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Timestamp::from_float_millis(v).ok_or_else(|| E::custom("timestamp out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).ok_or_else(|| E::custom(format!("unreadable timestamp {v:?}")))
            }
        }
        deserializer.deserialize_any(Lenient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_wire_form() {
        let expected = Timestamp::from_millis(1_766_055_235_057);
        for text in [
            "1766055235057",
            "1766055235057.2",
            "2025-12-18T10:53:55.057Z",
            "2025-12-18 10:53:55.057000+00:00",
            "2025-12-18 10:53:55.057",
        ] {
            assert_eq!(Timestamp::parse(text), Some(expected), "{text}");
        }
        let from_json: Timestamp =
            serde_json::from_str("\"2025-12-18T10:53:55.057+00:00\"").unwrap();
        assert_eq!(from_json, expected);
        assert_eq!(serde_json::to_string(&expected).unwrap(), "1766055235057");
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("true").is_err());
    }
}
