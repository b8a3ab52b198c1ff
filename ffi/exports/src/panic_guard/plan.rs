//! [`GuardedExec`]: an execution plan wrapper whose `execute` and streams are guarded.
//! It delegates its downcast identity to the wrapped plan (`downcast_delegate`), so
//! code that inspects plans by type sees through it.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::Stream;

use super::guard;

/// `inner` with `execute`, `repartitioned`, statistics and every stream poll guarded;
/// children are wrapped as well when the plan is rebuilt.
#[derive(Debug)]
pub struct GuardedExec {
    owner: Arc<str>,
    inner: Arc<dyn ExecutionPlan>,
}

impl GuardedExec {
    pub fn wrap(owner: &str, inner: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(Self {
            owner: owner.into(),
            inner,
        })
    }

    fn guard<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        guard(&self.owner, what, f)
    }
}

impl DisplayAs for GuardedExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for GuardedExec {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn downcast_delegate(&self) -> Option<&dyn ExecutionPlan> {
        Some(self.inner.as_ref())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inner.children()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner);
        let rebuilt = self.guard("with_new_children", || inner.with_new_children(children))?;
        Ok(Self::wrap(&self.owner, rebuilt))
    }

    fn repartitioned(
        &self,
        target_partitions: usize,
        config: &ConfigOptions,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let plan = self.guard("repartitioned", || {
            self.inner.repartitioned(target_partitions, config)
        })?;
        Ok(plan.map(|plan| Self::wrap(&self.owner, plan)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let stream = self.guard("execute", || self.inner.execute(partition, context))?;
        Ok(Box::pin(GuardedStream {
            owner: Arc::clone(&self.owner),
            inner: stream,
            done: false,
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.inner.metrics()
    }

    #[allow(deprecated)]
    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        self.guard("partition_statistics", || {
            self.inner.partition_statistics(partition)
        })
    }
}

/// A record batch stream whose polls are guarded; after a panic it ends.
pub struct GuardedStream {
    owner: Arc<str>,
    inner: SendableRecordBatchStream,
    done: bool,
}

impl Stream for GuardedStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let inner = &mut this.inner;
        let polled = guard(&this.owner, "poll_next", || {
            Ok(inner.as_mut().poll_next(cx))
        });
        match polled {
            Ok(poll) => poll,
            Err(error) => {
                // A stream that panicked is in an unknown state: never poll it again.
                this.done = true;
                Poll::Ready(Some(Err(error)))
            }
        }
    }
}

impl RecordBatchStream for GuardedStream {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::physical_plan::empty::EmptyExec;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_stream_yields_one_error_then_ends() {
        let schema = Arc::new(Schema::empty());
        let panicking = futures::stream::poll_fn(|_| -> Poll<Option<Result<RecordBatch>>> {
            panic!("poll boom")
        });
        let mut stream = GuardedStream {
            owner: "scan".into(),
            inner: Box::pin(RecordBatchStreamAdapter::new(schema, panicking)),
            done: false,
        };
        let first = stream.next().await.unwrap().unwrap_err().to_string();
        assert!(
            first.contains("scan panicked in poll_next: poll boom"),
            "{first}"
        );
        assert!(stream.next().await.is_none());
    }

    #[test]
    #[allow(deprecated)]
    fn the_wrapper_is_transparent_to_downcasts() {
        let plan = GuardedExec::wrap("t", Arc::new(EmptyExec::new(Arc::new(Schema::empty()))));
        assert_eq!(plan.name(), "EmptyExec");
        assert!(plan.downcast_delegate().is_some());
        let rebuilt = plan.with_new_children(vec![]).unwrap();
        assert!(format!("{rebuilt:?}").starts_with("GuardedExec"));
    }
}
