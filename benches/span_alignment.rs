//! Span alignment on 1M AST-like nodes × 1M tokens over 1,000 files (and, when
//! `CPG_BENCH_STDLIB=1`, the CPython standard library's nodes and tokens):
//! - containment pairs: `nodes JOIN tokens ON path = path AND token inside node`, the
//!   bundle's `SpanJoinExec` against DataFusion 55's hash join (`SET
//!   cpg.span_join.enabled = false`);
//! - best match per token: `span_align(tokens, nodes, 'contained_best')` against the
//!   plain-SQL formulation (hash join + `ROW_NUMBER()` window) in plain DataFusion.
//!
//! Each pair runs in the same process on the same in-memory tables, after checking both
//! give the same answer. Data: `.venv/bin/python benches/span_data.py` first (writes
//! `~/.cache/datafusion-cpg/bench-data`, or `$CPG_BENCH_DATA`). Targets (issue 11): the
//! bundle ≥ 50× faster than plain DataFusion. Plain DataFusion takes tens of seconds per
//! iteration here: the whole bench runs for about 20 minutes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

const PAIRS: &str = "SELECT count(*) FROM nodes n JOIN tokens t ON n.path = t.path \
                     AND t.bstart >= n.bstart AND t.bend <= n.bend";

const BEST_SPAN_ALIGN: &str = "SELECT count(*), CAST(sum(match_score) AS BIGINT) FROM \
                               span_align('tokens', 'nodes', 'contained_best')";

/// The same best match in plain SQL (ties: shorter node, then start, end, row order).
const BEST_WINDOW: &str = "SELECT count(*), sum(score) FROM ( \
       SELECT -(n.bend - n.bstart) AS score, \
              ROW_NUMBER() OVER (PARTITION BY t.id \
                                 ORDER BY n.bend - n.bstart, n.bstart, n.bend, n.id) AS rn \
       FROM tokens t JOIN nodes n ON t.path = n.path \
            AND n.bstart <= t.bstart AND t.bend <= n.bend \
            AND t.bstart <= t.bend AND n.bstart <= n.bend) \
     WHERE rn = 1";

fn data_dir() -> PathBuf {
    std::env::var_os("CPG_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/datafusion-cpg/bench-data")
        })
}

/// Reads `<dir>/<table>.parquet` into a MemTable of `partitions` partitions.
async fn load(ctx: &SessionContext, dir: &std::path::Path, table: &str, partitions: usize) {
    let path = dir.join(format!("{table}.parquet"));
    let batches = ctx
        .read_parquet(path.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}; run benches/span_data.py", path.display()))
        .collect()
        .await
        .unwrap();
    let schema = batches[0].schema();
    let mut split: Vec<Vec<RecordBatch>> = vec![vec![]; partitions];
    for (i, batch) in batches.into_iter().enumerate() {
        split[i % partitions].push(batch);
    }
    ctx.register_table(table, Arc::new(MemTable::try_new(schema, split).unwrap()))
        .unwrap();
}

async fn sessions(dir: &std::path::Path) -> (SessionContext, SessionContext) {
    let bundle = datafusion_cpg::session_context().unwrap();
    let plain = datafusion_cpg::session_context().unwrap();
    plain
        .sql("SET cpg.span_join.enabled = false")
        .await
        .unwrap();
    let partitions = bundle.state().config().target_partitions();
    for ctx in [&bundle, &plain] {
        for table in ["nodes", "tokens"] {
            load(ctx, dir, table, partitions).await;
        }
    }
    (bundle, plain)
}

async fn answer(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
        .lines()
        .nth(3)
        .unwrap_or_default()
        .to_string()
}

/// The cells of a pretty-printed result row.
fn values(row: &str) -> Vec<&str> {
    row.split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn span_alignment(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut datasets = vec!["synthetic"];
    if std::env::var_os("CPG_BENCH_STDLIB").is_some() {
        datasets.push("stdlib");
    }
    for dataset in datasets {
        let dir = data_dir().join(dataset);
        let (bundle, plain) = runtime.block_on(sessions(&dir));
        for (name, ours, theirs) in [
            ("containment_pairs", PAIRS, PAIRS),
            ("best_match", BEST_SPAN_ALIGN, BEST_WINDOW),
        ] {
            let (a, b) = runtime
                .block_on(async { (answer(&bundle, ours).await, answer(&plain, theirs).await) });
            // Counts and score sums agree (the column names differ).
            assert_eq!(values(&a), values(&b), "{name}");
            eprintln!("{dataset}/{name}: {a}");
            let mut group = c.benchmark_group(format!("span_alignment/{dataset}/{name}"));
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(5));
            group.bench_function("datafusion-cpg", |b| {
                b.iter(|| runtime.block_on(answer(&bundle, ours)))
            });
            group.bench_function("datafusion", |b| {
                b.iter(|| runtime.block_on(answer(&plain, theirs)))
            });
            group.finish();
        }
    }
}

criterion_group!(benches, span_alignment);
criterion_main!(benches);
