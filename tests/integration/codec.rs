//! The bundle's codecs: plans over in-memory tables round-trip through datafusion-proto
//! by handle, in one process, and run to the same rows; payloads are refused clearly
//! when they cannot be decoded.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::collect;
use datafusion_cpg::optimizer::codec::BundleCodec;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};

use crate::common::{collect as run, ctx};

const QUERY: &str = "SELECT t.k, count(*) AS c, sum(u.v) AS s FROM t JOIN u ON t.k = u.k \
                     WHERE u.v > 1 GROUP BY t.k ORDER BY t.k";

async fn tables() -> datafusion::prelude::SessionContext {
    let ctx = ctx();
    run(
        &ctx,
        "CREATE TABLE t(k INT, name VARCHAR) AS VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    .await
    .unwrap();
    run(
        &ctx,
        "CREATE TABLE u(k INT, v BIGINT) AS VALUES (1, 5), (1, 7), (2, 1), (3, 9)",
    )
    .await
    .unwrap();
    ctx
}

#[tokio::test]
async fn logical_and_physical_plans_round_trip_by_handle() {
    let ctx = tables().await;
    let expected = pretty_format_batches(&run(&ctx, QUERY).await.unwrap())
        .unwrap()
        .to_string();
    let state = ctx.state();
    let task_ctx = ctx.task_ctx();

    let logical = ctx.sql(QUERY).await.unwrap().into_optimized_plan().unwrap();
    let bytes =
        logical_plan_to_bytes_with_extension_codec(&logical, &BundleCodec::default()).unwrap();
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &task_ctx, &BundleCodec::default())
            .unwrap();
    assert_eq!(
        decoded.display_indent().to_string(),
        logical.display_indent().to_string()
    );

    let physical = state.create_physical_plan(&decoded).await.unwrap();
    let bytes =
        physical_plan_to_bytes_with_extension_codec(physical, &BundleCodec::default()).unwrap();
    let decoded =
        physical_plan_from_bytes_with_extension_codec(&bytes, &task_ctx, &BundleCodec::default())
            .unwrap();
    let got = pretty_format_batches(&collect(decoded, task_ctx).await.unwrap())
        .unwrap()
        .to_string();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_foreign_or_corrupt_payload_is_a_clear_error() {
    let ctx = tables().await;
    let logical = ctx
        .sql("SELECT * FROM t")
        .await
        .unwrap()
        .into_optimized_plan()
        .unwrap();
    let mut bytes = logical_plan_to_bytes_with_extension_codec(&logical, &BundleCodec::default())
        .unwrap()
        .to_vec();
    // Flip the process nonce inside the handle payload.
    let magic = b"cpg-handle/1";
    let at = bytes
        .windows(magic.len())
        .position(|w| w == magic)
        .expect("the table crossed by handle");
    bytes[at + magic.len()] ^= 0xff;
    let error = logical_plan_from_bytes_with_extension_codec(
        &bytes,
        &ctx.task_ctx(),
        &BundleCodec::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("from another process"), "{error}");
}

/// A plan with a span join round-trips with the operator's own payload (not a handle):
/// the decoded plan shows `SpanJoinExec` and returns the same rows.
#[tokio::test]
async fn a_span_join_round_trips_through_its_codec_entry() {
    let ctx = ctx();
    run(
        &ctx,
        "CREATE TABLE n(path VARCHAR, bstart BIGINT, bend BIGINT, kind VARCHAR) AS VALUES \
         ('a', 0, 40, 'Module'), ('a', 0, 12, 'Def'), ('b', 0, 9, 'Module'), ('b', 2, 5, 'Name')",
    )
    .await
    .unwrap();
    run(
        &ctx,
        "CREATE TABLE k(path VARCHAR, bstart INT, bend INT, text VARCHAR) AS VALUES \
         ('a', 0, 3, 'def'), ('a', 14, 19, 'x'), ('b', 2, 5, 'foo'), ('c', 0, 1, 'y')",
    )
    .await
    .unwrap();
    let sql = "SELECT n.kind, k.text FROM n LEFT JOIN k ON n.path = k.path \
               AND k.bstart >= n.bstart AND k.bend <= n.bend AND k.text <> 'x' \
               ORDER BY n.kind, k.text";
    round_trips_with_entry(&ctx, sql, "cpg.span_join.v1", "SpanJoinExec").await;
}

/// A `span_align` plan round-trips with the operator's own payload, tie breakers and
/// a left join included, and returns the same rows.
#[tokio::test]
async fn a_span_align_plan_round_trips_through_its_codec_entry() {
    let ctx = ctx();
    run(
        &ctx,
        "CREATE TABLE n(path VARCHAR, bstart BIGINT, bend BIGINT, kind VARCHAR) AS VALUES \
         ('a', 0, 40, 'Module'), ('a', 0, 12, 'Def'), ('a', 0, 12, 'Alt'), ('b', 2, 5, 'Name')",
    )
    .await
    .unwrap();
    run(
        &ctx,
        "CREATE TABLE k(path VARCHAR, bstart BIGINT, bend BIGINT, text VARCHAR) AS VALUES \
         ('a', 0, 3, 'def'), ('a', 14, 19, 'x'), ('c', 0, 1, 'y')",
    )
    .await
    .unwrap();
    let sql = "SELECT text, kind, match_kind, match_score FROM span_align('k', 'n', \
               'contained_best', 'how=left; tie_breakers=kind desc; right_columns=kind') \
               ORDER BY text";
    let expected = round_trips_with_entry(&ctx, sql, "cpg.span_align.v1", "SpanAlignExec").await;
    assert!(
        expected.contains("| def  | Def    | CONTAINED_BEST | -12.0"),
        "{expected}"
    );
}

/// Plans `sql` (whose plan must show `operator`), encodes it with the bundle's codec
/// (the payload must carry `entry`'s tag, not a handle), decodes it, and checks the
/// decoded plan and its rows equal the original's; returns the rows.
async fn round_trips_with_entry(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
    entry: &str,
    operator: &str,
) -> String {
    let expected = pretty_format_batches(&run(ctx, sql).await.unwrap())
        .unwrap()
        .to_string();
    let physical = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let shown = datafusion::physical_plan::displayable(physical.as_ref())
        .indent(true)
        .to_string();
    assert!(shown.contains(operator), "{shown}");
    let bytes =
        physical_plan_to_bytes_with_extension_codec(physical, &BundleCodec::default()).unwrap();
    assert!(bytes.windows(entry.len()).any(|w| w == entry.as_bytes()));
    let decoded = physical_plan_from_bytes_with_extension_codec(
        &bytes,
        &ctx.task_ctx(),
        &BundleCodec::default(),
    )
    .unwrap();
    let decoded_text = datafusion::physical_plan::displayable(decoded.as_ref())
        .indent(true)
        .to_string();
    assert_eq!(decoded_text, shown);
    let got = pretty_format_batches(&collect(decoded, ctx.task_ctx()).await.unwrap())
        .unwrap()
        .to_string();
    assert_eq!(got, expected);
    expected
}
