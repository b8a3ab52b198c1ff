//! The unbounded listing table in a host that loads the bundle as a plugin: `STORED AS
//! UNBOUNDED_PARQUET` crosses FFI, and its stream delivers the files renamed into the
//! directory while the query runs, once each, in order.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;

use crate::common::{plugin, plugin_ctx};

fn publish(dir: &std::path::Path, name: &str, ids: std::ops::Range<i64>) {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from_iter_values(ids))],
    )
    .unwrap();
    let staging = dir.join(format!(".{name}"));
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&staging).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    std::fs::rename(staging, dir.join(name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbounded_table_streams_over_ffi() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "f-000.parquet", 0..3);
    let plugin = plugin();
    let ctx = plugin_ctx(&plugin);
    let path = dir.path().to_str().unwrap();
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE facts (id BIGINT NOT NULL) STORED AS UNBOUNDED_PARQUET \
         LOCATION '{path}' OPTIONS ('poll_interval' '50ms')"
    ))
    .await
    .unwrap();
    let mut rows = ctx
        .sql("SELECT id FROM facts WHERE id <> 1")
        .await
        .unwrap()
        .execute_stream()
        .await
        .unwrap();
    let mut got = vec![];
    let mut published = false;
    tokio::time::timeout(Duration::from_secs(20), async {
        while got.len() < 4 {
            let batch = rows.next().await.unwrap().unwrap();
            let ids = batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            got.extend(ids.iter().flatten());
            if !published {
                publish(dir.path(), "f-001.parquet", 3..5);
                published = true;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("rows within 20 s: {got:?}"));
    assert_eq!(got, [0, 2, 3, 4]);
    let error = ctx
        .sql(&format!(
            "CREATE EXTERNAL TABLE bad STORED AS UNBOUNDED_PARQUET LOCATION '{path}' \
             OPTIONS ('interval' '1s')"
        ))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("accepted: poll_interval"),
        "{error}"
    );
}
