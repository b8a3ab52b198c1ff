//! An unbounded listing table: a directory of Parquet, CSV or NDJSON files read as a
//! stream. The scan emits the files present, then polls the directory and emits each new
//! file once, in file-name or modification-time order; in bounded mode it stops after
//! the files present at the start.
//!
//! Writers' contract: a file appears under its final name complete (write elsewhere or
//! under an ignored name, then rename). Ignored names: starting with `.` or `_`, ending
//! with `.tmp`, `.inprogress`, `.crc`, or object_store's staging suffix `#<n>`, and names
//! without the format's extension.

pub mod checkpoint;
pub mod exec;
pub mod factory;
pub mod ordering;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use exec::TailExec;
pub use factory::UnboundedListingFactory;
pub use ordering::OrderColumn;
use serde::{Deserialize, Serialize};

/// The format of the files of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormatKind {
    Parquet,
    /// With a header line.
    Csv,
    /// Newline-delimited JSON.
    Json,
}

impl FileFormatKind {
    /// The file name extensions read.
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            Self::Parquet => &[".parquet"],
            Self::Csv => &[".csv"],
            Self::Json => &[".json", ".ndjson", ".jsonl"],
        }
    }
}

impl std::str::FromStr for FileFormatKind {
    type Err = DataFusionError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PARQUET" => Ok(Self::Parquet),
            "CSV" => Ok(Self::Csv),
            "JSON" | "NDJSON" => Ok(Self::Json),
            other => Err(DataFusionError::Plan(format!(
                "an unbounded listing table reads PARQUET, CSV or JSON (NDJSON) files, not {other}"
            ))),
        }
    }
}

/// The order files are emitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FileOrder {
    /// By path, lexicographically (for names carrying a sequence number or time).
    #[default]
    FileName,
    /// By the store's modification time, then path.
    ModifiedTime,
}

/// What a scan does with a file it cannot read (corrupt, or not of the table's schema,
/// or out of the declared order). A file deleted before it is read is never an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BadFiles {
    /// The query fails, naming the file and the cause.
    #[default]
    Fail,
    /// The file is left out (rows it had already emitted stay emitted), counted in the
    /// `files_skipped` metric and named in EXPLAIN ANALYZE.
    Skip,
}

/// Everything a scan of the directory needs.
#[derive(Debug, Clone)]
pub struct TailSpec {
    pub url: ListingTableUrl,
    pub format: FileFormatKind,
    pub schema: SchemaRef,
    pub poll_interval: Duration,
    pub order: FileOrder,
    pub order_by: Vec<OrderColumn>,
    pub bounded: bool,
    pub checkpoint: Option<String>,
    pub bad_files: BadFiles,
    /// CSV only: whether the first line is a header.
    pub has_header: bool,
}

/// Builds an [`UnboundedListingProvider`].
#[derive(Debug, Clone)]
pub struct UnboundedListing {
    location: String,
    format: FileFormatKind,
    schema: SchemaRef,
    poll_interval: Duration,
    order: FileOrder,
    order_by: Vec<OrderColumn>,
    bounded: bool,
    checkpoint: Option<String>,
    bad_files: BadFiles,
    has_header: bool,
}

impl UnboundedListing {
    /// The files of the directory `location` (a path or URL; a store URL must be
    /// registered in the session's runtime), with `schema`.
    pub fn new(location: impl Into<String>, format: FileFormatKind, schema: SchemaRef) -> Self {
        Self {
            location: location.into(),
            format,
            schema,
            poll_interval: Duration::from_millis(500),
            order: FileOrder::default(),
            order_by: vec![],
            bounded: false,
            checkpoint: None,
            bad_files: BadFiles::default(),
            has_header: true,
        }
    }

    /// The order the rows of every file, and the files one after another, follow (`WITH
    /// ORDER`): declared to DataFusion and checked on every row.
    pub fn order_by(mut self, columns: Vec<OrderColumn>) -> Self {
        self.order_by = columns;
        self
    }

    /// Where the consumed files are recorded (a file path or URL), so that a restarted
    /// query resumes after them; see [`checkpoint`].
    pub fn checkpoint(mut self, location: impl Into<String>) -> Self {
        self.checkpoint = Some(location.into());
        self
    }

