//! The SQL policy at SQL and API level: each bypass attempt is denied with its
//! `CPG-POLICY-<n>` code, and what the policy allows runs unchanged.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::SessionContext;
use datafusion_cpg::optimizer::policy::checked_sql;

use crate::common::ctx;
use crate::common::script::{create_tpch_tables, demo_sql, run_script, statements, tpch_query};

fn table() -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )
    .unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

/// A session with tables `t` and `secret`, the policy keys `settings` applied.
async fn session(settings: &[&str]) -> SessionContext {
    let ctx = ctx();
    ctx.register_table("t", table()).unwrap();
    ctx.register_table("secret", table()).unwrap();
    for setting in settings {
        run(&ctx, &format!("SET cpg.policy.{setting}")).await;
    }
    ctx
}

/// Runs `sql` to completion with plain `ctx.sql`; it must succeed.
async fn run(ctx: &SessionContext, sql: &str) {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The result of `sql` as a printed table.
async fn table_text(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}

/// The error of running `sql` to completion (plain `ctx.sql`, not the checked entry).
async fn denial(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    result
        .expect_err(&format!("{sql} should be denied"))
        .strip_backtrace()
}

fn assert_code(error: &str, code: u32, rule: &str) {
    assert!(
        error.contains(&format!("CPG-POLICY-{code}: ")) && error.contains(rule),
        "expected CPG-POLICY-{code} by {rule}, got: {error}"
    );
}

#[tokio::test]
async fn a_denied_table_cannot_be_reached_by_any_path() {
    let ctx = session(&["deny_tables = 'datafusion.public.secret'"]).await;
    let attempts = [
        "SELECT * FROM secret",
        "SELECT * FROM datafusion.public.secret",
        "WITH x AS (SELECT * FROM secret) SELECT * FROM x",
        "SELECT * FROM t WHERE a IN (SELECT a FROM secret)",
        "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM secret WHERE secret.a = t.a)",
        "SELECT (SELECT max(a) FROM secret) AS m",
        "SELECT a FROM t UNION ALL SELECT a FROM secret",
        "SELECT * FROM t JOIN (SELECT a AS b FROM secret) s ON t.a = s.b",
        "SELECT * FROM (SELECT * FROM (SELECT * FROM secret) x) y",
        "EXPLAIN ANALYZE SELECT * FROM secret",
        "INSERT INTO t SELECT a FROM secret",
        "INSERT INTO secret VALUES (4)",
    ];
    for sql in attempts {
        assert_code(
            &denial(&ctx, sql).await,
            5,
            "table datafusion.public.secret denied by cpg.policy.deny_tables",
        );
    }
    // A view over the denied table is checked on what it reads.
    ctx.sql("CREATE VIEW v AS SELECT * FROM secret")
        .await
        .unwrap();
    assert_code(
        &denial(&ctx, "SELECT * FROM v").await,
        5,
        "cpg.policy.deny_tables",
    );
    // Other tables are unaffected.
    let rows = ctx
        .sql("SELECT count(*) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(rows[0].num_rows(), 1);
}

#[tokio::test]
async fn plain_explain_shows_the_denial_instead_of_running() {
    let ctx = session(&["deny_tables = 'datafusion.public.secret'"]).await;
    let text = table_text(&ctx, "EXPLAIN SELECT * FROM secret").await;
    assert!(text.contains("CPG-POLICY-5"), "{text}");
}

#[tokio::test]
async fn functions_are_denied_by_canonical_name_whatever_the_syntax() {
    let cases = [
        ("deny_functions = 'md5'", "SELECT md5('a')", "function md5"),
        (
            "deny_functions = 'date_part'",
            "SELECT EXTRACT(YEAR FROM DATE '2024-01-02')",
            "function date_part",
        ),
        (
            "deny_functions = 'strpos'",
            "SELECT POSITION('b' IN 'abc')",
            "function strpos",
        ),
        (
            "deny_functions = 'substr'",
            "SELECT SUBSTRING('abc' FROM 2)",
            "function substr",
        ),
        (
            "deny_functions = 'make_array'",
            "SELECT [1, 2]",
            "function make_array",
        ),
        (
            "deny_functions = 'count'",
            "SELECT count(*) FROM t",
            "function count",
        ),
        (
            "deny_functions = 'row_number'",
            "SELECT row_number() OVER () FROM t",
            "function row_number",
        ),
        (
            "deny_functions = 'stable_hash64'",
            "SELECT a FROM t WHERE stable_hash64(a) > 0",
            "function stable_hash64",
        ),
        (
            "allow_volatile_functions = false",
            "SELECT random()",
            "function random",
        ),
        (
            "allow_functions = 'abs'",
            "SELECT upper('a')",
            "function upper",
        ),
    ];
    for (setting, sql, what) in cases {
        let ctx = session(&[setting]).await;
        let error = denial(&ctx, sql).await;
        assert_code(&error, 4, what);
    }
    // An allowlist admits what it lists.
    let ctx = session(&["allow_functions = 'abs'"]).await;
    run(&ctx, "SELECT abs(-1)").await;
}

#[tokio::test]
async fn writes_are_denied_through_sql_and_the_dataframe_api() {
    let ctx = session(&["allow_dml = false"]).await;
    assert_code(
        &denial(&ctx, "INSERT INTO t VALUES (4)").await,
        1,
        "cpg.policy.allow_insert",
    );
    let out = std::env::temp_dir().join(format!("cpg-policy-{}.csv", std::process::id()));
    let copy = format!("COPY t TO '{}' STORED AS CSV", out.display());
    assert_code(&denial(&ctx, &copy).await, 1, "cpg.policy.allow_copy_to");
    assert!(!out.exists(), "COPY wrote a file");
    let df = ctx.table("t").await.unwrap();
    let error = df
        .write_table("secret", Default::default())
        .await
        .unwrap_err()
        .strip_backtrace();
    assert_code(&error, 1, "cpg.policy.allow_insert");
}

#[tokio::test]
async fn plans_built_in_code_are_checked() {
    let ctx = session(&["deny_tables = 'datafusion.public.secret'"]).await;
    let plan = LogicalPlanBuilder::scan("secret", provider_as_source(table()), None)
        .unwrap()
        .build()
        .unwrap();
    let error = ctx
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .strip_backtrace();
    assert_code(&error, 5, "cpg.policy.deny_tables");
}

#[tokio::test]
async fn the_checked_entry_stops_eager_statements_before_they_run() {
    let ctx = session(&["allow_ddl = false", "allow_prepare_execute = false"]).await;
    for (sql, rule) in [
        (
            "CREATE TABLE x AS SELECT 1",
            "cpg.policy.allow_create_table",
        ),
        ("DROP TABLE t", "cpg.policy.allow_drop_table"),
        ("CREATE VIEW w AS SELECT 1", "cpg.policy.allow_create_view"),
        ("PREPARE p AS SELECT $1", "cpg.policy.allow_prepare_execute"),
    ] {
        let error = checked_sql(&ctx, sql).await.unwrap_err().strip_backtrace();
        assert_code(&error, 1, rule);
    }
    // t is still there: DROP did not run.
    run(&ctx, "SELECT * FROM t").await;
    checked_sql(&ctx, "SELECT 1")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_default_policy_allows_everything_and_a_read_only_one_allows_queries() {
    let ctx = session(&[]).await;
    checked_sql(&ctx, "CREATE TABLE x AS SELECT 1 AS a")
        .await
        .unwrap();
    checked_sql(&ctx, "INSERT INTO x VALUES (2)")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let ctx = session(&[
        "allow_ddl = false",
        "allow_dml = false",
        "allow_set = false",
    ])
    .await;
    let demo = "SELECT stable_id('node', 'a.py', 1, 2), span_len(1, 5), \
                qname_normalize('f', 'm') FROM t WHERE a > 1";
    checked_sql(&ctx, demo)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let error = checked_sql(&ctx, "SET cpg.policy.allow_ddl = true")
        .await
        .unwrap_err();
    assert_code(&error.strip_backtrace(), 1, "cpg.policy.allow_set");
}

#[tokio::test]
async fn external_locations_outside_allow_paths_are_denied() {
    let dir = std::env::temp_dir().join(format!("cpg-policy-paths-{}", std::process::id()));
    let allowed = dir.join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    let inside = allowed.join("in.csv");
    let outside = dir.join("out.csv");
    for file in [&inside, &outside] {
        std::fs::write(file, "a\n1\n").unwrap();
    }
    // Tables created before the policy was set: reading them is still checked.
    let ctx = session(&[]).await;
    for (name, file) in [("inside", &inside), ("outside", &outside)] {
        ctx.sql(&format!(
            "CREATE EXTERNAL TABLE {name} STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            file.display()
        ))
        .await
        .unwrap();
    }
    ctx.sql(&format!(
        "SET cpg.policy.allow_paths = '{}/'",
        allowed.display()
    ))
    .await
    .unwrap();
    run(&ctx, "SELECT * FROM inside").await;
    let rule = "denied by cpg.policy.allow_paths";
    assert_code(&denial(&ctx, "SELECT * FROM outside").await, 6, rule);
    let escape = format!("{}/../out.csv", allowed.display());
    for sql in [
        format!(
            "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '{}'",
            outside.display()
        ),
        format!("CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '{escape}'"),
        format!(
            "COPY t TO '{}' STORED AS CSV",
            dir.join("copy.csv").display()
        ),
    ] {
        let error = checked_sql(&ctx, &sql).await.unwrap_err().strip_backtrace();
        assert_code(&error, 6, rule);
    }
    // COPY through plain ctx.sql reaches the analyzer rule.
    let copy = format!(
        "COPY t TO '{}' STORED AS CSV",
        dir.join("copy2.csv").display()
    );
    assert_code(&denial(&ctx, &copy).await, 6, rule);
    assert!(!dir.join("copy2.csv").exists());
    // Writing under the allowed prefix is fine.
    let copy = format!(
        "COPY t TO '{}' STORED AS CSV",
        allowed.join("ok.csv").display()
    );
    checked_sql(&ctx, &copy)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn plan_shape_limits() {
    let ctx = session(&["max_joins = 1"]).await;
    run(&ctx, "SELECT * FROM t JOIN secret ON t.a = secret.a").await;
    let two = "SELECT * FROM t JOIN secret s1 ON t.a = s1.a JOIN secret s2 ON t.a = s2.a";
    assert_code(&denial(&ctx, two).await, 7, "cpg.policy.max_joins");
    // A join hidden in a subquery counts too.
    let hidden = "SELECT * FROM t JOIN secret s1 ON t.a = s1.a \
                  WHERE t.a IN (SELECT x.a FROM t x JOIN secret y ON x.a = y.a)";
    assert_code(&denial(&ctx, hidden).await, 7, "cpg.policy.max_joins");

    let ctx = session(&["allow_cross_joins = false"]).await;
    for sql in [
        "SELECT * FROM t CROSS JOIN secret",
        "SELECT * FROM t, secret",
        "SELECT * FROM t JOIN secret ON true",
    ] {
        assert_code(&denial(&ctx, sql).await, 7, "cpg.policy.allow_cross_joins");
    }
    for sql in [
        "SELECT * FROM t, secret WHERE t.a = secret.a",
        "SELECT * FROM t, secret s1, secret s2 WHERE t.a = s1.a AND s1.a = s2.a",
    ] {
        run(&ctx, sql).await;
    }
    let unjoined = "SELECT * FROM t, secret s1, secret s2 WHERE t.a = s1.a";
    assert_code(
        &denial(&ctx, unjoined).await,
        7,
        "cpg.policy.allow_cross_joins",
    );

    let ctx = session(&["max_plan_depth = 3"]).await;
    run(&ctx, "SELECT a FROM t").await;
    let deep = "SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT a FROM t WHERE a > 1) x) y) z";
    assert_code(
        &denial(&ctx, deep).await,
        7,
        "cpg.policy.max_plan_depth (3)",
    );
}

#[tokio::test]
async fn every_decision_is_in_the_query_log() {
    let ctx = session(&["deny_tables = 'datafusion.public.secret'"]).await;
    run(&ctx, "SELECT upper('x'), a FROM t").await;
    denial(&ctx, "SELECT md5('y') FROM secret").await;
    let text = table_text(
        &ctx,
        "SELECT decision, code, reason, array_to_string(tables, ','), \
         array_to_string(functions, ',') FROM cpg_query_log() \
         WHERE plan NOT LIKE '%cpg_query_log%' ORDER BY at",
    )
    .await;
    let allowed = text
        .lines()
        .find(|l| l.contains("| allow ") && l.contains("datafusion.public.t"))
        .unwrap_or_else(|| panic!("no allow entry for t:\n{text}"));
    assert!(allowed.contains("upper"), "{allowed}");
    let denied = text
        .lines()
        .find(|l| l.contains("| deny "))
        .unwrap_or_else(|| panic!("no deny entry:\n{text}"));
    assert!(
        denied.contains("| 5 ")
            && denied.contains("CPG-POLICY-5: table datafusion.public.secret denied")
            && denied.contains("datafusion.public.secret"),
        "{denied}"
    );
    let error = denial(&ctx, "SELECT * FROM cpg_query_log(1)").await;
    assert!(
        error.contains("cpg_query_log takes no arguments, got 1"),
        "{error}"
    );
}

#[tokio::test]
async fn the_physical_rule_is_the_last_line_for_plans_that_skipped_the_analyzer() {
    use datafusion::physical_optimizer::PhysicalOptimizerRule;
    use datafusion_cpg::optimizer::policy::SqlPolicy;
    use datafusion_cpg::optimizer::policy::physical::PolicyPhysicalRule;

    let dir = std::env::temp_dir().join(format!("cpg-policy-physical-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("allowed")).unwrap();
    let outside = dir.join("out.csv");
    std::fs::write(&outside, "a\n1\n").unwrap();
    // Physical plans built in a session without a policy: a file scan and a write.
    let ctx = session(&[]).await;
    let scan = ctx
        .read_csv(outside.to_str().unwrap(), Default::default())
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let insert = ctx
        .sql("INSERT INTO t VALUES (7)")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let config = ctx.state().config_options().as_ref().clone();

    let paths = SqlPolicy::from_json(&format!(
        r#"{{"allow_paths": "{}/"}}"#,
        dir.join("allowed").display()
    ))
    .unwrap();
    let error = PolicyPhysicalRule::with_policy(paths)
        .optimize(scan, &config)
        .unwrap_err()
        .strip_backtrace();
    assert_code(&error, 6, "cpg.policy.allow_paths");

    let no_writes =
        SqlPolicy::from_json(r#"{"allow_insert": false, "allow_copy_to": false}"#).unwrap();
    let error = PolicyPhysicalRule::with_policy(no_writes.clone())
        .optimize(Arc::clone(&insert), &config)
        .unwrap_err()
        .strip_backtrace();
    assert_code(&error, 1, "cpg.policy.allow_insert");
    // Installed by register_all, it reads the session's policy.
    let installed = ctx
        .state()
        .physical_optimizers()
        .iter()
        .any(|r| r.name() == "cpg_sql_policy_physical");
    assert!(installed);
    // The same rule without a policy of its own and without one in the session: no-op.
    let mut bare = config.clone();
    bare.extensions = Default::default();
    assert!(PolicyPhysicalRule::new().optimize(insert, &bare).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn prepared_statements_are_checked_when_executed_with_their_parameters() {
    let ctx = session(&[
        "deny_tables = 'datafusion.public.secret'",
        "deny_functions = 'md5'",
    ])
    .await;
    run(&ctx, "PREPARE ok(BIGINT) AS SELECT a FROM t WHERE a > $1").await;
    assert!(table_text(&ctx, "EXECUTE ok(1)").await.contains("| 3 |"));
    // PREPARE only stores a plan (DataFusion runs it eagerly, before any analysis);
    // executing it with its parameters is checked like any plan.
    run(
        &ctx,
        "PREPARE bad(BIGINT) AS SELECT a FROM secret WHERE a > $1",
    )
    .await;
    assert_code(
        &denial(&ctx, "EXECUTE bad(1)").await,
        5,
        "cpg.policy.deny_tables",
    );
    run(&ctx, "PREPARE bad2(VARCHAR) AS SELECT md5($1)").await;
    assert_code(
        &denial(&ctx, "EXECUTE bad2('x')").await,
        4,
        "cpg.policy.deny_functions",
    );
    // ... and so is a DataFrame with parameters bound in code.
    let df = ctx
        .sql("SELECT md5(CAST(a AS VARCHAR)) FROM t WHERE a > $1")
        .await
        .unwrap()
        .with_param_values(vec![datafusion::common::ScalarValue::Int64(Some(1))])
        .unwrap();
    assert_code(
        &df.collect().await.unwrap_err().strip_backtrace(),
        4,
        "cpg.policy.deny_functions",
    );
    // The statement class itself.
    let ctx = session(&["allow_prepare_execute = false"]).await;
    let error = checked_sql(&ctx, "PREPARE p AS SELECT 1")
        .await
        .unwrap_err();
    assert_code(
        &error.strip_backtrace(),
        1,
        "cpg.policy.allow_prepare_execute",
    );
}

#[tokio::test]
async fn tpch_and_the_demo_run_under_a_read_only_policy() {
    let ctx = ctx();
    create_tpch_tables(&ctx).await;
    run(&ctx, "SET cpg.policy.allow_ddl = false").await;
    run(&ctx, "SET cpg.policy.allow_dml = false").await;
    run(&ctx, "SET cpg.policy.locked = true").await;
    for n in 1..=22 {
        let sql = tpch_query(n);
        checked_sql(&ctx, &sql)
            .await
            .unwrap_or_else(|e| panic!("q{n}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("q{n}: {e}"));
    }
    assert_code(
        &denial(&ctx, "INSERT INTO nation VALUES (1, 'x', 1, 'y')").await,
        1,
        "allow_insert",
    );

    // The demo: run once to create its tables and views, then every statement of it
    // that is not DDL runs again, allowed, under a locked read-only policy.
    let ctx = crate::common::ctx();
    run_script(&ctx, &demo_sql()).await;
    run(&ctx, "SET cpg.policy.allow_ddl = false").await;
    run(&ctx, "SET cpg.policy.allow_dml = false").await;
    run(&ctx, "SET cpg.policy.locked = true").await;
    let mut queries = 0;
    for statement in statements(&demo_sql()) {
        let text = statement.to_string();
        if text.starts_with("CREATE") || text.starts_with("DROP") {
            let error = match checked_sql(&ctx, &text).await {
                Ok(_) => panic!("{text} should be denied"),
                Err(e) => e.strip_backtrace(),
            };
            assert_code(&error, 1, "cpg.policy.allow_");
            continue;
        }
        checked_sql(&ctx, &text)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        queries += 1;
    }
    assert!(queries >= 5, "{queries}");
}
