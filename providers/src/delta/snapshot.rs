//! Time travel: a Delta table as it was at a version or a timestamp (or its latest
//! version), as a DataFusion table. The version is resolved when the provider is created
//! (a timestamp by binary search over the log, with the commit timestamps the change
//! feed uses); scans are deltalake's own `DeltaScan` at that version (file skipping,
//! deletion vectors, column mapping).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Constraints, DataFusionError, Result, Statistics};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};

use super::location::DeltaLocation;
use super::log::DeltaLog;
use super::options::VersionBound;

/// Which table and which point of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSpec {
    pub location: DeltaLocation,
    /// `None`: the latest version when the provider is created.
    pub at: Option<VersionBound>,
}

/// Builds a [`DeltaSnapshotProvider`].
#[derive(Debug, Clone)]
pub struct DeltaSnapshot {
    location: String,
    storage_options: BTreeMap<String, String>,
    at: Option<VersionBound>,
}

impl DeltaSnapshot {
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            storage_options: BTreeMap::new(),
            at: None,
        }
    }

    pub fn version(mut self, version: u64) -> Self {
        self.at = Some(VersionBound::Version(version));
        self
    }

    /// The last version committed at or before `micros` (µs since the epoch, UTC).
    pub fn timestamp(mut self, micros: i64) -> Self {
        self.at = Some(VersionBound::Timestamp(micros));
        self
    }

    pub fn at(mut self, bound: Option<VersionBound>) -> Self {
        self.at = bound;
        self
    }

    pub fn storage_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.storage_options.insert(key.into(), value.into());
        self
    }

    pub fn storage_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.storage_options.extend(options);
        self
    }

    pub fn spec(&self) -> Result<SnapshotSpec> {
        Ok(SnapshotSpec {
            location: DeltaLocation::new(&self.location, self.storage_options.clone())?,
            at: self.at,
        })
    }

    pub async fn build(self) -> Result<DeltaSnapshotProvider> {
        DeltaSnapshotProvider::try_new(self.spec()?).await
    }
}

/// A Delta table at one version; see the module docs.
#[derive(Debug, Clone)]
pub struct DeltaSnapshotProvider {
    spec: SnapshotSpec,
    version: u64,
    inner: Arc<dyn TableProvider>,
}

impl DeltaSnapshotProvider {
    pub async fn try_new(spec: SnapshotSpec) -> Result<Self> {
        crate::blocking::in_runtime(Self::open(spec)).await
    }

    async fn open(spec: SnapshotSpec) -> Result<Self> {
        let unloaded = spec.location.table()?;
        let log_store = unloaded.log_store();
        let log = DeltaLog::new(Arc::clone(&log_store));
        let table = log_store.root_url().to_string();
        let available = log.versions().await?;
        let version = match spec.at {
            None => *available.end(),
            Some(VersionBound::Version(v)) if available.contains(&v) => v,
            Some(VersionBound::Version(v)) => {
                return Err(DataFusionError::Plan(format!(
                    "{table} has no version {v}: its log holds versions {} to {}",
                    available.start(),
                    available.end()
                )));
            }
            Some(bound @ VersionBound::Timestamp(micros)) => log
                .last_version_at_or_before(micros, available.clone())
                .await?
                .ok_or_else(|| {
                    DataFusionError::Plan(format!(
                        "{table} has no version at {bound}: its earliest commit in the log \
                         (version {}) is later",
                        available.start()
                    ))
                })?,
        };
        let inner = unloaded
            .table_provider()
            .with_table_version(version)
            .await
            .map_err(|e| {
                DataFusionError::External(
                    format!("loading version {version} of {table}: {e}").into(),
                )
            })?;
        Ok(Self {
            spec,
            version,
            inner,
        })
    }

    pub fn spec(&self) -> &SnapshotSpec {
        &self.spec
    }

    /// The spec that re-creates this provider elsewhere: the resolved version, not the
    /// timestamp or "latest" it was asked for.
    pub fn pinned_spec(&self) -> SnapshotSpec {
        SnapshotSpec {
            location: self.spec.location.clone(),
            at: Some(VersionBound::Version(self.version)),
        }
    }

    /// [`Self::try_new`] from a synchronous caller (a codec's decode).
    pub fn open_blocking(spec: SnapshotSpec) -> Result<Self> {
        crate::blocking::run(Self::try_new(spec))
    }

    /// The version this provider reads.
    pub fn version(&self) -> u64 {
        self.version
    }
}

#[async_trait]
impl TableProvider for DeltaSnapshotProvider {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        self.inner.get_logical_plan()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        crate::blocking::in_runtime(self.inner.scan(state, projection, filters, limit)).await
    }
}
