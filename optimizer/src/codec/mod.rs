//! The bundle's extension codecs: how plans with the bundle's nodes and providers, and
//! with the host's own tables, travel through datafusion-proto — over the FFI query
//! planner, and later to a distributed engine.
//!
//! [`BundleCodec`] (logical and physical) consults, in order:
//! 1. the bundle's [`CodecEntry`]s ([`codec_entries`], one list for every feature: a
//!    provider or operator that must survive a trip to another process adds one entry
//!    there and nothing else), each writing a portable, named payload;
//! 2. [`handles`]: any other table provider, execution plan or logical node crosses by
//!    handle, within one process (in-memory tables are not copied).
//!
//! A host that loads the bundle's planner gives it these codecs (the loader does; the
//! Python package installs them on the datafusion-python session).

pub mod delta;
pub mod handles;
pub mod listing;
pub mod memory;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use handles::Handled;

/// Encodes and decodes one kind of bundle provider or operator portably. Every method
/// answers `Ok(false)` / `Ok(None)` for objects of other kinds.
pub trait CodecEntry: std::fmt::Debug + Send + Sync {
    /// The payload tag; never changes once released.
    fn name(&self) -> &str;

    fn encode_provider(
        &self,
        _provider: &Arc<dyn TableProvider>,
        _buf: &mut Vec<u8>,
    ) -> Result<bool> {
        Ok(false)
    }

    fn decode_provider(
        &self,
        _buf: &[u8],
        _table_ref: &TableReference,
        _schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(None)
    }

    fn encode_plan(&self, _plan: &Arc<dyn ExecutionPlan>, _buf: &mut Vec<u8>) -> Result<bool> {
        Ok(false)
    }

    fn decode_plan(
        &self,
        _buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        Ok(None)
    }
}

/// Every portable encoding the bundle has (the DML nodes live only inside one planning
/// call and need none). In-memory tables are not among them: within a process they cross
/// by handle, without copying their rows (see [`portable_codec_entries`]).
pub fn codec_entries() -> Vec<Arc<dyn CodecEntry>> {
    vec![
        Arc::new(crate::span_join::codec::SpanJoinCodec),
        Arc::new(crate::span_align::codec::SpanAlignCodec::default()),
        Arc::new(delta::DeltaCdfCodec),
        Arc::new(delta::DeltaSnapshotCodec),
        Arc::new(listing::UnboundedListingCodec),
    ]
}

/// [`codec_entries`] for plans that leave the process (a cluster): in-memory tables
/// travel with their rows (`cpg.mem_table.v1`), and the plans nested in a payload
/// (`span_align`'s inputs) are encoded with these entries too.
pub fn portable_codec_entries() -> Vec<Arc<dyn CodecEntry>> {
    vec![
        Arc::new(crate::span_join::codec::SpanJoinCodec),
        Arc::new(crate::span_align::codec::SpanAlignCodec::portable()),
        Arc::new(delta::DeltaCdfCodec),
        Arc::new(delta::DeltaSnapshotCodec),
        Arc::new(listing::UnboundedListingCodec),
        Arc::new(memory::MemTableCodec),
    ]
}

/// Appends `bytes` to a payload with their length in front (see [`take_part`]).
pub fn put_part(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

/// Takes the next part [`put_part`] wrote off the front of `buf`; `what` names the
/// payload in the error.
pub fn take_part<'a>(buf: &mut &'a [u8], what: &str) -> Result<&'a [u8]> {
    let short = || DataFusionError::Plan(format!("{what} payload: too short"));
    let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(short)?;
    let len = u32::from_le_bytes(*len) as usize;
    let part = rest.get(..len).ok_or_else(short)?;
    *buf = &rest[len..];
    Ok(part)
}

/// The error of a JSON payload that does not parse, naming the codec entry.
fn json_error(name: &str) -> impl FnOnce(serde_json::Error) -> DataFusionError + '_ {
    move |e| DataFusionError::Plan(format!("{name} payload: {e}"))
}

