//! [`SpanJoinRule`]: the physical optimizer rule that replaces each equi-join whose filter
//! is a span predicate by a [`SpanJoinExec`], unless `cpg.span_join.enabled` is false.
//!
//! It runs after DataFusion's rules (it is appended to the session's list, and to the
//! list the bundle's planner uses for sessions passed over FFI), so it sees the join with
//! its final partition mode and inputs. A hash join keeps its inputs. A sort-merge join
//! (what DataFusion plans with `datafusion.optimizer.prefer_hash_join = false`, Ballista's
//! default) is the same join partitioned by its keys: its inputs lose the sorts it added,
//! and DataFusion's `EnsureRequirements` runs again so that an operator above which relied
//! on its sorted output gets a sort back.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::ensure_requirements::EnsureRequirements;
use datafusion::physical_optimizer::output_requirements::OutputRequirements;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode, SortMergeJoinExec};
use datafusion::physical_plan::sorts::sort::SortExec;

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

/// The partitioned hash join a filtered sort-merge join stands for: the same keys,
/// filter, join type and NULL equality, over its inputs without the sorts it needs.
fn as_hash_join(join: &SortMergeJoinExec) -> Result<Option<HashJoinExec>> {
    if join.filter().is_none() {
        return Ok(None);
    }
    let unsorted = |input: &Arc<dyn ExecutionPlan>| match input.downcast_ref::<SortExec>() {
        Some(sort) if sort.preserve_partitioning() && sort.fetch().is_none() => {
            Arc::clone(sort.input())
        }
        _ => Arc::clone(input),
    };
    HashJoinExec::try_new(
        unsorted(join.left()),
        unsorted(join.right()),
        join.on().to_vec(),
        join.filter().clone(),
        &join.join_type(),
        None,
        PartitionMode::Partitioned,
        join.null_equality(),
        false,
    )
    .map(Some)
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
        let mut merge_joins_replaced = false;
        let plan = plan
            .transform_up(|node| {
                let span_join = if let Some(join) = node.downcast_ref::<HashJoinExec>() {
                    SpanJoinExec::try_replace(join)?
                } else if let Some(join) = node.downcast_ref::<SortMergeJoinExec>() {
                    let span_join = match as_hash_join(join)? {
                        Some(join) => SpanJoinExec::try_replace(&join)?,
                        None => None,
                    };
                    merge_joins_replaced |= span_join.is_some();
                    span_join
                } else {
                    None
                };
                Ok(match span_join {
                    Some(span_join) => {
                        Transformed::yes(Arc::new(span_join) as Arc<dyn ExecutionPlan>)
                    }
                    None => Transformed::no(node),
                })
            })
            .data()?;
        if merge_joins_replaced {
            // The plan's own ordering and distribution (a top-level ORDER BY) are kept
            // as DataFusion's planner keeps them while its rules run.
            let plan = OutputRequirements::new_add_mode().optimize(plan, config)?;
            let plan = EnsureRequirements::new().optimize(plan, config)?;
            return OutputRequirements::new_remove_mode().optimize(plan, config);
        }
        Ok(plan)
    }

    fn name(&self) -> &str {
        SPAN_JOIN_RULE_NAME
    }

    fn schema_check(&self) -> bool {
        true
    }
}
