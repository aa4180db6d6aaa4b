//! Results and completion rules of `map` and `parallel`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{DurableError, ErrorKind};
use crate::model::ErrorObject;

/// When a batch stops starting new items and completes.
///
/// With no field set the batch is fail-fast: the first failure stops it.
///
/// # Example
/// ```
/// use durable_core::batch::CompletionConfig;
/// // Done once 8 items succeeded; give up after more than 2 failures.
/// let config = CompletionConfig::default().min_successful(8).tolerated_failure_count(2);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CompletionConfig {
    /// Done at the first item to finish, whatever its outcome (`race`).
    first_completed: bool,
    min_successful: Option<usize>,
    tolerated_failure_count: Option<usize>,
    tolerated_failure_percentage: Option<f64>,
}

impl CompletionConfig {
    /// Every item must succeed: stop at the first failure.
    pub fn all_successful() -> Self {
        Self::default()
            .tolerated_failure_count(0)
            .tolerated_failure_percentage(0.0)
    }

    /// Run every item whatever fails.
    pub fn all_completed() -> Self {
        Self::default().tolerated_failure_percentage(100.0)
    }

    /// Done at the first success.
    pub fn first_successful() -> Self {
        Self::default().min_successful(1)
    }

    /// Done at the first item to finish, success or failure.
    pub(crate) fn first_completed() -> Self {
        Self {
            first_completed: true,
            ..Self::default()
        }
    }

    /// Complete once this many items succeeded.
    #[must_use]
    pub const fn min_successful(mut self, count: usize) -> Self {
        self.min_successful = Some(count);
        self
    }

    /// Stop once more than this many items failed.
    #[must_use]
    pub const fn tolerated_failure_count(mut self, count: usize) -> Self {
        self.tolerated_failure_count = Some(count);
        self
    }

    /// Stop once more than this percentage of all items failed.
    #[must_use]
    pub const fn tolerated_failure_percentage(mut self, percentage: f64) -> Self {
        self.tolerated_failure_percentage = Some(percentage);
        self
    }

    fn is_empty(&self) -> bool {
        self.min_successful.is_none()
            && self.tolerated_failure_count.is_none()
            && self.tolerated_failure_percentage.is_none()
    }

    /// Whether the failures so far are within tolerance.
    #[allow(clippy::cast_precision_loss)] // item counts are far below 2^52
    pub(crate) fn tolerates(&self, failures: usize, total: usize) -> bool {
        if self.first_completed {
            return true;
        }
        if self.is_empty() {
            return failures == 0;
        }
        if self
            .tolerated_failure_count
            .is_some_and(|count| failures > count)
        {
            return false;
        }
        let percentage = if total == 0 {
            0.0
        } else {
            failures as f64 / total as f64 * 100.0
        };
        !self
            .tolerated_failure_percentage
            .is_some_and(|pct| percentage > pct)
    }

    /// Whether the batch is done, failures aside.
    pub(crate) fn is_complete(&self, completed: usize, successes: usize, total: usize) -> bool {
        completed == total
            || (self.first_completed && completed > 0)
            || self.min_successful.is_some_and(|min| successes >= min)
    }

    pub(crate) fn reason(
        &self,
        successes: usize,
        failures: usize,
        completed: usize,
        total: usize,
    ) -> CompletionReason {
        if !self.tolerates(failures, total) {
            CompletionReason::FailureToleranceExceeded
        } else if completed == total {
            CompletionReason::AllCompleted
        } else if self.min_successful.is_some_and(|min| successes >= min) {
            CompletionReason::MinSuccessfulReached
        } else {
            CompletionReason::AllCompleted
        }
    }
}

/// Why a batch completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionReason {
    /// Every item ran.
    AllCompleted,
    /// Enough items succeeded.
    MinSuccessfulReached,
    /// More items failed than tolerated.
    FailureToleranceExceeded,
}

/// The state of one item when the batch completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchItemStatus {
    /// The item produced a result.
    Succeeded,
    /// The item failed.
    Failed,
    /// The item was still running when the batch completed.
    Started,
}

/// One item of a [`BatchResult`].
#[derive(Debug, Clone)]
pub struct BatchItem<T> {
    /// Position among the items.
    pub index: usize,
    /// How it ended.
    pub status: BatchItemStatus,
    /// Its result, when it succeeded.
    pub result: Option<T>,
    /// Its error, when it failed.
    pub error: Option<DurableError>,
}

/// What `map` and `parallel` return: every started item in index order and
/// why the batch completed. Failed items do not fail the operation; ask with
/// [`throw_if_error`](Self::throw_if_error) if they should.
#[derive(Debug, Clone)]
pub struct BatchResult<T> {
    items: Vec<BatchItem<T>>,
    completion_reason: CompletionReason,
}

impl<T> BatchResult<T> {
    /// A batch result from its items (in index order) and completion reason,
    /// for custom whole-result serdes and tests.
    pub fn new(items: Vec<BatchItem<T>>, completion_reason: CompletionReason) -> Self {
        Self {
            items,
            completion_reason,
        }
    }

    /// Every started item, in index order.
    pub fn all(&self) -> &[BatchItem<T>] {
        &self.items
    }

    /// Why the batch completed.
    pub const fn completion_reason(&self) -> CompletionReason {
        self.completion_reason
    }

