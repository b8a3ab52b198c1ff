//! The change feed's columns, and how each kind of file is laid out for a Parquet scan
//! so that every kind yields the same output columns.
//!
//! Output: the table's columns (the schema at the feed's end, in table order), then
//! `_change_type` (Utf8: insert, update_preimage, update_postimage, delete),
//! `_commit_version` (Int64) and `_commit_timestamp` (Timestamp(µs, UTC)), as Spark's
//! reader names and types them.
//!
//! Scans: a `_change_data` file holds the data columns and `_change_type`; an added or
//! removed file the data columns only. Partition columns and the commit columns (and
//! `_change_type` of added/removed files) are per-file constants, given to DataFusion's
//! Parquet scan as partition values; the scan's projection puts the columns in output
//! order.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::table_schema::TableSchema;

use super::feed::{FeedFile, FileRole};
use super::filters::partition_value;

pub const CHANGE_TYPE_COLUMN: &str = "_change_type";
pub const COMMIT_VERSION_COLUMN: &str = "_commit_version";
pub const COMMIT_TIMESTAMP_COLUMN: &str = "_commit_timestamp";

/// The feed's output columns and the layout of each kind of file.
#[derive(Debug, Clone)]
pub struct FeedSchema {
    table: SchemaRef,
    partition_columns: Vec<String>,
    output: SchemaRef,
}

fn change_type_field() -> Field {
    Field::new(CHANGE_TYPE_COLUMN, DataType::Utf8, false)
}

fn commit_fields() -> [Field; 2] {
    [
        Field::new(COMMIT_VERSION_COLUMN, DataType::Int64, false),
        Field::new(
            COMMIT_TIMESTAMP_COLUMN,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]
}

impl FeedSchema {
    /// `table`: the table's schema (partition columns included); `partition_columns`:
    /// their names.
    pub fn new(table: SchemaRef, partition_columns: Vec<String>) -> Result<Self> {
        for name in [
            CHANGE_TYPE_COLUMN,
            COMMIT_VERSION_COLUMN,
            COMMIT_TIMESTAMP_COLUMN,
        ] {
            if table.field_with_name(name).is_ok() {
                return Err(DataFusionError::Plan(format!(
                    "the table has a column named {name}, which its change feed adds"
                )));
            }
        }
        for name in &partition_columns {
            table.field_with_name(name).map_err(|_| {
                DataFusionError::Plan(format!("partition column {name} is not in the schema"))
            })?;
        }
        let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(change_type_field());
        fields.extend(commit_fields());
        Ok(Self {
            table,
            partition_columns,
            output: Arc::new(Schema::new(fields)),
        })
    }

    pub fn output(&self) -> &SchemaRef {
        &self.output
    }

    pub fn table(&self) -> &SchemaRef {
        &self.table
    }

    pub fn partition_columns(&self) -> &[String] {
        &self.partition_columns
    }

    /// The table's partition columns, typed.
    pub fn partition_fields(&self) -> Vec<Field> {
        self.partition_columns
            .iter()
            .filter_map(|name| self.table.field_with_name(name).ok().cloned())
            .collect()
    }

    fn data_fields(&self) -> impl Iterator<Item = FieldRef> + '_ {
        self.table
            .fields()
            .iter()
            .filter(|f| !self.partition_columns.contains(f.name()))
            .cloned()
    }

    /// The file and partition columns of a scan of `role` files.
    pub fn scan_layout(&self, role: FileRole) -> TableSchema {
        let mut file: Vec<FieldRef> = self.data_fields().collect();
        let mut constants: Vec<FieldRef> =
            self.partition_fields().into_iter().map(Arc::new).collect();
        match role {
            FileRole::ChangeData => file.push(Arc::new(change_type_field())),
            FileRole::Inserted | FileRole::Deleted => constants.push(Arc::new(change_type_field())),
        }
        constants.extend(commit_fields().map(Arc::new));
        TableSchema::builder(Arc::new(Schema::new(file)))
            .with_table_partition_cols(constants)
            .build()
    }

    /// The scan projection (indices into [`Self::scan_layout`]) producing the output
    /// columns `output_columns` (indices into [`Self::output`]), in that order.
    pub fn scan_projection(&self, role: FileRole, output_columns: &[usize]) -> Result<Vec<usize>> {
        let layout = self.scan_layout(role);
        let layout = layout.table_schema();
        output_columns
            .iter()
            .map(|&i| {
                let name = self.output.field(i).name();
                layout.index_of(name).map_err(DataFusionError::from)
            })
            .collect()
    }

    /// The per-file constants of a `role` scan, in [`Self::scan_layout`] order.
    pub fn constants(&self, file: &FeedFile) -> Result<Vec<ScalarValue>> {
        let mut values = self
            .partition_fields()
            .iter()
            .map(|field| partition_value(field, &file.partition_values))
            .collect::<Result<Vec<_>>>()?;
        match file.role {
            FileRole::ChangeData => {}
            FileRole::Inserted => values.push(ScalarValue::from("insert")),
            FileRole::Deleted => values.push(ScalarValue::from("delete")),
        }
        values.push(ScalarValue::Int64(Some(file.version as i64)));
        values.push(ScalarValue::TimestampMicrosecond(
            Some(file.timestamp_micros),
            Some("UTC".into()),
        ));
        Ok(values)
    }
}
