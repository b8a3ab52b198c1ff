//! The unbounded listing table (issue 13), criterion:
//! - `throughput_200_files`: 200 Parquet files of 50,000 rows (4 columns; written once into
//!   `~/.cache/datafusion-cpg/bench-data/unbounded-listing`, or `$CPG_BENCH_DATA/...`),
//!   `SELECT id, start` streamed to its 10 M rows by the unbounded table (which then keeps
//!   polling; the stream is dropped) vs DataFusion's bounded `ListingTable` over the same
//!   files, both drained batch by batch. Target: ≥ 0.9× the listing table's throughput.
//! - `rename_to_first_row`: an unbounded table polling every 100 ms; each iteration renames
//!   a new file into its directory and waits for that file's first row. Target: ≤ the poll
//!   interval + 50 ms (the mean and the maximum are printed).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_cpg_providers::listing::{FileFormatKind, UnboundedListing};
use futures::StreamExt;

const FILES: usize = 200;
const ROWS_PER_FILE: usize = 50_000;
const POLL: Duration = Duration::from_millis(100);

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("start", DataType::Int64, false),
        Field::new("end", DataType::Int64, false),
    ]))
}

fn batch(first: usize, rows: usize) -> RecordBatch {
    let ids = (first..first + rows).map(|i| i as i64);
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())),
            Arc::new(StringArray::from_iter_values(
                ids.clone()
                    .map(|i| format!("src/pkg{}/module{}.py", i % 97, i % 1013)),
            )),
            Arc::new(Int64Array::from_iter_values(
                ids.clone().map(|i| i * 7 % 10_000),
            )),
            Arc::new(Int64Array::from_iter_values(
                ids.map(|i| i * 7 % 10_000 + 40),
            )),
        ],
    )
    .unwrap()
}

/// Writes `batch` under a hidden name and renames it to `name` in `dir`.
fn publish(dir: &Path, name: &str, batch: &RecordBatch) {
    let staging = dir.join(format!(".{name}.inprogress"));
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&staging).unwrap(), schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    std::fs::rename(staging, dir.join(name)).unwrap();
}

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("CPG_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/datafusion-cpg/bench-data")
        })
        .join("unbounded-listing");
    let complete = dir.join(format!("f-{:05}.parquet", FILES - 1));
    if !complete.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        eprintln!("writing {FILES} Parquet files into {}...", dir.display());
        for file in 0..FILES {
            let rows = batch(file * ROWS_PER_FILE, ROWS_PER_FILE);
            publish(&dir, &format!("f-{file:05}.parquet"), &rows);
        }
    }
    dir
}

/// Drains `stream` until `rows` rows came; returns the rows.
async fn drain(mut stream: SendableRecordBatchStream, rows: usize) -> usize {
    let mut seen = 0;
    while seen < rows {
        match stream.next().await {
            Some(batch) => seen += batch.unwrap().num_rows(),
            None => break,
        }
    }
    seen
}

fn throughput(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    let dir = data_dir();
    let path = dir.to_str().unwrap().to_string();
    let total = FILES * ROWS_PER_FILE;
    let sql = "SELECT id, start FROM t";
    let ours = SessionContext::new();
    let listing =
        UnboundedListing::new(&path, FileFormatKind::Parquet, schema()).poll_interval(POLL);
    ours.register_table("t", Arc::new(listing.build().unwrap()))
        .unwrap();
    let theirs = SessionContext::new();
    runtime
        .block_on(theirs.register_parquet("t", &path, ParquetReadOptions::default()))
        .unwrap();
    let run = |ctx: &SessionContext| {
        runtime.block_on(async {
            let stream = ctx.sql(sql).await.unwrap().execute_stream().await.unwrap();
            drain(stream, total).await
        })
    };
    assert_eq!(run(&ours), total, "the unbounded table delivers every row");
    assert_eq!(run(&theirs), total, "the listing table reads every row");
    let mut group = c.benchmark_group("throughput_200_files");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("unbounded_listing", |b| b.iter(|| run(&ours)));
    group.bench_function("listing_table", |b| b.iter(|| run(&theirs)));
    group.finish();
}

fn latency(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = SessionContext::new();
    let listing = UnboundedListing::new(
        dir.path().to_str().unwrap(),
        FileFormatKind::Parquet,
        schema(),
    )
    .poll_interval(POLL);
    ctx.register_table("t", Arc::new(listing.build().unwrap()))
        .unwrap();
    let mut stream = runtime.block_on(async {
        ctx.sql("SELECT id FROM t")
            .await
            .unwrap()
            .execute_stream()
            .await
            .unwrap()
    });
    let mut next_file = 0usize;
    let mut latencies = vec![];
    let mut one = |stream: &mut SendableRecordBatchStream| {
        let rows = batch(next_file * 1000, 1000);
        let name = format!("f-{next_file:05}.parquet");
        next_file += 1;
        let started = Instant::now();
        publish(dir.path(), &name, &rows);
        runtime.block_on(async {
            let batch = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a row within 10 s")
                .unwrap()
                .unwrap();
            assert!(batch.num_rows() > 0);
        });
        let elapsed = started.elapsed();
        // Drain the rest of the file so the next iteration waits for the next one.
        runtime.block_on(async {
            while let Ok(Some(more)) =
                tokio::time::timeout(Duration::from_millis(5), stream.next()).await
            {
                more.unwrap();
            }
        });
        elapsed
    };
    let mut group = c.benchmark_group("rename_to_first_row");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("poll_100ms", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let elapsed = one(&mut stream);
                latencies.push(elapsed);
                total += elapsed;
            }
            total
        })
    });
    group.finish();
    let max = latencies.iter().max().copied().unwrap_or_default();
    let mean = latencies.iter().sum::<Duration>() / latencies.len().max(1) as u32;
    eprintln!(
        "rename_to_first_row over {} files: mean {:.1} ms, max {:.1} ms (target ≤ {} ms)",
        latencies.len(),
        mean.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        POLL.as_millis() + 50
    );
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    throughput(c, &runtime);
    latency(c, &runtime);
}

criterion_group!(benches, bench);
criterion_main!(benches);
