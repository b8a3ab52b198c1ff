//! FFI overhead, in one process and one build: `SELECT count(DISTINCT stable_hash64(path,
//! start, end))` over 10M in-memory rows, with the bundle registered natively and with
//! the same functions loaded from the plugin library of this build
//! (`datafusion_cpg_loader::Plugin`, so every call crosses datafusion-ffi).
//! `ffi_overhead.py` next to this file runs the same query on the same data (the parquet
//! file this bench writes) in datafusion-python 55, and `md5(concat_ws(...))`, the best a
//! Python user has without the bundle.

use std::fs::File;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_cpg_loader::Plugin;

pub const ROWS: usize = 10_000_000;
const BATCH: usize = 65_536;

pub const QUERY: &str =
    r#"SELECT count(DISTINCT stable_hash64(path, start, "end")) AS n FROM spans"#;

/// `target/cpg-bench/spans_10m.parquet` under the repository (shared with the Python side).
fn data_path() -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    root.join("target")
        .join("cpg-bench")
        .join("spans_10m.parquet")
}

/// Row `i`: path ~40 bytes, start, end; each column NULL on its own 1-in-10 pattern.
fn batch(rows: std::ops::Range<usize>) -> RecordBatch {
    let path = StringArray::from_iter(rows.clone().map(|i| {
        (i % 10 != 3).then(|| format!("src/package_{:03}/module_{:06}/source.py", i % 97, i / 37))
    }));
    let start = Int64Array::from_iter(
        rows.clone()
            .map(|i| (i % 10 != 5).then_some((i % 5000) as i64 * 7)),
    );
    let end =
        Int64Array::from_iter(rows.map(|i| (i % 10 != 7).then_some((i % 5000) as i64 * 7 + 11)));
    RecordBatch::try_new(
        schema(),
        vec![Arc::new(path), Arc::new(start), Arc::new(end)],
    )
    .unwrap()
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, true),
        Field::new("start", DataType::Int64, true),
        Field::new("end", DataType::Int64, true),
    ]))
}

fn write_data_if_missing() -> PathBuf {
    let path = data_path();
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let partial = path.with_extension("partial");
    let mut writer = ArrowWriter::try_new(File::create(&partial).unwrap(), schema(), None).unwrap();
    for start in (0..ROWS).step_by(BATCH) {
        writer
            .write(&batch(start..(start + BATCH).min(ROWS)))
            .unwrap();
    }
    writer.close().unwrap();
    std::fs::rename(&partial, &path).unwrap();
    path
}

fn ffi_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let path = write_data_if_missing();
    let native = datafusion_cpg::session_context().unwrap();
    // Loaded into memory once, as the Python side does, so only the query is timed.
    let batches = runtime.block_on(async {
        native
            .read_parquet(path.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    });
    let table = Arc::new(MemTable::try_new(batches[0].schema(), vec![batches]).unwrap());
    native.register_table("spans", table.clone()).unwrap();

    let plugin = Plugin::load_next_to_executable().unwrap();
    let foreign = SessionContext::new();
    plugin.register(&foreign).unwrap();
    foreign.register_table("spans", table).unwrap();

    let mut group = c.benchmark_group("ffi_overhead_10m_rows");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    for (name, ctx) in [
        ("native_stable_hash64_count_distinct", &native),
        ("plugin_stable_hash64_count_distinct", &foreign),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    runtime
                        .block_on(async { ctx.sql(QUERY).await.unwrap().collect().await.unwrap() }),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ffi_overhead);
criterion_main!(benches);
