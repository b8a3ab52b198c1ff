//! The datafusion-cpg bundle on a Ballista 55 cluster: [`session`] gives a client
//! `SessionContext` whose plans travel with the bundle's codecs and whose executors have
//! the bundle's functions, in-process ([`Cluster::Standalone`]) or on a running
//! scheduler ([`Cluster::Remote`]).

use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::common::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_cpg::optimizer::codec::BundleCodec;
use datafusion_cpg::registry::ExportKind;

/// Where the queries run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// A scheduler and an executor in this process.
    Standalone,
    /// The scheduler at this URL (`df://host:port`).
    Remote(String),
}

/// The session configuration every party of a cluster uses: Ballista's, with the
/// bundle's codecs for logical and physical plans.
pub fn config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(BundleCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(BundleCodec::default()))
}

/// A client session on `cluster` with the whole bundle installed (and, standalone, a
/// scheduler and an executor that have it too).
pub async fn session(cluster: Cluster) -> Result<SessionContext> {
    let state = datafusion_cpg::install(
        SessionStateBuilder::new()
            .with_config(config())
            .with_default_features(),
    )?
    .build();
    let ctx = match cluster {
        Cluster::Standalone => SessionContext::standalone_with_state(state).await?,
        Cluster::Remote(url) => SessionContext::remote_with_state(&url, state).await?,
    };
    // Ballista's upgrade of the client state resets its functions and installs its own
    // query planner (which sends plans to the scheduler): the bundle goes back in,
    // but for its query planner.
    datafusion_cpg::register_where(&ctx, |export| export.kind() != ExportKind::QueryPlanner)?;
    Ok(ctx)
}
