//! `map` and `parallel`: run many items concurrently, each in its own
//! child context, and collect a [`BatchResult`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DurableContext;
use super::concurrent::{self, BatchOptions, Item, ItemBody, Nesting};
use crate::batch::{BatchResult, CompletionConfig};
use crate::engine::ids::OperationId;
use crate::error::DurableError;
use crate::model::OperationSubType;
use crate::serdes::{JsonSerdes, Serdes};

type Namer<I> = Box<dyn Fn(&I, usize) -> String + Send + Sync>;

/// Options shared by `map` and `parallel`.
struct Common<O> {
    ctx: DurableContext,
    id: OperationId,
    name: Option<String>,
    max_concurrency: Option<usize>,
    completion: CompletionConfig,
    nesting: Nesting,
    item_serdes: Arc<dyn Serdes<O>>,
    serdes: Arc<dyn Serdes<BatchResult<O>>>,
}

impl<O: Serialize + DeserializeOwned + Send + Sync + 'static> Common<O> {
    fn new(ctx: &DurableContext) -> Self {
        Self {
            ctx: ctx.clone(),
            id: ctx.next_id(),
            name: None,
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
            item_serdes: Arc::new(JsonSerdes::<O>::new()),
            serdes: Arc::new(JsonSerdes::<BatchResult<O>>::new()),
        }
    }
}

impl<O> Common<O> {
    fn options(
        self,
        sub_type: OperationSubType,
        item_sub_type: OperationSubType,
        summary_type: &'static str,
    ) -> (DurableContext, OperationId, BatchOptions<O>) {
        let options = BatchOptions {
            name: self.name,
            sub_type,
            item_sub_type,
            summary_type,
            max_concurrency: self.max_concurrency,
            completion: self.completion,
            nesting: self.nesting,
            item_serdes: self.item_serdes,
            serdes: self.serdes,
        };
        (self.ctx, self.id, options)
    }
}

macro_rules! batch_options {
    () => {
        /// Names the operation.
        pub fn name(mut self, name: impl Into<String>) -> Self {
            self.common.name = Some(name.into());
            self
        }

        /// Runs at most this many items at once (at least 1; default: all).
        pub const fn max_concurrency(mut self, limit: usize) -> Self {
            self.common.max_concurrency = Some(limit);
            self
        }

        /// When to stop starting items (default: at the first failure).
        pub const fn completion(mut self, config: CompletionConfig) -> Self {
            self.common.completion = config;
            self
        }

        /// Records items as child contexts (default) or in virtual contexts.
        pub const fn nesting(mut self, nesting: Nesting) -> Self {
            self.common.nesting = nesting;
            self
        }

        /// Records each item's result with a custom serdes.
        pub fn item_serdes(mut self, serdes: impl Serdes<O> + 'static) -> Self {
            self.common.item_serdes = Arc::new(serdes);
            self
        }

        /// Records the whole batch result with a custom serdes.
        pub fn serdes(mut self, serdes: impl Serdes<BatchResult<O>> + 'static) -> Self {
            self.common.serdes = Arc::new(serdes);
            self
        }
    };
}

/// A `map` being configured; `.await` it to run.
///
/// Created by [`DurableContext::map`].
#[must_use = "a map does nothing until it is awaited"]
pub struct Map<'a, I, O, F> {
    common: Common<O>,
    items: Vec<I>,
    func: F,
    namer: Option<Namer<I>>,
    _borrow: std::marker::PhantomData<&'a ()>,
}

impl DurableContext {
    /// Runs `func` on every item, each in its own child context, up to
    /// `max_concurrency` at a time, and returns the results in item order.
    /// Failed items do not fail the map: inspect the [`BatchResult`].
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use durable_core::batch::CompletionConfig;
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let totals = ctx
    ///     .map(vec![1_u32, 2, 3], |item_ctx, item, _index| async move {
    ///         item_ctx.step(move |_| async move { Ok::<_, DurableError>(item * 10) }).await
    ///     })
    ///     .name("charge-items")
    ///     .max_concurrency(2)
    ///     .completion(CompletionConfig::default().tolerated_failure_count(1))
    ///     .await?;
    /// let charged: Vec<&u32> = totals.results();
    /// # Ok(()) }
    /// ```
    pub fn map<'a, I, O, F, Fut, E>(&self, items: Vec<I>, func: F) -> Map<'a, I, O, F>
    where
        F: Fn(DurableContext, I, usize) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<O, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
        I: Send + 'a,
        O: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Map {
            common: Common::new(self),
            items,
            func,
            namer: None,
            _borrow: std::marker::PhantomData,
        }
    }
}

