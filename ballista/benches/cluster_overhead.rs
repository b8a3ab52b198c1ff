//! What running on a standalone Ballista cluster costs against running in one process,
//! on the span-alignment benchmark's shape (`benches/span_alignment.rs`: 1M AST-like
//! nodes × 1M tokens over 1,000 files):
//! - containment pairs: `nodes JOIN tokens ON path = path AND token inside node`
//!   (the bundle's `SpanJoinExec` on both sides);
//! - best match per token: `span_align(tokens, nodes, 'contained_best')`.
//!
//! Both sessions have the whole bundle and read the same Parquet files as external
//! tables (an in-memory table would travel inside every task's plan). The cluster is
//! `datafusion_cpg_ballista::session(Cluster::Standalone)`: a scheduler and an executor
//! in this process, talking gRPC over loopback, with the join's inputs shuffled to disk
//! by `path` between stages. Each pair is checked to give the same answer first.
//!
//! Data: `.venv/bin/python benches/span_data.py` (writes
//! `~/.cache/datafusion-cpg/bench-data`, or `$CPG_BENCH_DATA`). Run:
//! `cargo bench -p datafusion-cpg-ballista --bench cluster_overhead` (~2 minutes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_cpg_ballista::{Cluster, session};

const PAIRS: &str = "SELECT count(*), sum(n.bend - n.bstart) FROM nodes n JOIN tokens t \
                     ON n.path = t.path AND t.bstart >= n.bstart AND t.bend <= n.bend";

const BEST_SPAN_ALIGN: &str = "SELECT count(*), CAST(sum(match_score) AS BIGINT) FROM \
                               span_align('tokens', 'nodes', 'contained_best')";

fn data_dir() -> PathBuf {
    std::env::var_os("CPG_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/datafusion-cpg/bench-data")
        })
        .join("synthetic")
}

async fn register(ctx: &SessionContext, dir: &Path) {
    for table in ["nodes", "tokens"] {
        let path = dir.join(format!("{table}.parquet"));
        assert!(
            path.is_file(),
            "{}: missing; run benches/span_data.py",
            path.display()
        );
        let sql = format!(
            "CREATE EXTERNAL TABLE {table} STORED AS PARQUET LOCATION '{}'",
            path.display()
        );
        ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    }
}

async fn answer(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

fn cluster_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = data_dir();
    let (local, cluster) = runtime.block_on(async {
        let local = datafusion_cpg::session_context().unwrap();
        let cluster = session(Cluster::Standalone).await.unwrap();
        for ctx in [&local, &cluster] {
            register(ctx, &dir).await;
        }
        (local, cluster)
    });
    for (name, sql) in [
        ("containment_pairs", PAIRS),
        ("best_match", BEST_SPAN_ALIGN),
    ] {
        let (a, b) =
            runtime.block_on(async { (answer(&local, sql).await, answer(&cluster, sql).await) });
        assert_eq!(a, b, "{name}");
        eprintln!("{name}:\n{a}");
        let mut group = c.benchmark_group(format!("cluster_overhead/synthetic/{name}"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(10));
        group.bench_function("single-process", |b| {
            b.iter(|| runtime.block_on(answer(&local, sql)))
        });
        group.bench_function("standalone-cluster", |b| {
            b.iter(|| runtime.block_on(answer(&cluster, sql)))
        });
        group.finish();
    }
}

criterion_group!(benches, cluster_overhead);
criterion_main!(benches);
