//! Combinators over concurrent branches: `all`, `all_settled`, `any`, `race`.
//!
//! Each runs its branches like [`parallel`](DurableContext::parallel) (one
//! child context per branch, started together) and records the batch, so the
//! outcome that decided the combinator — which branch won a race, which
//! failure ended an `all` — is the same on every replay.

use std::future::IntoFuture;
use std::marker::PhantomData;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Branch, DurableContext, Parallel};
use crate::batch::{BatchItemStatus, BatchResult, CompletionConfig};
use crate::error::{DurableError, ErrorKind};

/// How a combinator completes and what it returns.
pub trait Combine<T>: Send + 'static {
    /// What awaiting the combinator gives.
    type Output: Send;
    /// When the batch completes.
    fn completion() -> CompletionConfig;
    /// The result, from the recorded batch.
    fn finish(batch: BatchResult<T>) -> Self::Output;
    /// The result when the batch itself failed.
    fn finish_error(error: DurableError) -> Self::Output;
}

/// Every branch must succeed; the first failure (in branch order) ends it.
#[derive(Debug)]
pub enum All {}
/// Every branch runs; each result is returned.
#[derive(Debug)]
pub enum AllSettled {}
/// The first branch to succeed wins; fails only if all fail.
#[derive(Debug)]
pub enum Any {}
/// The first branch to finish, success or failure, decides.
#[derive(Debug)]
pub enum Race {}

impl<T: Send + 'static> Combine<T> for All {
    type Output = Result<Vec<T>, DurableError>;
    fn completion() -> CompletionConfig {
        CompletionConfig::default()
    }
    fn finish_error(error: DurableError) -> Self::Output {
        Err(error)
    }
    fn finish(batch: BatchResult<T>) -> Self::Output {
        batch.throw_if_error()?;
        Ok(batch.into_results())
    }
}

impl<T: Send + 'static> Combine<T> for AllSettled {
    type Output = Result<Vec<Result<T, DurableError>>, DurableError>;
    fn completion() -> CompletionConfig {
        CompletionConfig::all_completed()
    }
    fn finish_error(error: DurableError) -> Self::Output {
        Err(error)
    }
    fn finish(batch: BatchResult<T>) -> Self::Output {
        Ok(batch
            .into_items()
            .into_iter()
            .map(|item| match (item.result, item.error) {
                (Some(value), _) => Ok(value),
                (None, Some(error)) => Err(error),
                (None, None) => Err(not_finished(item.index)),
            })
            .collect())
    }
}

impl<T: Send + 'static> Combine<T> for Any {
    type Output = Result<T, DurableError>;
    fn completion() -> CompletionConfig {
        CompletionConfig::all_completed().min_successful(1)
    }
    fn finish_error(error: DurableError) -> Self::Output {
        Err(error)
    }
    fn finish(batch: BatchResult<T>) -> Self::Output {
        let messages: Vec<String> = batch.errors().iter().map(ToString::to_string).collect();
        batch.into_results().into_iter().next().ok_or_else(|| {
            DurableError::with_kind(
                ErrorKind::ChildContext,
                "AllBranchesFailedError",
                format!("every branch failed: {}", messages.join("; ")),
            )
        })
    }
}

impl<T: Send + 'static> Combine<T> for Race {
    type Output = Result<T, DurableError>;
    fn completion() -> CompletionConfig {
        CompletionConfig::first_completed()
    }
    fn finish_error(error: DurableError) -> Self::Output {
        Err(error)
    }
    fn finish(batch: BatchResult<T>) -> Self::Output {
        let winner = batch
            .into_items()
            .into_iter()
            .find(|item| item.status != BatchItemStatus::Started);
        match winner {
            Some(item) => match (item.result, item.error) {
                (Some(value), _) => Ok(value),
                (None, Some(error)) => Err(error),
                (None, None) => Err(not_finished(item.index)),
            },
            None => Err(DurableError::with_kind(
                ErrorKind::InvalidConfig,
                "InvalidConfigError",
                "race needs at least one branch",
            )),
        }
    }
}

fn not_finished(index: usize) -> DurableError {
    DurableError::with_kind(
        ErrorKind::ChildContext,
        "ChildContextError",
        format!("branch {index} did not finish"),
    )
}

