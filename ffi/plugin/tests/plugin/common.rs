//! Shared by the plugin tests: where cargo put the plugin library, and sessions with it.

use std::path::PathBuf;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion_cpg_loader::Plugin;

/// The plugin library cargo built next to this test binary (`target/<profile>/`).
pub fn plugin_path() -> PathBuf {
    plugin().path().to_path_buf()
}

pub fn plugin() -> Plugin {
    Plugin::load_next_to_executable().unwrap()
}

pub fn plugin_ctx(plugin: &Plugin) -> SessionContext {
    let ctx = SessionContext::new();
    plugin.register(&ctx).unwrap();
    ctx
}

pub async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}
