//! `TailExec`: the stream of an unbounded listing table. One partition; it lists the
//! directory (the object store directly, never DataFusion's list-files cache), emits the
//! files it has not emitted in the table's file order, each through the format's own
//! file scan (projection, predicate and limit pushed in), and polls again when it runs
//! out. It checks the declared order on every row, records consumed files in the
//! checkpoint, skips files deleted before they are read, and fails on (or skips, per
//! `bad_files`) files it cannot read.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::CsvOptions;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    CsvSource, FileScanConfigBuilder, FileSource, JsonSource, ParquetFileReaderFactory,
    ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::checkpoint::Checkpoint;
use super::ordering::OrderCheck;
use super::{BadFiles, FileFormatKind, FileOrder, TailSpec};

/// The scan of an unbounded listing table; see the module docs.
#[derive(Debug)]
pub struct TailExec {
    scans: Arc<FileScans>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// Files skipped by the last run, with the cause (`bad_files = 'skip'`).
    skipped: Arc<Mutex<Vec<String>>>,
}

/// Builds the scan of each file, with what the query pushed down.
#[derive(Debug)]
struct FileScans {
    spec: Arc<TailSpec>,
    request: ScanRequest,
}

/// How Parquet files are read: the session's Parquet options and, as DataFusion's
/// listing tables do, its file-metadata cache (keyed by path, size and modification
/// time, so a file replaced under its name is read again).
#[derive(Debug, Clone, Default)]
pub struct ParquetReading {
    pub options: TableParquetOptions,
    pub reader_factory: Option<Arc<dyn ParquetFileReaderFactory>>,
}

/// What a query asks of a scan.
#[derive(Debug, Default)]
pub struct ScanRequest {
    /// The table's columns to output.
    pub output: Vec<usize>,
    /// The table's columns each file scan reads: `output`, then the order's and the
    /// filters' columns it lacks.
    pub read: Vec<usize>,
    /// The query's filters over the `read` columns, applied to every batch in the
    /// stream (a `FilterExec` above would hold rows back to fill its batches).
    pub row_filter: Option<Arc<dyn PhysicalExpr>>,
    /// The same over the table's columns, for Parquet to skip row groups and rows.
    pub parquet_predicate: Option<Arc<dyn PhysicalExpr>>,
    pub parquet: ParquetReading,
    pub limit: Option<usize>,
}

impl TailExec {
    pub fn try_new(spec: Arc<TailSpec>, request: ScanRequest) -> Result<Self> {
        let schema = Arc::new(spec.schema.project(&request.output)?);
        // The declared order, as far as its columns are in the output.
        let ordering: Vec<PhysicalSortExpr> = spec
            .order_by
            .iter()
            .map_while(|column| {
                let index = schema.index_of(&column.name).ok()?;
                Some(PhysicalSortExpr::new(
                    Arc::new(Column::new(&column.name, index)),
                    column.options(),
                ))
            })
            .collect();
        let equivalence = match LexOrdering::new(ordering) {
            Some(ordering) => {
                EquivalenceProperties::new_with_orderings(Arc::clone(&schema), [ordering])
            }
            None => EquivalenceProperties::new(Arc::clone(&schema)),
        };
        let boundedness = match (spec.bounded, request.limit) {
            (false, None) => Boundedness::Unbounded {
                requires_infinite_memory: false,
            },
            _ => Boundedness::Bounded,
        };
        let properties = PlanProperties::new(
            equivalence,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            boundedness,
        );
        Ok(Self {
            scans: Arc::new(FileScans { spec, request }),
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
            skipped: Arc::default(),
        })
    }
}

