//! `xxhash64(expr, ...)`: Spark's `xxhash64` (XXH64, seed 42, each column's hash seeds
//! the next, NULL leaves the running hash unchanged), for pipelines that must agree
//! with ids computed in Spark.
//!
//! Ground truth is Spark's `InterpretedHashFunction.hash` / `HashExpression`
//! (`sql/catalyst/.../expressions/hash.scala`). Arrow types Spark does not have are
//! hashed as the Spark type Spark's Parquet reader gives them
//! (`ParquetSchemaConverter.convertPrimitiveField`), so a file read by both engines
//! hashes the same:
//!
//! | Arrow                              | Spark type           | hashed as                    |
//! |------------------------------------|----------------------|------------------------------|
//! | Boolean                            | BooleanType          | 4-byte int 1 / 0             |
//! | Int8, Int16, Int32                 | Byte/Short/Integer   | 4-byte int                   |
//! | UInt8 (Parquet UINT_8)             | ShortType            | 4-byte int                   |
//! | UInt16 (Parquet UINT_16)           | IntegerType          | 4-byte int                   |
//! | UInt32 (Parquet UINT_32)           | LongType             | 8-byte long                  |
//! | Int64                              | LongType             | 8-byte long                  |
//! | UInt64 (Parquet UINT_64)           | DecimalType(20, 0)   | `BigInteger.toByteArray()`   |
//! | Decimal32/64/128/256, p <= 18      | DecimalType(p, s)    | unscaled 8-byte long         |
//! | Decimal128/256, 19 <= p <= 38      | DecimalType(p, s)    | `BigInteger.toByteArray()`   |
//! | Date32, Date64 (floor to days)     | DateType             | 4-byte int days              |
//! | Timestamp(any unit, any zone)      | Timestamp[NTZ]Type   | 8-byte long microseconds     |
//! | Float16 (widened), Float32         | FloatType            | 4-byte bits, -0.0 as 0       |
//! | Float64                            | DoubleType           | 8-byte bits, -0.0 as 0       |
//! | Utf8*, Binary*, FixedSizeBinary    | String/BinaryType    | the bytes                    |
//! | List, LargeList, FixedSizeList     | ArrayType            | elements in order            |
//! | Struct                             | StructType           | fields in order              |
//! | Dictionary                         | its value type       | the value                    |

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, Date64Array,
    Decimal32Array, Decimal64Array, Decimal128Array, Decimal256Array, FixedSizeBinaryArray,
    FixedSizeListArray, Float16Array, Float32Array, Float64Array, GenericListArray, Int8Array,
    Int16Array, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray, OffsetSizeTrait,
    StringArray, StringViewArray, StructArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, FieldRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{
    DataFusionError, Result, ScalarValue, exec_datafusion_err, exec_err, internal_datafusion_err,
    plan_err,
};
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
/// Largest precision of a Spark decimal (`DecimalType.MAX_PRECISION`): wider Decimal256
/// values have no Spark counterpart whose hash they could match.
const SPARK_MAX_PRECISION: u8 = 38;

const ACCEPTED: &str = "accepted: booleans, integers, floats, strings, binary, decimals of \
                        precision <= 38, dates, timestamps, and lists, structs or \
                        dictionaries of these";

#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Spark-compatible xxhash64 (Spark's XxHash64 expression): XXH64 with seed 42 over each argument in turn, the hash of one argument seeding the next; NULL arguments, NULL list elements and NULL struct fields leave the running hash unchanged. Each Arrow type hashes as the Spark type Spark reads it as: booleans, Int8, Int16, Int32, UInt8 (Spark ShortType) and UInt16 (IntegerType) as a 4-byte int; Int64 and UInt32 (LongType) as an 8-byte long; UInt64 as Spark's Decimal(20,0); decimals of precision <= 18 as their unscaled long, of precision 19 to 38 (Decimal128, or Decimal256 up to 38) as the minimal big-endian two's-complement bytes of the unscaled value (BigInteger.toByteArray); dates as 4-byte days; timestamps of every unit and time zone as a long of microseconds since the epoch (seconds and milliseconds multiplied, an error if that overflows; nanoseconds floor-divided, as Spark's instantToMicros does); Float16 and Float32 as float bits, Float64 as double bits, -0.0 as 0 and one NaN; strings and binary as their bytes; lists element by element and structs field by field. Maps (which Spark's hash functions reject) and Decimal256 of precision above 38 are planning errors.",
    syntax_example = "xxhash64(expr[, ...])",
    sql_example = r#"```sql
