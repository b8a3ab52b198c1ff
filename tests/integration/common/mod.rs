//! Shared helpers for the facade's integration tests: a session with the bundle
//! installed and one-value / whole-result query shortcuts.
#![allow(dead_code)]

pub mod script;
pub mod typed_batch;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// A `SessionContext` with DataFusion's defaults and the whole bundle.
pub fn ctx() -> SessionContext {
    datafusion_cpg::session_context().expect("the bundle registers")
}

/// Runs `sql` and returns every batch.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Runs `sql` and returns the value in the first column of its only row.
pub async fn scalar(ctx: &SessionContext, sql: &str) -> Result<ScalarValue> {
    let batches = collect(ctx, sql).await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 1, "expected one row from {sql}");
    let batch = batches.iter().find(|b| b.num_rows() == 1).unwrap();
    ScalarValue::try_from_array(batch.column(0), 0)
}

/// Runs `sql` and returns the error text; panics if it succeeds.
pub async fn error(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => panic!("expected an error from {sql}"),
        Err(e) => e.to_string(),
    }
}

/// Registers `batches` (one partition) as table `name`.
pub fn register_batches(ctx: &SessionContext, name: &str, batches: Vec<RecordBatch>) {
    let schema = batches[0].schema();
    let table = MemTable::try_new(schema, vec![batches]).expect("valid batches");
    ctx.register_table(name, Arc::new(table))
        .expect("register table");
}

/// The first-column value of `sql` as an `i64`.
pub async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    match scalar(ctx, sql).await.expect(sql) {
        ScalarValue::Int64(Some(v)) => v,
        other => panic!("expected a count from {sql}, got {other:?}"),
    }
}
