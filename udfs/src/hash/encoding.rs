//! The canonical, type-tagged key encoding hashed by `stable_hash64`, `stable_hash128`
//! and `stable_id`; the specification, with worked examples, is the README section
//! "Stable hash encoding".
//!
//! This module owns the mapping from Arrow values to key bytes. Every physical type
//! that carries the same logical value writes the same bytes, so ids do not change
//! when a column moves from `Utf8` to `Utf8View`, from `Int32` to `Int64`, or into a
//! dictionary.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, BooleanArray, Decimal256Array,
    FixedSizeBinaryArray, Float64Array, Int64Array, LargeBinaryArray, LargeStringArray,
    StringArray, StringViewArray, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date64Type, Decimal256Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Int64Type, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, i256,
};
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, plan_err};
use datafusion::logical_expr::ColumnarValue;

/// Version of the encoding; bumping it would change every id.
pub const ENCODING_VERSION: u32 = 1;

pub const TAG_NULL: u8 = 0x00;
pub const TAG_BOOL: u8 = 0x01;
pub const TAG_INT: u8 = 0x02;
pub const TAG_UINT_LARGE: u8 = 0x03;
pub const TAG_FLOAT: u8 = 0x04;
pub const TAG_STRING: u8 = 0x05;
pub const TAG_BINARY: u8 = 0x06;
pub const TAG_DATE: u8 = 0x07;
pub const TAG_TIMESTAMP: u8 = 0x08;
pub const TAG_TIME: u8 = 0x09;
pub const TAG_DURATION: u8 = 0x0A;
pub const TAG_DECIMAL: u8 = 0x0B;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const MILLIS_PER_DAY: i64 = 86_400_000;
const CANONICAL_NAN_BITS: u64 = 0x7FF8_0000_0000_0000;

/// Checks at planning time that `data_type` can be a hash part; the error names the
/// function, the type and what is accepted.
pub fn check_part_type(function: &str, position: usize, data_type: &DataType) -> Result<()> {
    if is_supported(data_type) {
        Ok(())
    } else {
        plan_err!(
            "{function}: argument {} has unsupported type {data_type}; accepted: strings \
             (Utf8, LargeUtf8, Utf8View), integers, floats, booleans, binary, dates, times, \
             timestamps, durations, decimals, NULL, and dictionaries of these",
            position + 1
        )
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
        | Time32(_)
        | Time64(_)
        | Duration(_)
        | Decimal32(_, _)
        | Decimal64(_, _)
        | Decimal128(_, _)
        | Decimal256(_, _) => true,
        Dictionary(_, value) => is_supported(value),
        _ => false,
    }
}

/// One argument of a hash call, ready to write the bytes of any row.
///
/// Arrays are converted once per batch to a canonical physical form (dictionaries
/// unpacked, integers widened, temporal values in a common unit) so that the per-row
/// work is one branch and a copy.
#[derive(Debug)]
pub enum KeyPart {
    /// A scalar argument: its bytes are computed once.
    Constant(Vec<u8>),
    Column(KeyColumn),
}

#[derive(Debug)]
pub enum KeyColumn {
    AllNull,
    Bool(BooleanArray),
    Int(Int64Array),
    UInt(UInt64Array),
    Float(Float64Array),
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    Binary(BinaryArray),
    LargeBinary(LargeBinaryArray),
    BinaryView(BinaryViewArray),
    FixedSizeBinary(FixedSizeBinaryArray),
    /// An i64 count of some unit, written as `value * scale` in `width` (8 or 16) bytes.
    Scaled {
        tag: u8,
        values: Int64Array,
        scale: i64,
        wide: bool,
    },
    Decimal(Decimal256Array),
}

impl KeyPart {
    /// Prepares `value` (scalar or array) as a key part.
    pub fn try_new(value: &ColumnarValue) -> Result<Self> {
        match value {
            ColumnarValue::Scalar(scalar) => {
                let column = KeyColumn::try_new(&scalar.to_array_of_size(1)?)?;
                let mut bytes = Vec::new();
                column.write(0, &mut bytes);
                Ok(KeyPart::Constant(bytes))
            }
            ColumnarValue::Array(array) => Ok(KeyPart::Column(KeyColumn::try_new(array)?)),
        }
    }

    /// Appends the encoding of row `row` to `key`.
    #[inline]
    pub fn write(&self, row: usize, key: &mut Vec<u8>) {
        match self {
            KeyPart::Constant(bytes) => key.extend_from_slice(bytes),
            KeyPart::Column(column) => column.write(row, key),
        }
    }
}

