//! Stable hash and id functions: `stable_hash64`, `stable_hash128`, `stable_id` over the
//! canonical key encoding, and the Spark-compatible `xxhash64`.

pub mod encoding;
pub mod stable_hash128;
pub mod stable_hash64;
pub mod stable_id;
pub mod xxhash64;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::ColumnarValue;

use encoding::{KeyPart, check_part_type, encode_row, key_parts};

/// Planning-time check shared by the stable hash family: at least one part, each of a
/// supported type. Types are kept as they are: the encoding makes physical types agree.
pub(crate) fn check_key_types(function: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.is_empty() {
        return plan_err!(
            "{function} expects at least one part, e.g. {function}(path, start, end)"
        );
    }
    for (position, data_type) in arg_types.iter().enumerate() {
        check_part_type(function, position, data_type)?;
    }
    Ok(arg_types.to_vec())
}

/// The number of rows to produce: one if every argument is a scalar (the result is then
/// a scalar too), else the batch size.
pub(crate) fn output_rows(args: &[ColumnarValue], number_rows: usize) -> (usize, bool) {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    if all_scalar {
        (1, true)
    } else {
        (number_rows, false)
    }
}

/// Encodes every row's key into one reused buffer and hands it to `f`.
pub(crate) fn for_each_key(parts: &[KeyPart], rows: usize, mut f: impl FnMut(usize, &[u8])) {
    let mut key = Vec::with_capacity(128);
    for row in 0..rows {
        encode_row(parts, row, &mut key);
        f(row, &key);
    }
}

/// Prepares the key parts of a call.
pub(crate) fn prepare(args: &[ColumnarValue]) -> Result<Vec<KeyPart>> {
    key_parts(args)
}

/// 32 lowercase hex digits of a 128-bit hash, high bits first (xxHash's canonical form).
#[inline]
pub(crate) fn hex128(value: u128) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, byte) in value.to_be_bytes().iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}
