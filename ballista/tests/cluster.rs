//! The bundle on a real Ballista cluster: `cpg-scheduler` and two `cpg-executor`s as
//! child processes on loopback (killed when the test ends, each step under a time
//! limit). Every plan crosses processes as bytes, so this is what proves the codecs.

#[path = "../../providers/tests/common/mod.rs"]
mod tables;

#[path = "common/demo.rs"]
mod demo;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::Result;
use datafusion::prelude::SessionContext;
use datafusion_cpg_ballista::{Cluster, session};

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scheduler and two executors; the executors enforce the policy file they are given.
struct LocalCluster {
    url: String,
    executors: Vec<Process>,
    _scheduler: Process,
    _work: tempfile::TempDir,
}

impl LocalCluster {
    async fn start() -> Self {
        let work = tempfile::tempdir().unwrap();
        let policy = work.path().join("executor-policy.toml");
        std::fs::write(&policy, "deny_functions = [\"md5\"]\n").unwrap();
        let port = free_port();
        let quiet = || Stdio::null();
        let scheduler = Process(
            Command::new(env!("CARGO_BIN_EXE_cpg-scheduler"))
                .args(["--bind-host", "127.0.0.1", "--external-host", "127.0.0.1"])
                .args(["-p", &port.to_string()])
                .args(["--executor-timeout-seconds", "4"])
                .args(["--expire-dead-executor-interval-seconds", "1"])
                .stderr(quiet())
                .spawn()
                .unwrap(),
        );
        let executors = (0..2)
            .map(|i| {
                let dir = work.path().join(format!("executor-{i}"));
                std::fs::create_dir(&dir).unwrap();
                Process(
                    Command::new(env!("CARGO_BIN_EXE_cpg-executor"))
                        .args(["--bind-host", "127.0.0.1", "--external-host", "127.0.0.1"])
                        .args(["--scheduler-host", "127.0.0.1"])
                        .args(["--scheduler-port", &port.to_string()])
                        .args(["--scheduler-connect-timeout-seconds", "30"])
                        .args(["-p", &free_port().to_string()])
                        .args(["--bind-grpc-port", &free_port().to_string()])
                        .args(["-c", "2", "--executor-heartbeat-interval-seconds", "1"])
                        .args(["--work-dir", dir.to_str().unwrap()])
                        .args(["--policy", policy.to_str().unwrap()])
                        .stderr(quiet())
                        .spawn()
                        .unwrap(),
                )
            })
            .collect();
        let cluster = Self {
            url: format!("df://127.0.0.1:{port}"),
            executors,
            _scheduler: scheduler,
            _work: work,
        };
        cluster.wait_until_ready().await;
        cluster
    }

