//! `utf8_normalize(text [, form [, casefold [, collapse_ws]]])`: text normalized for
//! matching. The pipeline itself is [`super::normalize_text`].

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::{
    NormalForm, NormalizeOptions, Param, Utf8Output, boolean_arg, check_params, normalize_text,
    rows_for, string_arg,
};

#[user_doc(
    doc_section(label = "Text Functions"),
    description = "Normalizes text for matching, in this order: (1) Unicode normalization to form (NFC, NFD, NFKC or NFKD; default NFKC); (2) if casefold (default true), full Unicode case folding (CaseFolding.txt statuses C and F: 'ß' becomes 'ss', 'ς' and 'Σ' become 'σ', 'ﬁ' becomes 'fi'; more than lowercasing), then normalization to form again, because folding can produce unnormalized text (with the default NFKC this is NFKC(casefold(NFKC(text))), close to Unicode's NFKC_Casefold except that default-ignorable code points are kept); (3) leading and trailing whitespace removed and, if collapse_ws (default true), each inner run of whitespace replaced by one space. Whitespace is Unicode White_Space. NULL text gives NULL; a NULL option means its default. An unknown form is an error. A batch whose output would exceed 2147483647 bytes (the Utf8 limit; NFKC can expand text more than tenfold) is an error.",
    syntax_example = "utf8_normalize(text[, form[, casefold[, collapse_ws]]])",
    sql_example = r#"```sql
> select utf8_normalize('  Ｆｏｏ   Bar '), utf8_normalize('Straße'), utf8_normalize('ΣΑΣ'), utf8_normalize('Straße', 'NFC', false);
foo bar, strasse, σασ, Straße
```"#,
    argument(name = "text", description = "String to normalize."),
    argument(
        name = "form",
        description = "'NFC', 'NFD', 'NFKC' (default) or 'NFKD', ignoring case and surrounding whitespace."
    ),
    argument(
        name = "casefold",
        description = "Apply full Unicode case folding after normalization, then normalize again (default true)."
    ),
    argument(
        name = "collapse_ws",
        description = "Replace each inner whitespace run by one space (default true); leading and trailing whitespace is always removed."
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
            return exec_err!(
                "{name} expects 1 to 4 arguments (text, form, casefold, collapse_ws), got 0"
            );
        };
        let text = string_arg(name, "text", text, rows)?;
        let form = args
            .args
            .get(1)
            .map(|a| string_arg(name, "form", a, rows))
            .transpose()?;
        let casefold = args
            .args
            .get(2)
            .map(|a| boolean_arg(name, "casefold", a, rows))
            .transpose()?;
        let collapse = args
            .args
            .get(3)
            .map(|a| boolean_arg(name, "collapse_ws", a, rows))
            .transpose()?;
        let defaults = NormalizeOptions::default();
        let mut output = Utf8Output::new(name, rows, text.bytes_hint(rows));
        let mut out = String::new();
        for row in 0..rows {
            let Some(value) = text.get(row) else {
                output.append_null();
                continue;
            };
            let options = NormalizeOptions {
                form: match form.as_ref().and_then(|f| f.get(row)) {
                    Some(f) => NormalForm::parse(name, f)?,
                    None => defaults.form,
                },
                casefold: casefold
                    .and_then(|c| c.get(row))
                    .unwrap_or(defaults.casefold),
                collapse_ws: collapse
                    .and_then(|c| c.get(row))
                    .unwrap_or(defaults.collapse_ws),
            };
            normalize_text(value, options, &mut out);
            output.append_value(&out)?;
        }
        output.finish(scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        call, call_column, call_scalar, flag, flag_column, text, text_column,
    };
    use super::*;

    fn normalize(value: &str) -> Option<String> {
        call_scalar(&Utf8Normalize::default(), vec![text(Some(value))])
    }

    #[test]
    fn casefold_is_full_unicode_case_folding() {
        assert_eq!(normalize("Straße").as_deref(), Some("strasse"));
        assert_eq!(normalize("ΣΑΣ").as_deref(), Some("σασ"));
        assert_eq!(normalize("ﬁle").as_deref(), Some("file"));
        assert_eq!(normalize("Ｆｏｏ").as_deref(), Some("foo"));
        assert_eq!(normalize("  Ｆｏｏ   Bar ").as_deref(), Some("foo bar"));
    }

    #[test]
    fn options() {
        let udf = Utf8Normalize::default();
        assert_eq!(
            call_scalar(
                &udf,
                vec![
                    text(Some(" Straße  X ")),
                    text(Some("nfc")),
                    flag(Some(false))
                ]
            )
            .as_deref(),
            Some("Straße X")
        );
        assert_eq!(
            call_scalar(
                &udf,
                vec![
                    text(Some(" A \t B ")),
                    text(None),
                    flag(None),
                    flag(Some(false))
                ]
            )
            .as_deref(),
            Some("a \t b")
        );
        assert_eq!(call_scalar(&udf, vec![text(None)]), None);
    }

    #[test]
    fn options_per_row() {
        let result = call_column(
            &Utf8Normalize::default(),
            vec![
                text_column(vec![Some("ﬁ X"), Some("ﬁ X"), None, Some("ﬁ X")]),
                text(Some("NFC")),
                flag_column(vec![Some(true), Some(false), Some(true), None]),
            ],
            4,
        );
        assert_eq!(
            result,
            vec![
                Some("fi x".to_string()),
                Some("ﬁ X".to_string()),
                None,
                Some("fi x".to_string())
            ]
        );
    }

    #[test]
    fn unknown_form_is_an_error() {
        let e = call(
            &Utf8Normalize::default(),
            vec![text(Some("x")), text(Some("NFX"))],
            1,
        )
        .unwrap_err()
        .strip_backtrace();
        assert_eq!(
            e,
            "Execution error: utf8_normalize: unknown normalization form 'NFX'; accepted: NFC, NFD, NFKC, NFKD"
        );
    }
}
