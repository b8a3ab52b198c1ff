//! The bundle's `QueryPlanner`: DataFusion's default physical planner with the bundle's
//! logical rewrites applied first and its extension planners consulted for its nodes.
//!
//! It owns the two lists every later operator plugs into: [`extension_planners`] (one
//! per logical node the bundle introduces) and the rewrites in
//! [`CpgQueryPlanner::create_physical_plan`]. Today it carries [`crate::exact_dml`].
//! Installing it replaces the session's query planner.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::exact_dml;

/// The name the planner has in the bundle's export registry.
pub const PLANNER_NAME: &str = "cpg_query_planner";

/// Plans the logical nodes the bundle introduces.
pub fn extension_planners() -> Vec<Arc<dyn ExtensionPlanner + Send + Sync>> {
    vec![Arc::new(exact_dml::ExactDmlPlanner)]
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct CpgQueryPlanner;

impl CpgQueryPlanner {
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl QueryPlanner for CpgQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = exact_dml::rewrite(logical_plan.clone())?;
        DefaultPhysicalPlanner::with_extension_planners(extension_planners())
            .create_physical_plan(&plan, session)
            .await
    }
}
