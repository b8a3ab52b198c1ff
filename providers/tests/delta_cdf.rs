//! The change feed against an independent model: a table is written with deltalake's
//! own operations (insert, update, delete, merge, schema evolution, overwrite, optimize,
//! partition delete) while a model records what each version changed; the feed of every
//! (start, end) pair must be those rows exactly. Then pushdown, ordering, the errors,
//! VACUUM and time travel.

mod common;
#[path = "common/deletion_vectors.rs"]
mod deletion_vectors;

use std::sync::Arc;

use common::*;
use datafusion::prelude::SessionContext;
use datafusion_cpg_providers::delta::{DeltaCdf, DeltaSnapshot, MissingFiles};
use deletion_vectors::*;
use deltalake::protocol::SaveMode;

/// A session with the feed of the table at `path` from `start` to `end` (or the latest)
/// registered as `feed`.
async fn feed_ctx(path: impl Into<String>, start: u64, end: Option<u64>) -> SessionContext {
    let mut feed = DeltaCdf::new(path).starting_version(start);
    if let Some(end) = end {
        feed = feed.ending_version(end);
    }
    ctx_with("feed", feed.build().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_of_every_range_equals_the_model() {
    let history = History::write().await;
    let latest = history.latest();
    for start in 0..=latest {
        for end in start..=latest {
            let ctx = feed_ctx(history.path(), start, Some(end)).await;
            let got = feed_rows(&ctx, "SELECT * FROM feed").await;
            assert_eq!(got, history.expected(start..=end), "range {start}..={end}");
        }
    }
    // Without an end: to the latest version.
    let ctx = feed_ctx(history.path(), 2, None).await;
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM feed").await,
        history.expected(2..=latest)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_bound_the_feed_inclusively() {
    let history = History::write().await;
    let latest = history.latest();
    let times = history.commit_micros().await;
    for start in 1..=latest {
        for end in start..=latest {
            let provider = DeltaCdf::new(history.path())
                .starting_timestamp(times[start as usize])
                .ending_timestamp(times[end as usize])
                .build()
                .await
                .unwrap();
            let ctx = ctx_with("feed", provider);
            let got = feed_rows(&ctx, "SELECT * FROM feed").await;
            assert_eq!(
                got,
                history.expected(start..=end),
                "timestamps of {start}..={end}"
            );
        }
    }
    // Between two commits: the start moves up, the end moves down.
    let provider = DeltaCdf::new(history.path())
        .starting_timestamp(times[2] + 1)
        .ending_timestamp(times[5] - 1)
        .build()
        .await
        .unwrap();
    let ctx = ctx_with("feed", provider);
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM feed").await,
        history.expected(3..=4)
    );
    // _commit_timestamp is the commit's time, the same on every row of a version.
    let got = query(
        &ctx,
        "SELECT DISTINCT _commit_version, CAST(_commit_timestamp AS BIGINT) FROM feed ORDER BY 1",
    )
    .await;
    for row in got {
        let (version, micros): (i64, i64) = (row[0].parse().unwrap(), row[1].parse().unwrap());
        assert_eq!(micros, times[version as usize], "version {version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_filters_narrow_the_commits_read() {
    let history = History::write().await;
    let latest = history.latest();
    let ctx = feed_ctx(history.path(), 0, None).await;
    let times = history.commit_micros().await;
    let cases = [
        ("_commit_version = 4", 4..=4u64),
        ("_commit_version BETWEEN 2 AND 3", 2..=3),
        ("_commit_version > 5", 6..=latest),
        ("_commit_version IN (1, 3)", 1..=3),
        ("3 >= _commit_version AND _commit_version >= 2", 2..=3),
    ];
    for (filter, read) in cases {
        let sql = format!("SELECT * FROM feed WHERE {filter}");
        let expected: Vec<String> = history
            .expected(0..=latest)
            .into_iter()
            .filter(|row| read.contains(&row_version(row)))
            .filter(|row| filter != "_commit_version IN (1, 3)" || row_version(row) != 2)
            .collect();
        assert_eq!(feed_rows(&ctx, &sql).await, expected, "{filter}");
        let metrics = scan_metrics(&ctx, &sql).await;
        let commits = if filter.contains("IN") {
            2
        } else {
            read.clone().count()
        };
        assert!(
            metrics.contains(&format!("commits_read={commits}")),
            "{filter}: {metrics}"
        );
    }
    let sql = format!(
        "SELECT * FROM feed WHERE _commit_timestamp >= to_timestamp_micros({}) \
         AND _commit_timestamp <= to_timestamp_micros({})",
        times[3], times[4]
    );
    assert_eq!(feed_rows(&ctx, &sql).await, history.expected(3..=4));
    assert!(scan_metrics(&ctx, &sql).await.contains("commits_read=2"));
    // A filter no commit satisfies reads none.
    let sql = "SELECT * FROM feed WHERE _commit_version = 99";
    assert!(feed_rows(&ctx, sql).await.is_empty());
    assert!(scan_metrics(&ctx, sql).await.contains("commits_read=0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_partitions_limit_and_order() {
    let history = History::write().await;
    let latest = history.latest();
    let ctx = feed_ctx(history.path(), 0, None).await;

    // Partition filter: files of other partitions are not read.
    let sql = "SELECT * FROM feed WHERE part = 'odd'";
    let expected: Vec<String> = history
        .expected(0..=latest)
        .into_iter()
        .filter(|row| row.contains("|odd|"))
        .collect();
    assert_eq!(feed_rows(&ctx, sql).await, expected);
    // Data filter.
    let sql = "SELECT * FROM feed WHERE id >= 100";
    let expected: Vec<String> = history
        .expected(0..=latest)
        .into_iter()
        .filter(|row| row_id(row) >= 100)
        .collect();
    assert_eq!(feed_rows(&ctx, sql).await, expected);

    // Projection of two columns.
    let got = query(
        &ctx,
        "SELECT id, _change_type FROM feed WHERE _commit_version = 3 ORDER BY id",
    )
    .await;
    let expected: Vec<Vec<String>> = history
        .expected(3..=3)
        .iter()
        .map(|row| {
            vec![
                row_id(row).to_string(),
                row.split('|').nth(1).unwrap().to_string(),
            ]
        })
        .collect();
    let mut expected = expected;
    expected.sort_by_key(|r| r[0].parse::<i64>().unwrap());
    assert_eq!(got, expected);

    // The declared order: ORDER BY _commit_version needs no sort, only a merge.
    let plan = explain(
        &ctx,
        "SELECT id, _commit_version FROM feed ORDER BY _commit_version",
    )
    .await;
    assert!(!plan.contains("SortExec"), "{plan}");
    let versions: Vec<i64> = query(
        &ctx,
        "SELECT _commit_version FROM feed ORDER BY _commit_version",
    )
    .await
    .into_iter()
    .map(|r| r[0].parse().unwrap())
    .collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]));

    // LIMIT ends the scan early.
    let got = query(&ctx, "SELECT id FROM feed LIMIT 3").await;
    assert_eq!(got.len(), 3);
    let count = query(&ctx, "SELECT count(*) FROM feed").await;
    assert_eq!(count[0][0], history.expected(0..=latest).len().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ranges_and_tables_are_clear_errors() {
    let history = History::write().await;
    let latest = history.latest();
    let error = DeltaCdf::new(history.path())
        .starting_version(latest + 1)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("cannot start at version {}", latest + 1)),
        "{error}"
    );
    assert!(
        error.contains(&format!("latest version is {latest}")),
        "{error}"
    );

    let error = DeltaCdf::new(history.path())
        .starting_version(4)
        .ending_version(2)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("ends at version 2"), "{error}");

    let error = DeltaCdf::new(history.path())
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs a start"), "{error}");

    let error = DeltaCdf::new("/no/such/table")
        .starting_version(0)
        .build()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no Delta table at '/no/such/table'"),
        "{error}"
    );

    // A table without the change data feed.
    let plain = Table::create(false, &[]).await;
    plain.append(0..3).await;
    let ctx = feed_ctx(plain.path(), 0, None).await;
    let error = query_error(&ctx, "SELECT * FROM feed").await;
    assert!(
        error
            .to_string()
            .contains("change data feed is not enabled at version 0"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuumed_files_fail_or_are_skipped_and_reported() {
    let table = Table::create(true, &[]).await;
    table.append(0..10).await; // v1
    table.overwrite(100..105).await; // v2: removes v1's file
    table.vacuum().await; // v3, v4 (vacuum start/end): v1's file is gone
    let failing = DeltaCdf::new(table.path())
        .starting_version(1)
        .ending_version(2)
        .build()
        .await
        .unwrap();
    let ctx = ctx_with("failing", failing);
    let error = query_error(&ctx, "SELECT * FROM failing").await;
    assert!(error.contains("version 1 of"), "{error}");
    assert!(error.contains("is missing (removed by VACUUM?)"), "{error}");
    assert!(error.contains("missing_files = 'skip'"), "{error}");

    let skipping = DeltaCdf::new(table.path())
        .starting_version(1)
        .ending_version(2)
        .missing_files(MissingFiles::Skip)
        .build()
        .await
        .unwrap();
    ctx.register_table("skipping", Arc::new(skipping)).unwrap();
    let rows = query(
        &ctx,
        "SELECT id, _change_type, _commit_version FROM skipping ORDER BY id",
    )
    .await;
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["100", "101", "102", "103", "104"]);
    assert!(rows.iter().all(|r| r[1] == "insert" && r[2] == "2"));
    let plan = explain(&ctx, "SELECT * FROM skipping").await;
    assert!(plan.contains("missing_files=[v1:"), "{plan}");
    assert!(
        scan_metrics(&ctx, "SELECT * FROM skipping")
            .await
            .contains("missing_files=2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_schema_change_inside_the_range_is_refused() {
    let table = Table::create(true, &[]).await;
    table.append(0..3).await; // v1
    table.write_int_value(SaveMode::Overwrite).await; // v2: `value` becomes Int64
    table.write_int_value(SaveMode::Append).await; // v3
    let ctx = feed_ctx(table.path(), 1, None).await;
    let error = query_error(&ctx, "SELECT * FROM feed").await;
    assert!(
        error.contains("schema change inside the change feed"),
        "{error}"
    );
    // So is the change's own commit (it removes rows of the old schema)...
    let provider = DeltaCdf::new(table.path())
        .starting_version(2)
        .build()
        .await
        .unwrap();
    ctx.register_table("at_change", Arc::new(provider)).unwrap();
    let error = query_error(&ctx, "SELECT * FROM at_change").await;
    assert!(
        error
            .to_string()
            .contains("at version 1 column 'value' is Utf8"),
        "{error}"
    );
    // ... and the ranges on either side of it read fine.
    for (start, end) in [(1, 1), (3, 3)] {
        let ctx = feed_ctx(table.path(), start, Some(end)).await;
        assert!(!query(&ctx, "SELECT * FROM feed").await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_reads_each_version() {
    let history = History::write().await;
    let times = history.commit_micros().await;
    for version in 0..=history.latest() {
        let expected = history.state_at(version);
        for provider in [
            DeltaSnapshot::new(history.path())
                .version(version)
                .build()
                .await
                .unwrap(),
            DeltaSnapshot::new(history.path())
                .timestamp(times[version as usize])
                .build()
                .await
                .unwrap(),
        ] {
            assert_eq!(provider.version(), version);
            let ctx = ctx_with("t", provider);
            assert_eq!(
                table_rows(&ctx, "SELECT * FROM t").await,
                expected,
                "version {version}"
            );
        }
    }
    let latest = DeltaSnapshot::new(history.path()).build().await.unwrap();
    assert_eq!(latest.version(), history.latest());
    let error = DeltaSnapshot::new(history.path())
        .version(99)
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("has no version 99"), "{error}");
    let error = DeltaSnapshot::new(history.path())
        .timestamp(times[0] - 1)
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("earliest commit"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_vector_commits_yield_the_rows_they_change() {
    let table = table_with_deletion_vectors().await;
    table.append(0..10).await; // v1: one file, ids 0..10 at rows 0..10
    let file = added_files(&table, 1).remove(0);
    commit_deletion_vector(&table, &file, None, Some(inline_dv(&[2, 5]))).await; // v2
    commit_deletion_vector(
        &table,
        &file,
        Some(inline_dv(&[2, 5])),
        Some(inline_dv(&[2, 5, 7])),
    )
    .await; // v3
    commit_deletion_vector(&table, &file, Some(inline_dv(&[2, 5, 7])), None).await; // v4: file removed
    let feed = |start: u64, end: u64| {
        let path = table.path();
        async move {
            let ctx = feed_ctx(path, start, Some(end)).await;
            query(
                &ctx,
                "SELECT _commit_version, _change_type, id FROM feed ORDER BY 1, 2, 3",
            )
            .await
        }
    };
    let rows = |version: u64, change: &str, ids: &[i32]| -> Vec<Vec<String>> {
        ids.iter()
            .map(|id| vec![version.to_string(), change.to_string(), id.to_string()])
            .collect()
    };
    assert_eq!(feed(2, 2).await, rows(2, "delete", &[2, 5]));
    assert_eq!(feed(3, 3).await, rows(3, "delete", &[7]));
    assert_eq!(feed(4, 4).await, rows(4, "delete", &[0, 1, 3, 4, 6, 8, 9]));
    let mut all = rows(1, "insert", &(0..10).collect::<Vec<_>>());
    all.extend(rows(2, "delete", &[2, 5]));
    all.extend(rows(3, "delete", &[7]));
    all.extend(rows(4, "delete", &[0, 1, 3, 4, 6, 8, 9]));
    assert_eq!(feed(1, 4).await, all);
    // Time travel reads the vectors too (deltalake's scan).
    let v3 = DeltaSnapshot::new(table.path()).version(3).build().await;
    let ctx = ctx_with("v3", v3.unwrap());
    let ids: Vec<String> = query(&ctx, "SELECT id FROM v3 ORDER BY id")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, ["0", "1", "3", "4", "6", "8", "9"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_reads_each_commit_once() {
    let history = History::write().await;
    let ctx = feed_ctx(history.path(), 1, None).await;
    let first = feed_rows(&ctx, "SELECT * FROM feed").await;
    assert_eq!(first, history.expected(1..=history.latest()));
    // Committed versions never change: the provider's next scan takes them from its memo
    // (only the log listing is read again), so a commit file lost since is not noticed...
    let commit = format!("{}/_delta_log/{:020}.json", history.path(), 2);
    std::fs::remove_file(commit).unwrap();
    assert_eq!(feed_rows(&ctx, "SELECT * FROM feed").await, first);
    // ... while a new provider reads the log again.
    let fresh = async {
        let provider = DeltaCdf::new(history.path())
            .starting_version(1)
            .build()
            .await
            .map_err(|e| e.to_string())?;
        let ctx = ctx_with("feed", provider);
        Err::<(), _>(query_error(&ctx, "SELECT * FROM feed").await)
    };
    let error = fresh.await.unwrap_err();
    assert!(
        error.contains("version 2") || error.contains("gap"),
        "{error}"
    );
}
