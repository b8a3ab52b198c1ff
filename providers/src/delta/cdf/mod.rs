//! The change data feed of a Delta table as a DataFusion table: every row inserted,
//! updated (pre- and post-image) or deleted between two versions or timestamps
//! (inclusive), with `_change_type`, `_commit_version` and `_commit_timestamp`.
//!
//! - [`feed`]: which commits and files a scan reads (and the checks on the way);
//! - [`filters`]: what the query's filters say before any data is read;
//! - [`schema`]: the output columns and each kind of file's scan layout;
//! - [`exec`]: the streaming, version-ordered physical scan.
//!
//! The provider's schema is fixed when it is created: the table's schema at the feed's
//! end version (the latest one when the feed has no end). Each scan re-reads the log,
//! so a feed without an end sees commits made after its creation.

pub mod deletion_vectors;
pub mod exec;
pub mod feed;
pub mod filters;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::kernel::Snapshot;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::logstore::LogStoreRef;
use serde::{Deserialize, Serialize};

use self::exec::{DeltaCdfExec, ScanRequest};
use self::feed::{read_feed, resolve_range};
use self::filters::{CommitFilter, prune_partitions};
use self::schema::{
    CHANGE_TYPE_COLUMN, COMMIT_TIMESTAMP_COLUMN, COMMIT_VERSION_COLUMN, FeedSchema,
};
use super::location::{DeltaLocation, TableStore, delta_error};
use super::log::DeltaLog;
use super::options::{MissingFiles, VersionBound};

pub use self::exec::DeltaCdfExec as Exec;

/// What a change feed reads: everything needed to re-create the provider elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdfSpec {
    pub location: DeltaLocation,
    pub start: VersionBound,
    /// `None`: up to the latest version at each scan.
    pub end: Option<VersionBound>,
    pub missing_files: MissingFiles,
}

/// Builds a [`DeltaCdfProvider`].
///
/// ```no_run
/// # async fn f() -> datafusion::common::Result<()> {
/// use datafusion_cpg_providers::delta::DeltaCdf;
/// let feed = DeltaCdf::new("/data/cpg/nodes").starting_version(3).ending_version(7).build().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeltaCdf {
    location: String,
    storage_options: BTreeMap<String, String>,
    start: Option<VersionBound>,
    end: Option<VersionBound>,
    missing_files: MissingFiles,
}

impl DeltaCdf {
    /// The feed of the table at `location` (a local directory or a URL).
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            storage_options: BTreeMap::new(),
            start: None,
            end: None,
            missing_files: MissingFiles::Fail,
        }
    }

    pub fn starting_version(mut self, version: u64) -> Self {
        self.start = Some(VersionBound::Version(version));
        self
    }

    pub fn ending_version(mut self, version: u64) -> Self {
        self.end = Some(VersionBound::Version(version));
        self
    }

    /// From the first version committed at or after `micros` (µs since the epoch, UTC).
    pub fn starting_timestamp(mut self, micros: i64) -> Self {
        self.start = Some(VersionBound::Timestamp(micros));
        self
    }

    /// To the last version committed at or before `micros`.
    pub fn ending_timestamp(mut self, micros: i64) -> Self {
        self.end = Some(VersionBound::Timestamp(micros));
        self
    }

    pub fn starting(mut self, bound: VersionBound) -> Self {
        self.start = Some(bound);
        self
    }

    pub fn ending(mut self, bound: Option<VersionBound>) -> Self {
        self.end = bound;
        self
    }

    pub fn missing_files(mut self, policy: MissingFiles) -> Self {
        self.missing_files = policy;
        self
    }

    /// An object-store option (credentials, region...), as deltalake names it.
    pub fn storage_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.storage_options.insert(key.into(), value.into());
        self
    }

    pub fn storage_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.storage_options.extend(options);
        self
    }

    /// The spec of this feed (no I/O).
    pub fn spec(&self) -> Result<CdfSpec> {
        let start = self.start.ok_or_else(|| {
            DataFusionError::Plan(
                "a change feed needs a start: starting_version or starting_timestamp".into(),
            )
        })?;
        Ok(CdfSpec {
            location: DeltaLocation::new(&self.location, self.storage_options.clone())?,
            start,
            end: self.end,
            missing_files: self.missing_files,
        })
    }

    /// Opens the table and fixes the feed's schema.
    pub async fn build(self) -> Result<DeltaCdfProvider> {
        DeltaCdfProvider::try_new(self.spec()?).await
    }
}