impl KeyColumn {
    pub fn try_new(array: &ArrayRef) -> Result<Self> {
        use DataType::*;
        let column = match array.data_type() {
            Null => KeyColumn::AllNull,
            Dictionary(_, value_type) => {
                // Unpacking keeps the logical value, which is all the encoding looks at.
                return KeyColumn::try_new(&cast(array, value_type)?);
            }
            Boolean => KeyColumn::Bool(array.as_boolean().clone()),
            Int64 => KeyColumn::Int(array.as_primitive::<Int64Type>().clone()),
            Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32 => {
                KeyColumn::Int(cast(array, &Int64)?.as_primitive::<Int64Type>().clone())
            }
            UInt64 => KeyColumn::UInt(array.as_primitive().clone()),
            Float16 | Float32 => KeyColumn::Float(cast(array, &Float64)?.as_primitive().clone()),
            Float64 => KeyColumn::Float(array.as_primitive().clone()),
            Utf8 => KeyColumn::Utf8(array.as_string::<i32>().clone()),
            LargeUtf8 => KeyColumn::LargeUtf8(array.as_string::<i64>().clone()),
            Utf8View => KeyColumn::Utf8View(array.as_string_view().clone()),
            Binary => KeyColumn::Binary(array.as_binary::<i32>().clone()),
            LargeBinary => KeyColumn::LargeBinary(array.as_binary::<i64>().clone()),
            BinaryView => KeyColumn::BinaryView(array.as_binary_view().clone()),
            FixedSizeBinary(_) => KeyColumn::FixedSizeBinary(array.as_fixed_size_binary().clone()),
            Date32 => KeyColumn::Scaled {
                tag: TAG_DATE,
                values: cast(array, &Int64)?.as_primitive::<Int64Type>().clone(),
                scale: 1,
                wide: false,
            },
            Date64 => KeyColumn::Scaled {
                tag: TAG_DATE,
                values: array
                    .as_primitive::<Date64Type>()
                    .unary::<_, Int64Type>(|ms| ms.div_euclid(MILLIS_PER_DAY)),
                scale: 1,
                wide: false,
            },
            Timestamp(unit, _) => KeyColumn::Scaled {
                tag: TAG_TIMESTAMP,
                values: timestamp_values(array, unit),
                scale: nanos_per(unit),
                wide: true,
            },
            Time32(unit) | Time64(unit) => KeyColumn::Scaled {
                tag: TAG_TIME,
                values: time_values(array, unit)?,
                scale: nanos_per(unit),
                wide: false,
            },
            Duration(unit) => KeyColumn::Scaled {
                tag: TAG_DURATION,
                values: duration_values(array, unit),
                scale: nanos_per(unit),
                wide: true,
            },
            Decimal32(_, s) | Decimal64(_, s) | Decimal128(_, s) | Decimal256(_, s) => {
                let wide = cast(array, &Decimal256(76, *s))?;
                KeyColumn::Decimal(wide.as_primitive::<Decimal256Type>().clone())
            }
            other => {
                return Err(exec_datafusion_err!(
                    "stable hash: unsupported part type {other}"
                ));
            }
        };
        Ok(column)
    }

