//! `span_overlaps(a_start, a_end, b_start, b_end)`: do two half-open spans share a byte?

use std::sync::Arc;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use datafusion_macros::user_doc;

use super::{eval_spans, span_signature};

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "True when the half-open spans [a_start, a_end) and [b_start, b_end) share at least one byte: a_start < b_end AND b_start < a_end, both spans non-empty. An empty span overlaps nothing. NULL if an argument is NULL; an error if a span's end is before its start.",
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
            signature: span_signature(4),
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

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (values, scalar) = eval_spans(
            self.name(),
            &args.args,
            args.number_rows,
            |[a_start, a_end, b_start, b_end]: [i64; 4]| {
                spans_overlap(a_start, a_end, b_start, b_end)
            },
        )?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                values.into_iter().next().flatten(),
            )))
        } else {
            Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(values))))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
