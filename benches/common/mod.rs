//! Shared bench plumbing: a session with the bundle, and SQL expressions compiled to
//! physical expressions over a batch's schema (so every alternative is measured as the
//! same kind of thing: one `PhysicalExpr::evaluate` per batch).
#![allow(dead_code)]

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;

/// `sql` (an expression over `batch`'s columns) planned in `ctx` as a physical expression.
pub fn physical(ctx: &SessionContext, batch: &RecordBatch, sql: &str) -> Arc<dyn PhysicalExpr> {
    let schema = DFSchema::try_from(batch.schema().as_ref().clone()).unwrap();
    let state = ctx.state();
    let expr = state.create_logical_expr(sql, &schema).unwrap();
    state.create_physical_expr(expr, &schema).unwrap()
}
