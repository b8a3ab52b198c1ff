//! DDL for unbounded listing tables:
//!
//! ```sql
//! CREATE UNBOUNDED EXTERNAL TABLE facts (path VARCHAR, id BIGINT)
//! STORED AS PARQUET LOCATION 'facts/' WITH ORDER (id ASC)
//! OPTIONS ('poll_interval' '200ms', 'checkpoint' 'facts.checkpoint.json');
//! ```
//!
//! Registered under `PARQUET`, `CSV`, `JSON` and `NDJSON` where the bundle is linked, it
//! answers `UNBOUNDED` tables and hands every other one to DataFusion's own factory
//! (bounded DDL keeps DataFusion's behaviour). Under `UNBOUNDED_PARQUET`,
//! `UNBOUNDED_CSV`, `UNBOUNDED_JSON` (which also cross FFI) every table is unbounded
//! unless `'bounded' 'true'`. Unknown options are errors listing the accepted ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::datasource::provider::DefaultTableFactory;
use datafusion::logical_expr::{CreateExternalTable, Expr};

use super::{BadFiles, FileFormatKind, FileOrder, OrderColumn, UnboundedListing};

/// The options `OPTIONS (...)` accepts (with or without DataFusion's `format.` prefix).
pub const OPTION_KEYS: [&str; 6] = [
    "poll_interval",
    "order",
    "checkpoint",
    "bad_files",
    "bounded",
    "has_header",
];

/// Creates unbounded listing tables; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct UnboundedListingFactory {
    format: FileFormatKind,
    /// Answers only `CREATE UNBOUNDED` tables, handing the others to DataFusion.
    only_unbounded: bool,
}

impl UnboundedListingFactory {
    /// The factory for `STORED AS PARQUET` (etc.): unbounded tables only.
    pub fn replacing_default(format: FileFormatKind) -> Self {
        Self {
            format,
            only_unbounded: true,
        }
    }

    /// The factory for `STORED AS UNBOUNDED_PARQUET` (etc.).
    pub fn unbounded(format: FileFormatKind) -> Self {
        Self {
            format,
            only_unbounded: false,
        }
    }
}

#[async_trait]
impl TableProviderFactory for UnboundedListingFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        if self.only_unbounded && !cmd.unbounded {
            return DefaultTableFactory::new().create(state, cmd).await;
        }
        let [location] = cmd.locations.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "an unbounded table reads one directory (LOCATION), got {} locations",
                cmd.locations.len()
            )));
        };
        if !cmd.table_partition_cols.is_empty() {
            return Err(DataFusionError::Plan(
                "an unbounded table takes no PARTITIONED BY (declare the columns its files hold)"
                    .into(),
            ));
        }
        let options = own_options(&cmd.options)?;
        let mut listing = UnboundedListing::new(
            location.as_str(),
            self.format,
            schema(state, cmd, location, self.format).await?,
        )
        .order_by(order_columns(cmd)?);
        if let Some(value) = options.get("poll_interval") {
            listing = listing.poll_interval(parse_duration(value)?);
        }
        if let Some(value) = options.get("order") {
            listing = listing.order(match value.to_ascii_lowercase().as_str() {
                "file_name" | "name" => FileOrder::FileName,
                "modified_time" | "mtime" => FileOrder::ModifiedTime,
                other => return Err(bad_value("order", other, "'file_name' or 'modified_time'")),
            });
        }
        if let Some(value) = options.get("checkpoint") {
            listing = listing.checkpoint(value.as_str());
        }
        if let Some(value) = options.get("bad_files") {
            listing = listing.bad_files(match value.to_ascii_lowercase().as_str() {
                "fail" => BadFiles::Fail,
                "skip" => BadFiles::Skip,
                other => return Err(bad_value("bad_files", other, "'fail' or 'skip'")),
            });
        }
        if let Some(value) = options.get("bounded") {
            listing = listing.bounded(parse_bool("bounded", value)?);
        }
        if let Some(value) = options.get("has_header") {
            listing = listing.has_header(parse_bool("has_header", value)?);
        }
        Ok(Arc::new(listing.build()?))
    }
}

fn own_options(options: &HashMap<String, String>) -> Result<HashMap<String, String>> {
    let mut own = HashMap::new();
    for (key, value) in options {
        let lower = key.to_ascii_lowercase();
        let bare = lower.strip_prefix("format.").unwrap_or(&lower);
        if !OPTION_KEYS.contains(&bare) {
            return Err(DataFusionError::Plan(format!(
                "unknown option '{key}' for an unbounded table; accepted: {}",
                OPTION_KEYS.join(", ")
            )));
        }
        own.insert(bare.to_string(), value.clone());
    }
    Ok(own)
}

fn bad_value(key: &str, value: &str, accepted: &str) -> DataFusionError {
    DataFusionError::Plan(format!("option {key} must be {accepted}, got '{value}'"))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(bad_value(key, other, "'true' or 'false'")),
    }
}

/// `'500ms'`, `'2s'`, `'1m'`, or a number of milliseconds.
fn parse_duration(value: &str) -> Result<Duration> {
    let value = value.trim();
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(split) => value.split_at(split),
        None => (value, "ms"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| bad_value("poll_interval", value, "a duration such as '500ms' or '2s'"))?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" | "min" => Ok(Duration::from_secs(number * 60)),
        _ => Err(bad_value(
            "poll_interval",
            value,
            "a duration such as '500ms' or '2s'",
        )),
    }
}

/// The declared columns, or the schema inferred from the files present.
async fn schema(
    state: &dyn Session,
    cmd: &CreateExternalTable,
    location: &str,
    format: FileFormatKind,
) -> Result<SchemaRef> {
    if !cmd.schema.fields().is_empty() {
        return Ok(Arc::new(cmd.schema.as_arrow().clone()));
    }
    let file_format: Arc<dyn FileFormat> = match format {
        FileFormatKind::Parquet => Arc::new(ParquetFormat::default()),
        FileFormatKind::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
        FileFormatKind::Json => Arc::new(JsonFormat::default()),
    };
    let mut directory = location.to_string();
    if !directory.ends_with('/') {
        directory.push('/');
    }
    let url = ListingTableUrl::parse(&directory)?;
    let inferred = ListingOptions::new(file_format)
        .with_file_extension(format.extensions()[0])
        .infer_schema(state, &url)
        .await?;
    if inferred.fields().is_empty() {
        return Err(DataFusionError::Plan(format!(
            "no {format:?} file in '{location}' to infer the table's columns from: declare \
             them (CREATE UNBOUNDED EXTERNAL TABLE t (col TYPE, ...) ...)"
        )));
    }
    Ok(inferred)
}

/// `WITH ORDER (a ASC, b DESC NULLS FIRST)`: columns only.
fn order_columns(cmd: &CreateExternalTable) -> Result<Vec<OrderColumn>> {
    let Some(first) = cmd.order_exprs.first() else {
        return Ok(vec![]);
    };
    if cmd.order_exprs.len() > 1 {
        return Err(DataFusionError::Plan(
            "an unbounded table takes one WITH ORDER clause".into(),
        ));
    }
    first
        .iter()
        .map(|sort| match &sort.expr {
            Expr::Column(column) => Ok(OrderColumn {
                name: column.name.clone(),
                descending: !sort.asc,
                nulls_first: sort.nulls_first,
            }),
            other => Err(DataFusionError::Plan(format!(
                "WITH ORDER of an unbounded table takes columns, not {other}"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_explain() {
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .to_string()
                .contains("'500ms' or '2s'")
        );
    }
}
