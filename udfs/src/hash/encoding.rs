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

/// Version of the key encoding this build implements (the README's "Stable hash
/// encoding"). It is *not* hashed: an id is a pure function of the encoded parts, so
/// the encoding is frozen, and a different encoding would ship under new function
/// names rather than change existing ids. The version is published where consumers
/// compare ids produced elsewhere: the plugin manifest
/// (`stable_hash_encoding_version`), the golden vector file and
/// `datafusion_cpg.reference.ENCODING_VERSION` in Python.
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
/// work is a predictable dispatch and a copy.
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
    /// An i64 count of some unit, written as `value * scale` in 8 bytes, or 16 if `wide`.
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
                let column = KeyPart::Column(KeyColumn::try_new(&scalar.to_array_of_size(1)?)?);
                let bytes = KeyWriter::default().key(&[column], 0).to_vec();
                Ok(KeyPart::Constant(bytes))
            }
            ColumnarValue::Array(array) => Ok(KeyPart::Column(KeyColumn::try_new(array)?)),
        }
    }
}

/// Writes row keys into one reused buffer, a row at a time.
///
/// Each part writes its tag and value bytes unconditionally and then advances by the
/// length the row's validity gives (a NULL advances past its tag only), so the hot loop
/// has no data-dependent branches; the bytes beyond the key are scratch.
#[derive(Debug)]
pub struct KeyWriter {
    buffer: Vec<u8>,
}

impl Default for KeyWriter {
    fn default() -> Self {
        Self {
            buffer: vec![0; 256],
        }
    }
}

impl KeyWriter {
    /// The key of row `row` of `parts`.
    #[inline]
    pub fn key(&mut self, parts: &[KeyPart], row: usize) -> &[u8] {
        let mut at = 0;
        for part in parts {
            at = match part {
                KeyPart::Constant(bytes) => put_bytes(&mut self.buffer, at, bytes),
                KeyPart::Column(column) => column.write(row, &mut self.buffer, at),
            };
        }
        &self.buffer[..at]
    }
}

/// Makes `buffer` at least `len` bytes long (rarely taken: long strings).
#[cold]
fn grow(buffer: &mut Vec<u8>, len: usize) {
    buffer.resize(len.next_power_of_two(), 0);
}

#[inline(always)]
fn put_bytes(buffer: &mut Vec<u8>, at: usize, bytes: &[u8]) -> usize {
    let end = at + bytes.len();
    if buffer.len() < end {
        grow(buffer, end);
    }
    buffer[at..end].copy_from_slice(bytes);
    end
}

/// Writes `tag` and the `N` bytes of `value`, or only the NULL tag if `!valid`.
#[inline(always)]
fn put_fixed<const N: usize>(
    buffer: &mut Vec<u8>,
    at: usize,
    valid: bool,
    tag: u8,
    value: [u8; N],
) -> usize {
    if buffer.len() < at + 1 + N {
        grow(buffer, at + 1 + N);
    }
    let out = &mut buffer[at..at + 1 + N];
    out[0] = if valid { tag } else { TAG_NULL };
    out[1..].copy_from_slice(&value);
    at + if valid { 1 + N } else { 1 }
}