> select xxhash64('Spark', make_array(arrow_cast(123, 'Int32')), arrow_cast(2, 'Int32'));
5602566077635097486
```"#,
    argument(
        name = "expr",
        description = "Expression of a boolean, integer, float, string, binary, decimal (precision <= 38), date or timestamp type, or a list, struct or dictionary of these."
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
            return plan_err!("xxhash64 expects at least one argument, e.g. xxhash64(path, line)");
        }
        for (position, data_type) in arg_types.iter().enumerate() {
            check_type(position + 1, data_type, data_type)?;
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

/// Planning-time check of argument `position` (1-based), whose whole type is `top`;
/// `data_type` is `top` or a type nested in it.
fn check_type(position: usize, top: &DataType, data_type: &DataType) -> Result<()> {
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
        | Decimal32(_, _)
        | Decimal64(_, _)
        | Decimal128(_, _) => Ok(()),
        Decimal256(precision, _) if *precision <= SPARK_MAX_PRECISION => Ok(()),
        Decimal256(_, _) => plan_err!(
            "xxhash64: argument {position} has type {top}{}, whose precision is above 38, the \
             largest Spark decimal, so no Spark value hashes like it; accepted: decimals of \
             precision <= 38 (cast to Decimal128(38, s) or narrower)",
            nested_in(top, data_type)
        ),
        List(f) | LargeList(f) | FixedSizeList(f, _) => check_type(position, top, f.data_type()),
        Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_type(position, top, f.data_type())),
        Dictionary(_, value) => check_type(position, top, value),
        // Spark's HashExpression refuses maps (DATATYPE_MISMATCH.HASH_MAP_TYPE) unless
        // spark.sql.legacy.allowHashOnMapType is set: equal maps may list their entries
        // in different orders, so there is no default Spark result to match.
        Map(_, _) => plan_err!(
            "xxhash64: argument {position} has type {top}{}; maps are refused, as Spark's \
             hash functions refuse them; {ACCEPTED}",
            nested_in(top, data_type)
        ),
        other => plan_err!(
            "xxhash64: argument {position} has unsupported type {top}{}; {ACCEPTED}",
            nested_in(top, other)
        ),
    }
}

/// `", which contains {inner}"` when the offending type is nested in the argument's type.
fn nested_in(top: &DataType, inner: &DataType) -> String {
    if top == inner {
        String::new()
    } else {
        format!(", which contains {inner}")
    }
}

/// Folds every row of `array` into the running hash of that row.
fn hash_column(array: &ArrayRef, hashes: &mut [u64]) -> Result<()> {
    if array.len() != hashes.len() {
        return exec_err!(
            "xxhash64: an argument has {} rows but the batch has {}; accepted: arguments of \
             the batch's length",
            array.len(),
            hashes.len()
        );
    }
    Hasher::new(array.as_ref())?.fold_column(hashes)
}

/// One column prepared for hashing: the typed array of every level, and of every nested
/// level its own `Hasher`, so that list elements and struct fields are hashed by index,
/// with no per-value slice, cast or downcast.
///
/// Invariant: every index passed to [`Hasher::fold`] is below the length of the array
/// it is used on. The top level is checked in [`hash_column`], list ranges in
/// [`list_range`] and [`fixed_size_range`], struct fields in [`Hasher::new`], and
/// dictionary keys are clamped by Arrow's `normalized_keys`.
enum Hasher<'a> {
    /// NullType, and dictionaries whose every key is NULL.
    Null,
    Boolean(&'a BooleanArray),
    Int8(&'a Int8Array),
    Int16(&'a Int16Array),
    Int32(&'a Int32Array),
    UInt8(&'a UInt8Array),
    UInt16(&'a UInt16Array),
    UInt32(&'a UInt32Array),
    Int64(&'a Int64Array),
    UInt64(&'a UInt64Array),
    Date32(&'a Date32Array),
    Date64(&'a Date64Array),
    Timestamp {
        array: &'a dyn Array,
        values: &'a [i64],
        unit: TimeUnit,
    },
    Float16(&'a Float16Array),
    Float32(&'a Float32Array),
    Float64(&'a Float64Array),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
    FixedSizeBinary(&'a FixedSizeBinaryArray),
    Decimal32(&'a Decimal32Array),
    Decimal64(&'a Decimal64Array),
    Decimal128 {
        array: &'a Decimal128Array,
        precision: u8,
    },
    Decimal256 {
        array: &'a Decimal256Array,
        precision: u8,
    },
    List {
        array: &'a GenericListArray<i32>,
        values: Box<Hasher<'a>>,
    },
    LargeList {
        array: &'a GenericListArray<i64>,
        values: Box<Hasher<'a>>,
    },
    FixedSizeList {
        array: &'a FixedSizeListArray,
        size: usize,
        values: Box<Hasher<'a>>,
    },
    Struct {
        array: &'a StructArray,
        fields: Vec<Hasher<'a>>,
    },
    Dictionary {
        keys: &'a dyn Array,
        indices: Vec<usize>,
        values: Box<Hasher<'a>>,
    },
}

/// `array` downcast to the concrete type its data type promises.
fn typed<T: Array + 'static>(array: &dyn Array) -> Result<&T> {
    array.as_any().downcast_ref::<T>().ok_or_else(|| {
        internal_datafusion_err!(
            "xxhash64: an array of type {} is not a {}",
            array.data_type(),
            std::any::type_name::<T>()
        )
    })
}

/// The stored i64 values of a timestamp array of unit `T`.
fn timestamp_values<T: ArrowPrimitiveType<Native = i64>>(array: &dyn Array) -> Option<&[i64]> {
    array.as_primitive_opt::<T>().map(|a| {
        let values: &[i64] = a.values();
        values
    })
}

impl<'a> Hasher<'a> {
    /// Folds row `i` of this column into `hashes[i]` for every row. Flat columns (the
    /// common case) run one tight loop per column; nested ones go row by row through
    /// [`Hasher::fold`]. Callers ensure `hashes` has the column's length.
    fn fold_column(&self, hashes: &mut [u64]) -> Result<()> {
        macro_rules! each {
            ($array:expr, |$value:ident, $seed:ident| $hash:expr) => {{
                let array = $array;
                for (index, slot) in hashes.iter_mut().enumerate() {
                    if array.is_valid(index) {
                        let $value = array.value(index);
                        let $seed = *slot;
                        *slot = $hash;
                    }
                }
            }};
        }
        match self {
            Hasher::Null => {}
            Hasher::Boolean(a) => each!(a, |v, seed| hash_int(i32::from(v), seed)),
            Hasher::Int8(a) => each!(a, |v, seed| hash_int(i32::from(v), seed)),
            Hasher::Int16(a) => each!(a, |v, seed| hash_int(i32::from(v), seed)),
            Hasher::Int32(a) => each!(a, |v, seed| hash_int(v, seed)),
            Hasher::UInt8(a) => each!(a, |v, seed| hash_int(i32::from(v), seed)),
            Hasher::UInt16(a) => each!(a, |v, seed| hash_int(i32::from(v), seed)),
            Hasher::UInt32(a) => each!(a, |v, seed| hash_long(i64::from(v), seed)),
            Hasher::Int64(a) => each!(a, |v, seed| hash_long(v, seed)),
            Hasher::Date32(a) => each!(a, |v, seed| hash_int(v, seed)),
            Hasher::Float32(a) => each!(a, |v, seed| hash_float(v, seed)),
            Hasher::Float64(a) => each!(a, |v, seed| hash_double(v, seed)),
            Hasher::Utf8(a) => each!(a, |v, seed| xxh64(v.as_bytes(), seed)),
            Hasher::LargeUtf8(a) => each!(a, |v, seed| xxh64(v.as_bytes(), seed)),
            Hasher::Utf8View(a) => each!(a, |v, seed| xxh64(v.as_bytes(), seed)),
            Hasher::Binary(a) => each!(a, |v, seed| xxh64(v, seed)),
            Hasher::LargeBinary(a) => each!(a, |v, seed| xxh64(v, seed)),
            Hasher::BinaryView(a) => each!(a, |v, seed| xxh64(v, seed)),
            _ => {
                for (row, hash) in hashes.iter_mut().enumerate() {
                    *hash = self.fold(row, *hash)?;
                }
            }
        }
        Ok(())
    }

    fn new(array: &'a dyn Array) -> Result<Self> {
        use DataType::*;
        Ok(match array.data_type() {
            Null => Hasher::Null,
            Boolean => Hasher::Boolean(typed(array)?),
            Int8 => Hasher::Int8(typed(array)?),
            Int16 => Hasher::Int16(typed(array)?),
            Int32 => Hasher::Int32(typed(array)?),
            UInt8 => Hasher::UInt8(typed(array)?),
            UInt16 => Hasher::UInt16(typed(array)?),
            UInt32 => Hasher::UInt32(typed(array)?),
            Int64 => Hasher::Int64(typed(array)?),
            UInt64 => Hasher::UInt64(typed(array)?),
            Date32 => Hasher::Date32(typed(array)?),
            Date64 => Hasher::Date64(typed(array)?),
            Timestamp(unit, _) => {
                let values = match unit {
                    TimeUnit::Second => timestamp_values::<TimestampSecondType>(array),
                    TimeUnit::Millisecond => timestamp_values::<TimestampMillisecondType>(array),
                    TimeUnit::Microsecond => timestamp_values::<TimestampMicrosecondType>(array),
                    TimeUnit::Nanosecond => timestamp_values::<TimestampNanosecondType>(array),
                }
                .ok_or_else(|| {
                    internal_datafusion_err!(
                        "xxhash64: an array of type {} is not a timestamp array",
                        array.data_type()
                    )
                })?;
                Hasher::Timestamp {
                    array,
                    values,
                    unit: *unit,
                }
            }
            Float16 => Hasher::Float16(typed(array)?),
            Float32 => Hasher::Float32(typed(array)?),
            Float64 => Hasher::Float64(typed(array)?),
            Utf8 => Hasher::Utf8(typed(array)?),
            LargeUtf8 => Hasher::LargeUtf8(typed(array)?),
            Utf8View => Hasher::Utf8View(typed(array)?),
            Binary => Hasher::Binary(typed(array)?),
            LargeBinary => Hasher::LargeBinary(typed(array)?),
            BinaryView => Hasher::BinaryView(typed(array)?),
            FixedSizeBinary(_) => Hasher::FixedSizeBinary(typed(array)?),
            Decimal32(_, _) => Hasher::Decimal32(typed(array)?),
            Decimal64(_, _) => Hasher::Decimal64(typed(array)?),
            Decimal128(precision, _) => Hasher::Decimal128 {
                array: typed(array)?,
                precision: *precision,
            },
            Decimal256(precision, _) if *precision <= SPARK_MAX_PRECISION => Hasher::Decimal256 {
                array: typed(array)?,
                precision: *precision,
            },
            List(_) => {
                let array: &GenericListArray<i32> = typed(array)?;
                Hasher::List {
                    array,
                    values: Box::new(Hasher::new(array.values().as_ref())?),
                }
            }
            LargeList(_) => {
                let array: &GenericListArray<i64> = typed(array)?;
                Hasher::LargeList {
                    array,
                    values: Box::new(Hasher::new(array.values().as_ref())?),
                }
            }
            FixedSizeList(_, size) => {
                let array: &FixedSizeListArray = typed(array)?;
                let size = usize::try_from(*size).map_err(|_| {
                    exec_datafusion_err!(
                        "xxhash64: FixedSizeList of negative size {size}; accepted: sizes >= 0"
                    )
                })?;
                Hasher::FixedSizeList {
                    array,
                    size,
                    values: Box::new(Hasher::new(array.values().as_ref())?),
                }
            }
            Struct(_) => {
                let array: &StructArray = typed(array)?;
                let fields = array
                    .columns()
                    .iter()
                    .map(|column| {
                        if column.len() < array.len() {
                            return exec_err!(
                                "xxhash64: a struct field has {} rows, fewer than its struct's \
                                 {}; accepted: valid struct arrays",
                                column.len(),
                                array.len()
                            );
                        }
                        Hasher::new(column.as_ref())
                    })
                    .collect::<Result<Vec<_>>>()?;
                Hasher::Struct { array, fields }
            }
            Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary_opt().ok_or_else(|| {
                    internal_datafusion_err!(
                        "xxhash64: an array of type {} is not a dictionary array",
                        array.data_type()
                    )
                })?;
                let keys = dictionary.keys();
                if dictionary.values().is_empty() {
                    // Arrow's normalized_keys needs a value to point at; without values,
                    // only an all-NULL column is valid.
                    if keys.null_count() == keys.len() {
                        Hasher::Null
                    } else {
                        return exec_err!(
                            "xxhash64: a dictionary of type {} has non-NULL keys but no \
                             values; accepted: valid dictionary arrays",
                            array.data_type()
                        );
                    }
                } else {
                    Hasher::Dictionary {
                        keys,
                        indices: dictionary.normalized_keys(),
                        values: Box::new(Hasher::new(dictionary.values().as_ref())?),
                    }
                }
            }
            other => {
                return exec_err!("xxhash64: unsupported type {other}; {ACCEPTED}");
            }
        })
    }

    /// The running hash after folding in value `index`: `seed` itself if the value is
    /// NULL, as Spark skips NULLs at every level.
    fn fold(&self, index: usize, seed: u64) -> Result<u64> {
        /// `seed` for a NULL value, else `$hash` with `$value` bound to the value.
        macro_rules! leaf {
            ($array:expr, |$value:ident| $hash:expr) => {{
                let array = $array;
                if array.is_null(index) {
                    seed
                } else {
                    let $value = array.value(index);
                    $hash
                }
            }};
        }
        Ok(match self {
            Hasher::Null => seed,
            Hasher::Boolean(a) => leaf!(a, |v| hash_int(i32::from(v), seed)),
            Hasher::Int8(a) => leaf!(a, |v| hash_int(i32::from(v), seed)),
            Hasher::Int16(a) => leaf!(a, |v| hash_int(i32::from(v), seed)),
            Hasher::Int32(a) => leaf!(a, |v| hash_int(v, seed)),
            Hasher::UInt8(a) => leaf!(a, |v| hash_int(i32::from(v), seed)),
            Hasher::UInt16(a) => leaf!(a, |v| hash_int(i32::from(v), seed)),
            Hasher::UInt32(a) => leaf!(a, |v| hash_long(i64::from(v), seed)),
            Hasher::Int64(a) => leaf!(a, |v| hash_long(v, seed)),
            Hasher::UInt64(a) => leaf!(a, |v| {
                // Spark reads UINT_64 as DecimalType(20, 0), hashed as
                // BigInteger.toByteArray() of the value: at most 9 bytes, with a
                // leading 0x00 above i64::MAX.
                let bytes = i128::from(v).to_be_bytes();
                xxh64(minimal_twos_complement(&bytes), seed)
            }),
            Hasher::Date32(a) => leaf!(a, |v| hash_int(v, seed)),
            Hasher::Date64(a) => leaf!(a, |v| hash_int(date64_days(v)?, seed)),
            Hasher::Timestamp {
                array,
                values,
                unit,
            } => {
                if array.is_null(index) {
                    seed
                } else {
                    let value = values.get(index).copied().ok_or_else(|| {
                        internal_datafusion_err!(
                            "xxhash64: timestamp index {index} is beyond the {} values",
                            values.len()
                        )
                    })?;
                    hash_long(timestamp_micros(value, *unit)?, seed)
                }
            }
            Hasher::Float16(a) => leaf!(a, |v| hash_float(v.to_f32(), seed)),
            Hasher::Float32(a) => leaf!(a, |v| hash_float(v, seed)),
            Hasher::Float64(a) => leaf!(a, |v| hash_double(v, seed)),
            Hasher::Utf8(a) => leaf!(a, |v| xxh64(v.as_bytes(), seed)),
            Hasher::LargeUtf8(a) => leaf!(a, |v| xxh64(v.as_bytes(), seed)),
            Hasher::Utf8View(a) => leaf!(a, |v| xxh64(v.as_bytes(), seed)),
            Hasher::Binary(a) => leaf!(a, |v| xxh64(v, seed)),
            Hasher::LargeBinary(a) => leaf!(a, |v| xxh64(v, seed)),
            Hasher::BinaryView(a) => leaf!(a, |v| xxh64(v, seed)),
            Hasher::FixedSizeBinary(a) => leaf!(a, |v| xxh64(v, seed)),
            // Decimal32 and Decimal64 hold at most 9 and 18 digits: always a Spark long.
            Hasher::Decimal32(a) => leaf!(a, |v| hash_long(i64::from(v), seed)),
            Hasher::Decimal64(a) => leaf!(a, |v| hash_long(v, seed)),
            Hasher::Decimal128 { array, precision } => leaf!(*array, |v| {
                if *precision <= MAX_LONG_DIGITS {
                    let unscaled = i64::try_from(v).map_err(|_| {
                        decimal_out_of_range(&v.to_string(), *precision, array.data_type())
                    })?;
                    hash_long(unscaled, seed)
                } else {
                    xxh64(minimal_twos_complement(&v.to_be_bytes()), seed)
                }
            }),
            Hasher::Decimal256 { array, precision } => leaf!(*array, |v| {
                if *precision <= MAX_LONG_DIGITS {
                    let unscaled =
                        v.to_i128()
                            .and_then(|v| i64::try_from(v).ok())
                            .ok_or_else(|| {
                                decimal_out_of_range(&v.to_string(), *precision, array.data_type())
                            })?;
                    hash_long(unscaled, seed)
                } else {
                    // Equal to the Decimal128 bytes whenever the value fits in i128:
                    // the minimal form does not depend on the storage width.
                    xxh64(minimal_twos_complement(&v.to_be_bytes()), seed)
                }
            }),
            Hasher::List { array, values } => {
                if array.is_null(index) {
                    seed
                } else {
                    let range = list_range(array.value_offsets(), index, array.values().len())?;
                    fold_range(values, range, seed)?
                }
            }
            Hasher::LargeList { array, values } => {
                if array.is_null(index) {
                    seed
                } else {
                    let range = list_range(array.value_offsets(), index, array.values().len())?;
                    fold_range(values, range, seed)?
                }
            }
            Hasher::FixedSizeList {
                array,
                size,
                values,
            } => {
                if array.is_null(index) {
                    seed
                } else {
                    let range = fixed_size_range(index, *size, array.values().len())?;
                    fold_range(values, range, seed)?
                }
            }
            Hasher::Struct { array, fields } => {
                if array.is_null(index) {
                    seed
                } else {
                    let mut hash = seed;
                    for field in fields {
                        hash = field.fold(index, hash)?;
                    }
                    hash
                }
            }
            Hasher::Dictionary {
                keys,
                indices,
                values,
            } => {
                if keys.is_null(index) {
                    seed
                } else {
                    let value_index = indices.get(index).copied().ok_or_else(|| {
                        internal_datafusion_err!(
                            "xxhash64: dictionary row {index} is beyond its {} keys",
                            indices.len()
                        )
                    })?;
                    values.fold(value_index, seed)?
                }
            }
        })
    }
}

/// Folds elements `range` of a list's child into `seed`, in order (Spark's ArrayType).
fn fold_range(values: &Hasher<'_>, range: Range<usize>, seed: u64) -> Result<u64> {
    let mut hash = seed;
    for element in range {
        hash = values.fold(element, hash)?;
    }
    Ok(hash)
}

/// The child elements of list row `row`, checked against the child's length so that a
/// malformed array is an error rather than an out-of-bounds panic.
fn list_range<O: OffsetSizeTrait>(
    offsets: &[O],
    row: usize,
    child_len: usize,
) -> Result<Range<usize>> {
    let bounds = offsets
        .get(row)
        .zip(offsets.get(row.saturating_add(1)))
        .and_then(|(start, end)| {
            let (start, end) = (O::to_usize(*start)?, O::to_usize(*end)?);
            (start <= end && end <= child_len).then_some(start..end)
        });
    bounds.ok_or_else(|| {
        exec_datafusion_err!(
            "xxhash64: list row {row} has offsets outside its {child_len} child values; \
             accepted: valid list arrays"
        )
    })
}

/// The child elements of fixed-size list row `row`.
fn fixed_size_range(row: usize, size: usize, child_len: usize) -> Result<Range<usize>> {
    row.checked_mul(size)
        .and_then(|start| Some(start..start.checked_add(size)?))
        .filter(|range| range.end <= child_len)
        .ok_or_else(|| {
            exec_datafusion_err!(
                "xxhash64: fixed-size list row {row} of size {size} is outside its \
                 {child_len} child values; accepted: valid fixed-size list arrays"
            )
        })
}

/// Spark's `XXH64.hashInt`: XXH64 of the 4 little-endian bytes.
#[inline]
fn hash_int(value: i32, seed: u64) -> u64 {
    xxh64(&value.to_le_bytes(), seed)
}

/// Spark's `XXH64.hashLong`: XXH64 of the 8 little-endian bytes.
#[inline]
fn hash_long(value: i64, seed: u64) -> u64 {
    xxh64(&value.to_le_bytes(), seed)
}

/// Spark's FloatType: `-0.0f` as the int 0, else `Float.floatToIntBits`, whose NaNs are
/// all 0x7fc00000.
#[inline]
fn hash_float(value: f32, seed: u64) -> u64 {
    let bits = if value.is_nan() {
        0x7fc0_0000
    } else if value == 0.0 {
        0
    } else {
        value.to_bits()
    };
    xxh64(&bits.to_le_bytes(), seed)
}

/// Spark's DoubleType: `-0.0d` as the long 0, else `Double.doubleToLongBits`, whose
/// NaNs are all 0x7ff8000000000000.
#[inline]
fn hash_double(value: f64, seed: u64) -> u64 {
    let bits = if value.is_nan() {
        0x7ff8_0000_0000_0000
    } else if value == 0.0 {
        0
    } else {
        value.to_bits()
    };
    xxh64(&bits.to_le_bytes(), seed)
}

/// Spark's DateType holds i32 days; a Date64 is milliseconds, floored to its day.
fn date64_days(millis: i64) -> Result<i32> {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    i32::try_from(days).map_err(|_| {
        exec_datafusion_err!(
            "xxhash64: Date64 value {millis} ms is {days} days from 1970-01-01, outside \
             Spark's DateType (i32 days); accepted: dates within {} days of 1970-01-01",
            i32::MAX
        )
    })
}

/// A timestamp as Spark's TimestampType / TimestampNTZType: a long of microseconds since
/// the epoch. Arrow stores UTC instants whatever the zone, so the zone plays no part.
/// Nanoseconds are floor-divided (`div_euclid`): Spark cannot hold sub-microsecond
/// instants, and its own conversion of a nanosecond instant, `instantToMicros`
/// (floored epoch second * 10^6 + nano-of-second / 1000), also rounds toward -inf.
fn timestamp_micros(value: i64, unit: TimeUnit) -> Result<i64> {
    let micros = match unit {
        TimeUnit::Second => value.checked_mul(1_000_000),
        TimeUnit::Millisecond => value.checked_mul(1_000),
        TimeUnit::Microsecond => Some(value),
        TimeUnit::Nanosecond => Some(value.div_euclid(1_000)),
    };
    micros.ok_or_else(|| {
        exec_datafusion_err!(
            "xxhash64: timestamp {value} ({unit:?}s since the epoch) overflows Spark's \
             TimestampType, a long of microseconds since the epoch; accepted: instants \
             within i64 microseconds (about 292,000 years) of 1970-01-01"
        )
    })
}

fn decimal_out_of_range(value: &str, precision: u8, data_type: &DataType) -> DataFusionError {
    exec_datafusion_err!(
        "xxhash64: {data_type} holds the unscaled value {value}, which does not fit in the \
         long Spark hashes a decimal of precision {precision} <= 18 as; accepted: values \
         within the type's precision"
    )
}

/// The minimal big-endian two's complement form of the big-endian value `bytes`, as
/// Java's `BigInteger.toByteArray()` writes it: leading 0x00 / 0xFF bytes dropped while
/// the next byte still carries the same sign. Zero is one 0x00 byte.
fn minimal_twos_complement(bytes: &[u8]) -> &[u8] {
    let redundant = bytes
        .windows(2)
        .take_while(|pair| match pair {
            [high, next] => {
                (*high == 0x00 && next & 0x80 == 0) || (*high == 0xFF && next & 0x80 != 0)
            }
            _ => false,
        })
        .count();
    bytes.get(redundant..).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    //! Expected values come from the independent Python reference
    //! (`ffi/python/python/datafusion_cpg/reference.py`, `xxhash64`), not from this code.

    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, Decimal128Array, Decimal256Array, Int32Array, Int64Array, ListArray, StringArray,
        StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray, TimestampSecondArray, UInt64Array,
    };
    use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
    use datafusion::arrow::datatypes::{DataType, Field, Fields, i256};
    use datafusion::common::{Result, ScalarValue};
    use datafusion::config::ConfigOptions;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};

    use super::*;

    /// 2024-01-02T03:04:05Z in seconds.
    const INSTANT_S: i64 = 1_704_164_645;
    /// Spark: xxhash64 of TimestampType 2024-01-02T03:04:05Z (1704164645000000 µs).
    const INSTANT_HASH: i64 = 3_399_828_698_716_617_085;

    /// The hashes of one column, each from the seed 42.
    fn hash(array: ArrayRef) -> Result<Vec<i64>> {
        let mut hashes = vec![SPARK_SEED; array.len()];
        hash_column(&array, &mut hashes)?;
        Ok(hashes.into_iter().map(|h| h as i64).collect())
    }

    fn invoke(args: Vec<ColumnarValue>, number_rows: usize) -> Result<ColumnarValue> {
        let udf = XxHash64::default();
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field: Arc::new(Field::new("xxhash64", DataType::Int64, false)),
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    #[test]
    fn spark_doc_anchor() -> Result<()> {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<
            datafusion::arrow::datatypes::Int32Type,
            _,
            _,
        >([Some([Some(123)])]));
        let result = invoke(
            vec![
                ColumnarValue::Scalar(ScalarValue::from("Spark")),
                ColumnarValue::Array(list),
                ColumnarValue::Scalar(ScalarValue::Int32(Some(2))),
            ],
            1,
        )?;
        let ColumnarValue::Array(result) = result else {
            panic!("a column argument gives a column");
        };
        assert_eq!(
            result
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(0),
            5_602_566_077_635_097_486
        );
        Ok(())
    }

    #[test]
    fn one_instant_hashes_alike_in_every_unit() -> Result<()> {
        let columns: [ArrayRef; 5] = [
            Arc::new(TimestampSecondArray::from(vec![INSTANT_S])),
            Arc::new(TimestampMillisecondArray::from(vec![INSTANT_S * 1_000])),
            Arc::new(TimestampMicrosecondArray::from(vec![INSTANT_S * 1_000_000])),
            Arc::new(TimestampNanosecondArray::from(vec![
                INSTANT_S * 1_000_000_000,
            ])),
            Arc::new(TimestampSecondArray::from(vec![INSTANT_S]).with_timezone("+02:00")),
        ];
        for column in columns {
            let data_type = column.data_type().clone();
            assert_eq!(hash(column)?, vec![INSTANT_HASH], "{data_type}");
        }
        // Spark hashes the timestamp as its long of microseconds.
        let micros: ArrayRef = Arc::new(Int64Array::from(vec![INSTANT_S * 1_000_000]));
        assert_eq!(hash(micros)?, vec![INSTANT_HASH]);
        Ok(())
    }

    #[test]
    fn nanoseconds_floor_to_microseconds() -> Result<()> {
        // 2024-01-02T03:04:05.123456789Z and 1969-12-31T23:59:59.999999999Z.
        let nanos: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            INSTANT_S * 1_000_000_000 + 123_456_789,
            -1,
        ]));
        let micros: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![
            INSTANT_S * 1_000_000 + 123_456,
            -1,
        ]));
        let expected = vec![7_477_591_773_727_259_658, 3_858_142_552_250_413_010];
        assert_eq!(hash(nanos)?, expected);
        assert_eq!(hash(micros)?, expected);
        Ok(())
    }

    #[test]
    fn timestamp_overflow_is_an_error() {
        let seconds: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX / 1_000]));
        let message = hash(seconds).unwrap_err().to_string();
        assert!(message.contains("xxhash64"), "{message}");
        assert!(message.contains("overflows"), "{message}");
        let millis: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![i64::MIN]));
        assert!(hash(millis).is_err());
        // The extremes of the other units always fit.
        let nanos: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![i64::MIN, i64::MAX]));
        assert!(hash(nanos).is_ok());
    }

    #[test]
    fn uint64_hashes_as_spark_decimal_20_0() -> Result<()> {
        let values = vec![
            1,
            9_223_372_036_854_775_807,
            9_223_372_036_854_775_808,
            u64::MAX,
        ];
        let expected = vec![
            6_668_291_691_252_061_002,
            -1_087_258_766_029_903_377,
            2_657_851_292_443_253_618,
            1_989_999_231_533_257_595,
        ];
        let unsigned: ArrayRef = Arc::new(UInt64Array::from(values.clone()));
        assert_eq!(hash(unsigned)?, expected);
        let decimal: ArrayRef = Arc::new(
            Decimal128Array::from(values.into_iter().map(i128::from).collect::<Vec<_>>())
                .with_precision_and_scale(20, 0)?,
        );
        assert_eq!(hash(decimal)?, expected);
        Ok(())
    }

    #[test]
    fn decimal256_hashes_like_the_spark_decimal_of_its_precision() -> Result<()> {
        // Precision <= 18: the unscaled long, like Int64 150.
        let narrow: ArrayRef = Arc::new(
            Decimal256Array::from(vec![i256::from_i128(150)]).with_precision_and_scale(10, 2)?,
        );
        assert_eq!(hash(narrow)?, hash(Arc::new(Int64Array::from(vec![150])))?);
        // Precision 19..=38: BigInteger bytes, -128 -> 0x80, like Decimal128(38, 2).
        let wide = vec![i256::from_i128(-128), i256::from_i128(150)];
        let wide: ArrayRef = Arc::new(Decimal256Array::from(wide).with_precision_and_scale(38, 2)?);
        let expected = vec![-7_898_411_661_632_158_123, -194_698_251_525_976_593];
        assert_eq!(hash(wide)?, expected);
        let wide128: ArrayRef =
            Arc::new(Decimal128Array::from(vec![-128, 150]).with_precision_and_scale(38, 2)?);
        assert_eq!(hash(wide128)?, expected);
        Ok(())
    }

    #[test]
    fn narrow_decimal_out_of_long_range_is_an_error() {
        // Arrow does not validate values against the precision; Spark could not hold this.
        let bad: ArrayRef = Arc::new(
            Decimal128Array::from(vec![i128::from(i64::MAX) + 1])
                .with_precision_and_scale(18, 0)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let message = hash(bad).unwrap_err().to_string();
        assert!(message.contains("xxhash64"), "{message}");
    }

    #[test]
    fn wide_decimal256_is_a_planning_error() {
        let udf = XxHash64::default();
        assert!(udf.coerce_types(&[DataType::Decimal256(38, 2)]).is_ok());
        let message = udf
            .coerce_types(&[DataType::Utf8, DataType::Decimal256(39, 2)])
            .unwrap_err()
            .to_string();
        assert!(message.contains("argument 2"), "{message}");
        assert!(message.contains("Decimal256(39, 2)"), "{message}");
        assert!(message.contains("<= 38"), "{message}");
        let nested = DataType::List(Arc::new(Field::new_list_field(
            DataType::Decimal256(76, 10),
            true,
        )));
        let message = udf.coerce_types(&[nested]).unwrap_err().to_string();
        assert!(
            message.contains("which contains Decimal256(76, 10)"),
            "{message}"
        );
    }

    #[test]
    fn maps_are_a_planning_error() {
        let entries = Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Int64, true),
            ])),
            false,
        );
        let map = DataType::Map(Arc::new(entries), false);
        let message = XxHash64::default()
            .coerce_types(&[map])
            .unwrap_err()
            .to_string();
        assert!(message.contains("maps are refused"), "{message}");
    }

    /// `[{a: 1, b: "x"}, NULL, {a: NULL, b: "y"}]`, then a NULL list, then `[]`.
    fn list_of_structs() -> Result<ArrayRef> {
        let fields = Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]);
        let structs = StructArray::try_new(
            fields.clone(),
            vec![
                Arc::new(Int32Array::from(vec![Some(1), Some(9), None])) as ArrayRef,
                Arc::new(StringArray::from(vec![Some("x"), Some("z"), Some("y")])) as ArrayRef,
            ],
            Some(NullBuffer::from(vec![true, false, true])),
        )?;
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Struct(fields), true)),
            OffsetBuffer::new(ScalarBuffer::from(vec![0i32, 3, 3, 3])),
            Arc::new(structs),
            Some(NullBuffer::from(vec![true, false, true])),
        )?;
        Ok(Arc::new(list))
    }

    #[test]
    fn nested_values_fold_in_order_skipping_nulls() -> Result<()> {
        // reference: xxhash64([(Int32(1), "x"), None, (None, "y")]), then 42 twice.
        assert_eq!(
            hash(list_of_structs()?)?,
            vec![-153_767_599_286_021_508, 42, 42]
        );
        Ok(())
    }

    #[test]
    fn sliced_nested_values_hash_like_unsliced() -> Result<()> {
        let list = list_of_structs()?;
        let whole = hash(Arc::clone(&list))?;
        assert_eq!(hash(list.slice(1, 2))?, whole.get(1..).unwrap_or_default());
        Ok(())
    }

    #[test]
    fn minimal_twos_complement_is_java_to_byte_array() {
        let java = |v: i128| minimal_twos_complement(&v.to_be_bytes()).to_vec();
        assert_eq!(java(0), [0x00]);
        assert_eq!(java(127), [0x7f]);
        assert_eq!(java(128), [0x00, 0x80]);
        assert_eq!(java(-1), [0xff]);
        assert_eq!(java(-128), [0x80]);
        assert_eq!(java(-129), [0xff, 0x7f]);
        assert_eq!(java(i128::MIN).len(), 16);
    }

    #[test]
    fn date64_beyond_i32_days_is_an_error() {
        let dates: ArrayRef = Arc::new(Date64Array::from(vec![i64::MAX]));
        assert!(hash(dates).is_err());
        let before_epoch: ArrayRef = Arc::new(Date64Array::from(vec![-1]));
        assert_eq!(
            hash(before_epoch).ok(),
            hash(Arc::new(Date32Array::from(vec![-1]))).ok()
        );
    }
}
