//! [`ClusterCodec`]: the codec of every party of a cluster. Ballista's own nodes (shuffle
//! readers and writers, its cache node, file formats of `COPY TO`) go through Ballista's
//! codecs, everything else through the bundle's [`BundleCodec`] — each node is encoded
//! once, by the codec that owns it, behind a one-byte tag saying which. The bundle's
//! tables decoded on the scheduler are [`ReplayableTable`]s, whose scans travel as
//! [`ReplayedScanExec`]s (see [`crate::replay`]).
//!
//! (Ballista's codecs have no way to take another codec for the nodes they do not
//! know: configured with the bundle's codec alone, Ballista's nodes would cross by
//! in-process handle and a multi-process cluster would fail.)

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_cpg::optimizer::codec::BundleCodec;

use crate::replay::{ReplayableTable, ReplayedScanExec};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

const BALLISTA: u8 = 0;
const BUNDLE: u8 = 1;
const REPLAYED_SCAN: u8 = 2;

/// See the module docs.
#[derive(Debug)]
pub struct ClusterCodec {
    ballista_logical: BallistaLogicalExtensionCodec,
    ballista_physical: BallistaPhysicalExtensionCodec,
    bundle: BundleCodec,
}

impl Default for ClusterCodec {
    /// Plans leave the process: the bundle's portable entries, in-memory tables included.
    fn default() -> Self {
        Self {
            ballista_logical: BallistaLogicalExtensionCodec::default(),
            ballista_physical: BallistaPhysicalExtensionCodec::default(),
            bundle: BundleCodec::portable(),
        }
    }
}

/// Writes Ballista's encoding if Ballista's codec takes the node, else the bundle's.
fn encode_tagged(
    buf: &mut Vec<u8>,
    ballista: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    bundle: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    let mut payload = vec![];
    if ballista(&mut payload).is_ok() {
        buf.push(BALLISTA);
        buf.extend_from_slice(&payload);
        Ok(())
    } else {
        buf.push(BUNDLE);
        bundle(buf)
    }
}

/// Hands the payload to the codec its tag names.
fn decode_tagged<T>(
    buf: &[u8],
    ballista: impl FnOnce(&[u8]) -> Result<T>,
    bundle: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
    match buf.split_first() {
        Some((&BALLISTA, payload)) => ballista(payload),
        Some((&BUNDLE, payload)) => bundle(payload),
        _ => Err(DataFusionError::Plan(
            "datafusion-cpg cluster codec: a payload without its codec tag (was it \
             encoded by a party without the bundle?)"
                .into(),
        )),
    }
}

impl LogicalExtensionCodec for ClusterCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        decode_tagged(
            buf,
            |b| self.ballista_logical.try_decode(b, inputs, ctx),
            |b| LogicalExtensionCodec::try_decode(&self.bundle, b, inputs, ctx),
        )
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        encode_tagged(
            buf,
            |b| self.ballista_logical.try_encode(node, b),
            |b| LogicalExtensionCodec::try_encode(&self.bundle, node, b),
        )
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let table = self
            .bundle
            .try_decode_table_provider(buf, table_ref, schema, ctx)?;
        Ok(ReplayableTable::wrap(table))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.bundle.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista_logical.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista_logical.try_encode_file_format(buf, node)
    }
}

impl PhysicalExtensionCodec for ClusterCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some((&REPLAYED_SCAN, payload)) = buf.split_first() {
            return ReplayedScanExec::decode(payload, ctx);
        }
        decode_tagged(
            buf,
            |b| self.ballista_physical.try_decode(b, inputs, ctx, converter),
            |b| PhysicalExtensionCodec::try_decode(&self.bundle, b, inputs, ctx, converter),
        )
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(scan) = node.downcast_ref::<ReplayedScanExec>() {
            buf.push(REPLAYED_SCAN);
            return scan.encode(buf);
        }
        encode_tagged(
            buf,
            |b| {
                self.ballista_physical
                    .try_encode(Arc::clone(&node), b, converter)
            },
            |b| PhysicalExtensionCodec::try_encode(&self.bundle, Arc::clone(&node), b, converter),
        )
    }
}
