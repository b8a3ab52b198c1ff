//! Scans of the bundle's tables on a cluster: planned on the scheduler, planned again on
//! the executor that runs them.
//!
//! A bundle table (Delta change feed, Delta time travel, unbounded listing) crosses from
//! the client to the scheduler as its portable spec. Its physical scan holds what the
//! scan found in storage (commits, files, deletion-vector row selections — and, for time
//! travel, deltalake's own scan node, which has no encoding). Instead of encoding each
//! of those, the scheduler's tables are wrapped in [`ReplayableTable`], whose scans are
//! [`ReplayedScanExec`]s: the table's spec, the projection, filters and limit the scan
//! was asked for, and the scan's plan as text. The executor decodes the table, scans it
//! again with the same arguments, and checks that it planned the same scan (same
//! files, same partitions) — a table that moved on in between (a feed without an end
//! version that got a new commit) is an error naming the table, never different rows.
//!
//! Ballista gives each task a slice of a stage's partitions by rewriting the stage's
//! leaves (file groups, in-memory partitions) before shipping it. A replayed scan is
//! not a leaf Ballista knows, so it carries its partitions as a child Ballista does
//! know: an in-memory source with one one-row batch per partition, holding the
//! partition's number. Whatever Ballista keeps of that child is what the scan runs.

use std::fmt;
use std::io::Cursor;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, Statistics, TableReference};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, displayable,
};
use datafusion_cpg::optimizer::codec::{BundleCodec, put_part, take_part};
use datafusion_proto::bytes::Serializeable;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use serde::{Deserialize, Serialize};

/// A bundle table on the scheduler; its scans are [`ReplayedScanExec`]s.
#[derive(Debug)]
pub struct ReplayableTable {
    inner: Arc<dyn TableProvider>,
}

impl ReplayableTable {
    /// Wraps `inner` if it is a table read from storage (a base table); other tables
    /// (`span_align`'s view) are returned as they are.
    pub fn wrap(inner: Arc<dyn TableProvider>) -> Arc<dyn TableProvider> {
        if inner.table_type() == TableType::Base {
            Arc::new(Self { inner })
        } else {
            inner
        }
    }
}

#[async_trait]
impl TableProvider for ReplayableTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.scan(state, projection, filters, limit).await?;
        // A scan DataFusion encodes (and Ballista slices) itself travels as it is.
        if plan.is::<DataSourceExec>() {
            return Ok(plan);
        }
        let args = ScanArgs {
            projection: projection.cloned(),
            filters: filters.to_vec(),
            limit,
        };
        Ok(Arc::new(ReplayedScanExec::new(
            Arc::clone(&self.inner),
            args,
            plan,
        )?))
    }
}

/// What a scan was asked for.
#[derive(Debug, Clone)]
struct ScanArgs {
    projection: Option<Vec<usize>>,
    filters: Vec<Expr>,
    limit: Option<usize>,
}

/// A bundle table's scan that travels as the table and its scan arguments; see the
/// module docs. Runs partitions `partitions` of the scan it wraps.
#[derive(Debug)]
pub struct ReplayedScanExec {
    table: Arc<dyn TableProvider>,
    args: ScanArgs,
    /// The whole scan.
    plan: Arc<dyn ExecutionPlan>,
    /// Which of its partitions this node's partitions are.
    partitions: Vec<usize>,
    /// The partition numbers as an in-memory source (see the module docs).
    marker: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

fn marker_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "partition",
        DataType::UInt32,
        false,
    )]))
}

/// An in-memory source whose partition `i` is one row holding `partitions[i]`.
fn marker(partitions: &[usize]) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = marker_schema();
    let batches = partitions
        .iter()
        .map(|&p| {
            let number = UInt32Array::from(vec![p as u32]);
            Ok(vec![RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(number)],
            )?])
        })
        .collect::<Result<Vec<_>>>()?;
    let source = MemorySourceConfig::try_new(&batches, schema, None)?;
    Ok(DataSourceExec::from_data_source(source))
}

/// The partition numbers a marker (as Ballista left it) holds.
fn marked_partitions(marker: &Arc<dyn ExecutionPlan>) -> Result<Vec<usize>> {
    let source = marker
        .downcast_ref::<DataSourceExec>()
        .and_then(|exec| exec.data_source().downcast_ref::<MemorySourceConfig>())
        .ok_or_else(|| {
            bad(format!(
                "its partition marker was replaced by {} (a rule rewrote it)",
                marker.name()
            ))
        })?;
    let mut partitions = vec![];
    for batches in source.partitions() {
        for batch in batches {
            let numbers = batch
                .column(0)
                .as_any()
                .downcast_ref::<UInt32Array>()
                .ok_or_else(|| bad("a partition marker of another type"))?;
            partitions.extend(numbers.values().iter().map(|&p| p as usize));
        }
    }
    Ok(partitions)
}

impl ReplayedScanExec {
    /// The whole scan, as planned where this node was built or decoded.
    pub fn planned(&self) -> &Arc<dyn ExecutionPlan> {
        &self.plan
    }

    fn new(
        table: Arc<dyn TableProvider>,
        args: ScanArgs,
        plan: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        let partitions: Vec<usize> = (0..plan.output_partitioning().partition_count()).collect();
        Self::with_partitions(table, args, plan, partitions)
    }