/// Writes `tag`, the u64 LE length and the bytes of `value`, or only the NULL tag.
#[inline(always)]
fn put_variable(buffer: &mut Vec<u8>, at: usize, valid: bool, tag: u8, value: &[u8]) -> usize {
    let len = if valid { value.len() } else { 0 };
    if buffer.len() < at + 9 + len {
        grow(buffer, at + 9 + len);
    }
    buffer[at] = if valid { tag } else { TAG_NULL };
    buffer[at + 1..at + 9].copy_from_slice(&(len as u64).to_le_bytes());
    buffer[at + 9..at + 9 + len].copy_from_slice(&value[..len]);
    at + if valid { 9 + len } else { 1 }
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

    /// Writes the encoding of row `row` at `at`; returns where the next part starts.
    ///
    /// Values of NULL slots are read but not kept: Arrow leaves them defined (if
    /// arbitrary), and every conversion below is total.
    #[inline]
    fn write(&self, row: usize, buffer: &mut Vec<u8>, at: usize) -> usize {
        match self {
            KeyColumn::AllNull => put_fixed(buffer, at, false, TAG_NULL, []),
            KeyColumn::Bool(a) => put_fixed(
                buffer,
                at,
                a.is_valid(row),
                TAG_BOOL,
                [u8::from(a.value(row))],
            ),
            KeyColumn::Int(a) => put_fixed(
                buffer,
                at,
                a.is_valid(row),
                TAG_INT,
                a.value(row).to_le_bytes(),
            ),
            KeyColumn::UInt(a) => {
                // Values that fit in i64 hash like every other integer; the bytes agree.
                let v = a.value(row);
                let tag = if i64::try_from(v).is_ok() {
                    TAG_INT
                } else {
                    TAG_UINT_LARGE
                };
                put_fixed(buffer, at, a.is_valid(row), tag, v.to_le_bytes())
            }
            KeyColumn::Float(a) => put_fixed(
                buffer,
                at,
                a.is_valid(row),
                TAG_FLOAT,
                canonical_float_bits(a.value(row)).to_le_bytes(),
            ),
            KeyColumn::Scaled {
                tag,
                values,
                scale,
                wide,
            } => {
                let nanos = i128::from(values.value(row)) * i128::from(*scale);
                let valid = values.is_valid(row);
                if *wide {
                    put_fixed(buffer, at, valid, *tag, nanos.to_le_bytes())
                } else {
                    // Time of day and dates fit in i64 by construction.
                    put_fixed(buffer, at, valid, *tag, (nanos as i64).to_le_bytes())
                }
            }
            KeyColumn::Decimal(a) => {
                let valid = a.is_valid(row);
                let bytes = if valid {
                    decimal_bytes(a.value(row), a.scale())
                } else {
                    [0; DECIMAL_WIDTH]
                };
                put_fixed(buffer, at, valid, TAG_DECIMAL, bytes)
            }
            KeyColumn::Utf8(a) => put_variable(
                buffer,
                at,
                a.is_valid(row),
                TAG_STRING,
                a.value(row).as_bytes(),
            ),
            KeyColumn::LargeUtf8(a) => put_variable(
                buffer,
                at,
                a.is_valid(row),
                TAG_STRING,
                a.value(row).as_bytes(),
            ),
            KeyColumn::Utf8View(a) => put_variable(
                buffer,
                at,
                a.is_valid(row),
                TAG_STRING,
                a.value(row).as_bytes(),
            ),
            KeyColumn::Binary(a) => {
                put_variable(buffer, at, a.is_valid(row), TAG_BINARY, a.value(row))
            }
            KeyColumn::LargeBinary(a) => {
                put_variable(buffer, at, a.is_valid(row), TAG_BINARY, a.value(row))
            }
            KeyColumn::BinaryView(a) => {
                put_variable(buffer, at, a.is_valid(row), TAG_BINARY, a.value(row))
            }
            KeyColumn::FixedSizeBinary(a) => {
                put_variable(buffer, at, a.is_valid(row), TAG_BINARY, a.value(row))
            }
        }
    }

    /// The string value of row `row` if this column holds strings (used for the
    /// `stable_id` prefix); `None` for NULL.
    pub fn str_value(&self, row: usize) -> Option<&str> {
        match self {
            KeyColumn::Utf8(a) if a.is_valid(row) => Some(a.value(row)),
            KeyColumn::LargeUtf8(a) if a.is_valid(row) => Some(a.value(row)),
            KeyColumn::Utf8View(a) if a.is_valid(row) => Some(a.value(row)),
            _ => None,
        }
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
    Ok(KeyWriter::default().key(&prepared, 0).to_vec())
}

/// The bits a float hashes as: one NaN, and +0.0 for -0.0.
#[inline]
fn canonical_float_bits(value: f64) -> u64 {
    if value.is_nan() {
        CANONICAL_NAN_BITS
    } else if value == 0.0 {
        0
    } else {
        value.to_bits()
    }
}

/// Bytes of a decimal: the mantissa with trailing zeros removed (i256 LE) and the
/// matching scale (i32 LE), so `1.50` and `1.5` agree.
const DECIMAL_WIDTH: usize = 36;

fn decimal_bytes(mut mantissa: i256, scale: i8) -> [u8; DECIMAL_WIDTH] {
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
    let mut out = [0u8; DECIMAL_WIDTH];
    out[..32].copy_from_slice(&mantissa.to_le_bytes());
    out[32..].copy_from_slice(&scale.to_le_bytes());
    out
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
