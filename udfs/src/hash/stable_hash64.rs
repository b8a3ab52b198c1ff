//! `stable_hash64(part, ...)`: XXH3-64 of the canonical key, as Int64.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;
use xxhash_rust::xxh3::xxh3_64;

use super::{check_key_types, for_each_key, output_rows, prepare};

#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Stable 64-bit hash of one or more values: XXH3-64 (seed 0) over a canonical, type-tagged, length-prefixed encoding of the parts. Identical across runs, machines and languages; the same logical value hashes the same whatever its physical type (Utf8/LargeUtf8/Utf8View/dictionary, any integer width). NULL parts are hashed with their own tag; the result is never NULL.",
    syntax_example = "stable_hash64(part[, ...])",
    sql_example = r#"```sql
> select stable_hash64('src/mod.py', 10, 42);
```"#,
    argument(
        name = "part",
        description = "A string, integer, float, boolean, binary, date, time, timestamp, duration or decimal expression, or NULL."
    ),
    related_udf(name = "stable_hash128"),
    related_udf(name = "stable_id")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StableHash64 {
    signature: Signature,
}

impl Default for StableHash64 {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for StableHash64 {
    fn name(&self) -> &str {
        "stable_hash64"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_key_types(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Int64, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (rows, scalar) = output_rows(&args.args, args.number_rows);
        let parts = prepare(&args.args)?;
        let mut hashes = Vec::with_capacity(rows);
        for_each_key(&parts, rows, |_, key| hashes.push(xxh3_64(key) as i64));
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::Int64(
                hashes.first().copied(),
            )))
        } else {
            Ok(ColumnarValue::Array(Arc::new(Int64Array::from(hashes))))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