    pub fn bad_files(mut self, policy: BadFiles) -> Self {
        self.bad_files = policy;
        self
    }

    /// CSV: whether the first line of each file is a header (default true).
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// How long the stream waits before listing again when it found nothing new.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    pub fn order(mut self, order: FileOrder) -> Self {
        self.order = order;
        self
    }

    /// Read the files present when the scan starts, then stop.
    pub fn bounded(mut self, bounded: bool) -> Self {
        self.bounded = bounded;
        self
    }

    pub fn build(self) -> Result<UnboundedListingProvider> {
        let mut location = self.location;
        if !location.ends_with('/') {
            location.push('/');
        }
        let url = ListingTableUrl::parse(&location)?;
        if self.poll_interval.is_zero() {
            return Err(DataFusionError::Plan(
                "an unbounded listing table needs a poll interval above zero".into(),
            ));
        }
        // Validates the order's columns.
        ordering::OrderCheck::try_new(&self.order_by, &self.schema)?;
        Ok(UnboundedListingProvider {
            spec: Arc::new(TailSpec {
                url,
                format: self.format,
                schema: self.schema,
                poll_interval: self.poll_interval,
                order: self.order,
                order_by: self.order_by,
                bounded: self.bounded,
                checkpoint: self.checkpoint,
                bad_files: self.bad_files,
                has_header: self.has_header,
            }),
        })
    }
}

/// A directory of files read as a stream; see the module docs.
#[derive(Clone)]
pub struct UnboundedListingProvider {
    spec: Arc<TailSpec>,
}

impl UnboundedListingProvider {
    pub fn spec(&self) -> &TailSpec {
        &self.spec
    }
}

impl fmt::Debug for UnboundedListingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedListingProvider")
            .field("url", &self.spec.url.as_str())
            .field("format", &self.spec.format)
            .field("bounded", &self.spec.bounded)
            .finish()
    }
}

#[async_trait]
impl TableProvider for UnboundedListingProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.spec.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Applied to every batch in the stream (and given to Parquet to skip data).
        Ok(vec![TableProviderFilterPushDown::Exact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = &self.spec.schema;
        let output: Vec<usize> = match projection {
            Some(columns) => columns.clone(),
            None => (0..schema.fields().len()).collect(),
        };
        let mut read = output.clone();
        let order_columns = self.spec.order_by.iter().map(|c| c.name.clone());
        let filter_columns = filters
            .iter()
            .flat_map(|f| f.column_refs())
            .map(|c| c.name.clone());
        for name in order_columns.chain(filter_columns) {
            let index = schema.index_of(&name)?;
            if !read.contains(&index) {
                read.push(index);
            }
        }
        let (mut row_filter, mut parquet_predicate) = (None, None);
        let parquet = self.spec.format == FileFormatKind::Parquet;
        if let Some(filter) = datafusion::logical_expr::utils::conjunction(filters.iter().cloned())
        {
            let read_schema = DFSchema::try_from(schema.project(&read)?)?;
            row_filter = Some(state.create_physical_expr(filter.clone(), &read_schema)?);
            if parquet {
                let table_schema = DFSchema::try_from(Arc::clone(schema))?;
                parquet_predicate = Some(state.create_physical_expr(filter, &table_schema)?);
            }
        }
        let mut parquet_reading = exec::ParquetReading::default();
        if parquet {
            let runtime = state.runtime_env();
            let store = runtime.object_store(self.spec.url.object_store())?;
            let cache = runtime.cache_manager.get_file_metadata_cache();
            parquet_reading = exec::ParquetReading {
                options: state.table_options().parquet.clone(),
                reader_factory: Some(Arc::new(CachedParquetFileReaderFactory::new(store, cache))),
            };
        }
        let request = exec::ScanRequest {
            output,
            read,
            row_filter,
            parquet_predicate,
            parquet: parquet_reading,
            limit,
        };
        Ok(Arc::new(TailExec::try_new(
            Arc::clone(&self.spec),
            request,
        )?))
    }
}
