//! `stable_id(prefix, part, ...)`: `prefix || ':' || stable_hash128(prefix, part, ...)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, NullBufferBuilder, StringArray};
use datafusion::arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;
use xxhash_rust::xxh3::xxh3_128;

use super::encoding::{KeyColumn, KeyPart};
use super::{check_key_types, for_each_key, output_rows, prepare, push_hex128};

#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Stable, prefixed identifier: `prefix || ':' || stable_hash128(prefix, part, ...)`. The prefix is hashed as the first part, so ids with different prefixes (node:, edge:) never collide even for the same parts. NULL parts are hashed with their own tag; a NULL prefix gives NULL.",
    syntax_example = "stable_id(prefix, part[, ...])",
    sql_example = r#"```sql
> select stable_id('node', 'src/mod.py', 10, 42);
```"#,
    argument(
        name = "prefix",
        description = "String naming the kind of id, e.g. 'node' or 'edge'."
    ),
    argument(
        name = "part",
        description = "A string, integer, float, boolean, binary, date, time, timestamp, duration or decimal expression, or NULL."
    ),
    related_udf(name = "stable_hash128")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StableId {
    signature: Signature,
}

impl Default for StableId {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn is_prefix_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_prefix_type(value),
        _ => false,
    }
}

impl ScalarUDFImpl for StableId {
    fn name(&self) -> &str {
        "stable_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.first() {
            None => plan_err!(
                "stable_id expects a prefix and at least one part, e.g. stable_id('node', path, start, end)"
            ),
            Some(_) if arg_types.len() < 2 => plan_err!(
                "stable_id expects a prefix and at least one part, e.g. stable_id('node', path, start, end); got only a prefix"
            ),
            Some(prefix) if !is_prefix_type(prefix) => {
                plan_err!("stable_id: the prefix (argument 1) must be a string, got {prefix}")
            }
            Some(_) => check_key_types(self.name(), arg_types),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (rows, scalar) = output_rows(&args.args, args.number_rows);
        let parts = prepare(&args.args)?;
        let prefix = match (args.args.first(), parts.first()) {
            (Some(ColumnarValue::Scalar(value)), _) => Prefix::Constant(constant_prefix(value)?),
            (_, Some(KeyPart::Column(column))) => Prefix::Column(column),
            _ => return Err(exec_datafusion_err!("stable_id: missing prefix argument")),
        };
        // Built as raw values and offsets: each id is the prefix, ':' and 32 hex digits.
        let mut values = Vec::with_capacity(rows * 48);
        let mut offsets = Vec::with_capacity(rows + 1);
        let mut nulls = NullBufferBuilder::new(rows);
        offsets.push(0i32);
        let mut overflow = false;
        for_each_key(&parts, rows, |row, key| {
            match prefix.value(row) {
                None => nulls.append_null(),
                Some(p) => {
                    values.extend_from_slice(p.as_bytes());
                    values.push(b':');
                    push_hex128(xxh3_128(key), &mut values);
                    nulls.append_non_null();
                }
            }
            let end = i32::try_from(values.len());
            overflow |= end.is_err();
            offsets.push(end.unwrap_or(i32::MAX));
        });
        if overflow {
            return Err(exec_datafusion_err!(
                "stable_id: the ids of this batch exceed 2 GiB; use smaller batches or shorter prefixes"
            ));
        }
        let array = StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
            nulls.finish(),
        )?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(array) as Arc<dyn Array>))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

enum Prefix<'a> {
    Constant(Option<String>),
    Column(&'a KeyColumn),
}

impl Prefix<'_> {
    fn value(&self, row: usize) -> Option<&str> {
        match self {
            Prefix::Constant(value) => value.as_deref(),
            Prefix::Column(column) => column.str_value(row),
        }
    }
}

fn constant_prefix(value: &ScalarValue) -> Result<Option<String>> {
    let column = KeyColumn::try_new(&value.to_array()?)?;
    Ok(column.str_value(0).map(str::to_owned))
}