    /// Until a query runs (the scheduler is up and executors have registered).
    async fn wait_until_ready(&self) {
        let mut last = String::new();
        for _ in 0..60 {
            let attempt = async {
                let ctx = self.client().await?;
                ctx.sql("SELECT count(*) FROM unnest(range(10))")
                    .await?
                    .collect()
                    .await
            };
            match tokio::time::timeout(Duration::from_secs(10), attempt).await {
                Ok(Ok(_)) => return,
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "a query took over 10 s".into(),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!(
            "the cluster at {} did not come up in time: {last}",
            self.url
        );
    }

    async fn client(&self) -> Result<SessionContext> {
        session(Cluster::Remote(self.url.clone())).await
    }
}

async fn rows(ctx: &SessionContext, sql: &str) -> String {
    let run = async { ctx.sql(sql).await?.collect().await };
    let batches = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap_or_else(|_| panic!("timed out: {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pretty_format_batches(&batches).unwrap().to_string()
}

/// Runs the statements on the cluster and in one process: the last one's results must
/// be equal.
async fn same_on_the_cluster(cluster: &LocalCluster, setup: &[String], sql: &str) {
    let remote = cluster.client().await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    for ctx in [&remote, &local] {
        for statement in setup {
            rows(ctx, statement).await;
        }
    }
    assert_eq!(rows(&remote, sql).await, rows(&local, sql).await, "{sql}");
    let text = tables::explain(&remote, sql).await;
    assert!(text.contains("DistributedQueryExec"), "{text}");
}

fn csv_table(name: &str) -> String {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data");
    format!(
        "CREATE EXTERNAL TABLE {name} STORED AS CSV LOCATION '{}/{name}.csv' \
         OPTIONS ('has_header' 'true', 'newlines_in_values' 'true')",
        data.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_runs_on_a_scheduler_and_two_executor_processes() {
    let cluster = LocalCluster::start().await;

    // The demo, whole: its CREATE TABLE .. AS results (in-memory tables of the
    // client) travel to the executors with the queries over them.
    let remote = cluster.client().await.unwrap();
    let local = datafusion_cpg::session_context().unwrap();
    assert_eq!(demo::results(&remote).await, demo::results(&local).await);

    let demo = [csv_table("ast_nodes"), csv_table("tokens")];

    // Scalar UDFs travel by name; the executors have them.
    same_on_the_cluster(
        &cluster,
        &[],
        "SELECT value, stable_hash64('pkg/mod.py', value) AS h, \
         stable_id('node', 'pkg/mod.py', value, value + 3) AS id, \
         span_len(value, value * 2) AS n, qname_normalize('a..b') AS q \
         FROM unnest(range(1000)) AS t(value) ORDER BY value",
    )
    .await;
    // List explode and lateral UNNEST WITH ORDINALITY.
    same_on_the_cluster(
        &cluster,
        &demo,
        "SELECT count(*), sum(o * v), sum(t.bstart) \
         FROM tokens t CROSS JOIN UNNEST(make_array(1, 2)) WITH ORDINALITY AS u(v, o)",
    )
    .await;
    // The span join (a cpg.span_join.v1 payload) and span_align.
    same_on_the_cluster(
        &cluster,
        &demo,
        "SELECT count(*), sum(t.bstart), sum(n.bend - n.bstart) FROM ast_nodes n \
         JOIN tokens t ON n.path = t.path AND t.bstart >= n.bstart AND t.bend <= n.bend",
    )
    .await;
    same_on_the_cluster(
        &cluster,
        &demo,
        "SELECT count(*), count(DISTINCT path), sum(bstart) \
         FROM span_align('tokens', 'ast_nodes', 'contained_best')",
    )
    .await;
    // span_align over the client's in-memory tables: its inputs' plans travel inside
    // its payload, with their rows.
    let in_memory = [
        demo.to_vec(),
        vec![
            "CREATE TABLE mem_nodes AS SELECT * FROM ast_nodes WHERE path < 'j'".to_string(),
            "CREATE TABLE mem_tokens AS SELECT * FROM tokens WHERE path < 'j'".to_string(),
        ],
    ]
    .concat();
    same_on_the_cluster(
        &cluster,
        &in_memory,
        "SELECT count(*), count(DISTINCT path), sum(bstart) \
         FROM span_align('mem_tokens', 'mem_nodes', 'contained_best')",
    )
    .await;

    // The Delta providers: their scans are planned on the scheduler and read on the
    // executors (cpg.delta_cdf_exec.v1 / the snapshot's scan).
    let history = tables::History::write().await;
    let path = history.path();
    same_on_the_cluster(
        &cluster,
        &[],
        &format!(
            "SELECT _commit_version, _change_type, id FROM delta_cdf('{path}', 1, 5) \
             ORDER BY 1, 2, 3"
        ),
    )
    .await;
    same_on_the_cluster(
        &cluster,
        &[],
        &format!("SELECT id, value FROM delta_snapshot('{path}', 3) ORDER BY id"),
    )
    .await;

    // The unbounded listing table, bounded.
    let listed = tempfile::tempdir().unwrap();
    std::fs::write(listed.path().join("a.csv"), "id,path\n1,x\n2,y\n").unwrap();
    std::fs::write(listed.path().join("b.csv"), "id,path\n3,z\n").unwrap();
    let create = format!(
        "CREATE EXTERNAL TABLE facts (id BIGINT, path VARCHAR) STORED AS UNBOUNDED_CSV \
         LOCATION '{}' OPTIONS ('bounded' 'true')",
        listed.path().display()
    );
    same_on_the_cluster(
        &cluster,
        &[create],
        "SELECT id, path, stable_hash64(path) FROM facts WHERE id > 1 ORDER BY id",
    )
    .await;

    // The client's policy refuses before submission.
    let client = cluster.client().await.unwrap();
    client
        .sql("SET cpg.policy.deny_functions = 'sha256'")
        .await
        .unwrap();
    let refused = async { client.sql("SELECT sha256('x')").await?.collect().await }
        .await
        .unwrap_err()
        .to_string();
    // Refused by the client's analyzer: no gRPC status, nothing reached the scheduler.
    assert!(
        refused.contains("CPG-POLICY-4") && !refused.contains("Status"),
        "{refused}"
    );

    // A client without the bundle (no client-side check, the session's policy allows
    // everything) sends a plan calling md5: the executors' own policy refuses it.
    let bypass = SessionContext::remote(&cluster.url).await.unwrap();
    let run = async {
        bypass
            .sql("SELECT md5(CAST(value AS VARCHAR)) FROM unnest(range(10)) AS t(value)")
            .await?
            .collect()
            .await
    };
    let refused = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the refused query did not end in time")
        .unwrap_err();
    assert!(
        refused.to_string().contains("CPG-POLICY-4")
            && refused.to_string().contains("function md5"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_killed_mid_query_never_yields_partial_results() {
    let mut cluster = LocalCluster::start().await;
    let client = cluster.client().await.unwrap();
    // 300,000 rows joined with 300,000 on value % 1000: 90 M pairs over several
    // stages, long enough to kill an executor while it runs.
    let sql = "SELECT count(*) AS pairs, sum(b.v) AS total FROM \
               (SELECT value % 1000 AS k FROM unnest(range(300000)) AS t(value)) a JOIN \
               (SELECT value % 1000 AS k, value AS v FROM unnest(range(300000)) AS t(value)) b \
               ON a.k = b.k";
    // Each k has 300 rows on either side; sum over pairs of b.v = 300 × Σ v.
    let expected_total: i64 = 300 * (0..300_000i64).sum::<i64>();
    let query = tokio::spawn(async move { client.sql(sql).await?.collect().await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !query.is_finished(),
        "the query ended before the executor was killed"
    );
    drop(cluster.executors.remove(0));
    let outcome = tokio::time::timeout(Duration::from_secs(150), query)
        .await
        .expect("the query neither finished nor failed after an executor was killed")
        .unwrap();
    match outcome {
        // Ballista retried the lost tasks on the other executor: the whole answer.
        Ok(batches) => {
            let text = pretty_format_batches(&batches).unwrap().to_string();
            assert!(
                text.contains("90000000") && text.contains(&expected_total.to_string()),
                "partial or wrong result after an executor was killed:\n{text}"
            );
            eprintln!("the query completed after an executor was killed:\n{text}");
        }
        // Or a failure that says what happened.
        Err(e) => {
            let message = e.to_string();
            assert!(!message.trim().is_empty());
            eprintln!("the query failed after an executor was killed: {message}");
        }
    }
}
