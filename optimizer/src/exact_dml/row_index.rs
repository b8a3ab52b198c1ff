//! The rows a DELETE or UPDATE selected, as an index a provider can evaluate.
//!
//! [`RowIndex`] maps the key of each selected target row (the values of the target's
//! columns the statement reads, encoded with Arrow's row format, so NULLs and NaNs compare
//! as identical values) to the new values an UPDATE gives it. [`RowIndexFunction`] turns it
//! into the expressions `TableProvider::delete_from` and `update` accept: a filter that is
//! true exactly for the selected rows, and one value expression per assigned column.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{cast, interleave, take};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{Result, exec_datafusion_err, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The selected rows of one statement: key → new values.
#[derive(Debug)]
pub struct RowIndex {
    key_types: Vec<DataType>,
    /// `None` when the key has no column: every target row then has the same key.
    converter: Option<RowConverter>,
    positions: HashMap<Box<[u8]>, u32>,
    /// One array per assigned column, one element per distinct key (UPDATE only).
    values: Vec<ArrayRef>,
}

impl RowIndex {
    /// Indexes `batches`, whose first `key_fields.len()` columns are the key and whose
    /// remaining columns are the new values of `value_fields`. Columns are cast to the
    /// target's types. Two different new values for one key are an error: the statement
    /// would give one row two values (SQL's "multiple assignments to the same row").
    pub fn build(
        key_fields: &[FieldRef],
        value_fields: &[FieldRef],
        batches: &[RecordBatch],
        table: &str,
    ) -> Result<Self> {
        let key_types: Vec<DataType> = key_fields.iter().map(|f| f.data_type().clone()).collect();
        let converter = if key_types.is_empty() {
            None
        } else {
            Some(RowConverter::new(
                key_types.iter().cloned().map(SortField::new).collect(),
            )?)
        };
        let value_converter = RowConverter::new(
            value_fields
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )?;
        let width = key_fields.len() + value_fields.len();

        let mut positions: HashMap<Box<[u8]>, u32> = HashMap::new();
        let mut value_rows: Vec<Box<[u8]>> = Vec::new();
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        let mut value_batches: Vec<Vec<ArrayRef>> = Vec::new();
        for batch in batches {
            if batch.num_columns() != width {
                return exec_err!(
                    "the rows selected from '{table}' have {} columns, expected {width}",
                    batch.num_columns()
                );
            }
            let keys = cast_columns(&batch.columns()[..key_fields.len()], key_fields)?;
            let values = cast_columns(&batch.columns()[key_fields.len()..], value_fields)?;
            let key_rows = encode(converter.as_ref(), &keys)?;
            let new_rows = if values.is_empty() {
                None
            } else {
                Some(value_converter.convert_columns(&values)?)
            };
            let batch_index = value_batches.len();
            value_batches.push(values);
            for row in 0..batch.num_rows() {
                let key: &[u8] = key_rows.as_ref().map_or(&[], |rows| rows.row(row).data());
                let new_value: &[u8] = new_rows.as_ref().map_or(&[], |rows| rows.row(row).data());
                match positions.entry(key.into()) {
                    Entry::Vacant(entry) => {
                        let position = u32::try_from(chosen.len()).map_err(|_| {
                            exec_datafusion_err!(
                                "more than {} distinct rows selected from '{table}'",
                                u32::MAX
                            )
                        })?;
                        entry.insert(position);
                        chosen.push((batch_index, row));
                        value_rows.push(new_value.into());
                    }
                    Entry::Occupied(entry) => {
                        if value_rows[*entry.get() as usize].as_ref() != new_value {
                            return exec_err!(
                                "UPDATE of '{table}' would assign two different values to the \
                                 same row (the SET expression or its subquery yields more than \
                                 one value for it); nothing was changed"
                            );
                        }
                    }
                }
            }
        }

        let values = (0..value_fields.len())
            .map(|column| {
                let arrays: Vec<&dyn Array> = value_batches
                    .iter()
                    .map(|batch| batch[column].as_ref())
                    .collect();
                if arrays.is_empty() {
                    return Ok(datafusion::arrow::array::new_empty_array(
                        value_fields[column].data_type(),
                    ));
                }
                Ok(interleave(&arrays, &chosen)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            key_types,
            converter,
            positions,
            values,
        })
    }

    /// The number of distinct selected rows.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// For each of `rows` target rows with key columns `keys`: the position of its new
    /// values, or null if the statement did not select it.
    fn positions_of(&self, keys: &[ArrayRef], rows: usize) -> Result<UInt32Array> {
        let keys = keys
            .iter()
            .zip(&self.key_types)
            .map(|(array, data_type)| Ok(cast(array, data_type)?))
            .collect::<Result<Vec<_>>>()?;
        let encoded = encode(self.converter.as_ref(), &keys)?;
        Ok((0..rows)
            .map(|row| {
                let key: &[u8] = encoded.as_ref().map_or(&[], |rows| rows.row(row).data());
                self.positions.get(key).copied()
            })
            .collect())
    }
}

fn encode(converter: Option<&RowConverter>, keys: &[ArrayRef]) -> Result<Option<Rows>> {
    converter
        .map(|converter| Ok(converter.convert_columns(keys)?))
        .transpose()
}

fn cast_columns(columns: &[ArrayRef], fields: &[FieldRef]) -> Result<Vec<ArrayRef>> {
    columns
        .iter()
        .zip(fields)
        .map(|(array, field)| Ok(cast(array, field.data_type())?))
        .collect()
}

/// What a [`RowIndexFunction`] returns for a target row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowIndexOutput {
    /// Whether the statement selected the row.
    Selected,
    /// The new value of the n-th assigned column (null for rows not selected).
    NewValue(usize),
}

