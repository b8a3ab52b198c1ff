//! `span_len(start, end)`: the length `end - start` of a half-open span.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use datafusion_macros::user_doc;

use super::{eval_spans, span_signature};

#[user_doc(
    doc_section(label = "Span Functions"),
    description = "Length of the half-open byte span [start, end): end - start. NULL if an argument is NULL; an error if end < start.",
    syntax_example = "span_len(start, end)",
    sql_example = r#"```sql
> select span_len(10, 42);
32
```"#,
    argument(name = "start", description = "Integer start offset (inclusive)."),
    argument(name = "end", description = "Integer end offset (exclusive)."),
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
            signature: span_signature(2),
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

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (values, scalar) = eval_spans(
            self.name(),
            &args.args,
            args.number_rows,
            |[s, e]: [i64; 2]| e - s,
        )?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::Int64(
                values.into_iter().next().flatten(),
            )))
        } else {
            Ok(ColumnarValue::Array(Arc::new(Int64Array::from(values))))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
