//! Delta Lake tables: the change data feed ([`cdf`]) and the table at a version or
//! timestamp ([`snapshot`]), with their DDL factories and table functions.
//!
//! Built from deltalake's public pieces (log store, actions, kernel snapshot) and
//! DataFusion's Parquet scan; see each module.

pub mod cdf;
pub mod factory;
pub mod functions;
pub mod location;
pub mod log;
pub mod options;
pub mod snapshot;

pub use cdf::{CdfSpec, DeltaCdf, DeltaCdfProvider};
pub use factory::DeltaFactory;
pub use functions::{DeltaCdfFunction, DeltaSnapshotFunction};
pub use location::DeltaLocation;
pub use options::{MissingFiles, VersionBound};
pub use snapshot::{DeltaSnapshot, DeltaSnapshotProvider, SnapshotSpec};
