//! The SQL policy: which statements, functions and tables a session may use, with
//! stable `CPG-POLICY-<n>` denials.
//!
//! - [`config`]: [`SqlPolicy`] and the `cpg.policy.*` session options ([`CpgOptions`]).
//! - [`statement`]: statement classes checked on parsed SQL ([`check_sql`]), before
//!   DataFusion executes DDL and `SET` eagerly.
//! - [`rule`]: [`PolicyRule`], the analyzer rule checking every analysed plan (SQL,
//!   DataFrame API, plans built in code): statement nodes, functions, tables.
//! - [`paths`]: external locations (`allow_paths`).
//! - [`log`]: the bounded per-session log of decisions, `cpg_query_log()`.
//! - [`denial`]: the error codes.
//!
//! Not yet (issue 10): the query-planner and physical enforcement points (for FFI
//! hosts), fingerprints in the log, prepared-statement parameters, Substrait plans from
//! Python.

pub mod config;
pub mod denial;
pub mod log;
pub mod paths;
pub mod physical;
pub mod rule;
pub mod statement;

pub use config::{CpgOptions, SqlPolicy, StatementClass};
pub use denial::PolicyCode;
pub use rule::PolicyRule;
pub use statement::{check_sql, check_statement, classify, session_dialect};

use datafusion::prelude::SessionContext;

/// The policy in effect in `ctx` (`cpg.policy.*`), or the default (allow everything)
/// if the bundle's options are not registered.
pub fn session_policy(ctx: &SessionContext) -> SqlPolicy {
    ctx.state_ref()
        .read()
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
    let statements = datafusion::sql::parser::DFParser::parse_sql_with_dialect(
        sql,
        statement::session_dialect(ctx).as_ref(),
    )?;
    let policy = session_policy(ctx);
    statements
        .iter()
        .try_for_each(|statement| check_statement(statement, &policy))?;
    ctx.sql(sql).await
}
