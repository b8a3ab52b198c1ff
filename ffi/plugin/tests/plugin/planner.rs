//! The bundle's query planner loaded over FFI (`FFI_QueryPlanner` with the bundle's
//! codecs): plans over the host's in-memory and listing tables cross by handle, and run
//! to the same results as DataFusion's own planner.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;

use crate::common::{plugin, plugin_ctx, run};

const SETUP: [&str; 3] = [
    "CREATE TABLE nodes(path VARCHAR, bstart BIGINT, bend BIGINT, kind VARCHAR) AS VALUES \
     ('a.py', 0, 40, 'Module'), ('a.py', 0, 12, 'FunctionDef'), ('a.py', 13, 40, 'ClassDef'), \
     ('b.py', 0, 9, 'Module'), ('b.py', 2, 5, 'Name')",
    "CREATE TABLE tokens(path VARCHAR, bstart BIGINT, bend BIGINT, text VARCHAR) AS VALUES \
     ('a.py', 0, 3, 'def'), ('a.py', 14, 19, 'class'), ('b.py', 2, 5, 'foo')",
    "CREATE TABLE files(path VARCHAR) AS VALUES ('a.py')",
];

const QUERIES: [&str; 5] = [
    "SELECT n.kind, count(*) AS c FROM nodes n JOIN tokens t ON n.path = t.path \
     AND t.bstart >= n.bstart AND t.bend <= n.bend GROUP BY n.kind ORDER BY n.kind",
    "SELECT stable_id('node', path, bstart, bend) AS id, kind FROM nodes ORDER BY id",
    "SELECT path, span_len(bstart, bend) AS len FROM nodes WHERE path IN (SELECT path FROM files) ORDER BY len",
    "SELECT kind FROM nodes WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.path = nodes.path) ORDER BY kind",
    "SELECT path, max(bend) OVER (PARTITION BY path) AS m FROM nodes ORDER BY path, m",
];

async fn with_tables(ctx: &SessionContext) {
    for sql in SETUP {
        run(ctx, sql).await.unwrap();
    }
}

