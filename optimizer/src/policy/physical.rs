//! The policy's last line: a physical optimizer rule that checks the final physical plan,
//! whichever way it was built (a plan that skipped the analyzer, a planner that is not
//! the bundle's, a plan decoded from bytes).
//!
//! It checks what only the physical plan shows for sure: the files a scan reads (against
//! `allow_paths`) and writes (a data sink when neither INSERT nor COPY TO is allowed).
//! Over FFI the host's nodes are opaque: there it checks node names only.
//!
//! [`check_decoded_plan`] is the check of a plan that arrives as bytes (a Ballista
//! executor's task): the same, plus every scalar and aggregate function it calls, since
//! no analyzer saw the plan in this process.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::Volatility;
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;

use super::config::{CpgOptions, SqlPolicy, StatementClass};
use super::denial::{PolicyCode, deny};
use super::paths::check_location;

/// The rule's name in the registry and in `EXPLAIN VERBOSE`.
pub const PHYSICAL_RULE_NAME: &str = "cpg_sql_policy_physical";

/// See the module docs. Without a policy of its own it reads the session's `cpg.policy`.
#[derive(Debug, Default)]
pub struct PolicyPhysicalRule {
    policy: Option<SqlPolicy>,
}

impl PolicyPhysicalRule {
    pub fn new() -> Self {
        Self::default()
    }

    /// A rule enforcing `policy` whatever the session says (hosts without `cpg` options).
    pub fn with_policy(policy: SqlPolicy) -> Self {
        Self {
            policy: Some(policy),
        }
    }
}

impl PhysicalOptimizerRule for PolicyPhysicalRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let policy = match (&self.policy, config.extensions.get::<CpgOptions>()) {
            (Some(policy), _) => policy,
            (None, Some(options)) => &options.policy,
            (None, None) => return Ok(plan),
        };
        check_physical_plan(&plan, policy)?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        PHYSICAL_RULE_NAME
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Checks every node of `plan`.
pub fn check_physical_plan(plan: &Arc<dyn ExecutionPlan>, policy: &SqlPolicy) -> Result<()> {
    let writes_allowed =
        policy.allows(StatementClass::Insert) || policy.allows(StatementClass::CopyTo);
    plan.apply(|node| {
        if node.name() == "DataSinkExec" && !writes_allowed {
            return Err(deny(
                PolicyCode::Statement,
                "a physical plan writing data (DataSinkExec)",
                "cpg.policy.allow_insert and cpg.policy.allow_copy_to",
            ));
        }
        if !policy.allowed_paths().is_empty()
            && let Some(source) = node.downcast_ref::<DataSourceExec>()
            && let Some(files) = source.data_source().downcast_ref::<FileScanConfig>()
        {
            let store = files.object_store_url.as_str().trim_end_matches('/');
            for file in files.file_groups.iter().flat_map(|group| group.iter()) {
                let location = format!("{store}/{}", file.object_meta.location);
                check_location(&location, "a file scan", policy)?;
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// Checks a plan decoded from bytes: [`check_physical_plan`], and every function it calls.
pub fn check_decoded_plan(plan: &Arc<dyn ExecutionPlan>, policy: &SqlPolicy) -> Result<()> {
    check_physical_plan(plan, policy)?;
    plan.apply(|node| {
        node.apply_expressions(&mut |expr| {
            expr.apply(|e| {
                if let Some(function) = e.downcast_ref::<ScalarFunctionExpr>() {
                    let volatile = function.fun().signature().volatility == Volatility::Volatile;
                    policy.check_function(function.name(), volatile)?;
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
            for function in aggregate.aggr_expr() {
                let volatile = function.fun().signature().volatility == Volatility::Volatile;
                policy.check_function(function.fun().name(), volatile)?;
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}
