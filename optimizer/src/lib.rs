//! Planner and optimizer extensions for building code property graphs on DataFusion 55.
//!
//! - [`lateral_unnest`]: `FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value,
//!   ordinality)`, its comma, `[INNER] JOIN ... ON` and `LEFT JOIN ... ON true` forms,
//!   and the same without `WITH ORDINALITY`. Stock DataFusion 55 rejects `WITH
//!   ORDINALITY` ("not supported yet") and cannot execute an `UNNEST` that references
//!   a preceding `FROM` item ("Physical plan does not support logical expression
//!   OuterReferenceColumn").
//! - [`span_join`]: joins on a path plus byte-span comparisons run with an interval
//!   index ([`span_join::SpanJoinExec`]) instead of comparing every pair of a file;
//!   [`span_align`]: the best right span per left span (`span_align(...)`).
//! - [`policy`], [`fingerprint`], [`exact_dml`], [`planner`], [`codec`], [`options`]: the
//!   SQL policy, plan fingerprints, exact DELETE/UPDATE, the bundle's query planner, its
//!   extension codecs and its session options (`cpg.*`).
//!
//! [`register`] installs everything into a `SessionContext`, [`install`] into a
//! `SessionStateBuilder`:
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! datafusion_cpg_optimizer::register(&ctx)?;
//! ctx.sql(
//!     "SELECT t.id, u.value, u.ordinality \
//!      FROM (SELECT 1 AS id, ['a', 'b'] AS items) t \
//!      CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
//! )
//! .await?
//! .show()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! Both install a relation planner ([`LateralUnnestPlanner`], consulted before the
//! ones already present) and an analyzer rule ([`LateralUnnestRule`], appended after
//! DataFusion's analyzer rules). Neither needs `list_enumerate` to be registered as a
//! session function: the rule calls `datafusion_cpg_udfs::list_enumerate()` directly.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

pub mod codec;
pub mod exact_dml;
pub mod fingerprint;
pub mod install;
pub mod lateral_unnest;
pub mod options;
pub mod planner;
pub mod policy;
pub mod span_align;
pub mod span_join;

pub use lateral_unnest::{LateralUnnest, LateralUnnestPlanner, LateralUnnestRule};
pub use planner::CpgQueryPlanner;

/// Adds the planner extensions to a session being built. Installing twice is
/// harmless: each extension is added once.
pub fn install(builder: SessionStateBuilder) -> SessionStateBuilder {
    let builder =
        install::relation_planner_into_builder(builder, Arc::new(LateralUnnestPlanner::new()));
    install::analyzer_rule_into_builder(builder, Arc::new(LateralUnnestRule::new()))
}

/// Adds the planner extensions to `ctx`. Registering twice is harmless: each
/// extension is added once.
pub fn register(ctx: &SessionContext) -> Result<()> {
    let state = ctx.state_ref();
    let mut state = state.write();
    install::relation_planner_into_state(&mut state, Arc::new(LateralUnnestPlanner::new()))?;
    install::analyzer_rule_into_state(&mut state, Arc::new(LateralUnnestRule::new()));
    Ok(())
}