impl FileScans {
    /// The scan of one file.
    fn file_scan(&self, file: ObjectMeta) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = Arc::clone(&self.spec.schema);
        let source: Arc<dyn FileSource> = match self.spec.format {
            FileFormatKind::Parquet => {
                let mut source = ParquetSource::new(schema)
                    .with_table_parquet_options(self.request.parquet.options.clone());
                if let Some(factory) = &self.request.parquet.reader_factory {
                    source = source.with_parquet_file_reader_factory(Arc::clone(factory));
                }
                if let Some(hint) = self.request.parquet.options.global.metadata_size_hint {
                    source = source.with_metadata_size_hint(hint);
                }
                if let Some(predicate) = &self.request.parquet_predicate {
                    source = source.with_predicate(Arc::clone(predicate));
                }
                Arc::new(source)
            }
            FileFormatKind::Csv => Arc::new(CsvSource::new(schema).with_csv_options(CsvOptions {
                has_header: Some(self.spec.has_header),
                ..Default::default()
            })),
            FileFormatKind::Json => Arc::new(JsonSource::new(schema)),
        };
        let config = FileScanConfigBuilder::new(self.spec.url.object_store(), source)
            .with_file(PartitionedFile::new_from_meta(file))
            .with_projection_indices(Some(self.request.read.clone()))?
            // Rows the filter drops must not count towards the limit.
            .with_limit(
                self.request
                    .limit
                    .filter(|_| self.request.row_filter.is_none()),
            )
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// The counters of a run.
#[derive(Debug, Clone)]
struct TailMetrics {
    files_read: Count,
    files_skipped: Count,
    files_vanished: Count,
    listings: Count,
}

/// A file read by its own task into a small channel, so the next files decode while the
/// current one is emitted: up to twice `target_partitions` files at once, each at most
/// [`READ_AHEAD_BATCHES`] batches ahead of the consumer (what bounds the memory).
struct Reading {
    path: Path,
    batches: tokio::sync::mpsc::Receiver<Result<RecordBatch>>,
    _task: SpawnedTask<()>,
}

/// Batches a file's task may have decoded ahead of the consumer.
const READ_AHEAD_BATCHES: usize = 8;

/// The stream's state between batches.
struct Tail {
    scans: Arc<FileScans>,
    output: SchemaRef,
    store: Arc<dyn ObjectStore>,
    context: Arc<TaskContext>,
    emitted: HashSet<Path>,
    pending: VecDeque<ObjectMeta>,
    /// The files being read, in emission order: the first is the one emitted from, the
    /// others are read ahead.
    reading: VecDeque<Reading>,
    /// How many files are read at once.
    read_ahead: usize,
    listed_once: bool,
    remaining: usize,
    order: Option<OrderCheck>,
    checkpoint: Option<Checkpoint>,
    metrics: TailMetrics,
    skipped: Arc<Mutex<Vec<String>>>,
}

impl Tail {
    /// Opens the checkpoint, if any: its files count as emitted.
    async fn start(&mut self) -> Result<()> {
        let spec = &self.scans.spec;
        if let Some(location) = &spec.checkpoint {
            let checkpoint = Checkpoint::open(location, spec.url.as_str(), &self.context).await?;
            self.emitted
                .extend(checkpoint.files().map(|file| Path::from(file.to_string())));
            self.checkpoint = Some(checkpoint);
        }
        Ok(())
    }

