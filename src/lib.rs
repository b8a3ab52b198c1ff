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
//! The member crates are re-exported: [`udfs`], [`providers`], [`optimizer`].

use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

pub use datafusion_cpg_optimizer as optimizer;
pub use datafusion_cpg_providers as providers;
pub use datafusion_cpg_udfs as udfs;

/// Installs every function, provider and planner extension of the bundle into `ctx`.
/// Calling it again is harmless: functions are replaced by name and planner extensions
/// are added once.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        udfs::register(&mut *state)?;
    }
    providers::register(ctx)?;
    optimizer::register(ctx)?;
    Ok(())
}

/// The same as [`register_all`] for a session being built. Call it after
/// `with_default_features()`, which would otherwise replace the function list.
pub fn install(builder: SessionStateBuilder) -> SessionStateBuilder {
    let builder = udfs::install(builder);
    let builder = providers::install(builder);
    optimizer::install(builder)
}

/// A `SessionContext` with DataFusion's defaults and the whole bundle installed.
pub fn session_context() -> Result<SessionContext> {
    let ctx = SessionContext::new();
    register_all(&ctx)?;
    Ok(ctx)
}
