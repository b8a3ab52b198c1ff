//! [`ExactDmlExec`], the physical form of [`ExactDml`], and [`ExactDmlPlanner`], which
//! plans one from the other.
//!
//! Nothing happens at planning (so `EXPLAIN` changes no row): on execution the selected
//! rows are collected, indexed, and only then is the provider's `delete_from`/`update`
//! called and its plan run. The output is DataFusion's DML output, one `count` row.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{
    Column, Result, TableReference, exec_datafusion_err, internal_err, plan_err,
};
use datafusion::execution::{SendableRecordBatchStream, SessionState, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF, UserDefinedLogicalNode};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, PlanProperties, collect,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};

use super::node::{DmlKind, ExactDml};
use super::row_index::{RowIndex, RowIndexFunction, RowIndexOutput};

/// Plans [`ExactDml`] nodes.
#[derive(Debug, Default)]
pub struct ExactDmlPlanner;

#[async_trait]
impl ExtensionPlanner for ExactDmlPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<ExactDml>() else {
            return Ok(None);
        };
        let [rows] = physical_inputs else {
            return internal_err!("ExactDml has one input, got {}", physical_inputs.len());
        };
        let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
            return plan_err!(
                "{} on '{}' refused: its WHERE clause cannot be passed to the table provider, \
                 and running it exactly needs the host's own session, which does not cross \
                 FFI; nothing was changed",
                node.kind,
                node.table_name
            );
        };
        Ok(Some(Arc::new(ExactDmlExec::new(
            node,
            Arc::clone(rows),
            Arc::new(state.clone()),
        )?)))
    }
}

/// Runs a DELETE or UPDATE by selecting its rows first; see the module docs.
#[derive(Debug)]
pub struct ExactDmlExec {
    kind: DmlKind,
    table_name: TableReference,
    provider: Arc<dyn TableProvider>,
    key_fields: Vec<FieldRef>,
    value_fields: Vec<FieldRef>,
    rows: Arc<dyn ExecutionPlan>,
    session: Arc<SessionState>,
    properties: Arc<PlanProperties>,
}

impl ExactDmlExec {
    fn new(
        node: &ExactDml,
        rows: Arc<dyn ExecutionPlan>,
        session: Arc<SessionState>,
    ) -> Result<Self> {
        let table_schema = node.provider.schema();
        let fields = |names: &[String]| -> Result<Vec<FieldRef>> {
            names
                .iter()
                .map(|name| {
                    table_schema
                        .field_with_name(name)
                        .map(|field| Arc::new(field.clone()))
                        .map_err(|_| {
                            exec_datafusion_err!("table '{}' has no column {name}", node.table_name)
                        })
                })
                .collect()
        };
        let schema: SchemaRef = Arc::clone(node.schema.inner());
        Ok(Self {
            kind: node.kind,
            table_name: node.table_name.clone(),
            provider: Arc::clone(&node.provider),
            key_fields: fields(&node.key_columns)?,
            value_fields: fields(&node.assigned_columns)?,
            rows,
            session,
            properties: Arc::new(PlanProperties::new(
                EquivalenceProperties::new(schema),
                Partitioning::UnknownPartitioning(1),
                EmissionType::Final,
                Boundedness::Bounded,
            )),
        })
    }

    fn with_rows(&self, rows: Arc<dyn ExecutionPlan>) -> Self {
        Self {
            kind: self.kind,
            table_name: self.table_name.clone(),
            provider: Arc::clone(&self.provider),
            key_fields: self.key_fields.clone(),
            value_fields: self.value_fields.clone(),
            rows,
            session: Arc::clone(&self.session),
            properties: Arc::clone(&self.properties),
        }
    }

    /// Selects, indexes, and hands the provider the exact filter; returns rows changed.
    async fn run(self: Arc<Self>, context: Arc<TaskContext>) -> Result<u64> {
        let table = self.table_name.to_string();
        let selected = collect(Arc::clone(&self.rows), Arc::clone(&context)).await?;
        let index = Arc::new(RowIndex::build(
            &self.key_fields,
            &self.value_fields,
            &selected,
            &table,
        )?);
        if index.is_empty() {
            return Ok(0);
        }
        let keys: Vec<Expr> = self
            .key_fields
            .iter()
            .map(|field| Expr::Column(Column::new_unqualified(field.name())))
            .collect();
        let function = |output| {
            ScalarUDF::new_from_impl(RowIndexFunction::new(Arc::clone(&index), output))
                .call(keys.clone())
        };
        let filters = vec![function(RowIndexOutput::Selected)];
        let plan = match self.kind {
            DmlKind::Delete => {
                self.provider
                    .delete_from(self.session.as_ref(), filters)
                    .await
            }
            DmlKind::Update => {
                let assignments = self
                    .value_fields
                    .iter()
                    .enumerate()
                    .map(|(n, field)| (field.name().clone(), function(RowIndexOutput::NewValue(n))))
                    .collect();
                self.provider
                    .update(self.session.as_ref(), assignments, filters)
                    .await
            }
        }
        .map_err(|e| e.context(format!("{} operation on table '{table}'", self.kind)))?;
        let counts = collect(plan, context).await?;
        counts.iter().try_fold(0u64, |total, batch| {
            let column = batch
                .columns()
                .first()
                .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
            match column {
                Some(counts) if counts.null_count() == 0 => {
                    Ok(total + counts.values().iter().sum::<u64>())
                }
                _ => Err(exec_datafusion_err!(
                    "{} on '{table}': the provider's result is not one UInt64 count column",
                    self.kind
                )),
            }
        })
    }
}

impl DisplayAs for ExactDmlExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names = |fields: &[FieldRef]| {
            fields
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "ExactDmlExec: op={} table={} keys=[{}]",
            self.kind,
            self.table_name,
            names(&self.key_fields)
        )?;
        if !self.value_fields.is_empty() {
            write!(f, " set=[{}]", names(&self.value_fields))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ExactDmlExec {
    fn name(&self) -> &str {
        "ExactDmlExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.rows]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match <[_; 1]>::try_from(children) {
            Ok([rows]) => Ok(Arc::new(self.with_rows(rows))),
            Err(children) => internal_err!("ExactDmlExec has one child, got {}", children.len()),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("ExactDmlExec has one partition, asked for {partition}");
        }
        let schema = Arc::clone(self.properties.eq_properties.schema());
        let this = Arc::new(self.with_rows(Arc::clone(&self.rows)));
        let output_schema = Arc::clone(&schema);
        let batch = futures::stream::once(async move {
            let count = this.run(context).await?;
            Ok(RecordBatch::try_new(
                output_schema,
                vec![Arc::new(UInt64Array::from(vec![count]))],
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batch)))
    }
}
