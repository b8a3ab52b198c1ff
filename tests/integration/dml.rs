//! DELETE and UPDATE with subqueries change exactly the rows their WHERE clause selects
//! (apache/datafusion#24654: stock DataFusion 55 changes every row). Each expectation is
//! computed independently, by SELECTs of the same predicate before the statement runs.

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionContext;

use crate::common::{collect, count, ctx};

const SETUP: [&str; 3] = [
    "CREATE TABLE a(id INT, v VARCHAR) AS VALUES \
     (1, 'a'), (2, 'b'), (2, 'b'), (3, 'c'), (NULL, 'n'), (4, NULL), (5, 'e')",
    "CREATE TABLE b(id INT, w VARCHAR) AS VALUES (2, 'b'), (3, 'y'), (NULL, 'z'), (5, 'q')",
    "CREATE TABLE c(id INT) AS VALUES (2), (3)",
];

/// WHERE clauses over `a`: subqueries of every kind, plus controls DataFusion gets right.
const PREDICATES: [&str; 16] = [
    "id IN (SELECT id FROM c)",
    "id NOT IN (SELECT id FROM c)",
    "id NOT IN (SELECT id FROM b)",
    "EXISTS (SELECT 1 FROM b WHERE b.id = a.id)",
    "NOT EXISTS (SELECT 1 FROM b WHERE b.id = a.id)",
    "EXISTS (SELECT 1 FROM c WHERE c.id > 2)",
    "NOT EXISTS (SELECT 1 FROM c WHERE c.id > 100)",
    "EXISTS (SELECT 1 FROM c WHERE c.id > 100)",
    "id = (SELECT max(id) FROM c)",
    "v < (SELECT max(b.w) FROM b WHERE b.id = a.id)",
    "id IN (SELECT b.id FROM b WHERE b.w = a.v)",
    "id IN (SELECT id FROM a WHERE v = 'c')",
    "id IN (SELECT id FROM c) AND v <> 'c'",
    "false",
    "id = 2",
    "v IS NULL OR id > 3",
];

/// New values for `v` in the UPDATE cases: a literal, and correlated/uncorrelated subqueries.
const NEW_VALUES: [&str; 3] = [
    "'changed'",
    "(SELECT max(b.w) FROM b WHERE b.id = a.id)",
    "(SELECT min(w) FROM b)",
];

async fn session() -> SessionContext {
    let ctx = ctx();
    for sql in SETUP {
        collect(&ctx, sql).await.expect(sql);
    }
    ctx
}

