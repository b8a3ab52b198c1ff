//! List explode with positions on 10,000 lists of length 8..1024: `unnest(list_enumerate(l))`
//! and the lateral `CROSS JOIN UNNEST(l) WITH ORDINALITY`, against DataFusion's
//! workaround `unnest(arrays_zip(range(1, CAST(array_length(l) AS BIGINT) + 1), l))`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Int64Array, ListArray, RecordBatch};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::datasource::MemTable;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LISTS: usize = 10_000;

fn lists() -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(42);
    let lengths: Vec<usize> = (0..LISTS).map(|_| rng.random_range(8..=1024)).collect();
    let total: usize = lengths.iter().sum();
    let values = Int64Array::from_iter_values((0..total as i64).map(|v| v * 3));
    let items = ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int64, true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(values),
        None,
    );
    RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..LISTS as i64)) as _,
        ),
        ("items", Arc::new(items) as _),
    ])
    .unwrap()
}

fn list_explode(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ctx = datafusion_cpg::session_context().unwrap();
    let batch = lists();
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
    ctx.register_table("t", Arc::new(table)).unwrap();

    let cases = [
        (
            "arrays_zip_range_workaround",
            "SELECT id, unnest(arrays_zip(range(1, CAST(array_length(items) AS BIGINT) + 1), items)) AS e FROM t",
        ),
        (
            "unnest_list_enumerate",
            "SELECT id, unnest(list_enumerate(items)) AS e FROM t",
        ),
        (
            "lateral_unnest_with_ordinality",
            "SELECT t.id, u.value, u.ordinality FROM t \
             CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)",
        ),
    ];
    let mut group = c.benchmark_group("explode_10000_lists");
    group.sample_size(10);
    for (name, sql) in cases {
        // Plan the SQL once; each iteration builds the physical plan (a stateful
        // RepartitionExec cannot run twice) and collects every row.
        let frame = runtime.block_on(ctx.sql(sql)).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let batches = runtime.block_on(frame.clone().collect()).unwrap();
                black_box(batches)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, list_explode);
criterion_main!(benches);
