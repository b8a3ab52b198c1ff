//! The executor's side of the SQL policy: [`PolicyEngine`] checks every plan a task
//! decodes before Ballista's engine runs it, so a plan that never went through a
//! checking client (crafted bytes, a client without the bundle) is refused where it
//! would run.
//!
//! Two policies apply, both must allow the plan: the executor's own (`cpg-executor
//! --policy FILE`, which no client can change) and the one the task's session carries
//! (`cpg.policy.*`, as the client set it). A replayed scan ([`ReplayedScanExec`]) is
//! checked as the scan it planned again.

use std::sync::Arc;

use ballista_core::JobId;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::common::Result;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_cpg::optimizer::policy::physical::check_decoded_plan;
use datafusion_cpg::optimizer::policy::{CpgOptions, SqlPolicy};

use crate::replay::ReplayedScanExec;

/// Ballista's default execution engine behind the policy check; see the module docs.
#[derive(Default)]
pub struct PolicyEngine {
    policy: Option<SqlPolicy>,
    engine: DefaultExecutionEngine,
}

impl PolicyEngine {
    /// An engine enforcing `policy` (if any) and the policy of each task's session.
    pub fn new(policy: Option<SqlPolicy>) -> Self {
        Self {
            policy,
            engine: DefaultExecutionEngine::new(),
        }
    }
}

/// Checks `plan` and, inside each replayed scan, the scan the executor planned again.
fn check(plan: &Arc<dyn ExecutionPlan>, policy: &SqlPolicy) -> Result<()> {
    check_decoded_plan(plan, policy)?;
    plan.apply(|node| {
        if let Some(scan) = node.downcast_ref::<ReplayedScanExec>() {
            check_decoded_plan(scan.planned(), policy)?;
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

impl ExecutionEngine for PolicyEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        if let Some(policy) = &self.policy {
            check(&plan, policy)?;
        }
        if let Some(options) = config.options().extensions.get::<CpgOptions>() {
            check(&plan, &options.policy)?;
        }
        self.engine.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}
