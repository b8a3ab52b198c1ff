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

use super::{eval_spans, span_signature};

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "True when the half-open span [inner_start, inner_end) lies inside [outer_start, outer_end): outer_start <= inner_start AND inner_end <= outer_end. A span contains itself; an empty inner span at position p is contained when outer_start <= p <= outer_end. NULL if an argument is NULL; an error if a span's end is before its start.",
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
            signature: span_signature(4),
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

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (values, scalar) = eval_spans(
            self.name(),
            &args.args,
            args.number_rows,
            |[outer_start, outer_end, inner_start, inner_end]: [i64; 4]| {
                outer_start <= inner_start && inner_end <= outer_end
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
