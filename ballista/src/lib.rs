//! The datafusion-cpg bundle on a Ballista 55 cluster.
//!
//! - [`session`]: a client `SessionContext` whose plans travel with the bundle's codecs,
//!   on an in-process cluster ([`Cluster::Standalone`]) or a running scheduler
//!   ([`Cluster::Remote`]).
//! - [`scheduler`] and [`executor`]: the `cpg-scheduler` and `cpg-executor` processes,
//!   Ballista's with the bundle installed, taking Ballista's flags.
//! - [`codec`]: [`ClusterCodec`](codec::ClusterCodec), Ballista's codecs for its own
//!   nodes and the bundle's for everything else.
//! - [`replay`]: scans of the bundle's tables, planned again where they run.
//! - [`policy`]: the executor's re-check of every plan it decodes against the SQL policy.

pub mod codec;
pub mod executor;
pub mod flags;
pub mod policy;
pub mod replay;
pub mod scheduler;

use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::optimizer::ballista_default_optimizer_rules;
use datafusion::common::Result;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use codec::ClusterCodec;
use datafusion_cpg::registry::{ExportKind, Extension, Host, exports};

/// Where the queries run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// A scheduler and an executor in this process.
    Standalone,
    /// The scheduler at this URL (`df://host:port`).
    Remote(String),
}

/// The session configuration every party of a cluster uses: Ballista's, with the
/// cluster's codecs ([`codec::ClusterCodec`]) for logical and physical plans, the
/// static distributed planner, and the bundle's `cpg.*` options (so a client's settings
/// of them reach the scheduler and the executors).
pub fn config() -> Result<SessionConfig> {
    let mut config = SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(ClusterCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(ClusterCodec::default()))
        // Ballista 55's adaptive planner never finishes a sorted UNION ALL without a
        // LIMIT (plain Ballista: `SELECT 'a' AS x UNION ALL SELECT 'b' ORDER BY x`),
        // which the demo runs: the static planner by default (`SET
        // ballista.planner.adaptive.enabled = true` turns it back on).
        .with_ballista_adaptive_query_planner(false);
    let host = Host::current();
    for export in exports() {
        if export.kind() == ExportKind::SessionOptions
            && let Extension::SessionOptions(install) = export.build(&host)?
        {
            install(config.options_mut());
        }
    }
    Ok(config)
}

/// A session state with `config` and the whole bundle (functions, providers, rules,
/// planner and the `cpg.*` options): what the scheduler plans with and what an executor
/// takes its functions and configuration from.
pub fn bundle_state(config: SessionConfig) -> Result<SessionState> {
    Ok(datafusion_cpg::install(
        SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_optimizer_rules(ballista_default_optimizer_rules()),
    )?
    .build())
}

/// A client session on `cluster` with the whole bundle installed (and, standalone, a
/// scheduler and an executor that have it too).
pub async fn session(cluster: Cluster) -> Result<SessionContext> {
    let state = bundle_state(config()?)?;
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
