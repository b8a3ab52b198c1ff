//! SQL tests of lateral `UNNEST [WITH ORDINALITY]`.
//!
//! Table `t` (id Int64, items List<Utf8>):
//!
//! | id | items        |
//! |----|--------------|
//! | 1  | [a, b]       |
//! | 2  | NULL         |
//! | 3  | []           |
//! | 4  | [c, NULL]    |

use std::sync::Arc;

use datafusion::arrow::array::{Array, Int64Array, ListBuilder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

fn items_batch() -> RecordBatch {
    let mut items = ListBuilder::new(StringBuilder::new());
    // 1: [a, b]
    items.values().append_value("a");
    items.values().append_value("b");
    items.append(true);
    // 2: NULL
    items.append(false);
    // 3: []
    items.append(true);
    // 4: [c, NULL]
    items.values().append_value("c");
    items.values().append_null();
    items.append(true);
    let items = items.finish();

    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("items", items.data_type().clone(), true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1_i64, 2, 3, 4])),
            Arc::new(items),
        ],
    )
    .expect("valid batch")
}

/// A default session with the UDFs and the planner extensions, and table `t`.
fn context() -> SessionContext {
    let ctx = SessionContext::new();
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        datafusion_cpg_udfs::register(&mut *state).expect("register udfs");
    }
    datafusion_cpg_optimizer::register(&ctx).expect("register optimizer");
    ctx.register_batch("t", items_batch()).expect("register t");
    ctx
}

/// Every row of `sql` as `c1|c2|...` (NULL as `NULL`), sorted.
async fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("planning {sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("running {sql}: {e}"));
    let mut out = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|column| {
                    if column.is_null(row) {
                        "NULL".to_string()
                    } else {
                        array_value_to_string(&**column, row).expect("displayable")
                    }
                })
                .collect();
            out.push(cells.join("|"));
        }
    }
    out.sort();
    out
}

fn sorted(expected: &[&str]) -> Vec<String> {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    expected
}

async fn assert_rows(ctx: &SessionContext, sql: &str, expected: &[&str]) {
    assert_eq!(rows(ctx, sql).await, sorted(expected), "{sql}");
}

/// The error text of `sql`, from planning or from running it.
async fn error(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => panic!("expected an error from {sql}"),
        Err(e) => e.to_string(),
    }
}

async fn column_names(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    df.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

const CROSS_WITH_ORDINALITY: &[&str] = &["1|a|1", "1|b|2", "4|c|1", "4|NULL|2"];
const LEFT_WITH_ORDINALITY: &[&str] = &[
    "1|a|1",
    "1|b|2",
    "2|NULL|NULL",
    "3|NULL|NULL",
    "4|c|1",
    "4|NULL|2",
];

#[tokio::test]
async fn cross_join_with_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
        CROSS_WITH_ORDINALITY,
    )
    .await;
}

#[tokio::test]
async fn ordinality_is_int64() {
    let ctx = context();
    let batches = ctx
        .sql(
            "SELECT t.id, u.value, u.ordinality \
             FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let schema = batches[0].schema();
    assert_eq!(schema.field(1).data_type(), &DataType::Utf8);
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);
}

#[tokio::test]
async fn comma_join_with_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t, UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
        CROSS_WITH_ORDINALITY,
    )
    .await;
}

#[tokio::test]
async fn inner_join_on_true_with_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality) ON true",
        CROSS_WITH_ORDINALITY,
    )
    .await;
}

#[tokio::test]
async fn inner_join_condition_filters_elements() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.v, u.n \
         FROM t JOIN UNNEST(t.items) WITH ORDINALITY AS u(v, n) ON u.n > 1",
        &["1|b|2", "4|NULL|2"],
    )
    .await;
}

#[tokio::test]
async fn left_join_keeps_null_and_empty_lists() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t LEFT JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality) ON true",
        LEFT_WITH_ORDINALITY,
    )
    .await;
}

#[tokio::test]
async fn left_join_then_aggregate() {
    // Aggregates check the logical input schema against the physical one.
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT u.n, count(*) AS c \
         FROM t LEFT JOIN UNNEST(t.items) WITH ORDINALITY AS u(v, n) ON true \
         GROUP BY u.n",
        &["1|2", "2|2", "NULL|2"],
    )
    .await;
}

