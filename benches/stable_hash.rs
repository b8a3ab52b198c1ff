//! `stable_hash64(path, start, end)` and `stable_id('node', path, start, end)` per
//! 8192-row batch (path Utf8 ~40 bytes, start/end Int64, 10% NULLs), against what users
//! have today: DataFusion's `md5(concat_ws(...))`, datafusion-spark's `xxhash64`, and a
//! raw XXH3 loop over the same key bytes without Arrow.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::prelude::SessionContext;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xxhash_rust::xxh3::xxh3_64;

const ROWS: usize = 8192;

struct Rows {
    paths: Vec<Option<String>>,
    starts: Vec<Option<i64>>,
    ends: Vec<Option<i64>>,
}

/// `Some(v)`, or `None` one time in ten.
fn maybe<T>(rng: &mut StdRng, v: T) -> Option<T> {
    if rng.random_range(0..10) == 0 {
        None
    } else {
        Some(v)
    }
}

fn rows() -> Rows {
    let mut rng = StdRng::seed_from_u64(42);
    let paths = (0..ROWS)
        .map(|i| {
            maybe(
                &mut rng,
                format!("src/package_{:03}/module_{i:05}/source.py", i % 97),
            )
        })
        .collect();
    let starts: Vec<Option<i64>> = (0..ROWS).map(|i| maybe(&mut rng, i as i64 * 37)).collect();
    let ends = starts
        .clone()
        .into_iter()
        .map(|s| maybe(&mut rng, s.unwrap_or(0) + 11))
        .collect();
    Rows {
        paths,
        starts,
        ends,
    }
}

fn batch(rows: &Rows) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "path",
            std::sync::Arc::new(StringArray::from(rows.paths.clone())) as _,
        ),
        (
            "start",
            std::sync::Arc::new(Int64Array::from(rows.starts.clone())) as _,
        ),
        (
            "end",
            std::sync::Arc::new(Int64Array::from(rows.ends.clone())) as _,
        ),
    ])
    .unwrap()
}

/// The stable-hash key of one row, written by hand (README.md, Stable hash encoding,), then XXH3.
fn raw_xxh3(rows: &Rows, out: &mut Vec<i64>, key: &mut Vec<u8>) {
    out.clear();
    for i in 0..ROWS {
        key.clear();
        match &rows.paths[i] {
            Some(p) => {
                key.push(0x05);
                key.extend_from_slice(&(p.len() as u64).to_le_bytes());
                key.extend_from_slice(p.as_bytes());
            }
            None => key.push(0x00),
        }
        for v in [rows.starts[i], rows.ends[i]] {
            match v {
                Some(v) => {
                    key.push(0x02);
                    key.extend_from_slice(&v.to_le_bytes());
                }
                None => key.push(0x00),
            }
        }
        out.push(xxh3_64(key) as i64);
    }
}

fn stable_hash(c: &mut Criterion) {
    let rows = rows();
    let batch = batch(&rows);
    let ctx = datafusion_cpg::session_context().unwrap();
    let spark = SessionContext::new();
    for udf in datafusion_spark::function::hash::functions() {
        spark.register_udf(udf.as_ref().clone());
    }

    let cases = [
        ("stable_hash64", &ctx, "stable_hash64(path, start, \"end\")"),
        ("stable_id", &ctx, "stable_id('node', path, start, \"end\")"),
        (
            "md5_concat_ws",
            &ctx,
            "md5(concat_ws('|', path, start, \"end\"))",
        ),
        ("spark_xxhash64", &spark, "xxhash64(path, start, \"end\")"),
        ("cpg_xxhash64", &ctx, "xxhash64(path, start, \"end\")"),
    ];
    let mut group = c.benchmark_group("stable_hash_8192_rows");
    for (name, ctx, sql) in cases {
        let expr = common::physical(ctx, &batch, sql);
        group.bench_function(name, |b| {
            b.iter(|| black_box(expr.evaluate(&batch).unwrap()))
        });
    }
    let (mut out, mut key) = (Vec::with_capacity(ROWS), Vec::with_capacity(64));
    group.bench_function("raw_xxh3_loop", |b| {
        b.iter(|| {
            raw_xxh3(&rows, &mut out, &mut key);
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, stable_hash);
criterion_main!(benches);
