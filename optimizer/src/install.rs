//! Adding planner extensions to a session exactly once, for a live `SessionState` and
//! for a `SessionStateBuilder`: an analyzer rule is present if a rule of the same name
//! is; a relation planner if one with the same `Debug` form is (planners have no name).
//! Shared by this crate's `register`/`install` and the bundle's export registry.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::planner::RelationPlanner;
use datafusion::optimizer::AnalyzerRule;

fn same_planner(
    installed: &[Arc<dyn RelationPlanner>],
    planner: &Arc<dyn RelationPlanner>,
) -> bool {
    let ours = format!("{planner:?}");
    installed.iter().any(|p| format!("{p:?}") == ours)
}

/// Appends `rule` after the analyzer rules of `state` unless one of its name is there.
pub fn analyzer_rule_into_state(
    state: &mut SessionState,
    rule: Arc<dyn AnalyzerRule + Send + Sync>,
) {
    if !state
        .analyzer()
        .rules
        .iter()
        .any(|r| r.name() == rule.name())
    {
        state.add_analyzer_rule(rule);
    }
}

/// Adds `planner` to `state`, consulted before the planners present, unless an equal one
/// is there.
pub fn relation_planner_into_state(
    state: &mut SessionState,
    planner: Arc<dyn RelationPlanner>,
) -> Result<()> {
    if !same_planner(state.relation_planners(), &planner) {
        state.register_relation_planner(planner)?;
    }
    Ok(())
}

/// The same as [`analyzer_rule_into_state`] for a session being built.
pub fn analyzer_rule_into_builder(
    builder: SessionStateBuilder,
    rule: Arc<dyn AnalyzerRule + Send + Sync>,
) -> SessionStateBuilder {
    let mut builder = builder;
    let is_same = |r: &Arc<dyn AnalyzerRule + Send + Sync>| r.name() == rule.name();
    let present = builder
        .analyzer_rules()
        .as_ref()
        .is_some_and(|rules| rules.iter().any(is_same))
        || builder
            .analyzer()
            .as_ref()
            .is_some_and(|analyzer| analyzer.rules.iter().any(is_same));
    if present {
        builder
    } else {
        builder.with_analyzer_rule(rule)
    }
}

/// The same as [`relation_planner_into_state`] for a session being built.
pub fn relation_planner_into_builder(
    mut builder: SessionStateBuilder,
    planner: Arc<dyn RelationPlanner>,
) -> SessionStateBuilder {
    let planners = builder.relation_planners().get_or_insert_with(Vec::new);
    if !same_planner(planners, &planner) {
        planners.insert(0, planner);
    }
    builder
}