    fn with_partitions(
        table: Arc<dyn TableProvider>,
        args: ScanArgs,
        plan: Arc<dyn ExecutionPlan>,
        partitions: Vec<usize>,
    ) -> Result<Self> {
        let count = plan.output_partitioning().partition_count();
        if let Some(p) = partitions.iter().find(|&&p| p >= count) {
            return Err(bad(format!("partition {p} of a scan of {count}")));
        }
        let inner = plan.properties();
        let partitioning = if partitions.len() == count {
            inner.output_partitioning().clone()
        } else {
            Partitioning::UnknownPartitioning(partitions.len())
        };
        let properties = PlanProperties::new(
            inner.equivalence_properties().clone(),
            partitioning,
            inner.emission_type,
            inner.boundedness,
        );
        Ok(Self {
            marker: marker(&partitions)?,
            table,
            args,
            plan,
            partitions,
            properties: Arc::new(properties),
        })
    }
}

/// The payload's header (the table's own payload, the filters and the schema follow).
#[derive(Serialize, Deserialize)]
struct Header {
    projection: Option<Vec<usize>>,
    limit: Option<usize>,
    filters: usize,
    /// The partitions of the scan this node runs.
    partitions: Vec<usize>,
    /// The scan as planned, as text: the executor's must read the same.
    planned: String,
}

fn planned(plan: &Arc<dyn ExecutionPlan>) -> String {
    displayable(plan.as_ref()).indent(true).to_string()
}

fn bad(what: impl fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("datafusion-cpg replayed scan: {what}"))
}

fn take<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
    take_part(buf, "datafusion-cpg replayed scan")
}

impl ReplayedScanExec {
    /// The portable payload: header, the table's payload (the bundle's codec), each
    /// filter (datafusion-proto), the table's schema (Arrow IPC).
    pub fn encode(&self, buf: &mut Vec<u8>) -> Result<()> {
        let header = Header {
            projection: self.args.projection.clone(),
            limit: self.args.limit,
            filters: self.args.filters.len(),
            partitions: self.partitions.clone(),
            planned: planned(&self.plan),
        };
        put_part(buf, &serde_json::to_vec(&header).map_err(bad)?);
        let mut table = vec![];
        BundleCodec::portable().try_encode_table_provider(
            &TableReference::bare("scan"),
            Arc::clone(&self.table),
            &mut table,
        )?;
        put_part(buf, &table);
        for filter in &self.args.filters {
            put_part(buf, &filter.to_bytes()?);
        }
        let mut schema = vec![];
        StreamWriter::try_new(&mut schema, &self.table.schema())?.finish()?;
        put_part(buf, &schema);
        Ok(())
    }

    /// Decodes the table and plans its scan again in `ctx`; see the module docs.
    pub fn decode(buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn ExecutionPlan>> {
        let mut rest = buf;
        let header: Header = serde_json::from_slice(take(&mut rest)?).map_err(bad)?;
        let table_payload = take(&mut rest)?;
        let filters = (0..header.filters)
            .map(|_| Expr::from_bytes_with_ctx(take(&mut rest)?, ctx))
            .collect::<Result<Vec<_>>>()?;
        let schema = StreamReader::try_new(Cursor::new(take(&mut rest)?), None)?.schema();
        let table = BundleCodec::portable().try_decode_table_provider(
            table_payload,
            &TableReference::bare("scan"),
            schema,
            ctx,
        )?;
        let session = SessionStateBuilder::new()
            .with_config(ctx.session_config().clone())
            .with_runtime_env(ctx.runtime_env())
            .with_scalar_functions(ctx.scalar_functions().values().cloned().collect())
            .build();
        let args = ScanArgs {
            projection: header.projection,
            filters,
            limit: header.limit,
        };
        let plan = datafusion_cpg::providers::blocking::run(table.scan(
            &session,
            args.projection.as_ref(),
            &args.filters,
            args.limit,
        ))?;
        let here = planned(&plan);
        if here != header.planned {
            return Err(DataFusionError::Execution(format!(
                "datafusion-cpg: the scan planned on the scheduler is not the one planned \
                 here (the table changed in between; pin its version to read it on a \
                 cluster)\nscheduler:\n{}\nexecutor:\n{here}",
                header.planned
            )));
        }
        Ok(Arc::new(Self::with_partitions(
            table,
            args,
            plan,
            header.partitions,
        )?))
    }
}

impl DisplayAs for ReplayedScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ReplayedScanExec: {}, partitions={:?}",
            self.plan.name(),
            self.partitions
        )
    }
}

impl ExecutionPlan for ReplayedScanExec {
    fn name(&self) -> &str {
        "ReplayedScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.marker]
    }

    /// The marker child must reach Ballista as it is: no repartitioning above it.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
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
        let [marker] = children.as_slice() else {
            return Err(bad(format!("one child expected, got {}", children.len())));
        };
        let partitions = marked_partitions(marker)?;
        Ok(Arc::new(Self::with_partitions(
            Arc::clone(&self.table),
            self.args.clone(),
            Arc::clone(&self.plan),
            partitions,
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let Some(&scanned) = self.partitions.get(partition) else {
            return Err(bad(format!(
                "partition {partition} of {}",
                self.partitions.len()
            )));
        };
        self.plan.execute(scanned, context)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.plan.metrics()
    }

    #[allow(deprecated)]
    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        match partition {
            Some(p) => match self.partitions.get(p) {
                Some(&scanned) => self.plan.partition_statistics(Some(scanned)),
                None => Err(bad(format!("partition {p} of {}", self.partitions.len()))),
            },
            None => self.plan.partition_statistics(None),
        }
    }
}
