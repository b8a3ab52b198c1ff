//! The change feed against delta-rs 1.1's `DeltaCdfTableProvider` on a table of 20
//! columns and 50 versions of 200,000 inserted rows each (10M rows; written once into
//! `~/.cache/datafusion-cpg/bench-data/delta-cdf`, or `$CPG_BENCH_DATA/delta-cdf`, by
//! this bench with deltalake's writer: about a minute the first time):
//! - `two_columns_45_to_50`: `SELECT id, kind` over versions 45..=50;
//! - `commit_49_of_all`: `SELECT * ... WHERE _commit_version = 49` over versions 0..=50
//!   (ours reads that one commit's files: checked with the scan's metrics), and
//!   `commit_49_of_all_two_columns` the same with `SELECT id, kind`.
//!
//! Each pair runs in the same process after checking both return the same rows (count
//! and sum of ids). Peak heap of one run of each (a counting allocator) is printed before
//! the timings. Targets (issue 12): ≥ 5× faster and ≤ ½ the peak memory on the first,
//! ≥ 10× faster on the second.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_cpg_providers::delta::DeltaCdf;
use deltalake::delta_datafusion::DeltaCdfTableProvider;
use deltalake::kernel::{DataType, PrimitiveType, StructField};
use deltalake::{DeltaTable, TableProperty, ensure_table_uri};
use futures::StreamExt;

/// Counts live heap bytes and their peak.
struct PeakAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const VERSIONS: u64 = 50;
const ROWS_PER_VERSION: usize = 200_000;

fn table_dir() -> PathBuf {
    std::env::var_os("CPG_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/datafusion-cpg/bench-data")
        })
        .join("delta-cdf")
}

const STRING_COLUMNS: [&str; 7] = ["path", "kind", "name", "text", "qname", "lang", "tag"];
const FLOAT_COLUMNS: [&str; 2] = ["score", "weight"];
const INT_COLUMNS: [&str; 11] = [
    "id", "bstart", "bend", "line", "col", "depth", "parent", "hash", "flags", "file_id",
    "span_len",
];

fn columns() -> Vec<(&'static str, bool, bool)> {
    // (name, is_string, is_float), in table order.
    INT_COLUMNS
        .iter()
        .map(|c| (*c, false, false))
        .chain(STRING_COLUMNS.iter().map(|c| (*c, true, false)))
        .chain(FLOAT_COLUMNS.iter().map(|c| (*c, false, true)))
        .collect()
}

