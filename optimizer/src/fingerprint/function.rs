//! `plan_fingerprint('<sql>')`: the fingerprint of a statement, as a one-row table.
//!
//! The statement is planned and analyzed (not run) in the session that scans the table,
//! when it scans it, so it sees that session's tables, functions and policy; a statement
//! the policy denies fails with the denial.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::{PlanFingerprint, fingerprint_sql};

/// The name the table function is registered under.
pub const PLAN_FINGERPRINT_FUNCTION: &str = "plan_fingerprint";

/// The columns of `plan_fingerprint(...)`.
pub fn fingerprint_schema() -> SchemaRef {
    let hex = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        Field::new("spec_version", DataType::UInt32, false),
        hex("exact"),
        hex("shape"),
        hex("schema"),
        hex("policy"),
        hex("catalog"),
        Field::new("volatile", DataType::Boolean, false),
    ]))
}

/// One row of [`fingerprint_schema`].
pub fn fingerprint_batch(fingerprint: &PlanFingerprint) -> Result<RecordBatch> {
    let hex = |digest: super::Digest| -> ArrayRef {
        Arc::new(StringArray::from(vec![digest.to_string()]))
    };
    Ok(RecordBatch::try_new(
        fingerprint_schema(),
        vec![
            Arc::new(UInt32Array::from(vec![fingerprint.spec_version])),
            hex(fingerprint.exact),
            hex(fingerprint.shape),
            hex(fingerprint.schema),
            hex(fingerprint.policy),
            hex(fingerprint.catalog),
            Arc::new(BooleanArray::from(vec![fingerprint.volatile])),
        ],
    )?)
}

/// `plan_fingerprint('<sql>')`.
#[derive(Debug, Default)]
pub struct PlanFingerprintFunction;

impl TableFunctionImpl for PlanFingerprintFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        match args.exprs() {
            [Expr::Literal(ScalarValue::Utf8(Some(sql)), _)]
            | [Expr::Literal(ScalarValue::Utf8View(Some(sql)), _)]
            | [Expr::Literal(ScalarValue::LargeUtf8(Some(sql)), _)] => {
                Ok(Arc::new(FingerprintTable { sql: sql.clone() }))
            }
            other => plan_err!(
                "{PLAN_FINGERPRINT_FUNCTION} takes one string literal, the SQL of one \
                 statement; got {} argument(s): {}",
                other.len(),
                other
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The one-row table of one statement's fingerprint, computed when scanned.
#[derive(Debug)]
struct FingerprintTable {
    sql: String,
}

#[async_trait]
impl TableProvider for FingerprintTable {
    fn schema(&self) -> SchemaRef {
        fingerprint_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
            return plan_err!(
                "{PLAN_FINGERPRINT_FUNCTION} needs the bundle linked into the host: the \
                 session scanning it cannot plan SQL (a session passed over FFI)"
            );
        };
        let fingerprint = fingerprint_sql(state, &self.sql).await?;
        let batch = fingerprint_batch(&fingerprint)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            fingerprint_schema(),
            projection.cloned(),
        )?)
    }
}
