//! The portable encodings of the Delta providers: `cpg.delta_cdf.v1` (the feed's spec and
//! partition columns as JSON; the schema is the one datafusion-proto carries, so decoding
//! does no I/O) and `cpg.delta_snapshot.v1` (the spec pinned to the resolved version;
//! decoding opens the table at that version).

use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion_cpg_providers::delta::cdf::schema::{
    CHANGE_TYPE_COLUMN, COMMIT_TIMESTAMP_COLUMN, COMMIT_VERSION_COLUMN,
};
use datafusion_cpg_providers::delta::{
    CdfSpec, DeltaCdfProvider, DeltaSnapshotProvider, SnapshotSpec,
};
use serde::{Deserialize, Serialize};

use super::{CodecEntry, json_error};

/// `cpg.delta_cdf.v1`; see the module docs.
#[derive(Debug, Default)]
pub struct DeltaCdfCodec;

#[derive(Serialize, Deserialize)]
struct CdfPayload {
    spec: CdfSpec,
    partition_columns: Vec<String>,
}

impl CodecEntry for DeltaCdfCodec {
    fn name(&self) -> &str {
        "cpg.delta_cdf.v1"
    }

    fn encode_provider(
        &self,
        provider: &Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(feed) = provider.downcast_ref::<DeltaCdfProvider>() else {
            return Ok(false);
        };
        let payload = CdfPayload {
            spec: feed.spec().clone(),
            partition_columns: feed.partition_columns().to_vec(),
        };
        serde_json::to_writer(buf, &payload).map_err(json_error(self.name()))?;
        Ok(true)
    }

    fn decode_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let payload: CdfPayload = serde_json::from_slice(buf).map_err(json_error(self.name()))?;
        let feed_columns = [
            CHANGE_TYPE_COLUMN,
            COMMIT_VERSION_COLUMN,
            COMMIT_TIMESTAMP_COLUMN,
        ];
        let table = Schema::new(
            schema
                .fields()
                .iter()
                .filter(|f| !feed_columns.contains(&f.name().as_str()))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let provider =
            DeltaCdfProvider::from_parts(payload.spec, Arc::new(table), payload.partition_columns)?;
        Ok(Some(Arc::new(provider)))
    }
}

/// `cpg.delta_snapshot.v1`; see the module docs.
#[derive(Debug, Default)]
pub struct DeltaSnapshotCodec;

impl CodecEntry for DeltaSnapshotCodec {
    fn name(&self) -> &str {
        "cpg.delta_snapshot.v1"
    }

    fn encode_provider(
        &self,
        provider: &Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(snapshot) = provider.downcast_ref::<DeltaSnapshotProvider>() else {
            return Ok(false);
        };
        serde_json::to_writer(buf, &snapshot.pinned_spec()).map_err(json_error(self.name()))?;
        Ok(true)
    }

    fn decode_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        _schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let spec: SnapshotSpec = serde_json::from_slice(buf).map_err(json_error(self.name()))?;
        Ok(Some(Arc::new(DeltaSnapshotProvider::open_blocking(spec)?)))
    }
}
