//! `span_contains(outer_start, outer_end, inner_start, inner_end)`: is one half-open span
//! inside another?

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
const PARAMS: [&str; 4] = ["outer_start", "outer_end", "inner_start", "inner_end"];

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "True when the half-open span [inner_start, inner_end) lies inside [outer_start, outer_end): outer_start <= inner_start AND inner_end <= outer_end. A span contains itself; an empty inner span at position p is contained when outer_start <= p <= outer_end. Both spans must be valid: 0 <= start <= end. NULL if an argument is NULL; an execution error naming the row, the argument and its value if a bound is negative or a span's end is before its start.",
    syntax_example = "span_contains(outer_start, outer_end, inner_start, inner_end)",
    sql_example = r#"```sql
> select span_contains(0, 100, 10, 20), span_contains(10, 20, 0, 100);
true, false
```"#,
    argument(
        name = "outer_start",
        description = "Start of the containing span (inclusive)."
    ),
    argument(
        name = "outer_end",
        description = "End of the containing span (exclusive)."
    ),
    argument(
        name = "inner_start",
        description = "Start of the contained span (inclusive)."
    ),
    argument(
        name = "inner_end",
        description = "End of the contained span (exclusive)."
    ),
    related_udf(name = "span_overlaps")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SpanContains {
    signature: Signature,
}

impl Default for SpanContains {
    fn default() -> Self {
        Self {
            signature: span_signature(),
        }
    }
}

impl ScalarUDFImpl for SpanContains {
    fn name(&self) -> &str {
        "span_contains"
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
            |[outer_start, outer_end, inner_start, inner_end]: [i64; 4]| {
                Ok(outer_start <= inner_start && inner_end <= outer_end)
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
        assert!(SpanContains::default().is_strict());
    }

    #[test]
    fn containment_rule() {
        let result = call(
            &SpanContains::default(),
            vec![
                literal(Some(0)),
                literal(Some(i64::MAX)),
                column("inner.start", vec![Some(10), Some(i64::MAX), Some(0), None]),
                column(
                    "inner.end",
                    vec![Some(20), Some(i64::MAX), Some(i64::MAX), Some(3)],
                ),
            ],
            4,
        )
        .unwrap();
        assert_eq!(
            bools(result),
            vec![Some(true), Some(true), Some(true), None]
        );
        let result = call(
            &SpanContains::default(),
            vec![
                literal(Some(10)),
                literal(Some(20)),
                literal(Some(0)),
                literal(Some(100)),
            ],
            1,
        )
        .unwrap();
        assert!(matches!(
            result,
            ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)))
        ));
    }

    #[test]
    fn negative_end_is_an_error() {
        let text = error_text(call(
            &SpanContains::default(),
            vec![
                column("o.start", vec![Some(0)]),
                column("o.end", vec![Some(-1)]),
                literal(Some(0)),
                literal(Some(0)),
            ],
            1,
        ));
        assert_eq!(
            text,
            "span_contains: invalid span at row 0 of the batch: outer_end (o.end) = -1 is negative; spans are half-open [start, end) with 0 <= start <= end"
        );
    }
}
