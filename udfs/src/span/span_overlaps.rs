//! `span_overlaps(a_start, a_end, b_start, b_end)`: do two half-open spans share a byte?

use std::sync::Arc;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use datafusion_macros::user_doc;

use super::{SpanValues, coerce_span_args, eval_spans, span_signature};

/// The parameter names, as error messages call the arguments.
const PARAMS: [&str; 4] = ["a_start", "a_end", "b_start", "b_end"];

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "True when the half-open spans [a_start, a_end) and [b_start, b_end) share at least one byte: a_start < b_end AND b_start < a_end, both spans non-empty. An empty span overlaps nothing. Both spans must be valid: 0 <= start <= end. NULL if an argument is NULL; an execution error naming the row, the argument and its value if a bound is negative or a span's end is before its start.",
    syntax_example = "span_overlaps(a_start, a_end, b_start, b_end)",
    sql_example = r#"```sql
> select span_overlaps(0, 10, 5, 20), span_overlaps(0, 10, 10, 20);
true, false
```"#,
    argument(name = "a_start", description = "Start of the first span (inclusive)."),
    argument(name = "a_end", description = "End of the first span (exclusive)."),
    argument(
        name = "b_start",
        description = "Start of the second span (inclusive)."
    ),
    argument(name = "b_end", description = "End of the second span (exclusive)."),
    related_udf(name = "span_contains")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SpanOverlaps {
    signature: Signature,
}

impl Default for SpanOverlaps {
    fn default() -> Self {
        Self {
            signature: span_signature(),
        }
    }
}

/// The overlap rule, shared with span-join planning.
#[inline]
pub fn spans_overlap(a_start: i64, a_end: i64, b_start: i64, b_end: i64) -> bool {
    a_start < a_end && b_start < b_end && a_start < b_end && b_start < a_end
}

impl ScalarUDFImpl for SpanOverlaps {
    fn name(&self) -> &str {
        "span_overlaps"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_span_args(self.name(), PARAMS, arg_types)
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = eval_spans(
            self.name(),
            PARAMS,
            &args,
            |[a_start, a_end, b_start, b_end]: [i64; 4]| {
                Ok(spans_overlap(a_start, a_end, b_start, b_end))
            },
        )?;
        Ok(match values {
            SpanValues::Scalar(v) => ColumnarValue::Scalar(ScalarValue::Boolean(v)),
            SpanValues::Array(v) => ColumnarValue::Array(Arc::new(BooleanArray::from(v))),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{bools, call, column, error_text, literal};
    use super::*;

    #[test]
    fn declares_strictness() {
        assert!(SpanOverlaps::default().is_strict());
    }

    #[test]
    fn overlap_rule() {
        let result = call(
            &SpanOverlaps::default(),
            vec![
                column("a.start", vec![Some(0), Some(0), Some(5), Some(0), None]),
                column(
                    "a.end",
                    vec![Some(10), Some(10), Some(5), Some(i64::MAX), Some(1)],
                ),
                column(
                    "b.start",
                    vec![Some(5), Some(10), Some(0), Some(i64::MAX - 1), Some(0)],
                ),
                column(
                    "b.end",
                    vec![Some(20), Some(20), Some(10), Some(i64::MAX), Some(1)],
                ),
            ],
            5,
        )
        .unwrap();
        assert_eq!(
            bools(result),
            vec![Some(true), Some(false), Some(false), Some(true), None]
        );
    }

    #[test]
    fn second_span_is_validated_and_named() {
        let text = error_text(call(
            &SpanOverlaps::default(),
            vec![
                literal(Some(0)),
                literal(Some(10)),
                column("b.start", vec![Some(3), Some(8)]),
                column("b.end", vec![Some(4), Some(7)]),
            ],
            2,
        ));
        assert_eq!(
            text,
            "span_overlaps: invalid span at row 1 of the batch: b_end (b.end) = 7 is before b_start (b.start) = 8; spans are half-open [start, end) with 0 <= start <= end"
        );
    }

    #[test]
    fn negative_bound_is_an_error() {
        let text = error_text(call(
            &SpanOverlaps::default(),
            vec![
                literal(Some(-5)),
                literal(Some(10)),
                literal(Some(0)),
                literal(Some(1)),
            ],
            1,
        ));
        assert_eq!(
            text,
            "span_overlaps: invalid span at row 0 of the batch: a_start = -5 is negative; spans are half-open [start, end) with 0 <= start <= end"
        );
    }
}
