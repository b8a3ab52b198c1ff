//! Table providers for code property graphs: Delta Lake's change data feed and time
//! travel ([`delta`]), and a directory of files read as a stream ([`listing`]), with
//! their DDL factories and table functions.
//!
//! [`table_functions`], [`factories`] and [`linked_factories`] are what this crate contributes to the bundle's
//! export registry (the facade's `registry::exports`), which reaches native
//! registration, the FFI plugin and Python alike.

pub mod blocking;
pub mod delta;
pub mod listing;

use std::sync::Arc;

use datafusion::catalog::{TableFunctionImpl, TableProviderFactory};
use listing::{FileFormatKind, UnboundedListingFactory};

/// The table functions of this crate, by name.
pub fn table_functions() -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    vec![
        (
            delta::functions::DELTA_CDF_FUNCTION,
            Arc::new(delta::DeltaCdfFunction),
        ),
        (
            delta::functions::DELTA_SNAPSHOT_FUNCTION,
            Arc::new(delta::DeltaSnapshotFunction),
        ),
    ]
}

/// The table provider factories of this crate, by the `STORED AS` name they answer to.
pub fn factories() -> Vec<(&'static str, Arc<dyn TableProviderFactory>)> {
    use delta::factory::{DELTA_CDF_FILE_TYPE, DELTA_FILE_TYPE, DELTATABLE_FILE_TYPE};
    vec![
        (DELTA_FILE_TYPE, Arc::new(delta::DeltaFactory::Snapshot)),
        (
            DELTATABLE_FILE_TYPE,
            Arc::new(delta::DeltaFactory::Snapshot),
        ),
        (
            DELTA_CDF_FILE_TYPE,
            Arc::new(delta::DeltaFactory::ChangeFeed),
        ),
        (
            "UNBOUNDED_PARQUET",
            Arc::new(UnboundedListingFactory::unbounded(FileFormatKind::Parquet)),
        ),
        (
            "UNBOUNDED_CSV",
            Arc::new(UnboundedListingFactory::unbounded(FileFormatKind::Csv)),
        ),
        (
            "UNBOUNDED_JSON",
            Arc::new(UnboundedListingFactory::unbounded(FileFormatKind::Json)),
        ),
    ]
}

/// Factories that take over DataFusion's own `STORED AS` names to answer `CREATE
/// UNBOUNDED EXTERNAL TABLE` (handing bounded tables back to DataFusion's factory).
/// Only where the bundle is linked: over FFI the bounded tables would be built in the
/// plugin's session, away from the host's object stores.
pub fn linked_factories() -> Vec<(&'static str, Arc<dyn TableProviderFactory>)> {
    [
        ("PARQUET", FileFormatKind::Parquet),
        ("CSV", FileFormatKind::Csv),
        ("JSON", FileFormatKind::Json),
        ("NDJSON", FileFormatKind::Json),
    ]
    .into_iter()
    .map(|(name, format)| {
        let factory: Arc<dyn TableProviderFactory> =
            Arc::new(UnboundedListingFactory::replacing_default(format));
        (name, factory)
    })
    .collect()
}
