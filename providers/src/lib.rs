//! Table providers for code property graphs: Delta Lake's change data feed and time
//! travel ([`delta`]), with their DDL factories and table functions (the unbounded
//! listing provider is to come).
//!
//! [`table_functions`] and [`factories`] are what this crate contributes to the bundle's
//! export registry (the facade's `registry::exports`), which reaches native
//! registration, the FFI plugin and Python alike.

mod blocking;
pub mod delta;
pub mod listing;

use std::sync::Arc;

use datafusion::catalog::{TableFunctionImpl, TableProviderFactory};

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
    ]
}