fn text(batches: &[datafusion::arrow::array::RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

#[tokio::test]
async fn queries_over_host_tables_plan_in_the_plugin_and_match_native() {
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    let planner = format!("{:?}", foreign.state().query_planner());
    assert!(planner.contains("ForeignQueryPlanner"), "{planner}");
    let native = datafusion_cpg::session_context().unwrap();
    with_tables(&foreign).await;
    with_tables(&native).await;
    for sql in QUERIES {
        let expected = text(&run(&native, sql).await.unwrap());
        let got = text(
            &run(&foreign, sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        );
        assert_eq!(got, expected, "{sql}");
    }
}

#[tokio::test]
async fn a_listing_table_crosses_the_planner() {
    let dir = std::env::temp_dir().join(format!("cpg-planner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("spans.csv"),
        "path,bstart,bend\na.py,0,4\nb.py,1,3\n",
    )
    .unwrap();
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    let create = format!(
        "CREATE EXTERNAL TABLE spans STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
        dir.display()
    );
    run(&foreign, &create).await.unwrap();
    let got = run(
        &foreign,
        "SELECT sum(span_len(bstart, bend)) AS total FROM spans",
    )
    .await
    .unwrap();
    assert!(text(&got).contains("| 6     |"), "{}", text(&got));
}

#[tokio::test]
async fn dml_with_a_subquery_over_ffi_is_refused_not_run_on_every_row() {
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    with_tables(&foreign).await;
    let error = run(
        &foreign,
        "DELETE FROM nodes WHERE path IN (SELECT path FROM files)",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("DELETE on 'nodes' refused") && error.contains("nothing was changed"),
        "{error}"
    );
    let count = text(
        &run(&foreign, "SELECT count(*) AS c FROM nodes")
            .await
            .unwrap(),
    );
    assert!(count.contains("| 5 |"), "{count}");
}

#[tokio::test]
async fn a_policy_planner_denies_plans_of_a_host_without_the_analyzer_rule() {
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    with_tables(&foreign).await;
    plugin
        .install_policy_planner(
            &foreign,
            r#"{"deny_tables": "datafusion.public.files", "deny_functions": "md5"}"#,
        )
        .unwrap();
    assert!(
        text(
            &run(&foreign, "SELECT count(*) AS c FROM nodes")
                .await
                .unwrap()
        )
        .contains("| 5 |")
    );
    for (sql, code) in [
        ("SELECT * FROM files", "CPG-POLICY-5"),
        (
            "SELECT kind FROM nodes WHERE path IN (SELECT path FROM files)",
            "CPG-POLICY-5",
        ),
        ("SELECT md5(kind) FROM nodes", "CPG-POLICY-4"),
    ] {
        let error = run(&foreign, sql).await.unwrap_err().to_string();
        assert!(error.contains(code), "{sql}: {error}");
    }
    // A plan built in code reaches the planner too.
    let df = foreign.table("files").await.unwrap();
    assert!(
        df.collect()
            .await
            .unwrap_err()
            .to_string()
            .contains("CPG-POLICY-5")
    );
    let error = plugin
        .install_policy_planner(&foreign, "{not json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("not valid JSON"), "{error}");
}

#[tokio::test]
async fn fingerprints_through_the_plugin_equal_the_linked_goldens() {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{repo}/tests/golden/fingerprints.json")).unwrap(),
    )
    .unwrap();
    let plugin = plugin();
    let ctx = SessionContext::new();
    let schema = std::fs::read_to_string(format!("{repo}/tests/tpch/schema.sql")).unwrap();
    for statement in schema.split(';').filter(|s| !s.trim().is_empty()) {
        run(&ctx, statement).await.unwrap();
    }
    for n in 1..=22 {
        let sql = std::fs::read_to_string(format!("{repo}/tests/tpch/q{n:02}.sql")).unwrap();
        let got = plugin.fingerprint(&ctx, &sql).await.unwrap();
        let expected = &golden["fingerprints"][format!("tpch/q{n:02}")];
        for (digest, value) in [
            ("exact", &got.exact),
            ("shape", &got.shape),
            ("schema", &got.schema),
            ("policy", &got.policy),
            ("catalog", &got.catalog),
        ] {
            assert_eq!(
                expected[digest].as_str(),
                Some(value.as_str()),
                "q{n:02} {digest}"
            );
        }
    }
    let error = plugin
        .fingerprint(&ctx, "SELECT * FROM nowhere")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nowhere"), "{error}");
}

/// Span joins and `span_align` in a host that loads the bundle: the plugin's planner puts
/// `SpanJoinExec` in place of the hash join, and the table function resolves the host's
/// tables; results equal the linked bundle's.
#[tokio::test]
async fn span_joins_and_span_align_work_over_ffi() {
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    let native = datafusion_cpg::session_context().unwrap();
    with_tables(&foreign).await;
    with_tables(&native).await;
    let join = "SELECT n.kind, t.text FROM nodes n JOIN tokens t ON n.path = t.path \
                AND t.bstart >= n.bstart AND t.bend <= n.bend ORDER BY n.kind, t.text";
    let physical = foreign
        .sql(join)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let plan = datafusion::physical_plan::displayable(physical.as_ref())
        .indent(true)
        .to_string();
    assert!(plan.contains("SpanJoinExec"), "{plan}");
    assert_eq!(
        text(&run(&foreign, join).await.unwrap()),
        text(&run(&native, join).await.unwrap())
    );
    let align = "SELECT text, kind, match_kind, match_score FROM span_align('tokens', 'nodes', \
                 'contained_best', 'right_columns=kind') ORDER BY text";
    let got = text(&run(&foreign, align).await.unwrap());
    assert_eq!(got, text(&run(&native, align).await.unwrap()));
    for row in [
        "| class | ClassDef    | CONTAINED_BEST | -27.0       |",
        "| def   | FunctionDef | CONTAINED_BEST | -12.0       |",
        "| foo   | Name        | CONTAINED_BEST | -3.0        |",
    ] {
        assert!(got.contains(row), "{got}");
    }
}