/// A combinator being configured; `.await` it to run.
#[must_use = "a combinator does nothing until it is awaited"]
pub struct Combinator<'a, T, K> {
    parallel: Parallel<'a, T>,
    _kind: PhantomData<fn() -> K>,
}

impl<T: Send + Sync + 'static, K> Combinator<'_, T, K> {
    /// Names the operation.
    pub fn name(self, name: impl Into<String>) -> Self {
        Self {
            parallel: self.parallel.name(name),
            _kind: PhantomData,
        }
    }
}

impl<'a, T: Send + Sync + 'static, K: Combine<T>> IntoFuture for Combinator<'a, T, K> {
    type Output = K::Output;
    type IntoFuture = BoxFuture<'a, K::Output>;

    fn into_future(self) -> Self::IntoFuture {
        let batch = self.parallel.completion(K::completion()).into_future();
        batch
            .map(|batch| match batch {
                Ok(batch) => K::finish(batch),
                Err(error) => K::finish_error(error),
            })
            .boxed()
    }
}

impl DurableContext {
    fn combinator<'a, T, K>(&self, branches: Vec<Branch<'a, T>>) -> Combinator<'a, T, K>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Combinator {
            parallel: self.parallel(branches),
            _kind: PhantomData,
        }
    }

    /// Runs the branches concurrently and returns all their results in
    /// branch order, or the first failure (in branch order) once one fails.
    ///
    /// ```
    /// # use durable_core::{DurableContext, DurableError, context::Branch};
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let [a, b]: [u32; 2] = ctx
    ///     .all(vec![
    ///         Branch::new(|c: DurableContext| async move { c.step(|_| async { Ok::<_, DurableError>(1) }).await }),
    ///         Branch::new(|c: DurableContext| async move { c.step(|_| async { Ok::<_, DurableError>(2) }).await }),
    ///     ])
    ///     .await?
    ///     .try_into()
    ///     .unwrap_or([0, 0]);
    /// # Ok(()) }
    /// ```
    pub fn all<'a, T>(&self, branches: Vec<Branch<'a, T>>) -> Combinator<'a, T, All>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.combinator(branches)
    }

    /// Runs every branch to the end and returns each outcome in branch order.
    ///
    /// ```
    /// # use durable_core::{DurableContext, DurableError, context::Branch};
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let outcomes = ctx
    ///     .all_settled(vec![
    ///         Branch::new(|_: DurableContext| async { Ok::<u32, DurableError>(1) }),
    ///         Branch::new(|_: DurableContext| async { Err::<u32, _>(DurableError::message("no")) }),
    ///     ])
    ///     .await?;
    /// assert!(outcomes[1].is_err());
    /// # Ok(()) }
    /// ```
    pub fn all_settled<'a, T>(&self, branches: Vec<Branch<'a, T>>) -> Combinator<'a, T, AllSettled>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.combinator(branches)
    }

    /// Returns the first branch to succeed; fails only if every branch fails.
    ///
    /// ```
    /// # use durable_core::{DurableContext, DurableError, context::Branch};
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let mirror: String = ctx
    ///     .any(vec![
    ///         Branch::new(|c: DurableContext| async move { c.step(|_| async { Ok::<_, DurableError>("eu".to_owned()) }).await }),
    ///         Branch::new(|c: DurableContext| async move { c.step(|_| async { Ok::<_, DurableError>("us".to_owned()) }).await }),
    ///     ])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn any<'a, T>(&self, branches: Vec<Branch<'a, T>>) -> Combinator<'a, T, Any>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.combinator(branches)
    }

    /// Returns the outcome of the first branch to finish, success or
    /// failure; the others are abandoned. The winner is recorded, so replays
    /// agree.
    ///
    /// ```
    /// # use durable_core::{DurableContext, DurableError, context::Branch};
    /// # use std::time::Duration;
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let answer: String = ctx
    ///     .race(vec![
    ///         Branch::new(|c: DurableContext| async move { c.wait_for_callback(|_, _| async { Ok::<_, DurableError>(()) }).await }),
    ///         Branch::new(|c: DurableContext| async move {
    ///             c.wait(Duration::from_secs(3600)).await?;
    ///             Ok::<_, DurableError>("timed out".to_owned())
    ///         }),
    ///     ])
    ///     .name("approval-or-timeout")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn race<'a, T>(&self, branches: Vec<Branch<'a, T>>) -> Combinator<'a, T, Race>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.combinator(branches)
    }
}