impl<I, O: Send + Sync + 'static, F> Map<'_, I, O, F> {
    batch_options!();

    /// Names each item's context (default `map-item-<index>`).
    pub fn item_namer(
        mut self,
        namer: impl Fn(&I, usize) -> String + Send + Sync + 'static,
    ) -> Self {
        self.namer = Some(Box::new(namer));
        self
    }
}

impl<'a, I, O, F, Fut, E> IntoFuture for Map<'a, I, O, F>
where
    F: Fn(DurableContext, I, usize) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<O, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    I: Send + 'a,
    O: Send + Sync + 'static,
{
    type Output = Result<BatchResult<O>, DurableError>;
    type IntoFuture = BoxFuture<'a, Result<BatchResult<O>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let func = Arc::new(self.func);
        let namer = self.namer;
        let items = self
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let name = namer
                    .as_ref()
                    .map_or_else(|| format!("map-item-{index}"), |n| n(&item, index));
                let func = Arc::clone(&func);
                let body: ItemBody<'a, O> = Box::new(move |ctx| {
                    Box::pin(async move { func(ctx, item, index).await.map_err(Into::into) })
                });
                Item {
                    name: Some(name),
                    body,
                }
            })
            .collect();
        let (ctx, id, options) = self.common.options(
            OperationSubType::Map,
            OperationSubType::MapIteration,
            concurrent::MAP_SUMMARY,
        );
        Box::pin(concurrent::run(ctx, id, options, items))
    }
}

/// One branch of `parallel`.
pub struct Branch<'a, O> {
    name: Option<String>,
    body: ItemBody<'a, O>,
}

impl<'a, O> Branch<'a, O> {
    /// A branch running `body` in its own child context.
    pub fn new<F, Fut, E>(body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<O, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
    {
        Self {
            name: None,
            body: Box::new(move |ctx| Box::pin(async move { body(ctx).await.map_err(Into::into) })),
        }
    }

    /// A named branch.
    pub fn named<F, Fut, E>(name: impl Into<String>, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<O, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
    {
        Self {
            name: Some(name.into()),
            ..Self::new(body)
        }
    }
}

impl<O> fmt::Debug for Branch<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Branch")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A `parallel` being configured; `.await` it to run.
///
/// Created by [`DurableContext::parallel`].
#[must_use = "a parallel does nothing until it is awaited"]
pub struct Parallel<'a, O> {
    common: Common<O>,
    branches: Vec<Branch<'a, O>>,
}

impl DurableContext {
    /// Runs branches concurrently, each in its own child context, and
    /// returns their results in branch order. For branches of different
    /// types use an enum or `serde_json::Value` as `O`.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use durable_core::context::Branch;
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let fetched = ctx
    ///     .parallel(vec![
    ///         Branch::named("user", |c: DurableContext| async move {
    ///             c.step(|_| async { Ok::<_, DurableError>("ada".to_owned()) }).await
    ///         }),
    ///         Branch::named("plan", |c: DurableContext| async move {
    ///             c.step(|_| async { Ok::<_, DurableError>("pro".to_owned()) }).await
    ///         }),
    ///     ])
    ///     .name("fetch")
    ///     .await?;
    /// fetched.throw_if_error()?;
    /// # Ok(()) }
    /// ```
    pub fn parallel<'a, O>(&self, branches: Vec<Branch<'a, O>>) -> Parallel<'a, O>
    where
        O: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Parallel {
            common: Common::new(self),
            branches,
        }
    }
}

impl<O: Send + Sync + 'static> Parallel<'_, O> {
    batch_options!();
}

impl<'a, O: Send + Sync + 'static> IntoFuture for Parallel<'a, O> {
    type Output = Result<BatchResult<O>, DurableError>;
    type IntoFuture = BoxFuture<'a, Result<BatchResult<O>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let items = self
            .branches
            .into_iter()
            .enumerate()
            .map(|(index, branch)| Item {
                name: Some(
                    branch
                        .name
                        .unwrap_or_else(|| format!("parallel-branch-{index}")),
                ),
                body: branch.body,
            })
            .collect();
        let (ctx, id, options) = self.common.options(
            OperationSubType::Parallel,
            OperationSubType::ParallelBranch,
            concurrent::PARALLEL_SUMMARY,
        );
        Box::pin(concurrent::run(ctx, id, options, items))
    }
}

impl<I, O, F> fmt::Debug for Map<'_, I, O, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("id", &self.common.id.wire)
            .field("name", &self.common.name)
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

impl<O> fmt::Debug for Parallel<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parallel")
            .field("id", &self.common.id.wire)
            .field("name", &self.common.name)
            .field("branches", &self.branches.len())
            .finish_non_exhaustive()
    }
}
