//! Functions on half-open byte spans `[start, end)`: `span_len`, `span_overlaps`,
//! `span_contains`.
//!
//! This module owns what the three share: their signature and coercion (any integer
//! argument: UInt64 is read as is, so a value above `i64::MAX` is reported with its row
//! instead of failing DataFusion's cast; every other integer type becomes Int64), reading
//! the arguments, the validity rule for a span and its error
//! message. A valid span has `0 <= start <= end`. The functions are strict: a NULL
//! argument gives NULL, before any validation. An invalid span is an execution error
//! naming the function, the row of the batch, the argument as the query wrote it, its
//! value and the rule.

pub mod span_contains;
pub mod span_len;
pub mod span_overlaps;

use datafusion::arrow::array::{Array, AsArray, Int64Array, UInt64Array};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type, UInt64Type};
use datafusion::common::{
    DataFusionError, Result, ScalarValue, exec_datafusion_err, exec_err, plan_err,
};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, Signature, Volatility};

/// The rule quoted by every invalid-span error.
const SPAN_RULE: &str = "spans are half-open [start, end) with 0 <= start <= end";

/// The signature of a span function: its arguments are checked by [`coerce_span_args`].
pub(crate) fn span_signature() -> Signature {
    Signature::user_defined(Volatility::Immutable)
}

/// The argument types a span function reads: UInt64 (and a dictionary of it) stays
/// UInt64, every other integer type and NULL become Int64; anything else is a planning
/// error naming the parameter.
pub(crate) fn coerce_span_args<const N: usize>(
    function: &str,
    params: [&str; N],
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    if arg_types.len() != N {
        return plan_err!(
            "{function} expects {N} arguments ({}), got {}",
            params.join(", "),
            arg_types.len()
        );
    }
    arg_types
        .iter()
        .zip(params)
        .map(|(data_type, param)| {
            let value_type = match data_type {
                DataType::Dictionary(_, value) => value.as_ref(),
                other => other,
            };
            match value_type {
                DataType::UInt64 => Ok(DataType::UInt64),
                DataType::Null => Ok(DataType::Int64),
                integer if integer.is_integer() => Ok(DataType::Int64),
                _ => plan_err!(
                    "{function}: argument {param} has type {data_type}; accepted: an integer \
                     type (Int8 to Int64, UInt8 to UInt64, or a dictionary of one) or NULL"
                ),
            }
        })
        .collect()
}

/// Per-row results of a span function: one value when every argument was a scalar,
/// else one per row of the batch.
pub(crate) enum SpanValues<T> {
    Scalar(Option<T>),
    Array(Vec<Option<T>>),
}

/// Evaluates `f` on every row whose `N` arguments are all non-NULL, after checking that
/// each consecutive (start, end) pair is a valid span. `params` are the parameter names,
/// used with the argument fields of `args` in error messages.
pub(crate) fn eval_spans<const N: usize, T>(
    function: &str,
    params: [&str; N],
    args: &ScalarFunctionArgs,
    f: impl Fn([i64; N]) -> Result<T>,
) -> Result<SpanValues<T>> {
    if args.args.len() != N {
        return exec_err!(
            "{function} expects {N} arguments ({}), got {}",
            params.join(", "),
            args.args.len()
        );
    }
    let all_scalar = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    if all_scalar && args.number_rows == 0 {
        // No row to evaluate (an empty batch): no value, and no error for a bad span
        // nobody asked about. Over FFI scalars arrive as zero-length arrays, which gives
        // the same answer.
        return Ok(SpanValues::Scalar(None));
    }
    let rows = if all_scalar { 1 } else { args.number_rows };
    let mut ints: [IntArg<'_>; N] = [IntArg::Scalar(None); N];
    for (position, (slot, value)) in ints.iter_mut().zip(&args.args).enumerate() {
        let param = params.get(position).copied().unwrap_or("?");
        *slot = int_arg(function, param, value, rows)?;
    }
    let mut out = Vec::with_capacity(rows);
    'rows: for row in 0..rows {
        let mut values = [0i64; N];
        let mut too_large = None;
        for (position, (value, int)) in values.iter_mut().zip(&ints).enumerate() {
            match int.get(row) {
                Ok(Some(v)) => *value = v,
                Ok(None) => {
                    out.push(None);
                    continue 'rows;
                }
                // Reported after the NULL check: a NULL anywhere in the row wins.
                Err(v) => too_large = too_large.or(Some((position, v))),
            }
        }
        if let Some((position, value)) = too_large {
            let arg = describe_arg(args, params, position);
            return exec_err!(
                "{function}: invalid span at row {row} of the batch: {arg} = {value} is \
                 beyond the largest supported offset {}; {SPAN_RULE}",
                i64::MAX
            );
        }
        for (pair, first) in values.chunks_exact(2).zip((0..N).step_by(2)) {
            if let &[start, end] = pair
                && let Some(fault) = span_fault(start, end)
            {
                return Err(span_error(
                    function, row, args, params, first, fault, start, end,
                ));
            }
        }
        out.push(Some(f(values)?));
    }
    if all_scalar {
        Ok(SpanValues::Scalar(out.into_iter().next().flatten()))
    } else {
        Ok(SpanValues::Array(out))
    }
}

