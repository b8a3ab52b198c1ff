//! DDL: `CREATE EXTERNAL TABLE t STORED AS DELTA LOCATION '...' [OPTIONS ('version' '5')
//! | ('timestamp' '...')]` (also `STORED AS DELTATABLE`, delta-rs's name) and
//! `CREATE EXTERNAL TABLE c STORED AS DELTA_CDF LOCATION '...' OPTIONS
//! ('starting_version' '3', 'ending_version' '7', ...)`. Storage options are given as
//! `'storage.<name>' '<value>'`; any other key is an error listing the accepted ones.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::CreateExternalTable;

use super::cdf::DeltaCdf;
use super::options::{
    CDF_OPTION_KEYS, MissingFiles, SNAPSHOT_OPTION_KEYS, VersionBound, split_ddl_options,
};
use super::snapshot::DeltaSnapshot;

/// The file types the factories answer to.
pub const DELTA_FILE_TYPE: &str = "DELTA";
pub const DELTATABLE_FILE_TYPE: &str = "DELTATABLE";
pub const DELTA_CDF_FILE_TYPE: &str = "DELTA_CDF";

/// Which provider a factory creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaFactory {
    /// The table at a version or timestamp (the latest by default).
    Snapshot,
    /// The table's change data feed.
    ChangeFeed,
}

impl DeltaFactory {
    fn file_type(self) -> &'static str {
        match self {
            Self::Snapshot => DELTA_FILE_TYPE,
            Self::ChangeFeed => DELTA_CDF_FILE_TYPE,
        }
    }
}

#[async_trait]
impl TableProviderFactory for DeltaFactory {
    async fn create(
        &self,
        _state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        let file_type = self.file_type();
        let [location] = cmd.locations.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "STORED AS {file_type} takes exactly one LOCATION (the table's root), got {}",
                cmd.locations.len()
            )));
        };
        if !cmd.table_partition_cols.is_empty() {
            return Err(DataFusionError::Plan(format!(
                "STORED AS {file_type} takes no PARTITIONED BY: a Delta table's partitioning \
                 is in its log"
            )));
        }
        let provider: Arc<dyn TableProvider> = match self {
            Self::Snapshot => {
                let (own, storage) = split_ddl_options(&cmd.options, &SNAPSHOT_OPTION_KEYS)?;
                let at = match (own.get("version"), own.get("timestamp")) {
                    (Some(_), Some(_)) => {
                        return Err(DataFusionError::Plan(
                            "give either 'version' or 'timestamp', not both".into(),
                        ));
                    }
                    (Some(v), None) => Some(VersionBound::parse_version("version", v)?),
                    (None, Some(t)) => Some(VersionBound::parse_timestamp("timestamp", t)?),
                    (None, None) => None,
                };
                Arc::new(
                    DeltaSnapshot::new(location.as_str())
                        .at(at)
                        .storage_options(storage)
                        .build()
                        .await?,
                )
            }
            Self::ChangeFeed => {
                let (own, storage) = split_ddl_options(&cmd.options, &CDF_OPTION_KEYS)?;
                let start =
                    bound(&own, "starting_version", "starting_timestamp")?.ok_or_else(|| {
                        DataFusionError::Plan(format!(
                            "STORED AS {file_type} needs OPTIONS ('starting_version' '<v>') or \
                         ('starting_timestamp' '<t>')"
                        ))
                    })?;
                let end = bound(&own, "ending_version", "ending_timestamp")?;
                let missing = own
                    .get("missing_files")
                    .map(|v| MissingFiles::parse(v))
                    .transpose()?
                    .unwrap_or_default();
                Arc::new(
                    DeltaCdf::new(location.as_str())
                        .starting(start)
                        .ending(end)
                        .missing_files(missing)
                        .storage_options(storage)
                        .build()
                        .await?,
                )
            }
        };
        check_declared_columns(cmd, provider.as_ref(), file_type)?;
        Ok(provider)
    }
}

/// A bound given as a version or a timestamp option (not both).
fn bound(
    options: &std::collections::BTreeMap<String, String>,
    version_key: &str,
    timestamp_key: &str,
) -> Result<Option<VersionBound>> {
    match (options.get(version_key), options.get(timestamp_key)) {
        (Some(_), Some(_)) => Err(DataFusionError::Plan(format!(
            "give either '{version_key}' or '{timestamp_key}', not both"
        ))),
        (Some(v), None) => VersionBound::parse_version(version_key, v).map(Some),
        (None, Some(t)) => VersionBound::parse_timestamp(timestamp_key, t).map(Some),
        (None, None) => Ok(None),
    }
}

/// Columns declared in the DDL must be the table's (the table's schema is its log's).
fn check_declared_columns(
    cmd: &CreateExternalTable,
    provider: &dyn TableProvider,
    file_type: &str,
) -> Result<()> {
    let schema = provider.schema();
    for field in cmd.schema.fields() {
        match schema.field_with_name(field.name()) {
            Ok(actual) if actual.data_type() == field.data_type() => {}
            Ok(actual) => {
                return Err(DataFusionError::Plan(format!(
                    "column {} is declared {} but the {file_type} table has {}",
                    field.name(),
                    field.data_type(),
                    actual.data_type()
                )));
            }
            Err(_) => {
                return Err(DataFusionError::Plan(format!(
                    "column {} is declared but the {file_type} table has no such column \
                     (it has {})",
                    field.name(),
                    schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(())
}