#[tokio::test]
async fn cross_join_then_filter_and_order() {
    let ctx = context();
    let out = ctx
        .sql(
            "SELECT t.id, u.value, u.ordinality \
             FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality) \
             WHERE t.id = 1 ORDER BY u.ordinality DESC",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let ordinality: Vec<i64> = out
        .iter()
        .flat_map(|batch| {
            let column = batch
                .column(2)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("Int64 ordinality")
                .clone();
            column
                .iter()
                .map(|v| v.expect("non-null"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ordinality, vec![2, 1]);
}

#[tokio::test]
async fn cross_join_without_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value FROM t CROSS JOIN UNNEST(t.items) AS u(value)",
        &["1|a", "1|b", "4|c", "4|NULL"],
    )
    .await;
}

#[tokio::test]
async fn comma_join_without_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.x FROM t, UNNEST(t.items) AS u(x)",
        &["1|a", "1|b", "4|c", "4|NULL"],
    )
    .await;
}

#[tokio::test]
async fn left_join_without_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.value FROM t LEFT JOIN UNNEST(t.items) AS u(value) ON true",
        &["1|a", "1|b", "2|NULL", "3|NULL", "4|c", "4|NULL"],
    )
    .await;
}

#[tokio::test]
async fn default_column_names() {
    let ctx = context();
    assert_eq!(
        column_names(
            &ctx,
            "SELECT * FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u"
        )
        .await,
        ["id", "items", "value", "ordinality"]
    );
    assert_eq!(
        column_names(
            &ctx,
            "SELECT * FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY"
        )
        .await,
        ["id", "items", "value", "ordinality"]
    );
    assert_eq!(
        column_names(&ctx, "SELECT * FROM t, UNNEST(t.items)").await,
        ["id", "items", "value"]
    );
    assert_rows(
        &ctx,
        "SELECT u.value, u.ordinality FROM t, UNNEST(t.items) WITH ORDINALITY AS u WHERE t.id = 1",
        &["a|1", "b|2"],
    )
    .await;
    // Without alias: qualifier `unnest`, unqualified names resolve.
    assert_rows(
        &ctx,
        "SELECT value, ordinality FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY WHERE t.id = 1",
        &["a|1", "b|2"],
    )
    .await;
}

#[tokio::test]
async fn partial_column_aliases_keep_defaults() {
    let ctx = context();
    assert_eq!(
        column_names(
            &ctx,
            "SELECT * FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(v)"
        )
        .await,
        ["id", "items", "v", "ordinality"]
    );
    assert_rows(
        &ctx,
        "SELECT u.v, u.ordinality FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(v) \
         WHERE t.id = 4",
        &["c|1", "NULL|2"],
    )
    .await;
}

#[tokio::test]
async fn uncorrelated_unnest_with_ordinality() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT u.v, u.n FROM UNNEST(make_array(10, 20, 30)) WITH ORDINALITY AS u(v, n)",
        &["10|1", "20|2", "30|3"],
    )
    .await;
    assert_rows(
        &ctx,
        "SELECT t.id, u.n FROM t CROSS JOIN UNNEST(make_array(10, 20)) WITH ORDINALITY AS u(v, n) \
         WHERE t.id <= 2",
        &["1|1", "1|2", "2|1", "2|2"],
    )
    .await;
}

#[tokio::test]
async fn uncorrelated_unnest_without_ordinality_is_left_to_datafusion() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT * FROM UNNEST(make_array(1, 2)) AS u(v)",
        &["1", "2"],
    )
    .await;
}

#[tokio::test]
async fn several_arrays_are_zipped() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT t.id, u.a, u.b, u.n \
         FROM t CROSS JOIN UNNEST(t.items, make_array(t.id)) WITH ORDINALITY AS u(a, b, n)",
        &[
            "1|a|1|1",
            "1|b|NULL|2",
            "2|NULL|2|1",
            "3|NULL|3|1",
            "4|c|4|1",
            "4|NULL|NULL|2",
        ],
    )
    .await;
}

