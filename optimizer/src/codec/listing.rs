//! The portable encoding of the unbounded listing table: `cpg.unbounded_listing.v1`, its
//! options as JSON (the schema is the one datafusion-proto carries; decoding does no
//! I/O).

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion_cpg_providers::listing::{
    BadFiles, FileFormatKind, FileOrder, OrderColumn, UnboundedListing, UnboundedListingProvider,
};
use serde::{Deserialize, Serialize};

use super::{CodecEntry, json_error};

/// `cpg.unbounded_listing.v1`; see the module docs.
#[derive(Debug, Default)]
pub struct UnboundedListingCodec;

#[derive(Serialize, Deserialize)]
struct ListingPayload {
    location: String,
    format: FileFormatKind,
    poll_interval_micros: u64,
    order: FileOrder,
    order_by: Vec<OrderColumn>,
    bounded: bool,
    checkpoint: Option<String>,
    bad_files: BadFiles,
    has_header: bool,
}

impl CodecEntry for UnboundedListingCodec {
    fn name(&self) -> &str {
        "cpg.unbounded_listing.v1"
    }

    fn encode_provider(
        &self,
        provider: &Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(listing) = provider.downcast_ref::<UnboundedListingProvider>() else {
            return Ok(false);
        };
        let spec = listing.spec();
        let payload = ListingPayload {
            location: spec.url.as_str().to_string(),
            format: spec.format,
            poll_interval_micros: spec.poll_interval.as_micros() as u64,
            order: spec.order,
            order_by: spec.order_by.clone(),
            bounded: spec.bounded,
            checkpoint: spec.checkpoint.clone(),
            bad_files: spec.bad_files,
            has_header: spec.has_header,
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
        let payload: ListingPayload =
            serde_json::from_slice(buf).map_err(json_error(self.name()))?;
        let mut listing = UnboundedListing::new(payload.location, payload.format, schema)
            .poll_interval(Duration::from_micros(payload.poll_interval_micros))
            .order(payload.order)
            .order_by(payload.order_by)
            .bounded(payload.bounded)
            .bad_files(payload.bad_files)
            .has_header(payload.has_header);
        if let Some(checkpoint) = payload.checkpoint {
            listing = listing.checkpoint(checkpoint);
        }
        Ok(Some(Arc::new(listing.build()?)))
    }
}
