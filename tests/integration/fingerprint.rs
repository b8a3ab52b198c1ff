//! Plan fingerprints: golden digests for the 22 TPC-H queries and every statement of the
//! demo (`tests/golden/fingerprints.json`; regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p datafusion-cpg --test integration golden_fingerprints`),
//! one test per invariance and per sensitivity, and the SQL / log / EXPLAIN surfaces.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use datafusion_cpg::optimizer::fingerprint::{
    PlanFingerprint, fingerprint_sql, fingerprint_unanalyzed,
};
use serde_json::{Value, json};

use crate::common::script::{
    create_tpch_tables, demo_sql, run_script, run_statement, statements, tpch_query,
};
use crate::common::{collect, ctx};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/fingerprints.json"
);
async fn tpch() -> SessionContext {
    let ctx = ctx();
    create_tpch_tables(&ctx).await;
    ctx
}

async fn fp(ctx: &SessionContext, sql: &str) -> PlanFingerprint {
    fingerprint_sql(&ctx.state(), sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn digests(f: &PlanFingerprint) -> Value {
    json!({
        "exact": f.exact.to_string(),
        "shape": f.shape.to_string(),
        "schema": f.schema.to_string(),
        "policy": f.policy.to_string(),
        "catalog": f.catalog.to_string(),
    })
}

/// Every fingerprint the goldens hold: TPC-H, then the demo statement by statement (each
/// fingerprinted, then run, as `cpg-sql` runs the demo).
async fn current_fingerprints() -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let ctx = tpch().await;
    for n in 1..=22 {
        all.insert(
            format!("tpch/q{n:02}"),
            digests(&fp(&ctx, &tpch_query(n)).await),
        );
    }
    // The demo's paths are relative to the repository root: the tests' working directory.
    let ctx = crate::common::ctx();
    for (n, statement) in statements(&demo_sql()).into_iter().enumerate() {
        let state = ctx.state();
        let plan = state.statement_to_plan(statement.clone()).await.unwrap();
        let fingerprint = fingerprint_unanalyzed(&state, plan).unwrap();
        all.insert(format!("demo/{:02}", n + 1), digests(&fingerprint));
        run_statement(&ctx, statement).await;
    }
    all
}

#[tokio::test]
async fn golden_fingerprints() {
    let current = current_fingerprints().await;
    assert_eq!(
        current.len(),
        22 + current.keys().filter(|k| k.starts_with("demo/")).count()
    );
    let document = json!({
        "spec_version": datafusion_cpg::optimizer::fingerprint::SPEC_VERSION,
        "fingerprints": current,
    });
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
        std::fs::write(GOLDEN, text).unwrap();
        return;
    }
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(GOLDEN).unwrap()).unwrap();
    let golden = &golden["fingerprints"];
    for (name, digests) in &document["fingerprints"].as_object().unwrap().clone() {
        assert_eq!(
            &golden[name], digests,
            "{name} changed (UPDATE_GOLDEN=1 after an intended change)"
        );
    }
    assert_eq!(golden.as_object().unwrap().len(), current.len());
}

#[tokio::test]
async fn tpch_fingerprints_are_distinct_and_stable_within_a_process() {
    let ctx = tpch().await;
    let mut seen = std::collections::HashSet::new();
    for n in 1..=22 {
        let first = fp(&ctx, &tpch_query(n)).await;
        assert_eq!(fp(&ctx, &tpch_query(n)).await, first, "q{n}");
        assert!(seen.insert(first.exact), "q{n} collides");
        assert!(!first.volatile, "q{n}");
    }
}

async fn table_ctx() -> SessionContext {
    let ctx = ctx();
    run_script(
        &ctx,
        "CREATE TABLE t(a INT, b VARCHAR) AS VALUES (1, 'x');
         CREATE TABLE t2(a INT, b VARCHAR) AS VALUES (1, 'x');
         CREATE TABLE u(a INT, c INT) AS VALUES (1, 2);",
    )
    .await;
    ctx
}

/// (exact equal, shape equal) for two statements in one session.
async fn compare(ctx: &SessionContext, left: &str, right: &str) -> (bool, bool) {
    let (l, r) = (fp(ctx, left).await, fp(ctx, right).await);
    (l.exact == r.exact, l.shape == r.shape)
}

#[tokio::test]
async fn invariances() {
    let ctx = table_ctx().await;
    for (left, right, expected, what) in [
        (
            "SELECT a FROM t WHERE a = 1",
            "SELECT a FROM t WHERE a = 2",
            (false, true),
            "literal",
        ),
        (
            "SELECT b FROM t WHERE b = 'x'",
            "SELECT b FROM t WHERE b = 'a longer one'",
            (false, true),
            "string literal",
        ),
        (
            "SELECT a FROM t WHERE a = 1",
            "SELECT x.a FROM t AS x WHERE x.a = 1",
            (true, true),
            "table alias",
        ),
        (
            "SELECT s.q AS out FROM (SELECT a AS q FROM t) s",
            "SELECT z.r AS out FROM (SELECT a AS r FROM t) AS z",
            (true, true),
            "subquery and inner column aliases",
        ),
        (
            "SELECT a FROM t WHERE a IN (1, 2, 3)",
            "SELECT a FROM t WHERE a IN (7)",
            (false, true),
            "IN-list length",
        ),
        (
            "SELECT a FROM t WHERE a = 1",
            "select   A\n  from T where A=1 -- comment",
            (true, true),
            "whitespace, case, comments",
        ),
        (
            "SELECT a FROM t WHERE a IN (SELECT a FROM u)",
            "SELECT t.a FROM t WHERE t.a IN (SELECT uu.a FROM u uu)",
            (true, true),
            "subquery alias",
        ),
    ] {
        assert_eq!(
            compare(&ctx, left, right).await,
            expected,
            "{what}: {left} | {right}"
        );
    }
}

