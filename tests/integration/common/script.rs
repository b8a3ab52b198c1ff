//! SQL scripts for tests and benches: the TPC-H schema and queries (`tests/tpch`), the
//! demo (`examples/demo.sql`), and running a script statement by statement.
//! Self-contained (benches include this file by path).
#![allow(dead_code)]

use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The statements of `sql`.
pub fn statements(sql: &str) -> Vec<Statement> {
    DFParser::parse_sql(sql)
        .unwrap_or_else(|e| panic!("unparsable script: {e}"))
        .into_iter()
        .collect()
}

/// Plans and runs `statement` to completion in `ctx`.
pub async fn run_statement(ctx: &SessionContext, statement: Statement) {
    let text = statement.to_string();
    let plan = ctx
        .state()
        .statement_to_plan(statement)
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    ctx.execute_logical_plan(plan)
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

/// Runs every statement of `sql` in `ctx`, in order.
pub async fn run_script(ctx: &SessionContext, sql: &str) {
    for statement in statements(sql) {
        run_statement(ctx, statement).await;
    }
}

/// Creates the (empty) TPC-H tables in `ctx`.
pub async fn create_tpch_tables(ctx: &SessionContext) {
    run_script(ctx, &read("tests/tpch/schema.sql")).await;
}

/// TPC-H query `n` (1..=22).
pub fn tpch_query(n: usize) -> String {
    read(&format!("tests/tpch/q{n:02}.sql"))
}

/// The demo script (its paths are relative to the repository root, the working
/// directory of the facade's tests and benches).
pub fn demo_sql() -> String {
    read("examples/demo.sql")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{REPO}/{path}"))
        .unwrap_or_else(|e| panic!("{REPO}/{path}: {e}"))
}
