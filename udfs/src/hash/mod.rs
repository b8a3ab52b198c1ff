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

use encoding::{KeyPart, KeyWriter, check_part_type, key_parts};

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

/// Encodes every row's key into one reused buffer and hands it to `f` with its row.
pub(crate) fn for_each_key(parts: &[KeyPart], rows: usize, mut f: impl FnMut(usize, &[u8])) {
    let mut writer = KeyWriter::default();
    for row in 0..rows {
        f(row, writer.key(parts, row));
    }
}

/// Prepares the key parts of a call.
pub(crate) fn prepare(args: &[ColumnarValue]) -> Result<Vec<KeyPart>> {
    key_parts(args)
}

/// The two lowercase hex digits of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Appends the 32 lowercase hex digits of a 128-bit hash, high bits first (xxHash's
/// canonical form), to `out`.
#[inline]
pub(crate) fn push_hex128(value: u128, out: &mut Vec<u8>) {
    let mut digits = [0u8; 32];
    for (pair, byte) in digits.chunks_exact_mut(2).zip(value.to_be_bytes()) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    out.extend_from_slice(&digits);
}