    /// Appends the encoding of row `row` to `key`.
    #[inline]
    pub fn write(&self, row: usize, key: &mut Vec<u8>) {
        if self.is_null(row) {
            key.push(TAG_NULL);
            return;
        }
        match self {
            KeyColumn::AllNull => key.push(TAG_NULL),
            KeyColumn::Bool(a) => {
                key.push(TAG_BOOL);
                key.push(u8::from(a.value(row)));
            }
            KeyColumn::Int(a) => write_int(a.value(row), key),
            KeyColumn::UInt(a) => {
                let v = a.value(row);
                match i64::try_from(v) {
                    Ok(signed) => write_int(signed, key),
                    Err(_) => {
                        key.push(TAG_UINT_LARGE);
                        key.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            KeyColumn::Float(a) => write_float(a.value(row), key),
            KeyColumn::Utf8(a) => write_bytes(TAG_STRING, a.value(row).as_bytes(), key),
            KeyColumn::LargeUtf8(a) => write_bytes(TAG_STRING, a.value(row).as_bytes(), key),
            KeyColumn::Utf8View(a) => write_bytes(TAG_STRING, a.value(row).as_bytes(), key),
            KeyColumn::Binary(a) => write_bytes(TAG_BINARY, a.value(row), key),
            KeyColumn::LargeBinary(a) => write_bytes(TAG_BINARY, a.value(row), key),
            KeyColumn::BinaryView(a) => write_bytes(TAG_BINARY, a.value(row), key),
            KeyColumn::FixedSizeBinary(a) => write_bytes(TAG_BINARY, a.value(row), key),
            KeyColumn::Scaled {
                tag,
                values,
                scale,
                wide,
            } => {
                key.push(*tag);
                let nanos = i128::from(values.value(row)) * i128::from(*scale);
                if *wide {
                    key.extend_from_slice(&nanos.to_le_bytes());
                } else {
                    // Time of day and dates fit in i64 by construction.
                    key.extend_from_slice(&(nanos as i64).to_le_bytes());
                }
            }
            KeyColumn::Decimal(a) => write_decimal(a.value(row), a.scale(), key),
        }
    }

    #[inline]
    fn is_null(&self, row: usize) -> bool {
        match self {
            KeyColumn::AllNull => true,
            KeyColumn::Bool(a) => a.is_null(row),
            KeyColumn::Int(a) => a.is_null(row),
            KeyColumn::UInt(a) => a.is_null(row),
            KeyColumn::Float(a) => a.is_null(row),
            KeyColumn::Utf8(a) => a.is_null(row),
            KeyColumn::LargeUtf8(a) => a.is_null(row),
            KeyColumn::Utf8View(a) => a.is_null(row),
            KeyColumn::Binary(a) => a.is_null(row),
            KeyColumn::LargeBinary(a) => a.is_null(row),
            KeyColumn::BinaryView(a) => a.is_null(row),
            KeyColumn::FixedSizeBinary(a) => a.is_null(row),
            KeyColumn::Scaled { values, .. } => values.is_null(row),
            KeyColumn::Decimal(a) => a.is_null(row),
        }
    }

    /// The string value of row `row` if this column holds strings (used for the
    /// `stable_id` prefix); `None` for NULL.
    pub fn str_value(&self, row: usize) -> Option<&str> {
        if self.is_null(row) {
            return None;
        }
        match self {
            KeyColumn::Utf8(a) => Some(a.value(row)),
            KeyColumn::LargeUtf8(a) => Some(a.value(row)),
            KeyColumn::Utf8View(a) => Some(a.value(row)),
            _ => None,
        }
    }
}

/// Encodes one row of `parts` into `key` (cleared first).
#[inline]
pub fn encode_row(parts: &[KeyPart], row: usize, key: &mut Vec<u8>) {
    key.clear();
    for part in parts {
        part.write(row, key);
    }
}

/// Prepares every argument of a hash call.
pub fn key_parts(args: &[ColumnarValue]) -> Result<Vec<KeyPart>> {
    args.iter().map(KeyPart::try_new).collect()
}

/// Encodes a list of scalar parts: the key of a constant row, used by tests and docs.
pub fn encode_scalars(parts: &[ScalarValue]) -> Result<Vec<u8>> {
    let prepared = parts
        .iter()
        .map(|s| KeyPart::try_new(&ColumnarValue::Scalar(s.clone())))
        .collect::<Result<Vec<_>>>()?;
    let mut key = Vec::new();
    encode_row(&prepared, 0, &mut key);
    Ok(key)
}

#[inline]
fn write_int(value: i64, key: &mut Vec<u8>) {
    key.push(TAG_INT);
    key.extend_from_slice(&value.to_le_bytes());
}

#[inline]
fn write_float(value: f64, key: &mut Vec<u8>) {
    let bits = if value.is_nan() {
        CANONICAL_NAN_BITS
    } else if value == 0.0 {
        0 // +0.0 and -0.0
    } else {
        value.to_bits()
    };
    key.push(TAG_FLOAT);
    key.extend_from_slice(&bits.to_le_bytes());
}

#[inline]
fn write_bytes(tag: u8, bytes: &[u8], key: &mut Vec<u8>) {
    key.push(tag);
    key.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    key.extend_from_slice(bytes);
}

fn write_decimal(mut mantissa: i256, scale: i8, key: &mut Vec<u8>) {
    let ten = i256::from_i128(10);
    let mut scale = i32::from(scale);
    if mantissa == i256::ZERO {
        scale = 0;
    } else {
        while mantissa.wrapping_rem(ten) == i256::ZERO {
            mantissa = mantissa.wrapping_div(ten);
            scale -= 1;
        }
    }
    key.push(TAG_DECIMAL);
    key.extend_from_slice(&mantissa.to_le_bytes());
    key.extend_from_slice(&scale.to_le_bytes());
}

fn nanos_per(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => NANOS_PER_SECOND,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn timestamp_values(array: &ArrayRef, unit: &TimeUnit) -> Int64Array {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .reinterpret_cast(),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .reinterpret_cast(),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .reinterpret_cast(),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .reinterpret_cast(),
    }
}

fn duration_values(array: &ArrayRef, unit: &TimeUnit) -> Int64Array {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<DurationSecondType>()
            .reinterpret_cast(),
        TimeUnit::Millisecond => array
            .as_primitive::<DurationMillisecondType>()
            .reinterpret_cast(),
        TimeUnit::Microsecond => array
            .as_primitive::<DurationMicrosecondType>()
            .reinterpret_cast(),
        TimeUnit::Nanosecond => array
            .as_primitive::<DurationNanosecondType>()
            .reinterpret_cast(),
    }
}

fn time_values(array: &ArrayRef, unit: &TimeUnit) -> Result<Int64Array> {
    Ok(match (array.data_type(), unit) {
        (DataType::Time32(_), TimeUnit::Second) => {
            array.as_primitive::<Time32SecondType>().unary(i64::from)
        }
        (DataType::Time32(_), TimeUnit::Millisecond) => array
            .as_primitive::<Time32MillisecondType>()
            .unary(i64::from),
        (DataType::Time64(_), TimeUnit::Microsecond) => array
            .as_primitive::<Time64MicrosecondType>()
            .reinterpret_cast(),
        (DataType::Time64(_), TimeUnit::Nanosecond) => array
            .as_primitive::<Time64NanosecondType>()
            .reinterpret_cast(),
        (other, _) => {
            return Err(exec_datafusion_err!(
                "stable hash: invalid time type {other}"
            ));
        }
    })
}
