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
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::SessionConfig;
use datafusion::prelude::SessionContext;
use datafusion_cpg_providers::listing::{BadFiles, FileFormatKind, OrderColumn, UnboundedListing};
use futures::StreamExt;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

/// Writes ids `ids` as Parquet under a hidden name, then renames it to `name`.
fn publish(dir: &Path, name: &str, ids: std::ops::Range<i64>) {
    publish_values(dir, name, ids.collect());
}

/// Writes `ids` as Parquet under a hidden name, then renames it to `name`.
fn publish_values(dir: &Path, name: &str, ids: Vec<i64>) {
    let staging = dir.join(format!(".{name}.inprogress"));
    let batch = RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(ids))]).unwrap();
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
    let (plan, _) = physical_plan(&ctx, "SELECT id FROM facts").await;
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
    let mut got: Vec<i64> = batches.iter().flat_map(ids).collect();
    got.sort();
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

/// A session with the bundle's listing factories, batches of `batch_size` rows.
fn ddl_ctx(batch_size: usize) -> SessionContext {
    let mut builder = SessionStateBuilder::new()
        .with_default_features()
        .with_config(SessionConfig::new().with_batch_size(batch_size));
    for (name, factory) in datafusion_cpg_providers::factories()
        .into_iter()
        .chain(datafusion_cpg_providers::linked_factories())
    {
        builder = builder.with_table_factory(name.to_string(), factory);
    }
    SessionContext::new_with_state(builder.build())
}

/// The physical plan of `sql` and its text.
async fn physical_plan(
    ctx: &SessionContext,
    sql: &str,
) -> (Arc<dyn datafusion::physical_plan::ExecutionPlan>, String) {
    let plan = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    (plan, text)
}

async fn stream(ctx: &SessionContext, sql: &str) -> SendableRecordBatchStream {
    ctx.sql(sql).await.unwrap().execute_stream().await.unwrap()
}

