//! The Delta providers in a host that loads the bundle as a plugin: the factories
//! (`STORED AS DELTA_CDF | DELTA | DELTATABLE`) and table functions cross FFI, and the
//! feeds and snapshots they create read the same rows as the model of the table's history.

#[path = "../../../../providers/tests/common/mod.rs"]
mod tables;

use tables::{History, feed_rows, table_rows};

use crate::common::{plugin, plugin_ctx};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_feeds_and_snapshots_work_over_ffi() {
    let history = History::write().await;
    let path = history.path();
    let plugin = plugin();
    let ctx = plugin_ctx(&plugin);
    tables::batches(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE feed STORED AS DELTA_CDF LOCATION '{path}' \
             OPTIONS ('starting_version' '1', 'ending_version' '5')"
        ),
    )
    .await;
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM feed").await,
        history.expected(1..=5)
    );
    // Pushdown works through the foreign provider: one commit read.
    assert_eq!(
        feed_rows(&ctx, "SELECT * FROM feed WHERE _commit_version = 3").await,
        history.expected(3..=3)
    );
    assert_eq!(
        feed_rows(&ctx, &format!("SELECT * FROM delta_cdf('{path}', 4)")).await,
        history.expected(4..=history.latest())
    );
    for file_type in ["DELTA", "DELTATABLE"] {
        let name = format!("t_{}", file_type.to_lowercase());
        tables::batches(
            &ctx,
            &format!(
                "CREATE EXTERNAL TABLE {name} STORED AS {file_type} LOCATION '{path}' \
                 OPTIONS ('version' '3')"
            ),
        )
        .await;
        assert_eq!(
            table_rows(&ctx, &format!("SELECT * FROM {name}")).await,
            history.state_at(3)
        );
    }
    assert_eq!(
        table_rows(&ctx, &format!("SELECT * FROM delta_snapshot('{path}')")).await,
        history.state_at(history.latest())
    );
    let error = ctx
        .sql(&format!(
            "CREATE EXTERNAL TABLE bad STORED AS DELTA_CDF LOCATION '{path}' OPTIONS ('start' '1')"
        ))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("unknown option 'format.start'"),
        "{error}"
    );
}
