//! The `WITH ORDER` contract of an unbounded listing table, checked on every row it
//! emits: within each file and across files, rows must not go backwards in the declared
//! order (a file that does is an error, or skipped per `bad_files`).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::{DataFusionError, Result};
use serde::{Deserialize, Serialize};

/// One column of the declared order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderColumn {
    pub name: String,
    pub descending: bool,
    pub nulls_first: bool,
}

impl OrderColumn {
    pub fn ascending(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            descending: false,
            nulls_first: false,
        }
    }

    pub fn options(&self) -> SortOptions {
        SortOptions {
            descending: self.descending,
            nulls_first: self.nulls_first,
        }
    }
}

/// Checks batches against the declared order, remembering the last row emitted.
#[derive(Debug)]
pub struct OrderCheck {
    /// The order columns' positions in the batches checked.
    positions: Vec<usize>,
    converter: RowConverter,
    last: Option<OwnedRow>,
    description: String,
}

impl OrderCheck {
    /// A check of `order` on batches of `schema` (which holds every order column).
    pub fn try_new(order: &[OrderColumn], schema: &Schema) -> Result<Self> {
        let mut positions = vec![];
        let mut fields = vec![];
        for column in order {
            let position = schema.index_of(&column.name).map_err(|_| {
                DataFusionError::Plan(format!(
                    "WITH ORDER names '{}', which is not a column of the table",
                    column.name
                ))
            })?;
            positions.push(position);
            fields.push(SortField::new_with_options(
                schema.field(position).data_type().clone(),
                column.options(),
            ));
        }
        let description = order
            .iter()
            .map(|c| format!("{} {}", c.name, if c.descending { "DESC" } else { "ASC" }))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Self {
            positions,
            converter: RowConverter::new(fields)?,
            last: None,
            description,
        })
    }

    /// Checks `batch` (rows of `file`) continues the order; the error names the file and
    /// the row.
    pub fn check(&mut self, batch: &RecordBatch, file: &str) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let columns: Vec<_> = self
            .positions
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let rows = self.converter.convert_columns(&columns)?;
        let out_of_order = |row: usize| {
            DataFusionError::Execution(format!(
                "file '{file}' breaks the table's declared order ({}) at its row {row} of \
                 this batch: files must be sorted, and each file must start at or after \
                 where the previous one ended",
                self.description
            ))
        };
        if let Some(last) = &self.last
            && rows.row(0) < last.row()
        {
            return Err(out_of_order(0));
        }
        for i in 1..rows.num_rows() {
            if rows.row(i) < rows.row(i - 1) {
                return Err(out_of_order(i));
            }
        }
        self.last = Some(rows.row(rows.num_rows() - 1).owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field};

    use super::*;

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("k", DataType::Int64, false)]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Int64Array::from(values.to_vec()))],
        )
        .unwrap()
    }

    #[test]
    fn rows_may_not_go_backwards_within_or_across_batches() {
        let schema = batch(&[]).schema();
        let mut check = OrderCheck::try_new(&[OrderColumn::ascending("k")], &schema).unwrap();
        check.check(&batch(&[1, 2, 2]), "a").unwrap();
        check.check(&batch(&[2, 5]), "b").unwrap();
        let error = check.check(&batch(&[4]), "c").unwrap_err().to_string();
        assert!(
            error.contains("file 'c' breaks the table's declared order (k ASC)"),
            "{error}"
        );
        let mut fresh = OrderCheck::try_new(&[OrderColumn::ascending("k")], &schema).unwrap();
        assert!(fresh.check(&batch(&[3, 1]), "d").is_err());
        assert!(OrderCheck::try_new(&[OrderColumn::ascending("x")], &schema).is_err());
    }
}
