//! `TailExec`: the stream of an unbounded listing table. One partition; it lists the
//! directory (the object store directly, never DataFusion's list-files cache), emits the
//! files it has not emitted in the table's file order, each through the format's own
//! file scan (projection, predicate and limit pushed in), and polls again when it runs
//! out.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::CsvOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::{ListingTableUrl, PartitionedFile};
use datafusion::datasource::physical_plan::{
    CsvSource, FileScanConfigBuilder, FileSource, JsonSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStore};

use super::{FileFormatKind, FileOrder};

/// What a scan of the directory needs (shared by the provider and its scans).
#[derive(Debug)]
pub struct TailSpec {
    pub url: ListingTableUrl,
    pub format: FileFormatKind,
    pub schema: SchemaRef,
    pub poll_interval: Duration,
    pub order: FileOrder,
    pub bounded: bool,
}

/// The scan of an unbounded listing table; see the module docs.
#[derive(Debug)]
pub struct TailExec {
    scans: Arc<FileScans>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

/// Builds the scan of each file, with what the query pushed down.
#[derive(Debug)]
struct FileScans {
    spec: Arc<TailSpec>,
    projection: Option<Vec<usize>>,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    limit: Option<usize>,
}

impl TailExec {
    pub fn try_new(
        spec: Arc<TailSpec>,
        projection: Option<Vec<usize>>,
        predicate: Option<Arc<dyn PhysicalExpr>>,
        limit: Option<usize>,
    ) -> Result<Self> {
        let schema = match &projection {
            Some(columns) => Arc::new(spec.schema.project(columns)?),
            None => Arc::clone(&spec.schema),
        };
        let boundedness = match (spec.bounded, limit) {
            (false, None) => Boundedness::Unbounded {
                requires_infinite_memory: false,
            },
            _ => Boundedness::Bounded,
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            boundedness,
        );
        Ok(Self {
            scans: Arc::new(FileScans {
                spec,
                projection,
                predicate,
                limit,
            }),
            schema,
            properties: Arc::new(properties),
        })
    }
}

impl FileScans {
    /// The scan of one file.
    fn file_scan(&self, file: ObjectMeta) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = Arc::clone(&self.spec.schema);
        let source: Arc<dyn FileSource> = match self.spec.format {
            FileFormatKind::Parquet => {
                let mut source = ParquetSource::new(schema);
                if let Some(predicate) = &self.predicate {
                    source = source.with_predicate(Arc::clone(predicate));
                }
                Arc::new(source)
            }
            FileFormatKind::Csv => Arc::new(CsvSource::new(schema).with_csv_options(CsvOptions {
                has_header: Some(true),
                ..Default::default()
            })),
            FileFormatKind::Json => Arc::new(JsonSource::new(schema)),
        };
        let config = FileScanConfigBuilder::new(self.spec.url.object_store(), source)
            .with_file(PartitionedFile::new_from_meta(file))
            .with_projection_indices(self.projection.clone())?
            .with_limit(self.limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// The stream's state between batches.
struct Tail {
    scans: Arc<FileScans>,
    store: Arc<dyn ObjectStore>,
    context: Arc<TaskContext>,
    emitted: HashSet<object_store::path::Path>,
    pending: VecDeque<ObjectMeta>,
    current: Option<SendableRecordBatchStream>,
    listed_once: bool,
    remaining: usize,
}

impl Tail {
    /// The files of the directory not emitted yet, in the table's order.
    async fn list_new(&mut self) -> Result<Vec<ObjectMeta>> {
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

    /// The next batch, or `None` when the stream ends (bounded, or the limit reached).
    async fn next(&mut self) -> Result<Option<datafusion::arrow::array::RecordBatch>> {
        loop {
            if self.remaining == 0 {
                return Ok(None);
            }
            if let Some(current) = self.current.as_mut() {
                match current.next().await {
                    Some(batch) => {
                        let batch = batch?;
                        let batch = if batch.num_rows() > self.remaining {
                            batch.slice(0, self.remaining)
                        } else {
                            batch
                        };
                        self.remaining -= batch.num_rows();
                        return Ok(Some(batch));
                    }
                    None => self.current = None,
                }
            }
            if let Some(file) = self.pending.pop_front() {
                self.emitted.insert(file.location.clone());
                let scan = self.scans.file_scan(file)?;
                self.current = Some(scan.execute(0, Arc::clone(&self.context))?);
                continue;
            }
            if self.listed_once && self.scans.spec.bounded {
                return Ok(None);
            }
            if self.listed_once {
                tokio::time::sleep(self.scans.spec.poll_interval).await;
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
        write!(
            f,
            "TailExec: url={}, format={:?}, order={:?}, {}",
            self.scans.spec.url,
            self.scans.spec.format,
            self.scans.spec.order,
            if self.scans.spec.bounded {
                "bounded".to_string()
            } else {
                format!("poll_interval={:?}", self.scans.spec.poll_interval)
            }
        )?;
        if let Some(limit) = self.scans.limit {
            write!(f, ", limit={limit}")?;
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
        match &self.scans.predicate {
            Some(predicate) => f(predicate),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
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
        let store = context
            .runtime_env()
            .object_store(self.scans.spec.url.object_store())?;
        let tail = Tail {
            scans: Arc::clone(&self.scans),
            store,
            context,
            emitted: HashSet::new(),
            pending: VecDeque::new(),
            current: None,
            listed_once: false,
            remaining: self.scans.limit.unwrap_or(usize::MAX),
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