    /// The files of the directory not emitted yet, in the table's order.
    async fn list_new(&mut self) -> Result<Vec<ObjectMeta>> {
        self.metrics.listings.add(1);
        let spec = &self.scans.spec;
        let mut listing = self.store.list(Some(spec.url.prefix()));
        let mut new = vec![];
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| {
                DataFusionError::External(format!("listing {}: {e}", spec.url).into())
            })?;
            if readable_name(meta.location.filename().unwrap_or_default(), spec.format)
                && !self.emitted.contains(&meta.location)
            {
                new.push(meta);
            }
        }
        match spec.order {
            FileOrder::FileName => new.sort_by(|a, b| a.location.cmp(&b.location)),
            FileOrder::ModifiedTime => new.sort_by(|a, b| {
                (a.last_modified, &a.location).cmp(&(b.last_modified, &b.location))
            }),
        }
        Ok(new)
    }

    /// Starts reading `file` in its own task.
    fn start_reading(&mut self, file: ObjectMeta) {
        let path = file.location.clone();
        self.emitted.insert(path.clone());
        let (sender, batches) = tokio::sync::mpsc::channel(READ_AHEAD_BATCHES);
        let opened = self
            .scans
            .file_scan(file)
            .and_then(|scan| scan.execute(0, Arc::clone(&self.context)));
        let task = SpawnedTask::spawn(async move {
            let mut stream = match opened {
                Ok(stream) => stream,
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
            };
            while let Some(batch) = stream.next().await {
                let failed = batch.is_err();
                if sender.send(batch).await.is_err() || failed {
                    return;
                }
            }
        });
        self.reading.push_back(Reading {
            path,
            batches,
            _task: task,
        });
    }

    /// The next batch of the current file, checked; `Ok(None)` at its end.
    async fn next_of_current(&mut self) -> Result<Option<RecordBatch>> {
        while self.reading.len() < self.read_ahead
            && let Some(file) = self.pending.pop_front()
        {
            self.start_reading(file);
        }
        let Some(Reading { path, batches, .. }) = self.reading.front_mut() else {
            return Ok(None);
        };
        let Some(batch) = batches.recv().await.transpose()? else {
            return Ok(None);
        };
        if let Some(order) = self.order.as_mut() {
            order.check(&batch, path.as_ref())?;
        }
        let batch = match &self.scans.request.row_filter {
            Some(filter) => {
                let mask = filter.evaluate(&batch)?.into_array(batch.num_rows())?;
                let mask = datafusion::arrow::array::as_boolean_array(&mask);
                datafusion::arrow::compute::filter_record_batch(&batch, mask)?
            }
            None => batch,
        };
        let width = self.scans.request.output.len();
        let columns = batch.columns()[..width].to_vec();
        let options = datafusion::arrow::array::RecordBatchOptions::new()
            .with_row_count(Some(batch.num_rows()));
        Ok(Some(RecordBatch::try_new_with_options(
            Arc::clone(&self.output),
            columns,
            &options,
        )?))
    }

    /// The current file failed with `error`: gone (not an error), skipped, or the error.
    async fn failed(&mut self, path: Path, error: DataFusionError) -> Result<()> {
        if let Err(object_store::Error::NotFound { .. }) = self.store.head(&path).await {
            self.metrics.files_vanished.add(1);
            return Ok(());
        }
        match self.scans.spec.bad_files {
            BadFiles::Fail => Err(DataFusionError::Execution(format!(
                "reading '{path}' of the unbounded table at {}: {error} (option bad_files \
                 = 'skip' leaves such files out)",
                self.scans.spec.url
            ))),
            BadFiles::Skip => {
                self.metrics.files_skipped.add(1);
                if let Ok(mut skipped) = self.skipped.lock() {
                    skipped.push(format!("{path}: {error}"));
                }
                if let Some(checkpoint) = self.checkpoint.as_mut() {
                    checkpoint.record(path.as_ref()).await?;
                }
                Ok(())
            }
        }
    }

    /// The next batch, or `None` when the stream ends (bounded, or the limit reached).
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.remaining == 0 {
                return Ok(None);
            }
            match self.next_of_current().await {
                Ok(Some(batch)) => {
                    let batch = batch.slice(0, batch.num_rows().min(self.remaining));
                    self.remaining -= batch.num_rows();
                    return Ok(Some(batch));
                }
                Ok(None) => {
                    // The plan has pulled past the file's last row: it is consumed.
                    if let Some(Reading { path, .. }) = self.reading.pop_front() {
                        self.metrics.files_read.add(1);
                        if let Some(checkpoint) = self.checkpoint.as_mut() {
                            checkpoint.record(path.as_ref()).await?;
                        }
                        continue;
                    }
                }
                Err(error) => {
                    let Some(Reading { path, .. }) = self.reading.pop_front() else {
                        return Err(error);
                    };
                    self.failed(path, error).await?;
                    continue;
                }
            }
            if !self.pending.is_empty() {
                continue;
            }
            if self.listed_once && self.scans.spec.bounded {
                return Ok(None);
            }
            if self.listed_once {
                tokio::time::sleep(self.scans.spec.poll_interval).await;
            } else {
                self.start().await?;
            }
            let new = self.list_new().await?;
            self.listed_once = true;
            self.pending.extend(new);
        }
    }
}

