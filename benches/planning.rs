//! Planning overhead of the bundle's SQL policy, fingerprints and query planner on the 22
//! TPC-H queries (`tests/tpch`, empty tables: planning only), against plain DataFusion;
//! and the fingerprint of one analyzed TPC-H plan alone.
//!
//! `cargo bench --bench planning`. Targets (issue 10): the bundle at most 3% slower in
//! total; a fingerprint at most 20 µs per plan (median).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion_cpg::optimizer::fingerprint::fingerprint;

#[path = "../tests/integration/common/script.rs"]
mod script;

fn queries() -> Vec<String> {
    (1..=22).map(script::tpch_query).collect()
}

async fn with_tables(ctx: SessionContext) -> SessionContext {
    script::create_tpch_tables(&ctx).await;
    ctx
}

/// SQL text to physical plan, for every query.
async fn plan_all(ctx: &SessionContext, queries: &[String]) {
    for sql in queries {
        let df = ctx.sql(sql).await.unwrap();
        black_box(df.create_physical_plan().await.unwrap());
    }
}

fn planning(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let queries = queries();
    let plain = runtime.block_on(with_tables(SessionContext::new()));
    let bundle = runtime.block_on(with_tables(datafusion_cpg::session_context().unwrap()));
    runtime.block_on(async {
        for setting in [
            "deny_tables = 'datafusion.secret.'",
            "max_joins = 16",
            "allow_ddl = false",
        ] {
            bundle
                .sql(&format!("SET cpg.policy.{setting}"))
                .await
                .unwrap();
        }
    });

    let mut group = c.benchmark_group("plan_22_tpch_queries");
    group.sample_size(30);
    group.bench_function("datafusion", |b| {
        b.iter(|| runtime.block_on(plan_all(&plain, &queries)))
    });
    group.bench_function("with_policy_fingerprint_planner", |b| {
        b.iter(|| runtime.block_on(plan_all(&bundle, &queries)))
    });
    group.finish();

    // Fingerprint alone: the analyzed plans of the 22 queries, one iteration each.
    let state: SessionState = plain.state();
    let analyzed: Vec<LogicalPlan> = runtime.block_on(async {
        let mut plans = vec![];
        for sql in &queries {
            let plan = state.create_logical_plan(sql).await.unwrap();
            plans.push(
                state
                    .analyzer()
                    .execute_and_check(plan, state.config_options(), |_, _| {})
                    .unwrap(),
            );
        }
        plans
    });
    let config = state.config_options().clone();
    let mut group = c.benchmark_group("fingerprint_one_tpch_plan");
    for (n, plan) in analyzed.iter().enumerate() {
        if ![1, 2, 9, 21].contains(&(n + 1)) {
            continue;
        }
        group.bench_function(format!("q{:02}", n + 1), |b| {
            b.iter(|| black_box(fingerprint(plan, &config).unwrap()))
        });
    }
    group.bench_function("all_22_divided_by_22", |b| {
        b.iter_custom(|iterations| {
            let start = std::time::Instant::now();
            for _ in 0..iterations {
                for plan in &analyzed {
                    black_box(fingerprint(plan, &config).unwrap());
                }
            }
            start.elapsed() / 22
        })
    });
    group.finish();
}

criterion_group!(benches, planning);
criterion_main!(benches);