/// The rows of `sql`, each rendered as text, sorted (a multiset).
async fn rows(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<String>> {
    let batches = collect(ctx, sql).await?;
    Ok(render(&batches))
}

fn render(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows = vec![];
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|column| match ScalarValue::try_from_array(column, row) {
                    Ok(value) if value.is_null() => "NULL".to_string(),
                    Ok(value) => value.to_string(),
                    Err(e) => format!("<{e}>"),
                })
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

/// `all` without one occurrence of each of `removed` (multiset difference).
fn without(all: &[String], removed: &[String]) -> Vec<String> {
    let mut remaining = all.to_vec();
    for row in removed {
        let position = remaining
            .iter()
            .position(|r| r == row)
            .expect("a selected row");
        remaining.remove(position);
    }
    remaining
}

async fn changed(ctx: &SessionContext, statement: &str) -> datafusion::error::Result<i64> {
    let batches = collect(ctx, statement).await?;
    match render(&batches).as_slice() {
        [count] => Ok(count.parse().expect("a count")),
        other => panic!("{statement} returned {other:?}"),
    }
}

const ALL: &str = "SELECT id, v FROM a";

#[tokio::test]
async fn delete_removes_exactly_the_selected_rows() {
    for predicate in PREDICATES {
        let ctx = session().await;
        let before = rows(&ctx, ALL).await.unwrap();
        let statement = format!("DELETE FROM a WHERE {predicate}");
        let selected = rows(&ctx, &format!("{ALL} WHERE {predicate}"))
            .await
            .expect(predicate);
        let deleted = changed(&ctx, &statement).await.expect(&statement);
        assert_eq!(deleted as usize, selected.len(), "{statement}");
        let after = rows(&ctx, ALL).await.unwrap();
        assert_eq!(after, without(&before, &selected), "{statement}");
    }
}

#[tokio::test]
async fn update_changes_exactly_the_selected_rows_to_their_new_values() {
    for predicate in PREDICATES {
        for new_value in NEW_VALUES {
            let ctx = session().await;
            let before = rows(&ctx, ALL).await.unwrap();
            let statement = format!("UPDATE a SET v = {new_value} WHERE {predicate}");
            let selected = rows(&ctx, &format!("{ALL} WHERE {predicate}"))
                .await
                .expect(predicate);
            let updated = rows(
                &ctx,
                &format!("SELECT id, {new_value} AS v FROM a WHERE {predicate}"),
            )
            .await
            .expect(&statement);
            let count = changed(&ctx, &statement).await.expect(&statement);
            assert_eq!(count as usize, selected.len(), "{statement}");
            let mut expected = without(&before, &selected);
            expected.extend(updated);
            expected.sort();
            assert_eq!(rows(&ctx, ALL).await.unwrap(), expected, "{statement}");
        }
    }
}

#[tokio::test]
async fn update_of_a_key_column_keeps_the_rows_it_did_not_select() {
    // `id` is assigned and its old value is not read by the statement otherwise.
    let ctx = session().await;
    let statement = "UPDATE a SET id = 10 WHERE v IN (SELECT w FROM b)";
    assert_eq!(changed(&ctx, statement).await.unwrap(), 2);
    assert_eq!(
        rows(&ctx, ALL).await.unwrap(),
        ["10|b", "10|b", "1|a", "3|c", "4|NULL", "5|e", "NULL|n"]
    );
}

#[tokio::test]
async fn two_values_for_one_row_are_refused_before_anything_changes() {
    let ctx = session().await;
    collect(&ctx, "INSERT INTO b VALUES (2, 'other')")
        .await
        .unwrap();
    let before = rows(&ctx, ALL).await.unwrap();
    // Postgres: "more than one row returned by a subquery used as an expression";
    // DataFusion refuses the unaggregated correlated subquery while analyzing.
    let statement = "UPDATE a SET v = (SELECT b.w FROM b WHERE b.id = a.id) WHERE id = 2 OR id IN (SELECT id FROM c)";
    assert!(changed(&ctx, statement).await.is_err());
    assert_eq!(rows(&ctx, ALL).await.unwrap(), before);
}

#[tokio::test]
async fn explain_changes_nothing_and_shows_the_exact_operator() {
    let ctx = session().await;
    let before = rows(&ctx, ALL).await.unwrap();
    for explain in ["EXPLAIN", "EXPLAIN VERBOSE"] {
        let plan = rows(
            &ctx,
            &format!("{explain} DELETE FROM a WHERE id IN (SELECT id FROM c)"),
        )
        .await
        .unwrap()
        .join("\n");
        assert!(
            plan.contains("ExactDmlExec: op=DELETE table=a keys=[id, v]"),
            "{plan}"
        );
        // DataFusion 55 alone deletes the row while planning this EXPLAIN.
        let plan = rows(
            &ctx,
            &format!("{explain} UPDATE a SET v = 'x' WHERE id = 2"),
        )
        .await
        .unwrap()
        .join("\n");
        assert!(plan.contains("ExactDmlExec: op=UPDATE table=a"), "{plan}");
    }
    assert_eq!(rows(&ctx, ALL).await.unwrap(), before);
}

#[tokio::test]
async fn statements_datafusion_plans_right_are_left_to_it() {
    let ctx = session().await;
    let state = ctx.state();
    for (sql, exact) in [
        ("DELETE FROM a WHERE id = 2 AND v <> 'x'", false),
        ("UPDATE a SET v = 'x' WHERE id > 1", false),
        ("DELETE FROM a WHERE id IN (SELECT id FROM c)", true),
        ("UPDATE a SET v = (SELECT min(w) FROM b) WHERE id > 1", true),
    ] {
        let logical = state.create_logical_plan(sql).await.unwrap();
        let logical = state.optimize(&logical).unwrap();
        let rewritten = datafusion_cpg::optimizer::exact_dml::rewrite(logical).unwrap();
        let text = rewritten.display_indent().to_string();
        assert_eq!(text.contains("ExactDml"), exact, "{sql}:\n{text}");
    }
}

#[tokio::test]
async fn the_dml_result_reaches_the_physical_plan_through_the_installed_planner() {
    // A session built from parts with `install` gets the planner too.
    let state = datafusion_cpg::install(SessionStateBuilder::new().with_default_features())
        .unwrap()
        .build();
    let ctx = SessionContext::new_with_state(state);
    for sql in SETUP {
        collect(&ctx, sql).await.unwrap();
    }
    let df = ctx
        .sql("DELETE FROM a WHERE id NOT IN (SELECT id FROM c)")
        .await
        .unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    assert!(
        displayable(plan.as_ref())
            .indent(false)
            .to_string()
            .contains("ExactDmlExec"),
        "planned without the bundle's planner"
    );
    // Planning changed nothing; running does.
    assert_eq!(count(&ctx, "SELECT count(*) FROM a").await, 7);
    collect(&ctx, "DELETE FROM a WHERE id NOT IN (SELECT id FROM c)")
        .await
        .unwrap();
    assert_eq!(
        rows(&ctx, ALL).await.unwrap(),
        ["2|b", "2|b", "3|c", "NULL|n"]
    );
}
