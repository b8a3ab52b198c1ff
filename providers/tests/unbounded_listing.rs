//! The unbounded listing table over a directory: existing files, then each file renamed
//! into the directory while the query runs, once and in order; bounded mode; LIMIT;
//! ignored names; CSV and NDJSON. Streams are read with time limits, never collected
//! while unbounded.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::SessionContext;
use datafusion_cpg_providers::listing::{FileFormatKind, UnboundedListing};
use futures::StreamExt;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

/// Writes ids `ids` as Parquet under a hidden name, then renames it to `name`.
fn publish(dir: &Path, name: &str, ids: std::ops::Range<i64>) {
    let staging = dir.join(format!(".{name}.inprogress"));
    let batch =
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from_iter_values(ids))]).unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&staging).unwrap(), schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    std::fs::rename(staging, dir.join(name)).unwrap();
}

fn ids(batch: &RecordBatch) -> Vec<i64> {
    let column = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    (0..column.len()).map(|i| column.value(i)).collect()
}

/// Reads from `stream` until `n` ids came, failing after `within`.
async fn take_ids(stream: &mut SendableRecordBatchStream, n: usize, within: Duration) -> Vec<i64> {
    let mut got = vec![];
    tokio::time::timeout(within, async {
        while got.len() < n {
            let batch = stream.next().await.expect("the stream ended").unwrap();
            got.extend(ids(&batch));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {n} rows within {within:?}: {got:?}", got.len()));
    got
}

fn ctx_with(name: &str, listing: UnboundedListing) -> SessionContext {
    let ctx = SessionContext::new();
    ctx.register_table(name, Arc::new(listing.build().unwrap()))
        .unwrap();
    ctx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_renamed_in_while_the_query_runs_are_read_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "f-001.parquet", 10..13);
    publish(dir.path(), "f-000.parquet", 0..3);
    std::fs::write(dir.path().join("_SUCCESS"), b"").unwrap();
    std::fs::write(dir.path().join("f-009.parquet.tmp"), b"half a file").unwrap();
    let listing = UnboundedListing::new(
        dir.path().to_str().unwrap(),
        FileFormatKind::Parquet,
        schema(),
    )
    .poll_interval(Duration::from_millis(50));
    let ctx = ctx_with("facts", listing);
    let plan = ctx
        .sql("SELECT id FROM facts")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    assert!(plan.boundedness().is_unbounded());
    let mut stream = datafusion::physical_plan::execute_stream(plan, ctx.task_ctx()).unwrap();
    let within = Duration::from_secs(10);
    assert_eq!(
        take_ids(&mut stream, 6, within).await,
        [0, 1, 2, 10, 11, 12]
    );
    for (i, name) in ["f-002.parquet", "f-003.parquet"].iter().enumerate() {
        let start = 20 + 10 * i as i64;
        publish(dir.path(), name, start..start + 2);
        assert_eq!(
            take_ids(&mut stream, 2, within).await,
            [start, start + 1],
            "{name}"
        );
    }
    // Nothing more comes: no file is read twice.
    let extra = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(extra.is_err(), "unexpected: {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_mode_and_limit_end_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "a.parquet", 0..4);
    publish(dir.path(), "b.parquet", 4..8);
    let path = dir.path().to_str().unwrap();
    let bounded = UnboundedListing::new(path, FileFormatKind::Parquet, schema()).bounded(true);
    let ctx = ctx_with("facts", bounded);
    let batches = ctx
        .sql("SELECT id FROM facts WHERE id % 2 = 0")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let got: Vec<i64> = batches.iter().flat_map(ids).collect();
    assert_eq!(got, [0, 2, 4, 6]);

    let unbounded = UnboundedListing::new(path, FileFormatKind::Parquet, schema())
        .poll_interval(Duration::from_millis(50));
    let ctx = ctx_with("facts", unbounded);
    let limited = tokio::time::timeout(
        Duration::from_secs(10),
        ctx.sql("SELECT id FROM facts LIMIT 5")
            .await
            .unwrap()
            .collect(),
    )
    .await
    .expect("LIMIT ends the stream")
    .unwrap();
    assert_eq!(limited.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_ndjson_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "id\n1\n2\n").unwrap();
    std::fs::write(dir.path().join("b.json"), "{\"id\": 3}\n{\"id\": 4}\n").unwrap();
    let path = dir.path().to_str().unwrap();
    for (format, expected) in [
        (FileFormatKind::Csv, vec![1, 2]),
        (FileFormatKind::Json, vec![3, 4]),
    ] {
        let listing = UnboundedListing::new(path, format, schema()).bounded(true);
        let ctx = ctx_with("facts", listing);
        let batches = ctx
            .sql("SELECT id FROM facts")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let got: Vec<i64> = batches.iter().flat_map(ids).collect();
        assert_eq!(got, expected, "{format:?}");
    }
    assert!(
        "AVRO"
            .parse::<FileFormatKind>()
            .unwrap_err()
            .to_string()
            .contains("PARQUET, CSV or JSON")
    );
}
