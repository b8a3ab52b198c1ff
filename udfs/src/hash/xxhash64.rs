//! `xxhash64(expr, ...)`: Spark's `xxhash64` (XXH64, seed 42, each column's hash seeds
//! the next, NULL leaves the running hash unchanged), for pipelines that must agree
//! with ids computed in Spark.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date64Type, Decimal128Type, Field, FieldRef, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;
use xxhash_rust::xxh64::xxh64;

use super::output_rows;

/// Spark's seed for `xxhash64`.
pub const SPARK_SEED: u64 = 42;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Largest precision Spark hashes as a long (`Decimal.MAX_LONG_DIGITS`).
const MAX_LONG_DIGITS: u8 = 18;

#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Spark-compatible xxhash64: XXH64 with seed 42 over each argument in turn, the hash of one argument seeding the next; NULL arguments leave the running hash unchanged. Booleans and integers up to 32 bits hash as 4-byte ints, 64-bit integers as 8 bytes, strings and binary as their bytes, lists and structs element by element. Timestamps hash their stored i64 (Spark stores microseconds).",
    syntax_example = "xxhash64(expr[, ...])",
    sql_example = r#"```sql
> select xxhash64('Spark', make_array(arrow_cast(123, 'Int32')), arrow_cast(2, 'Int32'));
5602566077635097486
```"#,
    argument(
        name = "expr",
        description = "Expression of a primitive, string, binary, decimal, date, timestamp, list or struct type."
    ),
    related_udf(name = "stable_hash64")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct XxHash64 {
    signature: Signature,
}

impl Default for XxHash64 {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for XxHash64 {
    fn name(&self) -> &str {
        "xxhash64"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return plan_err!("xxhash64 expects at least one argument");
        }
        for (position, data_type) in arg_types.iter().enumerate() {
            if !is_supported(data_type) {
                return plan_err!(
                    "xxhash64: argument {} has unsupported type {data_type}; accepted: booleans, \
                     integers, floats, strings, binary, decimals, dates, timestamps, and lists, \
                     structs or dictionaries of these",
                    position + 1
                );
            }
        }
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Int64, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (rows, scalar) = output_rows(&args.args, args.number_rows);
        let mut hashes = vec![SPARK_SEED; rows];
        for arg in &args.args {
            hash_column(&arg.to_array(rows)?, &mut hashes)?;
        }
        if scalar {
            let first = hashes.first().map(|h| *h as i64);
            Ok(ColumnarValue::Scalar(ScalarValue::Int64(first)))
        } else {
            let array = Int64Array::from_iter_values(hashes.into_iter().map(|h| h as i64));
            Ok(ColumnarValue::Array(Arc::new(array)))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

fn is_supported(data_type: &DataType) -> bool {
    use DataType::*;
    match data_type {
        Null
        | Boolean
        | Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float16
        | Float32
        | Float64
        | Utf8
        | LargeUtf8
        | Utf8View
        | Binary
        | LargeBinary
        | BinaryView
        | FixedSizeBinary(_)
        | Date32
        | Date64
        | Timestamp(_, _)
        | Decimal128(_, _) => true,
        Decimal32(_, _) | Decimal64(_, _) => true,
        List(f) | LargeList(f) | FixedSizeList(f, _) => is_supported(f.data_type()),
        Struct(fields) => fields.iter().all(|f| is_supported(f.data_type())),
        Dictionary(_, value) => is_supported(value),
        _ => false,
    }
}

/// Folds every row of `array` into the running hash of that row.
fn hash_column(array: &ArrayRef, hashes: &mut [u64]) -> Result<()> {
    use DataType::*;
    match array.data_type() {
        Null => {}
        Dictionary(_, value_type) => hash_column(&cast(array, value_type)?, hashes)?,
        Boolean => {
            let a = array.as_boolean();
            fold(a, hashes, |i, seed| {
                xxh64(&i32::from(a.value(i)).to_le_bytes(), seed)
            });
        }
        Int8 => fold_i32(array.as_primitive::<Int8Type>(), hashes),
        Int16 => fold_i32(array.as_primitive::<Int16Type>(), hashes),
        Int32 => fold_i32(array.as_primitive::<Int32Type>(), hashes),
        UInt8 => fold_i32(array.as_primitive::<UInt8Type>(), hashes),
        UInt16 => fold_i32(array.as_primitive::<UInt16Type>(), hashes),
        Date32 => hash_column(&cast(array, &Int32)?, hashes)?,
        UInt32 => fold_i64(array.as_primitive::<UInt32Type>(), hashes),
        Int64 => fold_i64(array.as_primitive::<Int64Type>(), hashes),
        UInt64 => {
            let a = array.as_primitive::<UInt64Type>();
            fold(a, hashes, |i, seed| xxh64(&a.value(i).to_le_bytes(), seed));
        }
        Date64 => {
            let days = array
                .as_primitive::<Date64Type>()
                .unary::<_, Int32Type>(|ms| ms.div_euclid(MILLIS_PER_DAY) as i32);
            fold_i32(&days, hashes);
        }
        Timestamp(_, _) => hash_column(&cast(array, &Int64)?, hashes)?,
        Float16 => hash_column(&cast(array, &Float32)?, hashes)?,
        Float32 => {
            let a = array.as_primitive::<Float32Type>();
            fold(a, hashes, |i, seed| {
                let v = a.value(i);
                // Java's floatToIntBits: one NaN, and Spark maps -0.0 to 0.
                let bits = if v.is_nan() {
                    0x7fc0_0000
                } else if v == 0.0 {
                    0
                } else {
                    v.to_bits()
                };
                xxh64(&bits.to_le_bytes(), seed)
            });
        }
        Float64 => {
            let a = array.as_primitive::<Float64Type>();
            fold(a, hashes, |i, seed| {
                let v = a.value(i);
                let bits = if v.is_nan() {
                    0x7ff8_0000_0000_0000
                } else if v == 0.0 {
                    0
                } else {
                    v.to_bits()
                };
                xxh64(&bits.to_le_bytes(), seed)
            });
        }
        Utf8 => {
            let a = array.as_string::<i32>();
            fold(a, hashes, |i, seed| xxh64(a.value(i).as_bytes(), seed));
        }
        LargeUtf8 => {
            let a = array.as_string::<i64>();
            fold(a, hashes, |i, seed| xxh64(a.value(i).as_bytes(), seed));
        }
        Utf8View => {
            let a = array.as_string_view();
            fold(a, hashes, |i, seed| xxh64(a.value(i).as_bytes(), seed));
        }
        Binary => {
            let a = array.as_binary::<i32>();
            fold(a, hashes, |i, seed| xxh64(a.value(i), seed));
        }
        LargeBinary => {
            let a = array.as_binary::<i64>();
            fold(a, hashes, |i, seed| xxh64(a.value(i), seed));
        }
        BinaryView => {
            let a = array.as_binary_view();
            fold(a, hashes, |i, seed| xxh64(a.value(i), seed));
        }
        FixedSizeBinary(_) => {
            let a = array.as_fixed_size_binary();
            fold(a, hashes, |i, seed| xxh64(a.value(i), seed));
        }
        Decimal32(p, s) | Decimal64(p, s) => {
            hash_column(&cast(array, &Decimal128(*p, *s))?, hashes)?
        }
        Decimal128(precision, _) => {
            let a = array.as_primitive::<Decimal128Type>();
            if *precision <= MAX_LONG_DIGITS {
                fold(a, hashes, |i, seed| {
                    xxh64(&(a.value(i) as i64).to_le_bytes(), seed)
                });
            } else {
                // Spark hashes BigDecimal.unscaledValue().toByteArray(): minimal big-endian
                // two's complement.
                fold(a, hashes, |i, seed| {
                    let bytes = a.value(i).to_be_bytes();
                    xxh64(&bytes[redundant_sign_bytes(&bytes)..], seed)
                });
            }
        }
        List(_) | LargeList(_) | FixedSizeList(_, _) => hash_lists(array, hashes)?,
        Struct(_) => {
            let s = array.as_struct();
            for (row, hash) in hashes.iter_mut().enumerate() {
                if s.is_valid(row) {
                    for field in s.columns() {
                        *hash = hash_value(field, row, *hash)?;
                    }
                }
            }
        }
        other => return exec_err!("xxhash64: unsupported type {other}"),
    }
    Ok(())
}

/// Hashes the elements of each valid list row in order, chaining the running hash.
fn hash_lists(array: &ArrayRef, hashes: &mut [u64]) -> Result<()> {
    for (row, hash) in hashes.iter_mut().enumerate() {
        if array.is_null(row) {
            continue;
        }
        if let Some((values, range)) = list_range(array, row) {
            for element in range {
                *hash = hash_value(&values, element, *hash)?;
            }
        }
    }
    Ok(())
}

fn list_range(array: &ArrayRef, row: usize) -> Option<(ArrayRef, std::ops::Range<usize>)> {
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets = l.value_offsets();
            Some((
                Arc::clone(l.values()),
                offsets[row] as usize..offsets[row + 1] as usize,
            ))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let offsets = l.value_offsets();
            Some((
                Arc::clone(l.values()),
                offsets[row] as usize..offsets[row + 1] as usize,
            ))
        }
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = usize::try_from(*size).ok()?;
            Some((Arc::clone(l.values()), row * size..(row + 1) * size))
        }
        _ => None,
    }
}

/// The running hash after folding in element `index` of `array`.
fn hash_value(array: &ArrayRef, index: usize, seed: u64) -> Result<u64> {
    let mut hash = [seed];
    hash_column(&array.slice(index, 1), &mut hash)?;
    Ok(hash[0])
}

fn fold<A: Array>(array: &A, hashes: &mut [u64], f: impl Fn(usize, u64) -> u64) {
    for (i, hash) in hashes.iter_mut().enumerate() {
        if array.is_valid(i) {
            *hash = f(i, *hash);
        }
    }
}

fn fold_i32<T>(array: &datafusion::arrow::array::PrimitiveArray<T>, hashes: &mut [u64])
where
    T: datafusion::arrow::datatypes::ArrowPrimitiveType,
    T::Native: Into<i32>,
{
    fold(array, hashes, |i, seed| {
        let v: i32 = array.value(i).into();
        xxh64(&v.to_le_bytes(), seed)
    });
}

fn fold_i64<T>(array: &datafusion::arrow::array::PrimitiveArray<T>, hashes: &mut [u64])
where
    T: datafusion::arrow::datatypes::ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    fold(array, hashes, |i, seed| {
        let v: i64 = array.value(i).into();
        xxh64(&v.to_le_bytes(), seed)
    });
}

/// How many leading bytes of a big-endian two's complement value are redundant sign
/// bytes: skipping them gives Java's `BigInteger.toByteArray()`.
fn redundant_sign_bytes(bytes: &[u8; 16]) -> usize {
    bytes
        .windows(2)
        .take_while(|pair| {
            (pair[0] == 0x00 && pair[1] & 0x80 == 0) || (pair[0] == 0xFF && pair[1] & 0x80 != 0)
        })
        .count()
}
