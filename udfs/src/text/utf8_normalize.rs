//! `utf8_normalize(text [, form [, casefold [, collapse_ws]]])`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::{
    NormalForm, NormalizeOptions, Param, boolean_arg, check_params, normalize_text, rows_for,
    string_arg,
};

#[user_doc(
    doc_section(label = "Text Functions"),
    description = "Normalizes text for matching: Unicode normalization (form NFC, NFD, NFKC or NFKD; default NFKC), then lowercase (casefold, default true), then runs of whitespace collapsed to one space (collapse_ws, default true), then leading and trailing whitespace trimmed. NULL text gives NULL; a NULL option means its default.",
    syntax_example = "utf8_normalize(text[, form[, casefold[, collapse_ws]]])",
    sql_example = r#"```sql
> select utf8_normalize('  Ｆｏｏ   Bar ');
foo bar
```"#,
    argument(name = "text", description = "String to normalize."),
    argument(
        name = "form",
        description = "'NFC', 'NFD', 'NFKC' (default) or 'NFKD'."
    ),
    argument(name = "casefold", description = "Lowercase the text (default true)."),
    argument(
        name = "collapse_ws",
        description = "Collapse whitespace runs to one space (default true)."
    ),
    related_udf(name = "qname_normalize")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Utf8Normalize {
    signature: Signature,
}

impl Default for Utf8Normalize {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The parameters, in order; only the first is required.
const PARAMS: &[Param] = &[
    Param::Text("text"),
    Param::Text("form"),
    Param::Flag("casefold"),
    Param::Flag("collapse_ws"),
];

impl ScalarUDFImpl for Utf8Normalize {
    fn name(&self) -> &str {
        "utf8_normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_params(self.name(), PARAMS, 1, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.name();
        let (rows, scalar) = rows_for(&args.args, args.number_rows);
        let Some(text) = args.args.first() else {
            return exec_err!("{name} expects a text argument");
        };
        let text = string_arg(name, text, rows)?;
        let form = args
            .args
            .get(1)
            .map(|a| string_arg(name, a, rows))
            .transpose()?;
        let casefold = args
            .args
            .get(2)
            .map(|a| boolean_arg(name, a, rows))
            .transpose()?;
        let collapse = args
            .args
            .get(3)
            .map(|a| boolean_arg(name, a, rows))
            .transpose()?;
        let defaults = NormalizeOptions::default();
        let mut builder = StringBuilder::with_capacity(rows, text.value_data().len());
        let mut out = String::new();
        for row in 0..rows {
            if text.is_null(row) {
                builder.append_null();
                continue;
            }
            let options = NormalizeOptions {
                form: match &form {
                    Some(f) if f.is_valid(row) => NormalForm::parse(name, f.value(row))?,
                    _ => defaults.form,
                },
                casefold: match &casefold {
                    Some(c) if c.is_valid(row) => c.value(row),
                    _ => defaults.casefold,
                },
                collapse_ws: match &collapse {
                    Some(c) if c.is_valid(row) => c.value(row),
                    _ => defaults.collapse_ws,
                },
            };
            normalize_text(text.value(row), options, &mut out);
            builder.append_value(&out);
        }
        let array = builder.finish();
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(array)))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
