//! [`DeltaCdfExec`]: the physical scan of a change feed. Its files, in version order,
//! are cut into contiguous slices of about equal bytes, one per output partition; a
//! partition reads its slice file by file through DataFusion's Parquet scan (projection,
//! predicate and limit pushed into it), so each partition's rows come in
//! `_commit_version` order (declared, for sorts and merges downstream) and memory stays
//! that of the batches in flight, whatever the range.

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, Result};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use super::feed::{Feed, FeedFile, FileRole, MissingFile};
use super::schema::{COMMIT_VERSION_COLUMN, FeedSchema};
use crate::delta::location::TableStore;

/// How a scan of the feed was asked for.
pub struct ScanRequest<'a> {
    pub session: &'a dyn Session,
    /// Output columns (indices into the feed's schema); `None` = all.
    pub projection: Option<&'a Vec<usize>>,
    /// Filters over data columns only, pushed into the Parquet reader.
    pub data_filters: Vec<Expr>,
    pub limit: Option<usize>,
    pub target_partitions: usize,
    pub parquet_options: TableParquetOptions,
}

/// The physical scan of a change feed; see the module docs.
#[derive(Debug)]
pub struct DeltaCdfExec {
    table: String,
    versions: Option<RangeInclusive<u64>>,
    commits_read: usize,
    file_count: usize,
    missing: Vec<MissingFile>,
    schema: SchemaRef,
    /// Per output partition, the scans it runs one after the other.
    partitions: Vec<Vec<Arc<dyn ExecutionPlan>>>,
    store: TableStore,
    limit: Option<usize>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DeltaCdfExec {
    pub fn try_new(
        table: String,
        feed: Feed,
        feed_schema: &FeedSchema,
        store: TableStore,
        request: ScanRequest<'_>,
    ) -> Result<Self> {
        let columns: Vec<usize> = match request.projection {
            Some(projection) => projection.clone(),
            None => (0..feed_schema.output().fields().len()).collect(),
        };
        let schema = Arc::new(feed_schema.output().project(&columns)?);
        let scans = Scans {
            feed_schema,
            store: &store,
            columns: &columns,
            data_filters: &request.data_filters,
            limit: request.limit,
            parquet_options: &request.parquet_options,
            session: request.session,
        };
        let partitions = slices(&feed.files, request.target_partitions)
            .into_iter()
            .map(|slice| {
                runs(slice)
                    .into_iter()
                    .map(|run| scans.scan(run))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let metrics = ExecutionPlanMetricsSet::new();
        let count = |name: &'static str, value: usize| {
            MetricBuilder::new(&metrics).global_counter(name).add(value)
        };
        count("commits_read", feed.commits_read);
        count("files_planned", feed.files.len());
        count("missing_files", feed.missing.len());
        let properties = Arc::new(properties(&schema, partitions.len().max(1)));
        Ok(Self {
            table,
            versions: feed.versions,
            commits_read: feed.commits_read,
            file_count: feed.files.len(),
            missing: feed.missing,
            schema,
            partitions,
            store,
            limit: request.limit,
            properties,
            metrics,
        })
    }

    /// The data files this scan skips because they are gone (`missing_files = 'skip'`).
    pub fn missing_files(&self) -> &[MissingFile] {
        &self.missing
    }

    /// The versions whose commits were read.
    pub fn versions(&self) -> Option<&RangeInclusive<u64>> {
        self.versions.as_ref()
    }
}

/// Builds the Parquet scans of one feed.
struct Scans<'a> {
    feed_schema: &'a FeedSchema,
    store: &'a TableStore,
    columns: &'a [usize],
    data_filters: &'a [Expr],
    limit: Option<usize>,
    parquet_options: &'a TableParquetOptions,
    session: &'a dyn Session,
}

impl Scans<'_> {
    /// One scan over `files`, all of one role, read in order.
    fn scan(&self, files: &[FeedFile]) -> Result<Arc<dyn ExecutionPlan>> {
        let role = files.first().map_or(FileRole::Inserted, |f| f.role);
        let layout = self.feed_schema.scan_layout(role);
        let mut source = ParquetSource::new(layout.clone())
            .with_table_parquet_options(self.parquet_options.clone());
        if let Some(predicate) =
            datafusion::logical_expr::utils::conjunction(self.data_filters.iter().cloned())
        {
            let df_schema = DFSchema::try_from(Arc::clone(layout.table_schema()))?;
            let predicate = self.session.create_physical_expr(predicate, &df_schema)?;
            source = source.with_predicate(predicate);
        }
        let group = files
            .iter()
            .map(|file| {
                let scanned = PartitionedFile::new(file.path.clone(), file.size)
                    .with_partition_values(self.feed_schema.constants(file)?);
                Ok(match &file.selection {
                    Some(rows) => scanned.with_extension(rows.clone()),
                    None => scanned,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let config = FileScanConfigBuilder::new(self.store.url.clone(), Arc::new(source))
            .with_file_group(FileGroup::new(group))
            .with_limit(self.limit)
            .with_projection_indices(Some(self.feed_schema.scan_projection(role, self.columns)?))?
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// `files` cut into at most `n` contiguous slices of about equal bytes.
fn slices(files: &[FeedFile], n: usize) -> Vec<&[FeedFile]> {
    let n = n.max(1).min(files.len().max(1));
    let total: u64 = files.iter().map(|f| f.size.max(1)).sum();
    let mut out = Vec::with_capacity(n);
    let (mut start, mut seen) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        seen += file.size.max(1);
        // Cut once this slice reaches its share of the bytes.
        if seen * n as u64 >= total * (out.len() as u64 + 1) && out.len() + 1 < n {
            out.push(&files[start..=i]);
            start = i + 1;
        }
    }
    if start < files.len() || out.is_empty() {
        out.push(&files[start..]);
    }
    out
}

/// A slice cut where the role changes (each run is one Parquet scan).
fn runs(files: &[FeedFile]) -> Vec<&[FeedFile]> {
    files
        .chunk_by(|a, b| (a.role == FileRole::ChangeData) == (b.role == FileRole::ChangeData))
        .collect()
}

fn properties(schema: &SchemaRef, partitions: usize) -> PlanProperties {
    let ordering = schema.index_of(COMMIT_VERSION_COLUMN).ok().map(|index| {
        vec![PhysicalSortExpr::new_default(Arc::new(Column::new(
            COMMIT_VERSION_COLUMN,
            index,
        )))]
    });
    let equivalences = EquivalenceProperties::new_with_orderings(Arc::clone(schema), ordering);
    PlanProperties::new(
        equivalences,
        Partitioning::UnknownPartitioning(partitions),
        EmissionType::Incremental,
        Boundedness::Bounded,
    )
}

impl DisplayAs for DeltaCdfExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeltaCdfExec: table={}, versions=", self.table)?;
        match &self.versions {
            Some(v) => write!(f, "{}..={}", v.start(), v.end())?,
            None => write!(f, "none")?,
        }
        write!(
            f,
            ", commits_read={}, files={}",
            self.commits_read, self.file_count
        )?;
        if !self.missing.is_empty() {
            let missing: Vec<String> = self
                .missing
                .iter()
                .map(|m| format!("v{}:{}", m.version, m.path))
                .collect();
            write!(f, ", missing_files=[{}]", missing.join(", "))?;
        }
        if let Some(limit) = self.limit {
            write!(f, ", limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for DeltaCdfExec {
    fn name(&self) -> &str {
        "DeltaCdfExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
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
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        let mut set = self.metrics.clone_inner();
        for scan in self.partitions.iter().flatten() {
            if let Some(metrics) = scan.metrics() {
                for metric in metrics.iter() {
                    set.push(Arc::clone(metric));
                }
            }
        }
        Some(set)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.store.register(context.runtime_env().as_ref());
        let scans = self.partitions.get(partition).cloned().unwrap_or_default();
        let schema = Arc::clone(&self.schema);
        let batches = futures::stream::iter(scans)
            .map(move |scan| scan.execute(0, Arc::clone(&context)))
            .try_flatten();
        let output = Arc::clone(&schema);
        let mut remaining = self.limit.unwrap_or(usize::MAX);
        let batches = batches
            .map(move |batch| {
                let batch = batch?;
                // Scans of different file kinds may differ in nullability only.
                let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                Ok(RecordBatch::try_new_with_options(
                    Arc::clone(&output),
                    batch.columns().to_vec(),
                    &options,
                )?)
            })
            .take_while(move |batch: &Result<RecordBatch>| {
                let go_on = remaining > 0 || batch.is_err();
                if let Ok(batch) = batch {
                    remaining = remaining.saturating_sub(batch.num_rows());
                }
                futures::future::ready(go_on)
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: u64, role: FileRole, size: u64) -> FeedFile {
        FeedFile {
            version,
            timestamp_micros: 0,
            role,
            path: format!("f{version}"),
            size,
            partition_values: Default::default(),
            pick: None,
            selection: None,
        }
    }

    #[test]
    fn slices_are_contiguous_and_balanced() {
        let files: Vec<FeedFile> = (0..10).map(|v| file(v, FileRole::Inserted, 100)).collect();
        let cut = slices(&files, 3);
        assert_eq!(cut.len(), 3);
        assert_eq!(cut.iter().map(|s| s.len()).sum::<usize>(), 10);
        let versions: Vec<u64> = cut
            .iter()
            .flat_map(|s| s.iter().map(|f| f.version))
            .collect();
        assert_eq!(versions, (0..10).collect::<Vec<_>>());
        assert!(cut.iter().all(|s| (3..=4).contains(&s.len())), "{cut:?}");
        assert_eq!(slices(&files[..1], 4).len(), 1);
        assert_eq!(slices(&[], 4).len(), 1);
    }

    #[test]
    fn runs_split_where_the_layout_changes() {
        let files = vec![
            file(1, FileRole::Inserted, 1),
            file(1, FileRole::Deleted, 1),
            file(2, FileRole::ChangeData, 1),
            file(3, FileRole::Inserted, 1),
        ];
        let lengths: Vec<usize> = runs(&files).iter().map(|r| r.len()).collect();
        assert_eq!(lengths, vec![2, 1, 1]);
    }
}
