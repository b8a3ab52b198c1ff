//! Shared by the plugin tests: where cargo put the plugin library, and sessions with it.

use std::path::PathBuf;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion_cpg_loader::Plugin;

/// The plugin library cargo built next to this test binary (`target/<profile>/`).
pub fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let name = format!(
        "{}datafusion_cpg_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} not found next to {}", exe.display()))
}

pub fn plugin() -> Plugin {
    Plugin::load(plugin_path()).unwrap()
}

pub fn plugin_ctx(plugin: &Plugin) -> SessionContext {
    let ctx = SessionContext::new();
    plugin.register(&ctx).unwrap();
    ctx
}

pub async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}
