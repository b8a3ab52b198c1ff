//! The `cpg-sql` command: ids are equal across processes, every output format, the demo
//! script runs without an error, and a failing statement stops a script.

use std::process::Command;

fn cpg_sql(args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_cpg-sql"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .output()
        .expect("cpg-sql runs");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

const IDS: &str = "SELECT stable_id('node', 'pkg/mod.py', value, value + 3) AS id, \
                   stable_hash64('pkg/mod.py', value) AS h, stable_hash128(value) AS h128, \
                   xxhash64('pkg/mod.py', value) AS x FROM range(1000) ORDER BY value";

#[test]
fn ids_are_equal_across_processes() {
    let (first, err, ok) = cpg_sql(&["-q", "--format", "csv", "-c", IDS]);
    assert!(ok && err.is_empty(), "{err}");
    assert_eq!(first.lines().count(), 1001, "{first}");
    let (second, _, _) = cpg_sql(&["-q", "--format", "csv", "-c", IDS]);
    assert_eq!(first, second);
}

#[test]
fn every_output_format_prints_the_values() {
    let sql = "SELECT span_len(3, 10) AS n, qname_normalize('Foo', 'pkg') AS q";
    let (json, _, ok) = cpg_sql(&["-q", "--format", "json", "-c", sql]);
    assert!(ok);
    assert_eq!(json.trim(), r#"[{"n":7,"q":"pkg.Foo"}]"#);
    let (csv, _, _) = cpg_sql(&["-q", "--format", "csv", "-c", sql]);
    assert_eq!(csv.trim(), "n,q\n7,pkg.Foo");
    let (ndjson, _, _) = cpg_sql(&["-q", "--format", "nd-json", "-c", sql]);
    assert_eq!(ndjson.trim(), r#"{"n":7,"q":"pkg.Foo"}"#);
    let (tsv, _, _) = cpg_sql(&["-q", "--format", "tsv", "-c", sql]);
    assert_eq!(tsv.trim(), "n\tq\n7\tpkg.Foo");
    let (table, _, _) = cpg_sql(&["-q", "--format", "table", "-c", sql]);
    assert!(table.contains("| 7 | pkg.Foo |"), "{table}");
}

#[test]
fn demo_runs_cleanly() {
    let (out, err, ok) = cpg_sql(&["-q", "-f", "examples/demo.sql"]);
    assert!(ok, "{err}");
    assert!(err.is_empty(), "the demo printed errors:\n{err}");
    assert!(
        out.contains("AST_PARENT") && out.contains("TOKEN_OF"),
        "{out}"
    );
}

fn script(name: &str, sql: &str) -> String {
    let dir = std::env::temp_dir().join(format!("cpg-sql-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("script.sql");
    std::fs::write(&path, sql).unwrap();
    path.to_str().unwrap().to_string()
}

const FAILS_SECOND: &str =
    "SELECT 1 AS one;\n\nSELECT span_len(5, 1) AS bad;\nSELECT 3 AS three;\n";

#[test]
fn the_first_failing_statement_stops_the_script() {
    let path = script("stop", FAILS_SECOND);
    let (out, err, ok) = cpg_sql(&["-q", "--format", "csv", "-f", &path]);
    assert!(!ok, "a failing script must exit non-zero");
    assert!(
        err.starts_with(&format!("Error in statement 2 (line 3) of {path}: ")),
        "{err}"
    );
    assert!(err.contains("span_len"), "{err}");
    assert_eq!(out.trim(), "one\n1", "statement 3 must not run: {out}");
}

#[test]
fn continue_on_error_runs_the_rest_and_still_fails() {
    let path = script("continue", FAILS_SECOND);
    let (out, err, ok) = cpg_sql(&["-q", "--format", "csv", "--continue-on-error", "-f", &path]);
    assert!(!ok);
    assert!(err.contains("Error in statement 2 (line 3)"), "{err}");
    assert_eq!(out.trim(), "one\n1\nthree\n3");
}

#[test]
fn a_file_that_does_not_tokenize_is_an_error() {
    let path = script("unterminated", "SELECT 'never closed;\n");
    let (_, err, ok) = cpg_sql(&["-q", "-f", &path]);
    assert!(!ok);
    assert!(
        err.contains("cannot split the SQL into statements"),
        "{err}"
    );
}

#[test]
fn a_policy_set_in_the_session_denies_ddl() {
    let path = script(
        "policy",
        "SET cpg.policy.allow_ddl = false;\nCREATE TABLE x AS SELECT 1;\nSELECT 2 AS two;\n",
    );
    let (out, err, ok) = cpg_sql(&["-q", "--format", "csv", "-f", &path]);
    assert!(!ok);
    assert!(
        err.contains("Error in statement 2 (line 2) of ")
            && err.contains(
                "CPG-POLICY-1: CREATE TABLE statement denied by cpg.policy.allow_create_table"
            ),
        "{err}"
    );
    assert_eq!(out.trim(), "");
    // Locked: the policy cannot be loosened again.
    let path = script(
        "locked",
        "SET cpg.policy.allow_ddl = false;\nSET cpg.policy.locked = true;\nSET cpg.policy.allow_ddl = true;\n",
    );
    let (_, err, ok) = cpg_sql(&["-q", "-f", &path]);
    assert!(!ok);
    assert!(
        err.contains("Error in statement 3 (line 3)")
            && err.contains("CPG-POLICY-3: SET cpg.policy.allow_ddl denied by the locked policy"),
        "{err}"
    );
}

#[test]
fn delete_and_update_with_a_subquery_change_only_the_selected_rows() {
    // apache/datafusion#24654: stock DataFusion 55 deletes all three rows and sets all
    // three ids to 10.
    let path = script(
        "dml",
        "CREATE TABLE a(id INT) AS VALUES (1),(2),(3);\n\
         CREATE TABLE b(id INT) AS VALUES (1),(2);\n\
         UPDATE a SET id = id + 10 WHERE id IN (SELECT id FROM b);\n\
         SELECT id FROM a ORDER BY id;\n\
         DELETE FROM a WHERE id - 10 IN (SELECT id FROM b);\n\
         SELECT count(*) AS remaining FROM a;\n",
    );
    let (out, err, ok) = cpg_sql(&["-q", "--format", "csv", "-f", &path]);
    assert!(ok, "{err}");
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        [
            "count",
            "2",
            "id",
            "3",
            "11",
            "12",
            "count",
            "2",
            "remaining",
            "1"
        ],
        "{out}"
    );
}

/// cpg-sql streaming an unbounded table's query; its standard output, line by line.
struct Streaming {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Streaming {
    fn start(sql: &str) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_cpg-sql"))
            .args(["-q", "--format", "csv", "-c", sql])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("cpg-sql runs");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    fn next(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a line within 30 s")
    }

    /// Kills the process (SIGKILL: no cleanup runs).
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Writes `text` to `name` in `dir` the way writers must: elsewhere, then renamed in.
fn publish(dir: &std::path::Path, name: &str, text: &str) {
    let staging = dir.join(format!(".{name}"));
    std::fs::write(&staging, text).unwrap();
    std::fs::rename(staging, dir.join(name)).unwrap();
}

#[test]
fn an_unbounded_query_prints_rows_as_files_arrive() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "a.csv", "id\n1\n2\n");
    let sql = format!(
        "CREATE UNBOUNDED EXTERNAL TABLE facts (id BIGINT) STORED AS CSV LOCATION '{}' \
         OPTIONS ('poll_interval' '50ms'); SELECT id FROM facts WHERE id > 0;",
        dir.path().display()
    );
    let streaming = Streaming::start(&sql);
    let first: Vec<String> = (0..3).map(|_| streaming.next()).collect();
    assert_eq!(first, ["id", "1", "2"]);
    publish(dir.path(), "b.csv", "id\n3\n");
    assert_eq!(streaming.next(), "3");
    streaming.kill();
}

#[test]
fn a_killed_process_resumes_from_its_checkpoint_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let checkpoint = dir.path().join("facts.checkpoint.json");
    publish(&data, "a.csv", "id\n1\n2\n");
    publish(&data, "b.csv", "id\n3\n");
    let sql = format!(
        "CREATE UNBOUNDED EXTERNAL TABLE facts (id BIGINT) STORED AS CSV LOCATION '{}' \
         OPTIONS ('poll_interval' '50ms', 'checkpoint' '{}'); SELECT id FROM facts;",
        data.display(),
        checkpoint.display()
    );
    let streaming = Streaming::start(&sql);
    let first: Vec<String> = (0..4).map(|_| streaming.next()).collect();
    assert_eq!(first, ["id", "1", "2", "3"]);
    // Both files are recorded once the scan has pulled past them.
    let recorded = || std::fs::read_to_string(&checkpoint).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !recorded().contains("b.csv") {
        assert!(std::time::Instant::now() < deadline, "{}", recorded());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    streaming.kill();
    publish(&data, "c.csv", "id\n4\n");
    let restarted = Streaming::start(&sql);
    assert_eq!(restarted.next(), "id");
    assert_eq!(restarted.next(), "4", "only the file that came since");
    restarted.kill();
}

/// `--ballista standalone`: the statements run on an in-process Ballista cluster with
/// the bundle, and print what they print in one process.
#[cfg(feature = "ballista")]
#[test]
fn ballista_runs_the_statements_on_a_cluster() {
    let sql = "CREATE TABLE spans AS SELECT bstart, bstart + 3 AS bend \
               FROM (SELECT unnest(range(100)) AS bstart); \
               SELECT stable_id('node', 'pkg/mod.py', bstart, bend) AS id, span_len(bstart, bend) AS n \
               FROM spans WHERE bstart % 7 = 0 ORDER BY bstart";
    let (local, err, ok) = cpg_sql(&["-q", "--format", "csv", "-c", sql]);
    assert!(ok, "{err}");
    let (cluster, err, ok) = cpg_sql(&[
        "-q",
        "--format",
        "csv",
        "--ballista",
        "standalone",
        "-c",
        sql,
    ]);
    assert!(ok, "{err}");
    assert_eq!(cluster, local);
    assert_eq!(local.lines().count(), 16, "{local}");
}

/// A scheduler that is not there: a clear error and exit code 1.
#[cfg(feature = "ballista")]
#[test]
fn ballista_without_a_scheduler_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("df://127.0.0.1:{port}");
    let (out, err, ok) = cpg_sql(&["-q", "--ballista", &url, "-c", "SELECT 1"]);
    assert!(!ok && out.is_empty(), "{out}");
    assert!(
        err.contains("127.0.0.1") && !err.contains("panicked"),
        "{err}"
    );
}