/// The change feed of a Delta table; see the module docs.
#[derive(Debug, Clone)]
pub struct DeltaCdfProvider {
    spec: CdfSpec,
    log_store: LogStoreRef,
    /// Kept across scans: the commits it has read are not read again.
    log: DeltaLog,
    feed_schema: FeedSchema,
}

impl DeltaCdfProvider {
    pub async fn try_new(spec: CdfSpec) -> Result<Self> {
        crate::blocking::in_runtime(Self::open(spec)).await
    }

    async fn open(spec: CdfSpec) -> Result<Self> {
        let log_store = spec.location.log_store()?;
        let log = DeltaLog::new(Arc::clone(&log_store));
        // The schema at the end of the range (validated against the range at each scan).
        let range = resolve_range(&log, spec.start, spec.end).await?;
        let version = spec.end.map(|_| *range.end());
        let (table, partition_columns) = table_schema(&log_store, version).await?;
        let feed_schema = FeedSchema::new(table, partition_columns)?;
        Ok(Self {
            spec,
            log_store,
            log,
            feed_schema,
        })
    }

    /// Re-creates a provider from its spec and the schema it had (no I/O: the codec's
    /// path; the schema is checked against the log at each scan).
    pub fn from_parts(
        spec: CdfSpec,
        table: SchemaRef,
        partition_columns: Vec<String>,
    ) -> Result<Self> {
        let log_store = spec.location.log_store()?;
        Ok(Self {
            log: DeltaLog::new(Arc::clone(&log_store)),
            log_store,
            spec,
            feed_schema: FeedSchema::new(table, partition_columns)?,
        })
    }

    pub fn spec(&self) -> &CdfSpec {
        &self.spec
    }

    /// The table's columns (without the feed's three).
    pub fn table_schema(&self) -> &SchemaRef {
        self.feed_schema.table()
    }

    pub fn partition_columns(&self) -> &[String] {
        self.feed_schema.partition_columns()
    }
}

/// The table's schema and partition columns at `version` (the latest if `None`).
pub(crate) async fn table_schema(
    log_store: &LogStoreRef,
    version: Option<u64>,
) -> Result<(SchemaRef, Vec<String>)> {
    let table = log_store.root_url().to_string();
    let snapshot = Snapshot::try_new(log_store.as_ref(), version)
        .await
        .map_err(delta_error(&format!("loading the Delta table at {table}")))?;
    let schema: Schema = snapshot.schema().as_ref().try_into_arrow().map_err(|e| {
        DataFusionError::External(format!("the schema of {table} in Arrow: {e}").into())
    })?;
    Ok((
        Arc::new(schema),
        snapshot.metadata().partition_columns().to_vec(),
    ))
}

#[async_trait]
impl TableProvider for DeltaCdfProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(self.feed_schema.output())
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Used to skip commits, files and row groups; DataFusion still applies them.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let log = &self.log;
        let store = TableStore::of(&self.log_store)?;
        let commit_filter = CommitFilter::from_filters(filters);
        let mut feed = crate::blocking::in_runtime(async {
            let range = resolve_range(log, self.spec.start, self.spec.end).await?;
            read_feed(
                log,
                &store,
                range,
                &commit_filter,
                self.feed_schema.table(),
                self.spec.missing_files,
            )
            .await
        })
        .await?;
        let partition_fields = self.feed_schema.partition_fields();
        feed.files = prune_partitions(feed.files, filters, &partition_fields, state)?;
        let data_filters = filters
            .iter()
            .filter(|f| reads_data_columns_only(f, &self.feed_schema))
            .cloned()
            .collect();
        let options = state.config_options();
        let request = ScanRequest {
            session: state,
            projection,
            data_filters,
            limit,
            target_partitions: options.execution.target_partitions,
            parquet_options: state.table_options().parquet.clone(),
        };
        let table = self.log_store.root_url().to_string();
        Ok(Arc::new(DeltaCdfExec::try_new(
            table,
            feed,
            &self.feed_schema,
            store,
            request,
        )?))
    }
}

/// Whether a filter reads only the table's data columns (so Parquet can evaluate it).
fn reads_data_columns_only(filter: &Expr, feed_schema: &FeedSchema) -> bool {
    let columns = filter.column_refs();
    !columns.is_empty()
        && columns.iter().all(|c| {
            let name = c.name.as_str();
            ![
                CHANGE_TYPE_COLUMN,
                COMMIT_VERSION_COLUMN,
                COMMIT_TIMESTAMP_COLUMN,
            ]
            .contains(&name)
                && !feed_schema.partition_columns().iter().any(|p| p == name)
                && feed_schema.table().field_with_name(name).is_ok()
        })
}
