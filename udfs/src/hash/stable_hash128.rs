//! `stable_hash128(part, ...)`: XXH3-128 of the canonical key, as 32 lowercase hex digits.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::buffer::{Buffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;
use xxhash_rust::xxh3::xxh3_128;

use super::{check_key_types, for_each_key, output_rows, prepare, push_hex128};

/// Hex digits per row of the result.
const HEX_DIGITS: usize = 32;
/// A Utf8 array addresses its values with i32 offsets.
const MAX_UTF8_VALUES_LEN: usize = i32::MAX as usize;

#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Stable 128-bit hash of one or more values, as 32 lowercase hex digits: XXH3-128 (seed 0) over the same canonical encoding as stable_hash64. Never NULL.",
    syntax_example = "stable_hash128(part[, ...])",
    sql_example = r#"```sql
> select stable_hash128('src/mod.py', 10, 42);
```"#,
    argument(
        name = "part",
        description = "A string, integer, float, boolean, binary, date, time, timestamp, duration or decimal expression, or NULL."
    ),
    related_udf(name = "stable_hash64"),
    related_udf(name = "stable_id")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StableHash128 {
    signature: Signature,
}

impl Default for StableHash128 {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for StableHash128 {
    fn name(&self) -> &str {
        "stable_hash128"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_key_types(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (rows, scalar) = output_rows(&args.args, args.number_rows);
        // Checked before any hashing or allocation: past the limit the i32 offsets of
        // the Utf8 result would overflow, which Arrow's offset builders turn into a panic.
        let values_len = hex_values_len(rows)?;
        let parts = prepare(&args.args)?;
        // Fixed-width output: write the hex digits straight into one values buffer.
        let mut values = Vec::with_capacity(values_len);
        for_each_key(&parts, rows, |_, key| {
            push_hex128(xxh3_128(key), &mut values);
        });
        let offsets = OffsetBuffer::from_repeated_length(HEX_DIGITS, rows);
        let array = StringArray::try_new(offsets, Buffer::from_vec(values), None)?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(array)))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The length of the values buffer of `rows` results, or an error if it exceeds what a
/// Utf8 array's i32 offsets can address (more than 67,108,863 rows).
fn hex_values_len(rows: usize) -> Result<usize> {
    match rows.checked_mul(HEX_DIGITS) {
        Some(len) if len <= MAX_UTF8_VALUES_LEN => Ok(len),
        _ => exec_err!(
            "stable_hash128: a batch of {rows} rows needs {HEX_DIGITS} hex digits per row, \
             more than the {MAX_UTF8_VALUES_LEN} bytes a Utf8 array can hold; accepted: at \
             most {} rows per batch (lower datafusion.execution.batch_size)",
            MAX_UTF8_VALUES_LEN / HEX_DIGITS
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_len_stays_within_i32_offsets() {
        assert_eq!(hex_values_len(0).ok(), Some(0));
        assert_eq!(hex_values_len(8192).ok(), Some(262_144));
        assert_eq!(hex_values_len(67_108_863).ok(), Some(2_147_483_616));
        for rows in [67_108_864, usize::MAX / HEX_DIGITS + 1, usize::MAX] {
            let message = hex_values_len(rows).unwrap_err().to_string();
            assert!(message.contains("stable_hash128"), "{message}");
            assert!(message.contains(&rows.to_string()), "{message}");
            assert!(message.contains("at most 67108863 rows"), "{message}");
        }
    }
}