fn batch(version: u64) -> RecordBatch {
    let base = version as i64 * ROWS_PER_VERSION as i64;
    let n = ROWS_PER_VERSION as i64;
    let mut fields = vec![];
    let mut arrays: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![];
    for (k, (name, is_string, is_float)) in columns().into_iter().enumerate() {
        let k = k as i64;
        if is_string {
            fields.push(Field::new(name, ArrowType::Utf8, true));
            arrays.push(Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                format!("{name}/{}/{}", (base + i) % (97 + k), (i * 31 + k) % 1009)
            }))));
        } else if is_float {
            fields.push(Field::new(name, ArrowType::Float64, true));
            arrays.push(Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| ((base + i) * (k + 3) % 10_007) as f64 / 7.0),
            )));
        } else {
            fields.push(Field::new(name, ArrowType::Int64, true));
            arrays.push(Arc::new(Int64Array::from_iter_values((0..n).map(|i| {
                if k == 0 {
                    base + i
                } else {
                    (base + i) * (k + 1) % 1_000_003
                }
            }))));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// Writes the table unless its last version is there.
async fn ensure_table() -> String {
    let dir = table_dir();
    let path = dir.to_str().unwrap().to_string();
    if dir.join(format!("_delta_log/{VERSIONS:020}.json")).exists() {
        return path;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("writing {VERSIONS} versions of {ROWS_PER_VERSION} rows into {path}...");
    let url = ensure_table_uri(&path).unwrap();
    let fields = columns()
        .into_iter()
        .map(|(name, is_string, is_float)| {
            let kind = match (is_string, is_float) {
                (true, _) => PrimitiveType::String,
                (_, true) => PrimitiveType::Double,
                _ => PrimitiveType::Long,
            };
            StructField::new(name, DataType::Primitive(kind), true)
        })
        .collect::<Vec<_>>();
    let mut table = DeltaTable::try_from_url(url)
        .await
        .unwrap()
        .create()
        .with_columns(fields)
        .with_configuration_property(TableProperty::EnableChangeDataFeed, Some("true"))
        .await
        .unwrap();
    for version in 1..=VERSIONS {
        table = table.write(vec![batch(version)]).await.unwrap();
    }
    path
}

/// Runs `sql` to the end without keeping batches: (rows, sum of `id` if selected).
async fn drain(ctx: &SessionContext, sql: &str) -> (usize, i64) {
    let mut stream = ctx.sql(sql).await.unwrap().execute_stream().await.unwrap();
    let (mut rows, mut sum) = (0, 0i64);
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        rows += batch.num_rows();
        if let Some(ids) = batch.column_by_name("id") {
            let ids = datafusion::arrow::compute::cast(ids, &ArrowType::Int64).unwrap();
            sum +=
                datafusion::arrow::compute::sum(ids.as_any().downcast_ref::<Int64Array>().unwrap())
                    .unwrap_or(0);
        }
    }
    (rows, sum)
}

/// Peak heap above the level before one run of `sql`, in MiB.
async fn peak_mib(ctx: &SessionContext, sql: &str) -> f64 {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    drain(ctx, sql).await;
    (PEAK.load(Ordering::Relaxed) - base) as f64 / (1 << 20) as f64
}

fn find_metric(plan: &Arc<dyn ExecutionPlan>, name: &str) -> Option<usize> {
    if plan.name() == "DeltaCdfExec" {
        return plan.metrics()?.sum_by_name(name).map(|v| v.as_usize());
    }
    plan.children()
        .into_iter()
        .find_map(|child| find_metric(child, name))
}

async fn contexts(path: &str, start: u64, end: u64) -> (SessionContext, SessionContext) {
    let ours = SessionContext::new();
    let feed = DeltaCdf::new(path)
        .starting_version(start)
        .ending_version(end)
        .build()
        .await
        .unwrap();
    ours.register_table("feed", Arc::new(feed)).unwrap();
    let theirs = SessionContext::new();
    let table = deltalake::open_table(ensure_table_uri(path).unwrap())
        .await
        .unwrap();
    let cdf = table
        .scan_cdf()
        .with_starting_version(start)
        .with_ending_version(end);
    theirs
        .register_table(
            "feed",
            Arc::new(DeltaCdfTableProvider::try_new(cdf).unwrap()),
        )
        .unwrap();
    (ours, theirs)
}

/// Checks both feeds return the same rows (`expected` of them), prints the peak heap of
/// one run of each, then times both in one criterion group.
fn compare(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    group: &str,
    (ours, theirs): &(SessionContext, SessionContext),
    sql: &str,
    expected: usize,
) {
    let (a, b) = runtime.block_on(async { (drain(ours, sql).await, drain(theirs, sql).await) });
    assert_eq!(a, b, "{group}: both read the same rows");
    assert_eq!(a.0, expected, "{group}: row count");
    let (ours_peak, theirs_peak) =
        runtime.block_on(async { (peak_mib(ours, sql).await, peak_mib(theirs, sql).await) });
    eprintln!(
        "{group} peak heap: datafusion-cpg {ours_peak:.1} MiB, delta-rs {theirs_peak:.1} MiB \
         (ratio {:.3})",
        ours_peak / theirs_peak
    );
    let mut group = c.benchmark_group(group);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("datafusion-cpg", |b| {
        b.iter(|| runtime.block_on(drain(ours, sql)))
    });
    group.bench_function("delta-rs", |b| {
        b.iter(|| runtime.block_on(drain(theirs, sql)))
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = runtime.block_on(ensure_table());

    let recent = runtime.block_on(contexts(&path, 45, 50));
    let two_columns = "SELECT id, kind FROM feed";
    compare(
        c,
        &runtime,
        "two_columns_45_to_50",
        &recent,
        two_columns,
        6 * ROWS_PER_VERSION,
    );

    let all = runtime.block_on(contexts(&path, 0, VERSIONS));
    let one_commit = "SELECT * FROM feed WHERE _commit_version = 49";
    let (commits, files) = runtime.block_on(async {
        let plan = all
            .0
            .sql(one_commit)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        datafusion::physical_plan::collect(Arc::clone(&plan), all.0.task_ctx())
            .await
            .unwrap();
        (
            find_metric(&plan, "commits_read"),
            find_metric(&plan, "files_planned"),
        )
    });
    eprintln!(
        "commit_49_of_all: datafusion-cpg read commits_read={commits:?}, files_planned={files:?}"
    );
    assert_eq!(commits, Some(1), "only commit 49 is read");
    // Every column (decoding 20 columns dominates both) and two columns.
    compare(
        c,
        &runtime,
        "commit_49_of_all",
        &all,
        one_commit,
        ROWS_PER_VERSION,
    );
    compare(
        c,
        &runtime,
        "commit_49_of_all_two_columns",
        &all,
        "SELECT id, kind FROM feed WHERE _commit_version = 49",
        ROWS_PER_VERSION,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
