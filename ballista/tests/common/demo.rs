//! The demo (`examples/demo.sql`) as statements, and its results in a session.

use std::time::Duration;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;

/// The demo's statements, its data paths made absolute (executors may run elsewhere).
pub fn statements() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let sql = std::fs::read_to_string(format!("{root}/examples/demo.sql"))
        .unwrap()
        .replace("'examples/data/", &format!("'{root}/examples/data/"));
    DFParser::parse_sql(&sql)
        .unwrap()
        .into_iter()
        .map(|statement| statement.to_string())
        .collect()
}

/// The demo's last statement joins on an `OR` of two equalities, which DataFusion plans
/// as a nested-loop join; on Ballista 55 that query sometimes never finishes (seen on the
/// standalone cluster: ~4 s when it does, stuck past 60 s in 2 of 5 runs; no node of the
/// bundle in its plan). Not diagnosed further: the tests leave it out.
const SOMETIMES_STUCK_ON_BALLISTA: &str = "e.src = f.node_id OR e.dst = f.node_id";

/// Runs the demo in `ctx` (but for the statement above): each statement's result, rows
/// sorted (the demo's summaries do not all order their rows).
pub async fn results(ctx: &SessionContext) -> Vec<String> {
    let mut results = vec![];
    let statements = statements();
    assert!(
        statements
            .iter()
            .any(|s| s.contains(SOMETIMES_STUCK_ON_BALLISTA))
    );
    for statement in statements
        .into_iter()
        .filter(|s| !s.contains(SOMETIMES_STUCK_ON_BALLISTA))
    {
        let run = async { ctx.sql(&statement).await?.collect().await };
        let batches = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("{statement}: not done after 60 s"))
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        results.push(format!("{statement}\n{}", lines.join("\n")));
    }
    results
}
