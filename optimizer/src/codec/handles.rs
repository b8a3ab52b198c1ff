//! Objects that cross a codec by handle: a process-local, bounded table of providers,
//! plans and logical nodes, and the payload that names one.
//!
//! Within one process (a host, a plugin and datafusion-python share it), a table or plan
//! need not be serialized to cross the FFI planner: the payload carries a handle to the
//! very object, so an in-memory table crosses without copying its data. A payload names
//! its process (a random nonce), so decoding it anywhere else is a clear error rather
//! than another object. The table keeps the most recent [`CAPACITY`] objects: a plan
//! is decoded right after it is encoded, in the same planning call.

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::UserDefinedLogicalNode;
use datafusion::physical_plan::ExecutionPlan;

/// Objects kept; older ones are dropped first.
pub const CAPACITY: usize = 4096;

const MAGIC: &[u8] = b"cpg-handle/1";

/// One object kept for its handle.
#[derive(Clone)]
pub enum Handled {
    Provider(Arc<dyn TableProvider>),
    Plan(Arc<dyn ExecutionPlan>),
    Node(Arc<dyn UserDefinedLogicalNode>),
}

impl Handled {
    fn kind(&self) -> &'static str {
        match self {
            Self::Provider(_) => "table provider",
            Self::Plan(_) => "execution plan",
            Self::Node(_) => "logical node",
        }
    }
}

struct Table {
    nonce: u64,
    next: u64,
    entries: VecDeque<(u64, Handled)>,
}

static TABLE: LazyLock<Mutex<Table>> = LazyLock::new(|| {
    Mutex::new(Table {
        nonce: RandomState::new().hash_one(std::process::id()),
        next: 0,
        entries: VecDeque::new(),
    })
});

fn table() -> std::sync::MutexGuard<'static, Table> {
    // A poisoned lock only means another thread panicked while holding it.
    TABLE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `object` and appends the payload naming it to `buf`.
pub fn encode(object: Handled, buf: &mut Vec<u8>) {
    let mut table = table();
    let id = table.next;
    table.next += 1;
    if table.entries.len() >= CAPACITY {
        table.entries.pop_front();
    }
    table.entries.push_back((id, object));
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&table.nonce.to_le_bytes());
    buf.extend_from_slice(&id.to_le_bytes());
}

/// Whether `buf` is a handle payload.
pub fn is_handle(buf: &[u8]) -> bool {
    buf.starts_with(MAGIC)
}

/// The object `buf` names.
pub fn decode(buf: &[u8]) -> Result<Handled> {
    let rest = buf
        .strip_prefix(MAGIC)
        .filter(|rest| rest.len() == 16)
        .ok_or_else(|| DataFusionError::Plan("not a datafusion-cpg handle payload".into()))?;
    let (nonce, id) = rest.split_at(8);
    let nonce = u64::from_le_bytes(nonce.try_into().unwrap_or_default());
    let id = u64::from_le_bytes(id.try_into().unwrap_or_default());
    let table = table();
    if nonce != table.nonce {
        return Err(DataFusionError::Plan(
            "a datafusion-cpg handle from another process cannot be decoded here: in-memory \
             tables and foreign plans cross a codec by handle, within one process only"
                .into(),
        ));
    }
    table
        .entries
        .iter()
        .find(|(entry, _)| *entry == id)
        .map(|(_, object)| object.clone())
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "datafusion-cpg handle {id} expired (more than {CAPACITY} objects were \
                 encoded after it)"
            ))
        })
}

/// The object `buf` names, which must be a `want`.
pub fn decode_as<T>(buf: &[u8], want: &str, pick: impl FnOnce(Handled) -> Option<T>) -> Result<T> {
    let object = decode(buf)?;
    let kind = object.kind();
    pick(object).ok_or_else(|| {
        DataFusionError::Plan(format!(
            "datafusion-cpg handle names a {kind}, expected a {want}"
        ))
    })
}
