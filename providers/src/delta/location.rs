//! Where a Delta table is: its location (a local path or a URL) and the storage options
//! handed to the object store, the log store opened from them, and the object store its
//! data files are read through.
//!
//! Data files are read through a store registered under a URL private to the table
//! (`delta-cpg://<hash of the table root>`), registered into the runtime of the task
//! that reads them (so it works in a session that crossed FFI, whose runtime is not the
//! one the provider was planned in).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use deltalake::logstore::LogStoreRef;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError, ObjectStore};
use serde::{Deserialize, Serialize};
use url::Url;

/// A Delta table's location and storage options, as given by the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaLocation {
    pub url: String,
    /// Options for the object store (credentials, region, endpoint...), as deltalake
    /// names them. Sorted, so that equal locations encode equally.
    pub storage_options: BTreeMap<String, String>,
}

impl DeltaLocation {
    /// `location` is a URL (`s3://bucket/t`, `file:///data/t`) or a local path, which must
    /// be an existing directory.
    pub fn new(location: &str, storage_options: BTreeMap<String, String>) -> Result<Self> {
        let url = table_url(location)?;
        Ok(Self {
            url: url.to_string(),
            storage_options,
        })
    }

    /// Opens the table's log store (no I/O yet).
    pub fn log_store(&self) -> Result<LogStoreRef> {
        Ok(self.table()?.log_store())
    }

    /// The table, not loaded (no I/O yet).
    pub fn table(&self) -> Result<DeltaTable> {
        let url = Url::parse(&self.url)
            .map_err(|e| DataFusionError::Plan(format!("Delta location {}: {e}", self.url)))?;
        let options: HashMap<String, String> = self.storage_options.clone().into_iter().collect();
        DeltaTableBuilder::from_url(url)
            .and_then(|builder| builder.with_storage_options(options).build())
            .map_err(delta_error(&format!(
                "opening the Delta table at {}",
                self.url
            )))
    }
}

/// A local path or a URL, normalized to a URL ending with `/`.
fn table_url(location: &str) -> Result<Url> {
    let location = location.trim();
    if location.is_empty() {
        return Err(DataFusionError::Plan(
            "a Delta table location is required (a local directory or a URL)".into(),
        ));
    }
    let mut url = match Url::parse(location) {
        // One-letter schemes are Windows drives, not URLs.
        Ok(url) if url.scheme().len() > 1 => url,
        _ => {
            let path = std::fs::canonicalize(location).map_err(|e| {
                DataFusionError::Plan(format!("no Delta table at '{location}': {e}"))
            })?;
            Url::from_directory_path(&path).map_err(|()| {
                DataFusionError::Plan(format!("'{location}' is not a directory path"))
            })?
        }
    };
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// A data-file store rooted at a table, under a URL private to that table.
#[derive(Debug, Clone)]
pub struct TableStore {
    pub url: ObjectStoreUrl,
    store: Arc<dyn ObjectStore>,
}

impl TableStore {
    pub fn of(log_store: &LogStoreRef) -> Result<Self> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        log_store.root_url().as_str().hash(&mut hasher);
        let url = ObjectStoreUrl::parse(format!("delta-cpg://{:016x}", hasher.finish()))?;
        Ok(Self {
            url,
            store: log_store.object_store(None),
        })
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Makes the store reachable from `runtime` (idempotent).
    pub fn register(&self, runtime: &RuntimeEnv) {
        if runtime.object_store(&self.url).is_err() {
            runtime.register_object_store(self.url.as_ref(), Arc::clone(&self.store));
        }
    }
}

/// Maps a deltalake error to a DataFusion error that says what was being done.
pub fn delta_error(doing: &str) -> impl FnOnce(DeltaTableError) -> DataFusionError + '_ {
    move |error| DataFusionError::External(format!("{doing}: {error}").into())
}
