//! The bundle on a standalone (in-process) Ballista cluster: one query per capability,
//! each equal to the single-process bundle's result, and planned as a distributed query.
//!
//! In-process, a plan node without a portable codec entry would still cross by handle;
//! `tests/cluster.rs` (separate processes) is what proves the payloads.

#[path = "../../providers/tests/common/mod.rs"]
mod tables;

#[path = "common/demo.rs"]
mod demo;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_cpg_ballista::{Cluster, session};

async fn rows(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

/// Runs every statement on a standalone cluster and in one process; the last one's
/// results must be equal, and its plan distributed. Returns the cluster's `EXPLAIN`
/// (its physical plan and stages).
async fn same_on_the_cluster(setup: &[String], sql: &str) -> String {
    let (cluster, local) = sessions(setup).await;
    assert_eq!(rows(&cluster, sql).await, rows(&local, sql).await, "{sql}");
    let text = tables::explain(&cluster, sql).await;
    assert!(text.contains("DistributedQueryExec"), "{text}");
    rows(&cluster, &format!("EXPLAIN {sql}")).await
}

/// A standalone cluster's session and a single-process one, each after `setup`.
async fn sessions(setup: &[String]) -> (SessionContext, SessionContext) {
    let cluster = session(Cluster::Standalone).await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    for ctx in [&cluster, &local] {
        for statement in setup {
            ctx.sql(statement).await.unwrap().collect().await.unwrap();
        }
    }
    (cluster, local)
}

/// The demo's extracted AST nodes and tokens as tables.
fn demo_tables() -> Vec<String> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data");
    ["ast_nodes", "tokens"]
        .iter()
        .map(|name| {
            format!(
                "CREATE EXTERNAL TABLE {name} STORED AS CSV LOCATION '{data}/{name}.csv' \
                 OPTIONS ('has_header' 'true')"
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo() {
    let cluster = session(Cluster::Standalone).await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    assert_eq!(demo::results(&cluster).await, demo::results(&local).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_functions() {
    let sql = "SELECT value, stable_hash64('pkg/mod.py', value) AS h, \
               stable_id('node', 'pkg/mod.py', value, value + 3) AS id, \
               span_len(value, value * 2) AS n, qname_normalize('a..b') AS q, \
               xxhash64('p', value) AS x FROM range(100) ORDER BY value";
    same_on_the_cluster(&[], sql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_explode_and_lateral_unnest_with_ordinality() {
    same_on_the_cluster(
        &[],
        "SELECT value, unnest(list_enumerate(make_array(value, value + 1))) AS e \
         FROM range(20) ORDER BY value, e",
    )
    .await;
    same_on_the_cluster(
        &demo_tables(),
        "SELECT count(*), sum(o * v), sum(t.bstart) \
         FROM tokens t CROSS JOIN UNNEST(make_array(1, 2)) WITH ORDINALITY AS u(v, o)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_joins_and_span_align() {
    // Ballista plans sort-merge joins: the span join replaces them too.
    let plan = same_on_the_cluster(
        &demo_tables(),
        "SELECT count(*), sum(t.bstart), sum(n.bend - n.bstart) FROM ast_nodes n \
         JOIN tokens t ON n.path = t.path AND t.bstart >= n.bstart AND t.bend <= n.bend",
    )
    .await;
    assert!(
        plan.contains("SpanJoinExec") && !plan.contains("SortMergeJoinExec"),
        "{plan}"
    );
    same_on_the_cluster(
        &demo_tables(),
        "SELECT count(*), count(DISTINCT path), sum(bstart) \
         FROM span_align('tokens', 'ast_nodes', 'contained_best')",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_change_feed_and_time_travel() {
    let history = tables::History::write().await;
    let path = history.path();
    same_on_the_cluster(
        &[],
        &format!(
            "SELECT _commit_version, _change_type, id FROM delta_cdf('{path}', 1, 5) \
             ORDER BY 1, 2, 3"
        ),
    )
    .await;
    same_on_the_cluster(
        &[],
        &format!("SELECT id, value FROM delta_snapshot('{path}', 3) ORDER BY id"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_listing_in_bounded_mode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "id,path\n1,x\n2,y\n").unwrap();
    std::fs::write(dir.path().join("b.csv"), "id,path\n3,z\n").unwrap();
    let create = format!(
        "CREATE EXTERNAL TABLE facts (id BIGINT, path VARCHAR) STORED AS UNBOUNDED_CSV \
         LOCATION '{}' OPTIONS ('bounded' 'true')",
        dir.path().display()
    );
    same_on_the_cluster(
        &[create],
        "SELECT id, path, stable_hash64(path) FROM facts ORDER BY id",
    )
    .await;
}

/// A plan's fingerprint is the client's (of the analyzed plan): the same on a cluster
/// as in one process, asked in SQL (`plan_fingerprint`, which runs on the cluster) or
/// in Rust; and the policy that refuses a query on the client refuses it here too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_fingerprints_under_the_policy() {
    let query = "SELECT kind, count(*) AS n FROM ast_nodes WHERE bstart > 10 GROUP BY kind";
    let in_sql = format!("SELECT * FROM plan_fingerprint('{query}')");
    same_on_the_cluster(&demo_tables(), &in_sql).await;

    let (cluster, local) = sessions(&demo_tables()).await;
    let fingerprint = |ctx: SessionContext| async move {
        datafusion_cpg::optimizer::fingerprint::fingerprint_sql(&ctx.state(), query)
            .await
            .unwrap()
    };
    let on_cluster = fingerprint(cluster.clone()).await;
    assert_eq!(on_cluster, fingerprint(local.clone()).await);

    for ctx in [&cluster, &local] {
        ctx.sql("SET cpg.policy.deny_functions = 'count'")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let run = async { ctx.sql(query).await?.collect().await };
        let denied = run.await.unwrap_err().to_string();
        assert!(
            denied.contains("CPG-POLICY") && denied.contains("count"),
            "{denied}"
        );
    }
}
