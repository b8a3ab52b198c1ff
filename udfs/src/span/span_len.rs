//! `span_len(start, end)`: the length `end - start` of a half-open span.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use datafusion_macros::user_doc;

use super::{SpanValues, coerce_span_args, eval_spans, span_signature};

/// The parameter names, as error messages call the arguments.
const PARAMS: [&str; 2] = ["start", "end"];

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "Length of the half-open byte span [start, end): end - start. A valid span has 0 <= start <= end (any Int64 values within that, up to 9223372036854775807, work without overflow). NULL if an argument is NULL; an execution error naming the row, the argument and its value if start or end is negative or end < start.",
    syntax_example = "span_len(start, end)",
    sql_example = r#"```sql
> select span_len(10, 42);
32
```"#,
    argument(
        name = "start",
        description = "Integer start offset (inclusive), 0 or more."
    ),
    argument(
        name = "end",
        description = "Integer end offset (exclusive), start or more."
    ),
    related_udf(name = "span_overlaps"),
    related_udf(name = "span_contains")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SpanLen {
    signature: Signature,
}

impl Default for SpanLen {
    fn default() -> Self {
        Self {
            signature: span_signature(),
        }
    }
}

impl ScalarUDFImpl for SpanLen {
    fn name(&self) -> &str {
        "span_len"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_span_args(self.name(), PARAMS, arg_types)
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = eval_spans(self.name(), PARAMS, &args, |[start, end]: [i64; 2]| {
            span_length(start, end)
        })?;
        Ok(match values {
            SpanValues::Scalar(v) => ColumnarValue::Scalar(ScalarValue::Int64(v)),
            SpanValues::Array(v) => ColumnarValue::Array(Arc::new(Int64Array::from(v))),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// `end - start`. Validation already guarantees `0 <= start <= end`, so the difference
/// fits in Int64; it is checked anyway so that a change to the validation can never
/// turn into a wrapped length.
#[inline]
fn span_length(start: i64, end: i64) -> Result<i64> {
    match end.checked_sub(start) {
        Some(len) => Ok(len),
        None => exec_err!(
            "span_len: the length of [{start}, {end}) does not fit in Int64; accepted: 0 <= start <= end"
        ),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;

    use super::super::test_support::{call, column, error_text, literal};
    use super::*;

    fn ints(value: ColumnarValue) -> Vec<Option<i64>> {
        match value {
            ColumnarValue::Array(a) => a.as_primitive::<Int64Type>().iter().collect(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    #[test]
    fn declares_strictness() {
        assert!(SpanLen::default().is_strict());
    }

    #[test]
    fn lengths_without_overflow() {
        let result = call(
            &SpanLen::default(),
            vec![
                column(
                    "t.bstart",
                    vec![Some(10), Some(0), Some(i64::MAX), None, Some(0)],
                ),
                column(
                    "t.bend",
                    vec![Some(42), Some(i64::MAX), Some(i64::MAX), Some(3), None],
                ),
            ],
            5,
        )
        .unwrap();
        assert_eq!(
            ints(result),
            vec![Some(32), Some(i64::MAX), Some(0), None, None]
        );
    }

    #[test]
    fn scalars_give_a_scalar() {
        let result = call(
            &SpanLen::default(),
            vec![literal(Some(0)), literal(Some(i64::MAX))],
            3,
        )
        .unwrap();
        assert!(matches!(
            result,
            ColumnarValue::Scalar(ScalarValue::Int64(Some(i64::MAX)))
        ));
        let result = call(
            &SpanLen::default(),
            vec![literal(None), literal(Some(5))],
            3,
        )
        .unwrap();
        assert!(matches!(
            result,
            ColumnarValue::Scalar(ScalarValue::Int64(None))
        ));
    }

    #[test]
    fn scalar_and_column_mix() {
        let result = call(
            &SpanLen::default(),
            vec![
                literal(Some(2)),
                column("t.bend", vec![Some(2), Some(7), None]),
            ],
            3,
        )
        .unwrap();
        assert_eq!(ints(result), vec![Some(0), Some(5), None]);
    }

    /// The case that used to panic in debug builds and wrap in release builds.
    #[test]
    fn negative_start_with_max_end_is_an_error() {
        let text = error_text(call(
            &SpanLen::default(),
            vec![literal(Some(-1)), literal(Some(i64::MAX))],
            1,
        ));
        assert_eq!(
            text,
            "span_len: invalid span at row 0 of the batch: start = -1 is negative; spans are half-open [start, end) with 0 <= start <= end"
        );
    }

    #[test]
    fn negative_start_names_the_column_and_row() {
        let text = error_text(call(
            &SpanLen::default(),
            vec![
                column("t.bstart", vec![Some(0), Some(1), None, Some(-1)]),
                column("t.bend", vec![Some(1), Some(2), Some(3), Some(9)]),
            ],
            4,
        ));
        assert_eq!(
            text,
            "span_len: invalid span at row 3 of the batch: start (t.bstart) = -1 is negative; spans are half-open [start, end) with 0 <= start <= end"
        );
    }

    #[test]
    fn negative_end_is_an_error() {
        let text = error_text(call(
            &SpanLen::default(),
            vec![
                column("t.bstart", vec![Some(0)]),
                column("t.bend", vec![Some(i64::MIN)]),
            ],
            1,
        ));
        assert_eq!(
            text,
            "span_len: invalid span at row 0 of the batch: end (t.bend) = -9223372036854775808 is negative; spans are half-open [start, end) with 0 <= start <= end"
        );
    }

    #[test]
    fn end_before_start_is_an_error() {
        let text = error_text(call(
            &SpanLen::default(),
            vec![
                column("t.bstart", vec![Some(1), Some(i64::MAX)]),
                literal(Some(5)),
            ],
            2,
        ));
        assert_eq!(
            text,
            "span_len: invalid span at row 1 of the batch: end = 5 is before start (t.bstart) = 9223372036854775807; spans are half-open [start, end) with 0 <= start <= end"
        );
    }

    #[test]
    fn null_skips_validation() {
        let result = call(
            &SpanLen::default(),
            vec![
                column("t.bstart", vec![Some(-1)]),
                column("t.bend", vec![None]),
            ],
            1,
        )
        .unwrap();
        assert_eq!(ints(result), vec![None]);
    }

    #[test]
    fn wrong_argument_count_is_an_error() {
        let text = error_text(call(&SpanLen::default(), vec![literal(Some(1))], 1));
        assert_eq!(text, "span_len expects 2 arguments (start, end), got 1");
    }

    #[test]
    fn checked_length() {
        assert_eq!(span_length(0, i64::MAX).unwrap(), i64::MAX);
        assert_eq!(span_length(i64::MAX, i64::MAX).unwrap(), 0);
        let e = span_length(-1, i64::MAX).unwrap_err().strip_backtrace();
        assert_eq!(
            e,
            "Execution error: span_len: the length of [-1, 9223372036854775807) does not fit in Int64; accepted: 0 <= start <= end"
        );
    }

    #[test]
    fn array_length_must_match_the_batch() {
        let text = error_text(call(
            &SpanLen::default(),
            vec![column("t.bstart", vec![Some(1)]), literal(Some(5))],
            2,
        ));
        assert_eq!(
            text,
            "span_len: argument start has 1 rows; accepted: 2 (the batch size)"
        );
    }
}
