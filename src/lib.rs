//! `datafusion-cpg`: DataFusion 55 extensions for building code property graphs.
//!
//! One call installs the whole bundle:
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! datafusion_cpg::register_all(&ctx)?;
//! ctx.sql("SELECT stable_id('node', 'src/mod.py', 10, 42)").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! or, when building a session from parts, [`install`] on a `SessionStateBuilder`.
//! Both read the [`registry`], the one list of the bundle's extensions that the FFI
//! plugin and the Python module export as well. The member crates are re-exported:
//! [`udfs`], [`providers`], [`optimizer`].

use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

pub use datafusion_cpg_optimizer as optimizer;
pub use datafusion_cpg_providers as providers;
pub use datafusion_cpg_udfs as udfs;

pub mod registry;

/// Installs every extension of the [`registry`] into `ctx`. Calling it again is
/// harmless: functions are replaced by name and planner extensions are added once.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    register_where(ctx, |_| true)
}

/// Installs the extensions of the [`registry`] that `wanted` accepts into `ctx` (a host
/// that brings its own query planner, as a Ballista client does, leaves the bundle's out).
pub fn register_where(
    ctx: &SessionContext,
    wanted: impl Fn(&registry::Export) -> bool,
) -> Result<()> {
    let host = registry::Host::current();
    let state = ctx.state_ref();
    let mut state = state.write();
    for export in registry::exports().into_iter().filter(|e| wanted(e)) {
        let extension = export.build(&host)?;
        registry::install_into_state(&mut state, export.name(), extension)?;
    }
    Ok(())
}

/// The same as [`register_all`] for a session being built. Call it after
/// `with_default_features()`, which would otherwise replace the function list.
pub fn install(builder: SessionStateBuilder) -> Result<SessionStateBuilder> {
    let host = registry::Host::current();
    let mut builder = builder;
    for export in registry::exports() {
        let extension = export.build(&host)?;
        builder = registry::install_into_builder(builder, export.name(), extension);
    }
    Ok(builder)
}

/// A `SessionContext` with DataFusion's defaults and the whole bundle installed.
pub fn session_context() -> Result<SessionContext> {
    let ctx = SessionContext::new();
    register_all(&ctx)?;
    Ok(ctx)
}