    /// Items that succeeded.
    pub fn succeeded(&self) -> impl Iterator<Item = &BatchItem<T>> {
        self.with_status(BatchItemStatus::Succeeded)
    }

    /// Items that failed.
    pub fn failed(&self) -> impl Iterator<Item = &BatchItem<T>> {
        self.with_status(BatchItemStatus::Failed)
    }

    /// Items still running when the batch completed.
    pub fn started(&self) -> impl Iterator<Item = &BatchItem<T>> {
        self.with_status(BatchItemStatus::Started)
    }

    fn with_status(&self, status: BatchItemStatus) -> impl Iterator<Item = &BatchItem<T>> {
        self.items.iter().filter(move |item| item.status == status)
    }

    /// Results of the items that succeeded, in index order.
    pub fn results(&self) -> Vec<&T> {
        self.items
            .iter()
            .filter_map(|item| item.result.as_ref())
            .collect()
    }

    /// Every started item, in index order, by value.
    pub fn into_items(self) -> Vec<BatchItem<T>> {
        self.items
    }

    /// Results of the items that succeeded, in index order, by value.
    pub fn into_results(self) -> Vec<T> {
        self.items
            .into_iter()
            .filter_map(|item| item.result)
            .collect()
    }

    /// Errors of the items that failed, in index order.
    pub fn errors(&self) -> Vec<&DurableError> {
        self.items
            .iter()
            .filter_map(|item| item.error.as_ref())
            .collect()
    }

    /// The first item error, if any item failed.
    pub fn throw_if_error(&self) -> Result<(), DurableError> {
        self.errors()
            .first()
            .map_or(Ok(()), |error| Err((*error).clone()))
    }

    /// Whether any item failed.
    pub fn has_failure(&self) -> bool {
        self.failed().next().is_some()
    }

    /// `Failed` if any item failed, else `Succeeded`.
    pub fn status(&self) -> BatchItemStatus {
        if self.has_failure() {
            BatchItemStatus::Failed
        } else {
            BatchItemStatus::Succeeded
        }
    }

    /// Items that succeeded.
    pub fn success_count(&self) -> usize {
        self.succeeded().count()
    }

    /// Items that failed.
    pub fn failure_count(&self) -> usize {
        self.failed().count()
    }

    /// Items still running when the batch completed.
    pub fn started_count(&self) -> usize {
        self.started().count()
    }

    /// Items that were started at all.
    pub fn total_count(&self) -> usize {
        self.items.len()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemRepr<T> {
    index: usize,
    status: BatchItemStatus,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    result: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject>,
}

const fn none<T>() -> Option<T> {
    None
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRepr<T> {
    all: Vec<ItemRepr<T>>,
    completion_reason: CompletionReason,
}

impl<T: Serialize> Serialize for BatchResult<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let all = self
            .items
            .iter()
            .map(|item| ItemRepr {
                index: item.index,
                status: item.status,
                result: item.result.as_ref(),
                error: item.error.as_ref().map(DurableError::to_error_object),
            })
            .collect();
        BatchRepr {
            all,
            completion_reason: self.completion_reason,
        }
        .serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for BatchResult<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = BatchRepr::<T>::deserialize(deserializer)?;
        let items = repr
            .all
            .into_iter()
            .map(|item| BatchItem {
                index: item.index,
                status: item.status,
                result: item.result,
                error: item
                    .error
                    .map(|e| DurableError::from_error_object(ErrorKind::ChildContext, &e)),
            })
            .collect();
        Ok(Self {
            items,
            completion_reason: repr.completion_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_fast_without_config() {
        let config = CompletionConfig::default();
        assert!(config.tolerates(0, 3));
        assert!(!config.tolerates(1, 3));
        assert_eq!(
            config.reason(1, 1, 2, 3),
            CompletionReason::FailureToleranceExceeded
        );
    }

    #[test]
    fn tolerances_are_exceeded_strictly() {
        let config = CompletionConfig::default().tolerated_failure_count(1);
        assert!(config.tolerates(1, 3));
        assert!(!config.tolerates(2, 3));
        let pct = CompletionConfig::default().tolerated_failure_percentage(50.0);
        assert!(pct.tolerates(2, 4));
        assert!(!pct.tolerates(3, 4));
    }

    #[test]
    fn min_successful_completes_early() {
        let config = CompletionConfig::first_successful();
        assert!(config.is_complete(1, 1, 5));
        assert_eq!(
            config.reason(1, 0, 1, 5),
            CompletionReason::MinSuccessfulReached
        );
        assert_eq!(config.reason(5, 0, 5, 5), CompletionReason::AllCompleted);
    }

    #[test]
    fn batch_result_round_trips() {
        let batch = BatchResult::new(
            vec![
                BatchItem {
                    index: 0,
                    status: BatchItemStatus::Succeeded,
                    result: Some(1),
                    error: None,
                },
                BatchItem {
                    index: 1,
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(DurableError::new("E", "m")),
                },
            ],
            CompletionReason::AllCompleted,
        );
        let json = serde_json::to_string(&batch).unwrap();
        let back: BatchResult<i32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.results(), [&1]);
        assert_eq!(back.errors()[0].error_type(), "E");
        assert_eq!(back.failure_count(), 1);
        assert!(back.throw_if_error().is_err());
    }
}