/// The bundle's logical and physical codec; see the module docs.
#[derive(Debug)]
pub struct BundleCodec {
    entries: Vec<Arc<dyn CodecEntry>>,
}

impl Default for BundleCodec {
    fn default() -> Self {
        Self {
            entries: codec_entries(),
        }
    }
}

impl BundleCodec {
    /// The codec for plans that leave the process: [`portable_codec_entries`].
    pub fn portable() -> Self {
        Self {
            entries: portable_codec_entries(),
        }
    }

    /// Writes the payload of the first entry that encodes the object (`encode` says
    /// whether it did), tagged with the entry's name; else the object's handle.
    fn encode(
        &self,
        buf: &mut Vec<u8>,
        encode: impl Fn(&dyn CodecEntry, &mut Vec<u8>) -> Result<bool>,
        handle: impl FnOnce() -> Handled,
    ) -> Result<()> {
        for entry in &self.entries {
            let mut payload = vec![];
            if encode(entry.as_ref(), &mut payload)? {
                buf.extend_from_slice(&(entry.name().len() as u32).to_le_bytes());
                buf.extend_from_slice(entry.name().as_bytes());
                buf.extend_from_slice(&payload);
                return Ok(());
            }
        }
        handles::encode(handle(), buf);
        Ok(())
    }

    /// Decodes `buf`: a handle to a `what` (`pick` takes it out), or the payload of the
    /// entry named at its front (`decode` reads it).
    fn decode<T>(
        &self,
        buf: &[u8],
        what: &str,
        pick: impl FnOnce(Handled) -> Option<T>,
        decode: impl FnOnce(&dyn CodecEntry, &[u8]) -> Result<Option<T>>,
    ) -> Result<T> {
        if handles::is_handle(buf) {
            return handles::decode_as(buf, what, pick);
        }
        let unreadable =
            || DataFusionError::Plan("datafusion-cpg codec: unreadable payload".into());
        let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(unreadable)?;
        let len = u32::from_le_bytes(*len) as usize;
        let name = rest.get(..len).ok_or_else(unreadable)?;
        let name = std::str::from_utf8(name).map_err(|_| unreadable())?;
        let entry = self
            .entries
            .iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.entries.iter().map(|e| e.name()).collect();
                DataFusionError::Plan(format!(
                    "datafusion-cpg codec: no entry '{name}' in this build (known: {})",
                    known.join(", ")
                ))
            })?;
        decode(entry.as_ref(), &rest[len..])?
            .ok_or_else(|| DataFusionError::Plan(format!("codec entry {name} decodes no {what}")))
    }
}

impl LogicalExtensionCodec for BundleCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        _ctx: &TaskContext,
    ) -> Result<Extension> {
        let node = handles::decode_as(buf, "logical node", |h| match h {
            Handled::Node(node) => Some(node),
            _ => None,
        })?;
        let node = node.with_exprs_and_inputs(node.expressions(), inputs.to_vec())?;
        Ok(Extension { node })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        handles::encode(Handled::Node(Arc::clone(&node.node)), buf);
        Ok(())
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.decode(
            buf,
            "table provider",
            |h| match h {
                Handled::Provider(provider) => Some(provider),
                _ => None,
            },
            |entry, payload| entry.decode_provider(payload, table_ref, schema, ctx),
        )
    }

    fn try_encode_table_provider(
        &self,
        _table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.encode(
            buf,
            |entry, payload| entry.encode_provider(&node, payload),
            || Handled::Provider(Arc::clone(&node)),
        )
    }
}

impl PhysicalExtensionCodec for BundleCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A handle names the whole subtree; the decoded inputs are its own children.
        self.decode(
            buf,
            "execution plan",
            |h| match h {
                Handled::Plan(plan) => Some(plan),
                _ => None,
            },
            |entry, payload| entry.decode_plan(payload, inputs, ctx),
        )
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.encode(
            buf,
            |entry, payload| entry.encode_plan(&node, payload),
            || Handled::Plan(Arc::clone(&node)),
        )
    }
}