#[tokio::test]
async fn sensitivities() {
    let ctx = table_ctx().await;
    for (left, right, what) in [
        (
            "SELECT t.a FROM t JOIN u ON t.a = u.a",
            "SELECT t.a FROM t LEFT JOIN u ON t.a = u.a",
            "join type",
        ),
        (
            "SELECT a FROM t WHERE a > 1",
            "SELECT a FROM t WHERE a < 1",
            "predicate",
        ),
        ("SELECT a, b FROM t", "SELECT b, a FROM t", "column order"),
        ("SELECT a FROM t", "SELECT a FROM t2", "table"),
        ("SELECT a FROM t", "SELECT a AS c FROM t", "output name"),
        (
            "SELECT a FROM t WHERE a = 1",
            "SELECT a FROM t WHERE a = 1 OR a = 2",
            "extra predicate",
        ),
        (
            "SELECT count(*) FROM t",
            "SELECT count(DISTINCT a) FROM t",
            "aggregate",
        ),
    ] {
        let (exact, shape) = compare(&ctx, left, right).await;
        assert!(!exact && !shape, "{what}: {left} | {right}");
    }

    // The input schema: the same query over a table whose column changed type.
    let before = fp(&ctx, "SELECT a FROM t").await;
    run_script(
        &ctx,
        "DROP TABLE t; CREATE TABLE t(a BIGINT, b VARCHAR) AS VALUES (1, 'x');",
    )
    .await;
    let after = fp(&ctx, "SELECT a FROM t").await;
    assert_ne!(before.schema, after.schema);

    // The policy: the same plan under another effective policy.
    let before = fp(&ctx, "SELECT a FROM t").await;
    run_script(&ctx, "SET cpg.policy.max_joins = 5").await;
    let after = fp(&ctx, "SELECT a FROM t").await;
    assert_eq!(before.exact, after.exact);
    assert_ne!(before.policy, after.policy);

    // The catalog: a function of the same name with another signature.
    let query = "SELECT span_len(a, a) FROM t";
    let before = fp(&ctx, query).await;
    ctx.register_udf(create_udf(
        "span_len",
        vec![DataType::Int64, DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| Ok(args[0].clone())),
    ));
    let after = fp(&ctx, query).await;
    assert_ne!(before.catalog, after.catalog);
}

#[tokio::test]
async fn volatile_functions_are_flagged() {
    let ctx = table_ctx().await;
    assert!(fp(&ctx, "SELECT a, random() FROM t").await.volatile);
    assert!(!fp(&ctx, "SELECT a, abs(a) FROM t").await.volatile);
}

fn hex_cell(batches: &[datafusion::arrow::array::RecordBatch], column: &str) -> String {
    let batch = &batches[0];
    let index = batch.schema().index_of(column).unwrap();
    datafusion::common::ScalarValue::try_from_array(batch.column(index), 0)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sql_function_log_and_explain_agree_with_the_api() {
    let ctx = table_ctx().await;
    let query = "SELECT a FROM t WHERE b = 'x'";
    let expected = fp(&ctx, query).await;

    let batches = collect(
        &ctx,
        &format!(
            "SELECT * FROM plan_fingerprint('{}')",
            query.replace('\'', "''")
        ),
    )
    .await
    .unwrap();
    assert_eq!(hex_cell(&batches, "exact"), expected.exact.to_string());
    assert_eq!(hex_cell(&batches, "shape"), expected.shape.to_string());
    assert_eq!(hex_cell(&batches, "catalog"), expected.catalog.to_string());

    collect(&ctx, query).await.unwrap();
    let logged = collect(
        &ctx,
        &format!(
            "SELECT fingerprint, shape FROM cpg_query_log() WHERE fingerprint = '{}'",
            expected.exact
        ),
    )
    .await
    .unwrap();
    assert!(logged.iter().map(|b| b.num_rows()).sum::<usize>() >= 1);

    let explained = collect(&ctx, &format!("EXPLAIN {query}")).await.unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explained)
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("plan_fingerprint: {expected}")),
        "{text}"
    );

    let error = match collect(&ctx, "SELECT * FROM plan_fingerprint(1)").await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a number is no SQL"),
    };
    assert!(
        error.contains("plan_fingerprint takes one string literal"),
        "{error}"
    );
}

#[tokio::test]
async fn a_denied_statement_has_no_fingerprint_but_the_denial() {
    let ctx = table_ctx().await;
    run_script(&ctx, "SET cpg.policy.deny_tables = 'datafusion.public.t2'").await;
    let error = fingerprint_sql(&ctx.state(), "SELECT a FROM t2")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("CPG-POLICY-5"), "{error}");
}
