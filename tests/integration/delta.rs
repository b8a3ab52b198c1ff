//! The Delta providers in a bundle session: DDL and table functions registered by
//! `register_all`, and plans over them crossing the bundle's codecs portably (named
//! payloads, not in-process handles) and running to the same rows.

#[path = "../../providers/tests/common/mod.rs"]
mod tables;

use datafusion::physical_plan::collect;
use datafusion_cpg::optimizer::codec::BundleCodec;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};

use crate::common::ctx;
use tables::{History, feed_rows};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_plans_cross_the_codecs_portably() {
    let history = History::write().await;
    let path = history.path();
    let ctx = ctx();
    tables::batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE feed STORED AS DELTA_CDF LOCATION '{path}' \
             OPTIONS ('starting_version' '2', 'ending_version' '6')"
        ),
    )
    .await;
    tables::batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE t4 STORED AS DELTA LOCATION '{path}' OPTIONS ('version' '4')"
        ),
    )
    .await;
    let task_ctx = ctx.task_ctx();
    let codec = BundleCodec::default();
    for (sql, payload) in [
        (
            "SELECT * FROM feed WHERE _commit_version >= 3",
            "cpg.delta_cdf.v1",
        ),
        ("SELECT * FROM delta_cdf('PATH', 2, 6)", "cpg.delta_cdf.v1"),
        ("SELECT * FROM t4", "cpg.delta_snapshot.v1"),
        (
            "SELECT * FROM delta_snapshot('PATH', 4)",
            "cpg.delta_snapshot.v1",
        ),
    ] {
        let sql = sql.replace("PATH", &path);
        let expected = tables::batches(&ctx, &sql).await;
        let logical = ctx.sql(&sql).await.unwrap().into_optimized_plan().unwrap();
        let bytes = logical_plan_to_bytes_with_extension_codec(&logical, &codec).unwrap();
        assert!(contains(&bytes, payload), "{sql}: no {payload} payload");
        let decoded =
            logical_plan_from_bytes_with_extension_codec(&bytes, &task_ctx, &codec).unwrap();
        let physical = ctx.state().create_physical_plan(&decoded).await.unwrap();
        let got = collect(physical, ctx.task_ctx()).await.unwrap();
        let rows = |batches: &[datafusion::arrow::array::RecordBatch]| {
            let mut rows: Vec<String> =
                datafusion::arrow::util::pretty::pretty_format_batches(batches)
                    .unwrap()
                    .to_string()
                    .lines()
                    .map(str::to_string)
                    .collect();
            rows.sort();
            rows
        };
        assert_eq!(rows(&got), rows(&expected), "{sql}");
    }

    // The physical scan travels by handle within a process and runs the same.
    let sql = "SELECT * FROM feed";
    let physical = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let bytes = physical_plan_to_bytes_with_extension_codec(physical, &codec).unwrap();
    let decoded = physical_plan_from_bytes_with_extension_codec(&bytes, &task_ctx, &codec).unwrap();
    collect(decoded, task_ctx).await.unwrap();
    assert_eq!(feed_rows(&ctx, sql).await, history.expected(2..=6));
}
