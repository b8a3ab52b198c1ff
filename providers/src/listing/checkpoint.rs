//! The checkpoint of an unbounded listing table: the files its scans have consumed,
//! kept in one JSON file so a restarted query resumes after them.
//!
//! A file is recorded when the plan pulls past its last row (the scan has handed over
//! all of it); the checkpoint is rewritten whole with one `put` (atomic on the local file
//! system and on object stores). A query killed in the middle of a file reads that file
//! again from its start on restart: files are consumed whole or not at all.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::TaskContext;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

/// The checkpoint file's content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Recorded {
    /// The format of this file.
    version: u32,
    /// The directory it belongs to.
    table: String,
    files: BTreeSet<String>,
}

const FORMAT_VERSION: u32 = 1;

/// The checkpoint of one scan.
#[derive(Debug)]
pub struct Checkpoint {
    store: Arc<dyn ObjectStore>,
    path: Path,
    recorded: Recorded,
}

impl Checkpoint {
    /// Opens the checkpoint at `location` (a file path or URL, in a store the session
    /// knows) for the table at `table`; an absent file is an empty checkpoint.
    pub async fn open(location: &str, table: &str, context: &TaskContext) -> Result<Self> {
        let url = ListingTableUrl::parse(location)?;
        let store = context.runtime_env().object_store(url.object_store())?;
        let path = url.prefix().clone();
        let failed =
            |e: String| DataFusionError::Execution(format!("the checkpoint at '{location}': {e}"));
        let recorded = match store.get(&path).await {
            Ok(found) => {
                let bytes = found.bytes().await.map_err(|e| failed(e.to_string()))?;
                let recorded: Recorded =
                    serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))?;
                if recorded.version != FORMAT_VERSION {
                    return Err(failed(format!(
                        "format version {} (this build reads {FORMAT_VERSION})",
                        recorded.version
                    )));
                }
                if recorded.table != table {
                    return Err(failed(format!(
                        "it belongs to the table at '{}', not '{table}'",
                        recorded.table
                    )));
                }
                recorded
            }
            Err(object_store::Error::NotFound { .. }) => Recorded {
                version: FORMAT_VERSION,
                table: table.to_string(),
                files: BTreeSet::new(),
            },
            Err(e) => return Err(failed(e.to_string())),
        };
        Ok(Self {
            store,
            path,
            recorded,
        })
    }

    /// The files consumed so far.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.recorded.files.iter().map(String::as_str)
    }

    /// Records `file` as consumed.
    pub async fn record(&mut self, file: &str) -> Result<()> {
        if !self.recorded.files.insert(file.to_string()) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&self.recorded)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.store
            .put(&self.path, PutPayload::from(bytes))
            .await
            .map_err(|e| {
                DataFusionError::Execution(format!("writing the checkpoint '{}': {e}", self.path))
            })?;
        Ok(())
    }
}
