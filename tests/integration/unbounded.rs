//! The unbounded listing table in a bundle session: `CREATE UNBOUNDED EXTERNAL TABLE ...
//! STORED AS PARQUET` (registered by `register_all`; bounded DDL stays DataFusion's), and
//! plans over it crossing the bundle's codecs portably (`cpg.unbounded_listing.v1`).

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::collect;
use datafusion_cpg::optimizer::codec::BundleCodec;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
};

use crate::common::ctx;

fn write(dir: &std::path::Path, name: &str, ids: std::ops::Range<i64>) {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from_iter_values(ids))],
    )
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(dir.join(name)).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.iter().flatten().collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_tables_plan_in_the_bundle_and_cross_the_codecs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f-000.parquet", 0..3);
    write(dir.path(), "f-001.parquet", 3..6);
    let path = dir.path().to_str().unwrap();
    let ctx = ctx();
    ctx.sql(&format!(
        "CREATE UNBOUNDED EXTERNAL TABLE facts (id BIGINT NOT NULL) STORED AS PARQUET \
         LOCATION '{path}' WITH ORDER (id ASC) OPTIONS ('bounded' 'true', 'poll_interval' '1s')"
    ))
    .await
    .unwrap();
    let sql = "SELECT id FROM facts WHERE id > 1";
    let logical = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
    let codec = BundleCodec::default();
    let bytes = logical_plan_to_bytes_with_extension_codec(&logical, &codec).unwrap();
    let payload = "cpg.unbounded_listing.v1";
    assert!(
        bytes
            .windows(payload.len())
            .any(|w| w == payload.as_bytes()),
        "no {payload} payload"
    );
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).unwrap();
    let physical = ctx.state().create_physical_plan(&decoded).await.unwrap();
    assert_eq!(
        ids(&collect(physical, ctx.task_ctx()).await.unwrap()),
        [2, 3, 4, 5]
    );

    // Bounded DDL of the same name is DataFusion's listing table.
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE plain STORED AS PARQUET LOCATION '{path}/'"
    ))
    .await
    .unwrap();
    let provider = ctx.table_provider("plain").await.unwrap();
    assert!(
        format!("{provider:?}").contains("ListingTable"),
        "{provider:?}"
    );
}