async fn nothing_within(stream: &mut SendableRecordBatchStream, millis: u64) {
    let extra = tokio::time::timeout(Duration::from_millis(millis), stream.next()).await;
    assert!(extra.is_err(), "unexpected: {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_creates_unbounded_tables_and_leaves_bounded_ones_to_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "f-000.parquet", 0..3);
    let path = dir.path().to_str().unwrap();
    let ctx = ddl_ctx(8192);
    ctx.sql(&format!(
        "CREATE UNBOUNDED EXTERNAL TABLE facts (id BIGINT NOT NULL) STORED AS PARQUET \
         LOCATION '{path}' WITH ORDER (id ASC) OPTIONS ('poll_interval' '50ms')"
    ))
    .await
    .unwrap();
    // Filters are applied in the stream, batch by batch (a FilterExec would hold rows
    // back until it fills a batch).
    let sql = "SELECT id FROM facts WHERE id <> 1";
    let (_, text) = physical_plan(&ctx, sql).await;
    assert!(!text.contains("FilterExec"), "{text}");
    let mut rows = stream(&ctx, sql).await;
    let within = Duration::from_secs(10);
    assert_eq!(take_ids(&mut rows, 2, within).await, [0, 2]);
    publish(dir.path(), "f-001.parquet", 3..5);
    assert_eq!(take_ids(&mut rows, 2, within).await, [3, 4]);

    // Bounded DDL is DataFusion's listing table.
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE plain STORED AS PARQUET LOCATION '{path}/'"
    ))
    .await
    .unwrap();
    let count = ctx
        .sql("SELECT count(*) FROM plain")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(count[0].num_rows(), 1);
    let provider = ctx.table_provider("plain").await.unwrap();
    assert!(
        format!("{provider:?}").contains("ListingTable"),
        "{provider:?}"
    );

    // UNBOUNDED_<format>: columns inferred, bounded by option.
    std::fs::write(dir.path().join("more.csv"), "id\n7\n8\n").unwrap();
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE csv_now STORED AS UNBOUNDED_CSV LOCATION '{path}' \
         OPTIONS ('bounded' 'true')"
    ))
    .await
    .unwrap();
    let batches = ctx
        .sql("SELECT id FROM csv_now")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(batches.iter().flat_map(ids).collect::<Vec<_>>(), [7, 8]);

    let error = ctx
        .sql(&format!(
            "CREATE UNBOUNDED EXTERNAL TABLE bad (id BIGINT) STORED AS PARQUET \
             LOCATION '{path}' OPTIONS ('poll' '1s')"
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown option 'format.poll'"), "{error}");
    assert!(
        error.contains("poll_interval, order, checkpoint"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_resumes_without_duplicates_or_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let checkpoint = dir.path().join("facts.checkpoint.json");
    publish(&data, "a.parquet", 0..2);
    publish(&data, "b.parquet", 2..4);
    let ctx = ddl_ctx(2);
    let listing = || {
        UnboundedListing::new(data.to_str().unwrap(), FileFormatKind::Parquet, schema())
            .poll_interval(Duration::from_millis(50))
            .checkpoint(checkpoint.to_str().unwrap())
    };
    let within = Duration::from_secs(10);
    ctx.register_table("facts", Arc::new(listing().build().unwrap()))
        .unwrap();
    let mut rows = stream(&ctx, "SELECT id FROM facts").await;
    assert_eq!(take_ids(&mut rows, 4, within).await, [0, 1, 2, 3]);
    // Pulling again acknowledges b (the plan has taken all of it).
    nothing_within(&mut rows, 200).await;
    drop(rows);

    // Restarted: only what came since.
    publish(&data, "c.parquet", 4..6);
    let mut rows = stream(&ctx, "SELECT id FROM facts").await;
    assert_eq!(take_ids(&mut rows, 2, within).await, [4, 5]);
    nothing_within(&mut rows, 200).await;
    // Killed in the middle of d (three batches of two rows): d is not recorded...
    publish(&data, "d.parquet", 6..12);
    assert_eq!(take_ids(&mut rows, 2, within).await, [6, 7]);
    drop(rows);
    // ... so the restarted query reads d whole, and nothing before it.
    let mut rows = stream(&ctx, "SELECT id FROM facts").await;
    assert_eq!(take_ids(&mut rows, 6, within).await, [6, 7, 8, 9, 10, 11]);
    nothing_within(&mut rows, 200).await;
    drop(rows);
    let recorded = std::fs::read_to_string(&checkpoint).unwrap();
    for file in ["a.parquet", "b.parquet", "c.parquet", "d.parquet"] {
        assert!(recorded.contains(file), "{recorded}");
    }
    // A checkpoint of another directory is refused.
    let other = tempfile::tempdir().unwrap();
    let wrong = UnboundedListing::new(
        other.path().to_str().unwrap(),
        FileFormatKind::Parquet,
        schema(),
    )
    .checkpoint(checkpoint.to_str().unwrap());
    ctx.register_table("wrong", Arc::new(wrong.build().unwrap()))
        .unwrap();
    let mut rows = stream(&ctx, "SELECT id FROM wrong").await;
    let error = rows.next().await.unwrap().unwrap_err().to_string();
    assert!(error.contains("belongs to the table at"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_declared_order_streams_aggregates_and_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    publish_values(dir.path(), "f-000.parquet", vec![1, 1, 2]);
    publish_values(dir.path(), "f-001.parquet", vec![2, 3, 3]);
    let path = dir.path().to_str().unwrap();
    let listing = |bad_files| {
        UnboundedListing::new(path, FileFormatKind::Parquet, schema())
            .poll_interval(Duration::from_millis(50))
            .order_by(vec![OrderColumn::ascending("id")])
            .bad_files(bad_files)
    };
    // An ordered aggregation emits each group once the next one starts (on one
    // partition: after a hash repartition a group waits for a later one in its own).
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    ctx.register_table("facts", Arc::new(listing(BadFiles::Fail).build().unwrap()))
        .unwrap();
    let sql = "SELECT id, count(*) AS n FROM facts GROUP BY id";
    let (plan, text) = physical_plan(&ctx, sql).await;
    assert!(text.contains("ordering_mode=Sorted"), "{text}");
    let mut groups = datafusion::physical_plan::execute_stream(plan, ctx.task_ctx()).unwrap();
    let within = Duration::from_secs(10);
    let mut seen = vec![];
    tokio::time::timeout(within, async {
        while seen.len() < 2 {
            let batch = groups.next().await.unwrap().unwrap();
            seen.extend(ids(&batch));
        }
    })
    .await
    .unwrap();
    assert_eq!(seen, [1, 2]);
    drop(groups);

    // A file that goes back in the order fails the query, naming it...
    publish_values(dir.path(), "f-002.parquet", vec![0]);
    let mut rows = stream(&ctx, "SELECT id FROM facts").await;
    let error = tokio::time::timeout(within, async {
        loop {
            if let Err(error) = rows.next().await.unwrap() {
                return error.to_string();
            }
        }
    })
    .await
    .unwrap();
    assert!(error.contains("f-002.parquet"), "{error}");
    assert!(error.contains("declared order (id ASC)"), "{error}");
    // ... or is skipped and reported.
    let ctx = ctx_with("facts", listing(BadFiles::Skip));
    let (plan, _) = physical_plan(&ctx, "SELECT id FROM facts").await;
    let mut rows =
        datafusion::physical_plan::execute_stream(Arc::clone(&plan), ctx.task_ctx()).unwrap();
    assert_eq!(take_ids(&mut rows, 6, within).await, [1, 1, 2, 2, 3, 3]);
    publish_values(dir.path(), "f-003.parquet", vec![4]);
    assert_eq!(take_ids(&mut rows, 1, within).await, [4]);
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert!(
        text.contains("skipped_files=[") && text.contains("f-002.parquet"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_files_fail_or_are_skipped_and_deleted_files_are_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "f-000.parquet", 0..2);
    std::fs::write(dir.path().join("f-001.parquet"), b"not parquet at all").unwrap();
    publish(dir.path(), "f-002.parquet", 2..4);
    let path = dir.path().to_str().unwrap();
    let listing = |bad_files| {
        UnboundedListing::new(path, FileFormatKind::Parquet, schema())
            .poll_interval(Duration::from_millis(50))
            .bad_files(bad_files)
    };
    let within = Duration::from_secs(10);
    let ctx = ctx_with("facts", listing(BadFiles::Fail));
    let batches = tokio::time::timeout(
        within,
        ctx.sql("SELECT id FROM facts LIMIT 10")
            .await
            .unwrap()
            .collect(),
    )
    .await
    .unwrap();
    let error = batches.unwrap_err().to_string();
    assert!(
        error.contains("f-001.parquet") && error.contains("bad_files = 'skip'"),
        "{error}"
    );

    let ctx = ctx_with("facts", listing(BadFiles::Skip));
    let mut rows = stream(&ctx, "SELECT id FROM facts").await;
    assert_eq!(take_ids(&mut rows, 4, within).await, [0, 1, 2, 3]);
    // A file deleted between the listing and its read is left out quietly.
    publish(dir.path(), "f-003.parquet", 4..6);
    publish(dir.path(), "f-004.parquet", 6..8);
    assert_eq!(take_ids(&mut rows, 2, within).await, [4, 5]);
    std::fs::remove_file(dir.path().join("f-004.parquet")).ok();
    publish(dir.path(), "f-005.parquet", 8..10);
    let next = take_ids(&mut rows, 2, within).await;
    assert!(next == [8, 9] || next == [6, 7], "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_unbounded_tables_join_symmetrically() {
    let left = tempfile::tempdir().unwrap();
    let right = tempfile::tempdir().unwrap();
    publish(left.path(), "l-000.parquet", 0..4);
    publish(right.path(), "r-000.parquet", 2..6);
    let ctx = SessionContext::new();
    for (name, dir) in [("l", &left), ("r", &right)] {
        let listing = UnboundedListing::new(
            dir.path().to_str().unwrap(),
            FileFormatKind::Parquet,
            schema(),
        )
        .poll_interval(Duration::from_millis(50))
        .order_by(vec![OrderColumn::ascending("id")]);
        ctx.register_table(name, Arc::new(listing.build().unwrap()))
            .unwrap();
    }
    let (plan, text) = physical_plan(&ctx, "SELECT l.id FROM l JOIN r ON l.id = r.id").await;
    assert!(text.contains("SymmetricHashJoinExec"), "{text}");
    let mut rows = datafusion::physical_plan::execute_stream(plan, ctx.task_ctx()).unwrap();
    let within = Duration::from_secs(10);
    let mut got = take_ids(&mut rows, 2, within).await;
    publish(left.path(), "l-001.parquet", 6..8);
    publish(right.path(), "r-001.parquet", 7..9);
    got.extend(take_ids(&mut rows, 1, within).await);
    got.sort();
    assert_eq!(got, [2, 3, 7]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_another_schema_fails_or_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "f-000.parquet", 0..2);
    // `id` as text: not the table's Int64.
    let other = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&other),
        vec![Arc::new(datafusion::arrow::array::StringArray::from(vec![
            "x",
        ]))],
    )
    .unwrap();
    let file = std::fs::File::create(dir.path().join("f-001.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, other, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    publish(dir.path(), "f-002.parquet", 2..4);
    let path = dir.path().to_str().unwrap();
    let within = Duration::from_secs(10);
    for bad_files in [BadFiles::Fail, BadFiles::Skip] {
        let listing = UnboundedListing::new(path, FileFormatKind::Parquet, schema())
            .bad_files(bad_files)
            .bounded(true);
        let ctx = ctx_with("facts", listing);
        let result = tokio::time::timeout(
            within,
            ctx.sql("SELECT id FROM facts").await.unwrap().collect(),
        )
        .await
        .unwrap();
        match bad_files {
            BadFiles::Fail => {
                let error = result.unwrap_err().to_string();
                assert!(error.contains("f-001.parquet"), "{error}");
            }
            BadFiles::Skip => {
                let mut got: Vec<i64> = result.unwrap().iter().flat_map(ids).collect();
                got.sort();
                assert_eq!(got, [0, 1, 2, 3]);
            }
        }
    }
}

/// The counter `name` of the plan's `TailExec`.
fn tail_metric(plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>, name: &str) -> usize {
    if plan.name() == "TailExec" {
        let metrics = plan.metrics().unwrap();
        return metrics.sum_by_name(name).map_or(0, |v| v.as_usize());
    }
    plan.children()
        .into_iter()
        .map(|child| tail_metric(child, name))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_before_it_is_read_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "g-000.parquet", 0..2);
    publish(dir.path(), "g-001.parquet", 2..4);
    publish(dir.path(), "g-002.parquet", 4..6);
    // One partition: two files are read at once, so g-002 waits until g-000 is done.
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    let listing = UnboundedListing::new(
        dir.path().to_str().unwrap(),
        FileFormatKind::Parquet,
        schema(),
    )
    .poll_interval(Duration::from_millis(50));
    ctx.register_table("facts", Arc::new(listing.build().unwrap()))
        .unwrap();
    let (plan, _) = physical_plan(&ctx, "SELECT id FROM facts").await;
    let mut rows =
        datafusion::physical_plan::execute_stream(Arc::clone(&plan), ctx.task_ctx()).unwrap();
    let within = Duration::from_secs(10);
    assert_eq!(take_ids(&mut rows, 2, within).await, [0, 1]);
    std::fs::remove_file(dir.path().join("g-002.parquet")).unwrap();
    assert_eq!(take_ids(&mut rows, 2, within).await, [2, 3]);
    publish(dir.path(), "g-003.parquet", 6..8);
    assert_eq!(take_ids(&mut rows, 2, within).await, [6, 7]);
    assert_eq!(tail_metric(&plan, "files_vanished"), 1);
    assert_eq!(tail_metric(&plan, "files_read"), 2);
    assert_eq!(tail_metric(&plan, "files_skipped"), 0);
}