/// A scalar function over the target's key columns that answers from a [`RowIndex`]. It is
/// volatile so that no simplifier folds it, and equal only to itself.
#[derive(Debug)]
pub struct RowIndexFunction {
    name: String,
    signature: Signature,
    index: Arc<RowIndex>,
    output: RowIndexOutput,
}

impl RowIndexFunction {
    pub fn new(index: Arc<RowIndex>, output: RowIndexOutput) -> Self {
        let signature = if index.key_types.is_empty() {
            Signature::nullary(Volatility::Volatile)
        } else {
            Signature::exact(index.key_types.clone(), Volatility::Volatile)
        };
        let name = match output {
            RowIndexOutput::Selected => "cpg_dml_selected".to_string(),
            RowIndexOutput::NewValue(n) => format!("cpg_dml_new_value_{n}"),
        };
        Self {
            name,
            signature,
            index,
            output,
        }
    }
}

impl PartialEq for RowIndexFunction {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.index, &other.index) && self.output == other.output
    }
}

impl Eq for RowIndexFunction {}

impl Hash for RowIndexFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.index).hash(state);
        self.output.hash(state);
    }
}

impl ScalarUDFImpl for RowIndexFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        match self.output {
            RowIndexOutput::Selected => Ok(DataType::Boolean),
            RowIndexOutput::NewValue(n) => match self.index.values.get(n) {
                Some(values) => Ok(values.data_type().clone()),
                None => exec_err!("{}: no assigned column {n}", self.name),
            },
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let keys = ColumnarValue::values_to_arrays(&args.args)?;
        let keys = if keys.is_empty() {
            keys
        } else {
            // A literal key column arrives as a one-element array: widen it to the batch.
            keys.into_iter()
                .map(|array| {
                    if array.len() == args.number_rows {
                        Ok(array)
                    } else {
                        exec_err!(
                            "{}: key column of {} rows for a batch of {}",
                            self.name,
                            array.len(),
                            args.number_rows
                        )
                    }
                })
                .collect::<Result<Vec<_>>>()?
        };
        let positions = self.index.positions_of(&keys, args.number_rows)?;
        let result: ArrayRef = match self.output {
            RowIndexOutput::Selected => Arc::new(
                positions
                    .iter()
                    .map(|position| Some(position.is_some()))
                    .collect::<BooleanArray>(),
            ),
            RowIndexOutput::NewValue(n) => match self.index.values.get(n) {
                Some(values) => take(values.as_ref(), &positions, None)?,
                None => return exec_err!("{}: no assigned column {n}", self.name),
            },
        };
        Ok(ColumnarValue::Array(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::Field;

    fn field(name: &str, data_type: DataType) -> FieldRef {
        Arc::new(Field::new(name, data_type, true))
    }

    #[test]
    fn keys_with_nulls_match_themselves_and_values_follow_their_key() {
        let keys = [field("id", DataType::Int32)];
        let values = [field("name", DataType::Utf8)];
        let batch = RecordBatch::try_from_iter(vec![
            (
                "k",
                Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                "v",
                Arc::new(StringArray::from(vec!["one", "null"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let index = RowIndex::build(&keys, &values, &[batch], "t").unwrap();
        assert_eq!(index.len(), 2);
        let probe: ArrayRef = Arc::new(Int32Array::from(vec![None, Some(2), Some(1)]));
        let positions = index.positions_of(&[probe], 3).unwrap();
        let found = take(index.values[0].as_ref(), &positions, None).unwrap();
        let found = found.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(found.value(0), "null");
        assert!(found.is_null(1));
        assert_eq!(found.value(2), "one");
    }

    #[test]
    fn two_values_for_one_row_are_refused() {
        let keys = [field("id", DataType::Int32)];
        let values = [field("v", DataType::Int32)];
        let batch = RecordBatch::try_from_iter(vec![
            ("k", Arc::new(Int32Array::from(vec![1, 1])) as ArrayRef),
            ("v", Arc::new(Int32Array::from(vec![5, 6])) as ArrayRef),
        ])
        .unwrap();
        let error = RowIndex::build(&keys, &values, &[batch], "t")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("two different values to the same row"),
            "{error}"
        );
    }

    #[test]
    fn without_key_columns_every_row_shares_the_one_key() {
        let batch = RecordBatch::try_from_iter(vec![(
            "v",
            Arc::new(Int32Array::from(vec![7, 7])) as ArrayRef,
        )])
        .unwrap();
        let index = RowIndex::build(&[], &[field("v", DataType::Int32)], &[batch], "t").unwrap();
        assert_eq!(index.len(), 1);
        let positions = index.positions_of(&[], 3).unwrap();
        assert_eq!(positions.null_count(), 0);
    }
}
