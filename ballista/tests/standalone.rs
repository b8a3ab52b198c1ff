//! The bundle on a standalone (in-process) Ballista cluster: results equal the
//! single-process bundle's.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_cpg_ballista::{Cluster, session};

async fn rows(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_functions_run_on_the_executors() {
    let cluster = session(Cluster::Standalone).await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    let sql = "SELECT value, stable_hash64('pkg/mod.py', value) AS h, \
               stable_id('node', 'pkg/mod.py', value, value + 3) AS id, \
               span_len(value, value * 2) AS n, qname_normalize('a..b') AS q \
               FROM range(100) ORDER BY value";
    assert_eq!(rows(&cluster, sql).await, rows(&local, sql).await);
    // The query ran on the cluster: the client's plan hands it to the scheduler.
    let plan = cluster
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert!(text.contains("DistributedQueryExec"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_explode_with_positions_runs_on_the_executors() {
    let cluster = session(Cluster::Standalone).await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    let sql = "SELECT value, unnest(list_enumerate(make_array(value, value + 1, value + 2))) AS e \
               FROM range(20) ORDER BY value, e";
    assert_eq!(rows(&cluster, sql).await, rows(&local, sql).await);
}