/// Whether a file of this name is read: complete files of the format (see the module
/// docs for the names writers use while writing).
fn readable_name(name: &str, format: FileFormatKind) -> bool {
    let staging = name
        .rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    !name.starts_with('.')
        && !name.starts_with('_')
        && !staging
        && ![".tmp", ".inprogress", ".crc"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
        && format.extensions().iter().any(|ext| name.ends_with(ext))
}

impl DisplayAs for TailExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = &self.scans.spec;
        write!(
            f,
            "TailExec: url={}, format={:?}, order={:?}",
            spec.url, spec.format, spec.order
        )?;
        if spec.bounded {
            write!(f, ", bounded")?;
        } else {
            write!(f, ", poll_interval={:?}", spec.poll_interval)?;
        }
        if let Some(checkpoint) = &spec.checkpoint {
            write!(f, ", checkpoint={checkpoint}")?;
        }
        if let Some(limit) = self.scans.request.limit {
            write!(f, ", limit={limit}")?;
        }
        if let Ok(skipped) = self.skipped.lock()
            && !skipped.is_empty()
        {
            write!(f, ", skipped_files=[{}]", skipped.join("; "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for TailExec {
    fn name(&self) -> &str {
        "TailExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for expr in [
            &self.scans.request.row_filter,
            &self.scans.request.parquet_predicate,
        ]
        .into_iter()
        .flatten()
        {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
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
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "TailExec has one partition, asked for {partition}"
            )));
        }
        let spec = &self.scans.spec;
        let store = context
            .runtime_env()
            .object_store(spec.url.object_store())?;
        let order = match spec.order_by.is_empty() {
            true => None,
            false => {
                let read = Arc::new(spec.schema.project(&self.scans.request.read)?);
                Some(OrderCheck::try_new(&spec.order_by, &read)?)
            }
        };
        let counter = |name: &'static str| MetricBuilder::new(&self.metrics).global_counter(name);
        let read_ahead = 2 * context.session_config().target_partitions();
        let tail = Tail {
            scans: Arc::clone(&self.scans),
            output: Arc::clone(&self.schema),
            store,
            context,
            emitted: HashSet::new(),
            pending: VecDeque::new(),
            reading: VecDeque::new(),
            read_ahead,
            listed_once: false,
            remaining: self.scans.request.limit.unwrap_or(usize::MAX),
            order,
            checkpoint: None,
            metrics: TailMetrics {
                files_read: counter("files_read"),
                files_skipped: counter("files_skipped"),
                files_vanished: counter("files_vanished"),
                listings: counter("listings"),
            },
            skipped: Arc::clone(&self.skipped),
        };
        let batches = futures::stream::try_unfold(tail, |mut tail| async move {
            Ok(tail.next().await?.map(|batch| (batch, tail)))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_files_of_the_format_are_read() {
        let parquet = FileFormatKind::Parquet;
        assert!(readable_name("part-0001.parquet", parquet));
        for name in [
            ".part-0001.parquet",
            "_SUCCESS",
            "part-0001.parquet.tmp",
            "part-0001.parquet#12",
            "part-0001.parquet.inprogress",
            "part-0001.csv",
        ] {
            assert!(!readable_name(name, parquet), "{name}");
        }
        assert!(readable_name("facts.jsonl", FileFormatKind::Json));
    }
}
