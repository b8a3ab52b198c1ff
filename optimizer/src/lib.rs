//! placeholder (the lateral UNNEST WITH ORDINALITY planner is being written).

use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

pub fn install(builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
}

pub fn register(_ctx: &SessionContext) -> Result<()> {
    Ok(())
}