/// One Int64 or UInt64 argument. A scalar is read as is rather than repeated into an
/// array of the batch size, which would allocate for nothing.
#[derive(Clone, Copy)]
enum IntArg<'a> {
    Scalar(Option<i64>),
    UnsignedScalar(Option<u64>),
    Array(&'a Int64Array),
    UnsignedArray(&'a UInt64Array),
}

impl IntArg<'_> {
    /// The value at `row`: `Ok(None)` for NULL, `Err(value)` for an unsigned value
    /// beyond `i64::MAX`.
    #[inline]
    fn get(&self, row: usize) -> std::result::Result<Option<i64>, u64> {
        // `int_arg` checked the length against the rows read; the bound is tested anyway
        // so that a wrong row gives NULL rather than a panic.
        let unsigned = |v: u64| i64::try_from(v).map(Some).map_err(|_| v);
        match self {
            Self::Scalar(v) => Ok(*v),
            Self::UnsignedScalar(None) => Ok(None),
            Self::UnsignedScalar(Some(v)) => unsigned(*v),
            Self::Array(a) => Ok((row < a.len() && a.is_valid(row)).then(|| a.value(row))),
            Self::UnsignedArray(a) if row < a.len() && a.is_valid(row) => unsigned(a.value(row)),
            Self::UnsignedArray(_) => Ok(None),
        }
    }
}

fn int_arg<'a>(
    function: &str,
    param: &str,
    value: &'a ColumnarValue,
    rows: usize,
) -> Result<IntArg<'a>> {
    match value {
        ColumnarValue::Scalar(ScalarValue::Int64(v)) => Ok(IntArg::Scalar(*v)),
        ColumnarValue::Scalar(ScalarValue::UInt64(v)) => Ok(IntArg::UnsignedScalar(*v)),
        ColumnarValue::Scalar(ScalarValue::Null) => Ok(IntArg::Scalar(None)),
        ColumnarValue::Scalar(other) => exec_err!(
            "{function}: argument {param} has type {} after coercion; accepted: Int64",
            other.data_type()
        ),
        ColumnarValue::Array(array) => {
            if array.len() != rows {
                return exec_err!(
                    "{function}: argument {param} has {} rows; accepted: {rows} (the batch size)",
                    array.len()
                );
            }
            match array.as_primitive_opt::<Int64Type>() {
                Some(ints) => Ok(IntArg::Array(ints)),
                None if array.data_type() == &DataType::UInt64 => {
                    match array.as_primitive_opt::<UInt64Type>() {
                        Some(ints) => Ok(IntArg::UnsignedArray(ints)),
                        None => exec_err!("{function}: argument {param} is not a UInt64 array"),
                    }
                }
                None if array.data_type() == &DataType::Null => Ok(IntArg::Scalar(None)),
                None => exec_err!(
                    "{function}: argument {param} has type {} after coercion; accepted: Int64",
                    array.data_type()
                ),
            }
        }
    }
}

/// Why a (start, end) pair is not a valid span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanFault {
    NegativeStart,
    NegativeEnd,
    EndBeforeStart,
}

/// The first rule `[start, end)` breaks, if any; a negative start is reported before a
/// negative end, and both before the order.
#[inline]
pub(crate) fn span_fault(start: i64, end: i64) -> Option<SpanFault> {
    if start < 0 {
        Some(SpanFault::NegativeStart)
    } else if end < 0 {
        Some(SpanFault::NegativeEnd)
    } else if end < start {
        Some(SpanFault::EndBeforeStart)
    } else {
        None
    }
}

