//! [`SpanJoinRule`]: the physical optimizer rule that replaces each hash join whose filter
//! is a span predicate by a [`SpanJoinExec`], unless `cpg.span_join.enabled` is false.
//!
//! It runs after DataFusion's rules (it is appended to the session's list, and to the
//! list the bundle's planner uses for sessions passed over FFI), so it sees the join with
//! its final partition mode and inputs and changes neither.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::HashJoinExec;

use super::SpanJoinExec;
use crate::options::CpgOptions;

/// The rule's name in the bundle's export registry and in `EXPLAIN VERBOSE`.
pub const SPAN_JOIN_RULE_NAME: &str = "cpg_span_join";

/// See the module docs.
#[derive(Debug, Default)]
pub struct SpanJoinRule;

impl SpanJoinRule {
    pub fn new() -> Self {
        Self
    }
}

/// Whether span joins are enabled in `config` (they are unless set off).
pub fn enabled(config: &ConfigOptions) -> bool {
    config
        .extensions
        .get::<CpgOptions>()
        .is_none_or(|options| options.span_join.enabled)
}

impl PhysicalOptimizerRule for SpanJoinRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !enabled(config) {
            return Ok(plan);
        }
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<HashJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            Ok(match SpanJoinExec::try_replace(join)? {
                Some(span_join) => Transformed::yes(Arc::new(span_join) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        SPAN_JOIN_RULE_NAME
    }

    fn schema_check(&self) -> bool {
        true
    }
}
