//! The SQL surfaces: `STORED AS DELTA | DELTATABLE | DELTA_CDF` DDL with its options, and
//! the `delta_cdf` / `delta_snapshot` table functions, registered from this crate's
//! export lists as the bundle registers them.

mod common;

use std::sync::Arc;

use common::*;
use datafusion::prelude::SessionContext;

fn session() -> SessionContext {
    let ctx = SessionContext::new();
    for (name, function) in datafusion_cpg_providers::table_functions() {
        ctx.register_udtf(name, function);
    }
    let state = ctx.state_ref();
    let mut state = state.write();
    for (name, factory) in datafusion_cpg_providers::factories() {
        state
            .table_factories_mut()
            .insert(name.to_string(), Arc::clone(&factory));
    }
    drop(state);
    ctx
}

async fn error(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    result.expect_err(sql).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_creates_feeds_and_snapshots() {
    let history = History::write().await;
    let path = history.path();
    let ctx = session();
    let latest = history.latest();
    batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE c STORED AS DELTA_CDF LOCATION '{path}' \
             OPTIONS ('starting_version' '3', 'ending_version' '7')"
        ),
    )
    .await;
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM c").await,
        history.expected(3..=7)
    );

    let times = history.commit_micros().await;
    let ts = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .unwrap()
            .to_rfc3339()
    };
    batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE c_ts STORED AS DELTA_CDF LOCATION '{path}' \
             OPTIONS ('starting_timestamp' '{}', 'ending_timestamp' '{}', 'missing_files' 'skip')",
            ts(times[2]),
            ts(times[4])
        ),
    )
    .await;
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM c_ts").await,
        history.expected(2..=4)
    );

    for (name, file_type, options, version) in [
        ("t5", "DELTA", "OPTIONS ('version' '5')", 5),
        ("t_latest", "DELTATABLE", "", latest),
        (
            "t_ts",
            "DELTA",
            &*format!("OPTIONS ('timestamp' '{}')", ts(times[3])),
            3,
        ),
    ] {
        batches(
            &ctx,
            &format!(
                "CREATE EXTERNAL TABLE {name} STORED AS {file_type} LOCATION '{path}' {options}"
            ),
        )
        .await;
        assert_eq!(
            table_rows(&ctx, &format!("SELECT * FROM {name}")).await,
            history.state_at(version),
            "{name}"
        );
    }

    // Declared columns must be the table's.
    batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE typed (id INT, value VARCHAR) STORED AS DELTA LOCATION '{path}'"
        ),
    )
    .await;
    let e = error(
        &ctx,
        &format!("CREATE EXTERNAL TABLE bad (nope INT) STORED AS DELTA LOCATION '{path}'"),
    )
    .await;
    assert!(
        e.contains("column nope is declared but the DELTA table has no such column"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_options_are_checked() {
    let history = History::write().await;
    let path = history.path();
    let ctx = session();
    let cases = [
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA_CDF LOCATION '{path}' OPTIONS ('start' '1')"
            ),
            "unknown option 'format.start'; accepted: starting_version, ending_version, \
             starting_timestamp, ending_timestamp, missing_files",
        ),
        (
            format!("CREATE EXTERNAL TABLE x STORED AS DELTA_CDF LOCATION '{path}'"),
            "needs OPTIONS ('starting_version'",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA_CDF LOCATION '{path}' \
                 OPTIONS ('starting_version' '1', 'starting_timestamp' '2020-01-01')"
            ),
            "either 'starting_version' or 'starting_timestamp'",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA_CDF LOCATION '{path}' OPTIONS ('starting_version' 'one')"
            ),
            "starting_version must be a table version",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA_CDF LOCATION '{path}' \
                 OPTIONS ('starting_version' '1', 'missing_files' 'ignore')"
            ),
            "missing_files must be 'fail' or 'skip'",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA LOCATION '{path}' OPTIONS ('versionAsOf' '1')"
            ),
            "unknown option 'format.versionasof'; accepted: version, timestamp",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA LOCATION '{path}' OPTIONS ('timestamp' 'soon')"
            ),
            "timestamp must be a timestamp",
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE x STORED AS DELTA LOCATION '{path}' OPTIONS ('version' '999')"
            ),
            "has no version 999",
        ),
    ];
    for (sql, expected) in cases {
        let e = error(&ctx, &sql).await;
        assert!(e.contains(expected), "{sql}\n  => {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_functions_read_feeds_and_versions() {
    let history = History::write().await;
    let path = history.path();
    let ctx = session();
    assert_eq!(
        feed_rows(&ctx, &format!("SELECT * FROM delta_cdf('{path}', 2, 4)")).await,
        history.expected(2..=4)
    );
    assert_eq!(
        feed_rows(&ctx, &format!("SELECT * FROM delta_cdf('{path}', 5)")).await,
        history.expected(5..=history.latest())
    );
    let times = history.commit_micros().await;
    let ts = chrono::DateTime::from_timestamp_micros(times[3])
        .unwrap()
        .to_rfc3339();
    assert_eq!(
        feed_rows(
            &ctx,
            &format!("SELECT * FROM delta_cdf('{path}', '{ts}', 4)")
        )
        .await,
        history.expected(3..=4)
    );
    assert_eq!(
        table_rows(&ctx, &format!("SELECT * FROM delta_snapshot('{path}', 4)")).await,
        history.state_at(4)
    );
    assert_eq!(
        table_rows(&ctx, &format!("SELECT * FROM delta_snapshot('{path}')")).await,
        history.state_at(history.latest())
    );
    assert_eq!(
        table_rows(
            &ctx,
            &format!("SELECT * FROM delta_snapshot('{path}', '{ts}')")
        )
        .await,
        history.state_at(3)
    );
    for (sql, expected) in [
        (
            format!("SELECT * FROM delta_cdf('{path}')"),
            "usage: delta_cdf('path', start [, end])",
        ),
        (
            "SELECT * FROM delta_cdf(1, 2)".to_string(),
            "the path must be a string literal",
        ),
        (
            format!("SELECT * FROM delta_cdf('{path}', -1)"),
            "is not a version or a timestamp",
        ),
        (
            format!("SELECT * FROM delta_snapshot('{path}', 1, 2)"),
            "usage: delta_snapshot",
        ),
        (
            format!("SELECT * FROM delta_cdf('{path}', 99)"),
            "cannot start at version 99",
        ),
    ] {
        let e = error(&ctx, &sql).await;
        assert!(e.contains(expected), "{sql}\n  => {e}");
    }
}
