//! An unbounded listing table: a directory of Parquet, CSV or NDJSON files read as a
//! stream. The scan emits the files present, then polls the directory and emits each new
//! file once, in file-name or modification-time order; in bounded mode it stops after
//! the files present at the start.
//!
//! Writers' contract: a file appears under its final name complete (write elsewhere or
//! under an ignored name, then rename). Ignored names: starting with `.` or `_`, ending
//! with `.tmp`, `.inprogress`, `.crc`, or object_store's staging suffix `#<n>`, and names
//! without the format's extension.

pub mod exec;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use exec::{TailExec, TailSpec};

/// The format of the files of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileOrder {
    /// By path, lexicographically (for names carrying a sequence number or time).
    #[default]
    FileName,
    /// By the store's modification time, then path.
    ModifiedTime,
}

/// Builds an [`UnboundedListingProvider`].
#[derive(Debug, Clone)]
pub struct UnboundedListing {
    location: String,
    format: FileFormatKind,
    schema: SchemaRef,
    poll_interval: Duration,
    order: FileOrder,
    bounded: bool,
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
            bounded: false,
        }
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
        Ok(UnboundedListingProvider {
            spec: Arc::new(TailSpec {
                url,
                format: self.format,
                schema: self.schema,
                poll_interval: self.poll_interval,
                order: self.order,
                bounded: self.bounded,
            }),
        })
    }
}

/// A directory of files read as a stream; see the module docs.
#[derive(Clone)]
pub struct UnboundedListingProvider {
    spec: Arc<TailSpec>,
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
        // Parquet skips row groups and rows with them; DataFusion still applies them.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let predicate = match datafusion::logical_expr::utils::conjunction(filters.iter().cloned())
        {
            Some(expr) if self.spec.format == FileFormatKind::Parquet => {
                let df_schema =
                    datafusion::common::DFSchema::try_from(Arc::clone(&self.spec.schema))?;
                Some(state.create_physical_expr(expr, &df_schema)?)
            }
            _ => None,
        };
        Ok(Arc::new(TailExec::try_new(
            Arc::clone(&self.spec),
            projection.cloned(),
            predicate,
            limit,
        )?))
    }
}
