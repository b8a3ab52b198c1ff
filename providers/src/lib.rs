//! Table providers for code property graphs: the Delta change-data-feed provider and
//! the unbounded listing provider, with the `TableProviderFactory` of each.
//!
//! None has landed yet: [`register`] and [`install`] are the composition points the
//! facade calls, so that adding a provider changes only this crate.

pub mod delta;

use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

/// Registers this crate's table functions and factories into `ctx` (none yet).
pub fn register(_ctx: &SessionContext) -> Result<()> {
    Ok(())
}

/// Installs this crate's table functions and factories into a session being built
/// (none yet).
pub fn install(builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
}
