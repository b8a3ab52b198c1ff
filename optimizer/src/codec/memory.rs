//! The portable encoding of DataFusion's in-memory table (`cpg.mem_table.v1`): each
//! partition's batches in Arrow IPC. What `CREATE TABLE .. AS SELECT` builds in a
//! client's session is a `MemTable`; a query over it on a cluster sends its rows along
//! (bounded by the cluster's gRPC message size). Only in [`super::portable_codec_entries`]:
//! within a process an in-memory table crosses by handle.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::execution::TaskContext;

use super::{CodecEntry, put_part, take_part};

const NAME: &str = "cpg.mem_table.v1";

/// See the module docs.
#[derive(Debug, Default)]
pub struct MemTableCodec;

impl CodecEntry for MemTableCodec {
    fn name(&self) -> &str {
        NAME
    }

    fn encode_provider(
        &self,
        provider: &Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(table) = provider.downcast_ref::<MemTable>() else {
            return Ok(false);
        };
        buf.extend_from_slice(&(table.batches.len() as u32).to_le_bytes());
        for partition in &table.batches {
            let batches = partition.try_read().map_err(|_| {
                DataFusionError::Plan(format!(
                    "{NAME}: the in-memory table is being written; encode it afterwards"
                ))
            })?;
            let mut bytes = vec![];
            let mut writer = StreamWriter::try_new(&mut bytes, &table.schema())?;
            for batch in batches.iter() {
                writer.write(batch)?;
            }
            writer.finish()?;
            drop(writer);
            put_part(buf, &bytes);
        }
        Ok(true)
    }

    fn decode_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let (count, mut rest) = buf
            .split_first_chunk::<4>()
            .ok_or_else(|| DataFusionError::Plan(format!("{NAME} payload: too short")))?;
        let partitions = (0..u32::from_le_bytes(*count))
            .map(|_| {
                let bytes = take_part(&mut rest, NAME)?;
                StreamReader::try_new(Cursor::new(bytes), None)?
                    .collect::<std::result::Result<Vec<RecordBatch>, _>>()
                    .map_err(Into::into)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Arc::new(MemTable::try_new(schema, partitions)?)))
    }
}