#[tokio::test]
async fn chained_lateral_unnests() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT count(*) FROM t, \
         UNNEST(t.items) WITH ORDINALITY AS u(v, n), \
         UNNEST(make_array(u.n, u.n)) AS w(x)",
        &["8"],
    )
    .await;
    assert_rows(
        &ctx,
        "SELECT t.id, u.n, w.x FROM t \
         CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(v, n) \
         CROSS JOIN UNNEST(make_array(u.n * 10)) AS w(x) \
         WHERE t.id = 1",
        &["1|1|10", "1|2|20"],
    )
    .await;
}

#[tokio::test]
async fn lateral_unnest_of_a_derived_table() {
    let ctx = context();
    assert_rows(
        &ctx,
        "SELECT s.id, u.value, u.ordinality \
         FROM (SELECT id, items FROM t WHERE id > 3) s \
         CROSS JOIN UNNEST(s.items) WITH ORDINALITY AS u(value, ordinality)",
        &["4|c|1", "4|NULL|2"],
    )
    .await;
}

#[tokio::test]
async fn right_join_is_a_clear_error() {
    let ctx = context();
    let err = error(
        &ctx,
        "SELECT * FROM t RIGHT JOIN UNNEST(t.items) WITH ORDINALITY AS u(v, n) ON true",
    )
    .await;
    assert!(err.contains("not supported"), "{err}");
}

#[tokio::test]
async fn left_join_with_a_condition_is_a_clear_error() {
    let ctx = context();
    let err = error(
        &ctx,
        "SELECT * FROM t LEFT JOIN UNNEST(t.items) WITH ORDINALITY AS u(v, n) ON u.n > 1",
    )
    .await;
    assert!(err.contains("ON true"), "{err}");
}

#[tokio::test]
async fn struct_argument_is_a_clear_error() {
    let ctx = context();
    let err = error(
        &ctx,
        "SELECT * FROM t CROSS JOIN UNNEST(named_struct('a', t.id)) WITH ORDINALITY AS u",
    )
    .await;
    assert!(err.contains("list arguments"), "{err}");
}

#[tokio::test]
async fn too_many_column_aliases_is_a_clear_error() {
    let ctx = context();
    let err = error(
        &ctx,
        "SELECT * FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(a, b, c)",
    )
    .await;
    assert!(err.contains("column aliases"), "{err}");
}

#[tokio::test]
async fn correlated_unnest_inside_a_lateral_subquery_is_a_clear_error() {
    let ctx = context();
    let err = error(
        &ctx,
        "SELECT * FROM t CROSS JOIN LATERAL \
         (SELECT * FROM UNNEST(t.items) WITH ORDINALITY AS u(v, n)) s",
    )
    .await;
    assert!(err.contains("joined directly"), "{err}");
}

fn planner_count(ctx: &SessionContext) -> usize {
    ctx.state()
        .relation_planners()
        .iter()
        .filter(|p| datafusion_cpg_optimizer::lateral_unnest::is_lateral_unnest_planner(p))
        .count()
}

fn rule_count(ctx: &SessionContext) -> usize {
    ctx.state()
        .analyzer()
        .rules
        .iter()
        .filter(|r| r.name() == datafusion_cpg_optimizer::lateral_unnest::RULE_NAME)
        .count()
}

#[tokio::test]
async fn register_twice_is_harmless() {
    let ctx = context();
    datafusion_cpg_optimizer::register(&ctx).unwrap();
    assert_eq!(planner_count(&ctx), 1);
    assert_eq!(rule_count(&ctx), 1);
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
        CROSS_WITH_ORDINALITY,
    )
    .await;
}

#[tokio::test]
async fn install_on_a_builder() {
    let builder = SessionStateBuilder::new().with_default_features();
    let builder = datafusion_cpg_optimizer::install(datafusion_cpg_optimizer::install(builder));
    let ctx = SessionContext::new_with_state(builder.build());
    ctx.register_batch("t", items_batch()).unwrap();
    assert_eq!(planner_count(&ctx), 1);
    assert_eq!(rule_count(&ctx), 1);
    // list_enumerate is not a session function here: the rule calls it directly.
    assert_rows(
        &ctx,
        "SELECT t.id, u.value, u.ordinality \
         FROM t LEFT JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality) ON true",
        LEFT_WITH_ORDINALITY,
    )
    .await;
}
