//! Functions on half-open byte spans `[start, end)`: `span_len`, `span_overlaps`,
//! `span_contains`. Arguments are any integer type (coerced to Int64); a NULL argument
//! gives NULL; a span whose end is before its start is an execution error naming the row.

pub mod span_contains;
pub mod span_len;
pub mod span_overlaps;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::types::{NativeType, logical_int64};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Signature, TypeSignatureClass, Volatility,
};

/// `n` integer arguments, each coerced to Int64.
pub(crate) fn span_signature(n: usize) -> Signature {
    let int64 = Coercion::new_implicit(
        TypeSignatureClass::Native(logical_int64()),
        vec![TypeSignatureClass::Integer],
        NativeType::Int64,
    );
    Signature::coercible(vec![int64; n], Volatility::Immutable)
}

/// Evaluates `f` on every row whose `N` arguments are all non-NULL, after checking that
/// each consecutive (start, end) pair is a valid span. Returns the per-row results and
/// whether every argument was a scalar.
pub(crate) fn eval_spans<const N: usize, T>(
    function: &str,
    args: &[ColumnarValue],
    number_rows: usize,
    f: impl Fn([i64; N]) -> T,
) -> Result<(Vec<Option<T>>, bool)> {
    if args.len() != N {
        return exec_err!("{function} expects {N} arguments, got {}", args.len());
    }
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { number_rows };
    let arrays = args
        .iter()
        .map(|a| int64_array(function, a, rows))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if arrays.iter().any(|a| a.is_null(row)) {
            out.push(None);
            continue;
        }
        let mut values = [0i64; N];
        for (value, array) in values.iter_mut().zip(&arrays) {
            *value = array.value(row);
        }
        for pair in values.chunks_exact(2) {
            if pair[1] < pair[0] {
                return exec_err!(
                    "{function}: invalid span [{}, {}) at row {row}: end is before start; spans are half-open [start, end) with start <= end",
                    pair[0],
                    pair[1]
                );
            }
        }
        out.push(Some(f(values)));
    }
    Ok((out, all_scalar))
}

fn int64_array(function: &str, value: &ColumnarValue, rows: usize) -> Result<Int64Array> {
    let array = value.to_array(rows)?;
    match array.data_type() {
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().clone()),
        DataType::Null => Ok(Int64Array::new_null(rows)),
        other => exec_err!("{function}: expected Int64 arguments after coercion, got {other}"),
    }
}
