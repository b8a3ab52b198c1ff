//! No input makes a function panic: every function, at every arity it accepts, against
//! every column type of a wide table (plain and sliced, with NULLs and dictionaries),
//! against scalar literals of every kind, and against column/scalar mixes. Each call
//! either returns a value or a planning/execution error that says what was wrong; a
//! panic or an internal error fails the test.

use crate::common::typed_batch::typed_batch;
use crate::common::{ctx, register_batches};
use datafusion::prelude::SessionContext;

/// Every function with every argument count it accepts.
const FORMS: &[(&str, usize)] = &[
    ("stable_hash64", 1),
    ("stable_hash64", 3),
    ("stable_hash128", 1),
    ("stable_hash128", 2),
    ("stable_id", 2),
    ("stable_id", 4),
    ("xxhash64", 1),
    ("xxhash64", 2),
    ("span_len", 2),
    ("span_overlaps", 4),
    ("span_contains", 4),
    ("utf8_normalize", 1),
    ("utf8_normalize", 2),
    ("utf8_normalize", 3),
    ("utf8_normalize", 4),
    ("qname_normalize", 1),
    ("qname_normalize", 2),
    ("qname_normalize", 3),
    ("list_enumerate", 1),
];

/// Scalar arguments of every kind, including ones most functions must refuse.
const LITERALS: &[&str] = &[
    "NULL",
    "arrow_cast(NULL, 'Utf8View')",
    "'NFC'",
    "arrow_cast(' A  b ', 'LargeUtf8')",
    "arrow_cast('x.y', 'Dictionary(Int32, Utf8)')",
    "''",
    "1",
    "arrow_cast(-7, 'Int8')",
    "arrow_cast(18446744073709551615, 'UInt64')",
    "1.5",
    "arrow_cast(-0.0, 'Float16')",
    "true",
    "DATE '2024-01-01'",
    "TIMESTAMP '2024-01-01 00:00:00'",
    "arrow_cast(1.25, 'Decimal128(10, 2)')",
    "arrow_cast('ab', 'Binary')",
    "make_array(1, 2)",
    "make_array('a', NULL)",
    "arrow_cast(make_array(1, 2), 'LargeList(Int64)')",
    "make_array()",
    "named_struct('a', 1)",
    "INTERVAL '1 day'",
];

async fn check(ctx: &SessionContext, sql: String, failures: &mut Vec<String>) {
    let task_ctx = ctx.clone();
    let task_sql = sql.clone();
    let outcome = tokio::spawn(async move {
        match task_ctx.sql(&task_sql).await {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        }
    })
    .await;
    match outcome {
        Err(join) if join.is_panic() => failures.push(format!("PANIC {sql}")),
        Err(join) => failures.push(format!("{join}: {sql}")),
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let message = e.to_string();
            if message.contains("panicked") || message.contains("Internal error") {
                failures.push(format!("{message}: {sql}"));
            }
        }
    }
}

fn call(function: &str, args: &[&str]) -> String {
    format!("{function}({})", args.join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_panics() {
    let ctx = ctx();
    let batch = typed_batch(64);
    register_batches(&ctx, "t", vec![batch.clone()]);
    register_batches(
        &ctx,
        "t_sliced",
        vec![batch.slice(3, 40), batch.slice(50, 9)],
    );
    let columns: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();

    let mut failures = Vec::new();
    let mut queries = 0;
    for (function, arity) in FORMS {
        for (i, column) in columns.iter().enumerate() {
            // Every argument the same column, then one column among scalars, in each table.
            let same = vec![column.as_str(); *arity];
            let mut mixed = vec![LITERALS[i % LITERALS.len()]; *arity];
            mixed[i % arity] = column;
            for table in ["t", "t_sliced"] {
                for args in [&same, &mixed] {
                    let sql = format!("SELECT {} FROM {table}", call(function, args));
                    check(&ctx, sql, &mut failures).await;
                    queries += 1;
                }
            }
        }
        for (i, literal) in LITERALS.iter().enumerate() {
            // Every argument the same scalar, and scalars of two kinds mixed.
            let same = vec![*literal; *arity];
            let mut mixed = same.clone();
            mixed[0] = LITERALS[(i + 3) % LITERALS.len()];
            for args in [&same, &mixed] {
                check(
                    &ctx,
                    format!("SELECT {}", call(function, args)),
                    &mut failures,
                )
                .await;
                queries += 1;
            }
        }
    }
    assert!(queries > 3000, "only {queries} queries");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