/// The error for an invalid span whose start is argument `first` (0-based) and whose
/// end is the next one. Only built on the error path, so it may allocate.
#[allow(clippy::too_many_arguments)]
fn span_error<const N: usize>(
    function: &str,
    row: usize,
    args: &ScalarFunctionArgs,
    params: [&str; N],
    first: usize,
    fault: SpanFault,
    start: i64,
    end: i64,
) -> DataFusionError {
    let start_arg = describe_arg(args, params, first);
    let end_arg = describe_arg(args, params, first + 1);
    let problem = match fault {
        SpanFault::NegativeStart => format!("{start_arg} = {start} is negative"),
        SpanFault::NegativeEnd => format!("{end_arg} = {end} is negative"),
        SpanFault::EndBeforeStart => {
            format!("{end_arg} = {end} is before {start_arg} = {start}")
        }
    };
    exec_datafusion_err!(
        "{function}: invalid span at row {row} of the batch: {problem}; {SPAN_RULE}"
    )
}

/// `param (expression)`, e.g. `start (bstart)`, or just `param` when the expression adds
/// nothing.
fn describe_arg<const N: usize>(
    args: &ScalarFunctionArgs,
    params: [&str; N],
    position: usize,
) -> String {
    let param = params.get(position).copied().unwrap_or("?");
    match arg_label(args.arg_fields.get(position), param) {
        Some(label) => format!("{param} ({label})"),
        None => param.to_string(),
    }
}

/// The argument's field name, which DataFusion sets to the column name for a column and
/// to the expression's text for a computed argument. A literal's field is named "lit",
/// which says less than the value printed next to it, so it is left out (by name: over
/// FFI a literal may arrive as a one-row array), as is a name equal to the parameter's.
fn arg_label<'a>(field: Option<&'a FieldRef>, param: &str) -> Option<&'a str> {
    let name = field?.name().as_str();
    (!name.is_empty() && name != "lit" && name != param).then_some(name)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Calling a span function the way DataFusion's executor does.

    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
    use datafusion::common::{Result, ScalarValue};
    use datafusion::logical_expr::ColumnarValue;

    /// A column argument named `name`.
    pub(crate) fn column(name: &str, values: Vec<Option<i64>>) -> (ColumnarValue, FieldRef) {
        let array: ArrayRef = Arc::new(Int64Array::from(values));
        (
            ColumnarValue::Array(array),
            Arc::new(Field::new(name, DataType::Int64, true)),
        )
    }

    /// The Boolean array a span predicate returned.
    pub(crate) fn bools(value: ColumnarValue) -> Vec<Option<bool>> {
        match value {
            ColumnarValue::Array(a) => a.as_boolean().iter().collect(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    /// A literal argument, with the field name DataFusion gives literals.
    pub(crate) fn literal(value: Option<i64>) -> (ColumnarValue, FieldRef) {
        (
            ColumnarValue::Scalar(ScalarValue::Int64(value)),
            Arc::new(Field::new("lit", DataType::Int64, value.is_none())),
        )
    }

    pub(crate) use crate::test_support::call;

    /// The message of an execution error, without DataFusion's prefix or backtrace.
    pub(crate) fn error_text(result: Result<ColumnarValue>) -> String {
        match result {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(e) => e
                .strip_backtrace()
                .strip_prefix("Execution error: ")
                .map(str::to_string)
                .unwrap_or_else(|| panic!("not an execution error: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_fault_rules() {
        assert_eq!(span_fault(0, 0), None);
        assert_eq!(span_fault(0, i64::MAX), None);
        assert_eq!(span_fault(i64::MAX, i64::MAX), None);
        assert_eq!(span_fault(-1, 5), Some(SpanFault::NegativeStart));
        assert_eq!(span_fault(-1, -5), Some(SpanFault::NegativeStart));
        assert_eq!(
            span_fault(i64::MIN, i64::MAX),
            Some(SpanFault::NegativeStart)
        );
        assert_eq!(span_fault(0, -1), Some(SpanFault::NegativeEnd));
        assert_eq!(span_fault(10, 5), Some(SpanFault::EndBeforeStart));
        assert_eq!(span_fault(i64::MAX, 0), Some(SpanFault::EndBeforeStart));
    }

    #[test]
    fn arg_label_leaves_out_what_adds_nothing() {
        let (_, column_field) = test_support::column("t.bstart", vec![Some(1)]);
        let (_, literal_field) = test_support::literal(Some(1));
        assert_eq!(arg_label(Some(&column_field), "start"), Some("t.bstart"));
        assert_eq!(arg_label(Some(&literal_field), "start"), None);
        assert_eq!(arg_label(None, "start"), None);
        let (_, same_field) = test_support::column("start", vec![Some(1)]);
        assert_eq!(arg_label(Some(&same_field), "start"), None);
    }
}
