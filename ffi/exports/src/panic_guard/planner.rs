//! Guards for planning exports: the query planner (its future, and the plan it returns
//! as a [`GuardedExec`]) and physical optimizer rules.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use super::{GuardedExec, guard, guard_future};

/// A query planner whose `create_physical_plan` future is guarded.
#[derive(Debug)]
pub struct GuardedQueryPlanner {
    name: String,
    inner: Arc<dyn QueryPlanner + Send + Sync>,
}

impl GuardedQueryPlanner {
    pub fn wrap(
        name: &str,
        inner: Arc<dyn QueryPlanner + Send + Sync>,
    ) -> Arc<dyn QueryPlanner + Send + Sync> {
        Arc::new(Self {
            name: name.to_string(),
            inner,
        })
    }
}

#[async_trait]
impl QueryPlanner for GuardedQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.create_physical_plan(logical_plan, session);
        let plan = guard_future(&self.name, "create_physical_plan", plan).await?;
        Ok(GuardedExec::wrap(&self.name, plan))
    }
}

/// A physical optimizer rule whose `optimize` is guarded.
#[derive(Debug)]
pub struct GuardedPhysicalOptimizerRule {
    inner: Arc<dyn PhysicalOptimizerRule + Send + Sync>,
}

impl GuardedPhysicalOptimizerRule {
    pub fn wrap(
        inner: Arc<dyn PhysicalOptimizerRule + Send + Sync>,
    ) -> Arc<dyn PhysicalOptimizerRule + Send + Sync> {
        Arc::new(Self { inner })
    }
}

impl PhysicalOptimizerRule for GuardedPhysicalOptimizerRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        guard(self.inner.name(), "optimize", || {
            self.inner.optimize(plan, config)
        })
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn schema_check(&self) -> bool {
        self.inner.schema_check()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::execution::session_state::SessionStateBuilder;
    use datafusion::prelude::SessionContext;

    use super::*;

    #[derive(Debug)]
    struct PanickingPlanner;

    #[async_trait]
    impl QueryPlanner for PanickingPlanner {
        async fn create_physical_plan(
            &self,
            _: &LogicalPlan,
            _: &dyn Session,
        ) -> Result<Arc<dyn ExecutionPlan>> {
            panic!("planner boom")
        }
    }

    #[derive(Debug)]
    struct PanickingRule;

    impl PhysicalOptimizerRule for PanickingRule {
        fn optimize(
            &self,
            _: Arc<dyn ExecutionPlan>,
            _: &ConfigOptions,
        ) -> Result<Arc<dyn ExecutionPlan>> {
            panic!("rule boom")
        }
        fn name(&self) -> &str {
            "panicking_rule"
        }
        fn schema_check(&self) -> bool {
            true
        }
    }

    /// The error of `SELECT 1` in a session built by `configure`.
    async fn select_one_error(
        configure: impl FnOnce(SessionStateBuilder) -> SessionStateBuilder,
    ) -> String {
        let state = configure(SessionStateBuilder::new().with_default_features()).build();
        let ctx = SessionContext::new_with_state(state);
        let df = ctx.sql("SELECT 1").await.unwrap();
        df.collect().await.unwrap_err().to_string()
    }

    #[tokio::test]
    async fn a_panicking_planner_fails_the_query() {
        let error = select_one_error(|builder| {
            builder.with_query_planner(GuardedQueryPlanner::wrap("p", Arc::new(PanickingPlanner)))
        })
        .await;
        assert!(
            error.contains("p panicked in create_physical_plan: planner boom"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_panicking_physical_rule_fails_the_query() {
        let error = select_one_error(|builder| {
            builder.with_physical_optimizer_rule(GuardedPhysicalOptimizerRule::wrap(Arc::new(
                PanickingRule,
            )))
        })
        .await;
        assert!(
            error.contains("panicking_rule panicked in optimize: rule boom"),
            "{error}"
        );
    }
}
