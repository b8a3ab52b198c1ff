//! Span joins: `l.path = r.path AND <range predicates on byte spans>` executed with an
//! interval index per path instead of comparing every pair of spans of a file.
//!
//! - [`predicate`]: which join filters are span predicates (overlap, containment either
//!   way, point-in-span; inclusive or exclusive; any order, orientation and integer
//!   width), and the proof that makes the index exact for them;
//! - [`index`]: the build side grouped by key, with an implicit interval tree per group;
//! - [`exec`]: [`SpanJoinExec`], the operator (every join type but mark joins);
//! - [`rule`]: [`SpanJoinRule`], which puts it in place of DataFusion's hash join;
//! - [`codec`]: its portable encoding for datafusion-proto;
//! - [`shared`]: the build side shared by an execution's partitions.
//!
//! Users write plain SQL. The rule runs in a linked host's session, and the bundle's
//! query planner applies it to sessions passed over FFI. `SET cpg.span_join.enabled =
//! false` turns it off ([`SpanJoinOptions`]).

pub mod codec;
pub mod exec;
pub mod index;
pub mod predicate;
pub mod rule;
pub mod shared;

pub use exec::SpanJoinExec;
pub use rule::{SPAN_JOIN_RULE_NAME, SpanJoinRule};

/// The `cpg.span_join.*` session options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanJoinOptions {
    /// Whether [`SpanJoinRule`] replaces hash joins with span predicates.
    pub enabled: bool,
}

impl Default for SpanJoinOptions {
    fn default() -> Self {
        Self { enabled: true }
    }
}

impl SpanJoinOptions {
    pub fn set(&mut self, key: &str, value: &str) -> datafusion::common::Result<()> {
        match key {
            "enabled" => {
                self.enabled = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(datafusion::common::DataFusionError::Configuration(format!(
                            "cpg.span_join.enabled: '{value}' is not a boolean; accepted: true, false"
                        )));
                    }
                }
            }
            _ => {
                return Err(datafusion::common::DataFusionError::Configuration(format!(
                    "cpg.span_join has no key '{key}'; accepted: enabled"
                )));
            }
        }
        Ok(())
    }

    /// `(key, value, description)` of every option.
    pub fn entries(&self) -> Vec<(String, String, &'static str)> {
        vec![(
            "enabled".to_string(),
            self.enabled.to_string(),
            "Execute hash joins whose filter compares byte spans with an interval index (SpanJoinExec)",
        )]
    }
}
