//! The SQL policy: which statements a session may run (this first slice), checked on
//! the statement before DataFusion executes it, with stable `CPG-POLICY-<n>` denials.
//!
//! - [`config`]: [`SqlPolicy`] and the `cpg.policy.*` session options ([`CpgOptions`]).
//! - [`statement`]: statement classes and the check on parsed SQL ([`check_sql`]).
//! - [`denial`]: the error codes.
//!
//! Not yet (issue 10): functions, tables, external paths, plan-shape limits, the
//! analyzer/planner/physical enforcement points, the query log.

pub mod config;
pub mod denial;
pub mod statement;

pub use config::{CpgOptions, SqlPolicy, StatementClass};
pub use denial::PolicyCode;
pub use statement::{check_sql, check_statement, classify};

use datafusion::prelude::SessionContext;

/// The policy in effect in `ctx` (`cpg.policy.*`), or the default (allow everything)
/// if the bundle's options are not registered.
pub fn session_policy(ctx: &SessionContext) -> SqlPolicy {
    ctx.state()
        .config()
        .options()
        .extensions
        .get::<CpgOptions>()
        .map(|options| options.policy.clone())
        .unwrap_or_default()
}

/// Runs `sql` in `ctx` like `SessionContext::sql`, after checking every statement in it
/// against the session's policy: DDL and `SET` run eagerly inside `ctx.sql`, so this is
/// where SQL text must enter when a policy is in force.
pub async fn checked_sql(
    ctx: &SessionContext,
    sql: &str,
) -> datafusion::common::Result<datafusion::dataframe::DataFrame> {
    let dialect = ctx
        .state()
        .config()
        .options()
        .sql_parser
        .dialect
        .to_string();
    check_sql(sql, &dialect, &session_policy(ctx))?;
    ctx.sql(sql).await
}
