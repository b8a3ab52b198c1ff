//! Guards for table-side exports: table functions, table provider factories and the
//! providers they return. A provider's scan result is wrapped in [`GuardedExec`], so
//! execution and stream polling are guarded too.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{
    Session, TableFunctionArgs, TableFunctionImpl, TableProvider, TableProviderFactory,
};
use datafusion::common::{Constraints, Result, Statistics};
use datafusion::datasource::TableType;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{
    CreateExternalTable, Expr, LogicalPlan, TableProviderFilterPushDown,
};
use datafusion::physical_plan::ExecutionPlan;

use super::{GuardedExec, guard, guard_future};

/// A table function whose `call_with_args` and returned provider are guarded.
#[derive(Debug)]
pub struct GuardedTableFunction {
    name: String,
    inner: Arc<dyn TableFunctionImpl>,
}

impl GuardedTableFunction {
    pub fn wrap(name: &str, inner: Arc<dyn TableFunctionImpl>) -> Arc<dyn TableFunctionImpl> {
        Arc::new(Self {
            name: name.to_string(),
            inner,
        })
    }
}

impl TableFunctionImpl for GuardedTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let provider = guard(&self.name, "call_with_args", || {
            self.inner.call_with_args(args)
        })?;
        Ok(GuardedTableProvider::wrap(&self.name, provider))
    }
}

/// A factory whose `create` future and returned provider are guarded.
#[derive(Debug)]
pub struct GuardedTableProviderFactory {
    name: String,
    inner: Arc<dyn TableProviderFactory>,
}

impl GuardedTableProviderFactory {
    pub fn wrap(name: &str, inner: Arc<dyn TableProviderFactory>) -> Arc<dyn TableProviderFactory> {
        Arc::new(Self {
            name: name.to_string(),
            inner,
        })
    }
}

#[async_trait]
impl TableProviderFactory for GuardedTableProviderFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        let provider = guard_future(&self.name, "create", self.inner.create(state, cmd)).await?;
        Ok(GuardedTableProvider::wrap(&self.name, provider))
    }
}

/// A provider whose fallible calls are guarded and whose plans are [`GuardedExec`]s.
#[derive(Debug)]
pub struct GuardedTableProvider {
    name: String,
    inner: Arc<dyn TableProvider>,
}

impl GuardedTableProvider {
    pub fn wrap(name: &str, inner: Arc<dyn TableProvider>) -> Arc<dyn TableProvider> {
        Arc::new(Self {
            name: name.to_string(),
            inner,
        })
    }

    fn plan(&self, plan: Result<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        plan.map(|plan| GuardedExec::wrap(&self.name, plan))
    }
}

#[async_trait]
impl TableProvider for GuardedTableProvider {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.inner.get_table_definition()
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.inner.get_logical_plan()
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.inner.get_column_default(column)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.inner.scan(state, projection, filters, limit);
        self.plan(guard_future(&self.name, "scan", scan).await)
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        guard(&self.name, "supports_filters_pushdown", || {
            self.inner.supports_filters_pushdown(filters)
        })
    }

    fn statistics(&self) -> Option<Statistics> {
        guard(&self.name, "statistics", || Ok(self.inner.statistics()))
            .ok()
            .flatten()
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let insert = self.inner.insert_into(state, input, insert_op);
        self.plan(guard_future(&self.name, "insert_into", insert).await)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::prelude::SessionContext;

    use super::*;

    #[derive(Debug)]
    struct PanickingFunction;

    impl TableFunctionImpl for PanickingFunction {
        fn call_with_args(&self, _: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
            panic!("udtf boom")
        }
    }

    #[derive(Debug)]
    struct PanickingFactory;

    #[async_trait]
    impl TableProviderFactory for PanickingFactory {
        async fn create(
            &self,
            _: &dyn Session,
            _: &CreateExternalTable,
        ) -> Result<Arc<dyn TableProvider>> {
            panic!("factory boom")
        }
    }

    #[test]
    fn a_panicking_table_function_is_an_error() {
        let ctx = SessionContext::new();
        let state = ctx.state();
        let function = GuardedTableFunction::wrap("f", Arc::new(PanickingFunction));
        let error = function
            .call_with_args(TableFunctionArgs::new(&[], &state))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("f panicked in call_with_args: udtf boom"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_panicking_factory_fails_the_create_statement() {
        let ctx = SessionContext::new();
        ctx.state_ref().write().table_factories_mut().insert(
            "BOOM".to_string(),
            GuardedTableProviderFactory::wrap("boom", Arc::new(PanickingFactory)),
        );
        let error = ctx
            .sql("CREATE EXTERNAL TABLE t STORED AS BOOM LOCATION 'x'")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("boom panicked in create: factory boom"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_guarded_provider_scans_like_the_original() {
        use datafusion::arrow::array::{Int64Array, RecordBatch};
        use datafusion::arrow::datatypes::{DataType, Field};
        use datafusion::datasource::MemTable;

        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![Some(3), None, Some(7)]))],
        )
        .unwrap();
        let table = Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap());
        let ctx = SessionContext::new();
        ctx.register_table("plain", table.clone()).unwrap();
        ctx.register_table("guarded", GuardedTableProvider::wrap("t", table))
            .unwrap();
        let sql = "SELECT count(a) AS n, sum(a) AS s FROM ";
        let run = |name: &'static str| {
            let ctx = ctx.clone();
            async move {
                let df = ctx.sql(&format!("{sql}{name} WHERE a > 2")).await.unwrap();
                df.collect().await.unwrap()
            }
        };
        let (plain, guarded) = (run("plain").await, run("guarded").await);
        assert_eq!(guarded, plain);
        let sums = guarded[0]
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(sums.value(0), 10);
    }
}
