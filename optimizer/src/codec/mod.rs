//! The bundle's extension codecs: how plans with the bundle's nodes and providers, and
//! with the host's own tables, travel through datafusion-proto — over the FFI query
//! planner, and later to a distributed engine.
//!
//! [`BundleLogicalCodec`] and [`BundlePhysicalCodec`] consult, in order:
//! 1. the bundle's [`CodecEntry`]s ([`codec_entries`], one list for every feature: a
//!    provider or operator that must survive a trip to another process adds one entry
//!    there and nothing else), each writing a portable, named payload;
//! 2. [`handles`]: any other table provider, execution plan or logical node crosses by
//!    handle, within one process (in-memory tables are not copied).
//!
//! A host that loads the bundle's planner gives it these codecs (the loader does; the
//! Python package installs them on the datafusion-python session).

pub mod handles;

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

/// Every portable encoding the bundle has. Empty today: the bundle's current nodes live
/// only inside one planning call; providers and operators of later features add theirs.
pub fn codec_entries() -> Vec<Arc<dyn CodecEntry>> {
    vec![]
}

/// `<len><name>` in front of an entry's payload.
fn tagged(name: &str, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(name.len() as u32).to_le_bytes());
    buf.extend_from_slice(name.as_bytes());
}

/// The entry named at the front of `buf`, and its payload.
fn untag<'b>(
    entries: &[Arc<dyn CodecEntry>],
    buf: &'b [u8],
) -> Result<(Arc<dyn CodecEntry>, &'b [u8])> {
    let unknown = || DataFusionError::Plan("datafusion-cpg codec: unreadable payload".into());
    let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(unknown)?;
    let len = u32::from_le_bytes(*len) as usize;
    let name = rest.get(..len).ok_or_else(unknown)?;
    let name = std::str::from_utf8(name).map_err(|_| unknown())?;
    let entry = entries.iter().find(|e| e.name() == name).ok_or_else(|| {
        DataFusionError::Plan(format!(
            "datafusion-cpg codec: no entry '{name}' in this build (known: {})",
            entries
                .iter()
                .map(|e| e.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok((Arc::clone(entry), &rest[len..]))
}

/// The bundle's logical codec; see the module docs.
#[derive(Debug)]
pub struct BundleLogicalCodec {
    entries: Vec<Arc<dyn CodecEntry>>,
}

impl Default for BundleLogicalCodec {
    fn default() -> Self {
        Self {
            entries: codec_entries(),
        }
    }
}

impl LogicalExtensionCodec for BundleLogicalCodec {
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
        if handles::is_handle(buf) {
            return handles::decode_as(buf, "table provider", |h| match h {
                Handled::Provider(provider) => Some(provider),
                _ => None,
            });
        }
        let (entry, payload) = untag(&self.entries, buf)?;
        entry
            .decode_provider(payload, table_ref, schema, ctx)?
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "codec entry {} decodes no table provider",
                    entry.name()
                ))
            })
    }

    fn try_encode_table_provider(
        &self,
        _table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        for entry in &self.entries {
            let mut payload = vec![];
            if entry.encode_provider(&node, &mut payload)? {
                tagged(entry.name(), buf);
                buf.extend_from_slice(&payload);
                return Ok(());
            }
        }
        handles::encode(Handled::Provider(node), buf);
        Ok(())
    }
}

/// The bundle's physical codec; see the module docs.
#[derive(Debug)]
pub struct BundlePhysicalCodec {
    entries: Vec<Arc<dyn CodecEntry>>,
}

impl Default for BundlePhysicalCodec {
    fn default() -> Self {
        Self {
            entries: codec_entries(),
        }
    }
}

impl PhysicalExtensionCodec for BundlePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if handles::is_handle(buf) {
            // The handle names the whole subtree; the decoded inputs are its own children.
            return handles::decode_as(buf, "execution plan", |h| match h {
                Handled::Plan(plan) => Some(plan),
                _ => None,
            });
        }
        let (entry, payload) = untag(&self.entries, buf)?;
        entry.decode_plan(payload, inputs, ctx)?.ok_or_else(|| {
            DataFusionError::Plan(format!(
                "codec entry {} decodes no execution plan",
                entry.name()
            ))
        })
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        for entry in &self.entries {
            let mut payload = vec![];
            if entry.encode_plan(&node, &mut payload)? {
                tagged(entry.name(), buf);
                buf.extend_from_slice(&payload);
                return Ok(());
            }
        }
        handles::encode(Handled::Plan(node), buf);
        Ok(())
    }
}
