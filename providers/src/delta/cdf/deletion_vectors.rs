//! The rows of a data file that a commit changes through deletion vectors, as a Parquet
//! row selection for the file's scan.
//!
//! In a commit without change data files (Delta protocol, "Change Data Files"):
//! - `remove(P, dv=D₁)` + `add(P, dv=D₂)` of the same file: rows in `D₂ − D₁` are
//!   deleted, rows in `D₁ − D₂` come back (inserted);
//! - `add(P, dv=D)` alone: the file's rows outside `D` are inserted;
//! - `remove(P, dv=D)` alone: the file's rows outside `D` are deleted.
//!
//! Deletion vectors are read with delta-kernel (inline, relative and absolute forms);
//! the file's row count comes from its Parquet footer.

use std::ops::Range;
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::physical_plan::parquet::ParquetRowSelection;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::parquet::arrow::arrow_reader::RowSelection;
use deltalake::kernel::DeletionVectorDescriptor;
use deltalake::logstore::LogStoreRef;
use deltalake::{ObjectMeta, ObjectStore, Path};
use object_store::ObjectStoreExt;
use roaring::RoaringTreemap;

/// Which rows of a file enter the feed: `from` minus the rows deleted by `minus`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPick {
    pub from: RowSource,
    pub minus: Option<DeletionVectorDescriptor>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowSource {
    /// Every row of the file.
    AllRows,
    /// The rows a deletion vector deletes (none if `None`).
    DeletedBy(Option<DeletionVectorDescriptor>),
}

/// The rows `pick` selects in the file at `path` (`size` bytes, 0 if unknown), as a row
/// selection; `None` if it selects no row.
pub async fn row_selection(
    log_store: &LogStoreRef,
    store: &Arc<dyn ObjectStore>,
    path: &str,
    size: u64,
    pick: &RowPick,
) -> Result<Option<ParquetRowSelection>> {
    let total = row_count(store, path, size).await?;
    let mut rows = match &pick.from {
        RowSource::AllRows => {
            let mut all = RoaringTreemap::new();
            all.insert_range(0..total);
            all
        }
        RowSource::DeletedBy(None) => RoaringTreemap::new(),
        RowSource::DeletedBy(Some(dv)) => read(log_store, dv, path).await?,
    };
    if let Some(dv) = &pick.minus {
        rows -= read(log_store, dv, path).await?;
    }
    let Some(max) = rows.max() else {
        return Ok(None);
    };
    if max >= total {
        return Err(DataFusionError::Execution(format!(
            "a deletion vector of '{path}' names row {max} of a file of {total} rows"
        )));
    }
    Ok(Some(ParquetRowSelection::new(
        RowSelection::from_consecutive_ranges(ranges(&rows).into_iter(), total as usize),
    )))
}

/// Consecutive runs of `rows` as ranges.
fn ranges(rows: &RoaringTreemap) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = vec![];
    for row in rows.iter() {
        let row = row as usize;
        match out.last_mut() {
            Some(last) if last.end == row => last.end = row + 1,
            _ => out.push(row..row + 1),
        }
    }
    out
}

/// The file's row count, from its Parquet footer (a HEAD first when the log gave no
/// size, as a `remove` action may not).
async fn row_count(store: &Arc<dyn ObjectStore>, path: &str, size: u64) -> Result<u64> {
    let failed = |e: String| DataFusionError::External(format!("footer of '{path}': {e}").into());
    let location = Path::from(path);
    let meta = if size > 0 {
        ObjectMeta {
            location,
            last_modified: Default::default(),
            size,
            e_tag: None,
            version: None,
        }
    } else {
        store
            .head(&location)
            .await
            .map_err(|e| failed(e.to_string()))?
    };
    let metadata = DFParquetMetadata::new(store.as_ref(), &meta)
        .fetch_metadata()
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(metadata.file_metadata().num_rows().max(0) as u64)
}

/// The rows a deletion vector deletes (delta-kernel reads it; blocking I/O, so on the
/// blocking pool).
async fn read(
    log_store: &LogStoreRef,
    dv: &DeletionVectorDescriptor,
    path: &str,
) -> Result<RoaringTreemap> {
    let failed =
        |e: String| DataFusionError::External(format!("deletion vector of '{path}': {e}").into());
    let descriptor: delta_kernel::actions::deletion_vector::DeletionVectorDescriptor = dv
        .clone()
        .try_into()
        .map_err(|e: delta_kernel::Error| failed(e.to_string()))?;
    let storage = log_store.engine(None).storage_handler();
    let root = log_store.root_url().clone();
    tokio::task::spawn_blocking(move || descriptor.read(storage, &root))
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_the_consecutive_runs() {
        let rows: RoaringTreemap = [0u64, 1, 2, 5, 7, 8].into_iter().collect();
        assert_eq!(ranges(&rows), vec![0..3, 5..6, 7..9]);
        assert!(ranges(&RoaringTreemap::new()).is_empty());
    }
}
