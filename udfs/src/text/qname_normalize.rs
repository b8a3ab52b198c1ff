//! `qname_normalize(symbol [, module [, lowercase]])`: a comparable qualified name. This
//! module owns the qualified-name rules (dots, qualification); text normalization is
//! [`super::normalize_text`].

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
    description = "Qualified-name normalization. The symbol and the module are each cleaned the same way: (1) Unicode NFKC normalization (so a fullwidth '．' is a dot); (2) only if lowercase is true, full Unicode case folding followed by NFKC again, as utf8_normalize's casefold ('Parser' becomes 'parser', 'ß' becomes 'ss'); by default case is kept, since symbols of case-sensitive languages differ by case; (3) leading and trailing whitespace removed and each inner whitespace run replaced by one space; (4) whitespace around dots removed, runs of dots collapsed into one dot, leading and trailing dots removed (' a . .b.. ' becomes 'a.b'). A NULL symbol, or one that is empty after cleaning (e.g. '...'), gives NULL. Then: if the cleaned symbol contains '.', or the module is NULL or empty after cleaning, the result is the cleaned symbol; otherwise it is 'module.symbol'.",
    syntax_example = "qname_normalize(symbol[, module[, lowercase]])",
    sql_example = r#"```sql
> select qname_normalize('Parser', 'json.decoder'), qname_normalize(' a . .b.. '), qname_normalize('os.path', 'x'), qname_normalize('Parser', 'json.decoder', true), qname_normalize('...');
json.decoder.Parser, a.b, os.path, json.decoder.parser, NULL
```"#,
    argument(
        name = "symbol",
        description = "Symbol name, possibly already qualified (containing '.')."
    ),
    argument(
        name = "module",
        description = "Module that qualifies an unqualified symbol; NULL or empty for none."
    ),
    argument(
        name = "lowercase",
        description = "Case-fold symbol and module (default false; NULL means false)."
    ),
    related_udf(name = "utf8_normalize")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct QnameNormalize {
    signature: Signature,
}

impl Default for QnameNormalize {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The parameters, in order; only the first is required.
const PARAMS: &[Param] = &[
    Param::Text("symbol"),
    Param::Text("module"),
    Param::Flag("lowercase"),
];

impl ScalarUDFImpl for QnameNormalize {
    fn name(&self) -> &str {
        "qname_normalize"
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
        let Some(symbol) = args.args.first() else {
            return exec_err!("{name} expects 1 to 3 arguments (symbol, module, lowercase), got 0");
        };
        let symbols = string_arg(name, "symbol", symbol, rows)?;
        let modules = args
            .args
            .get(1)
            .map(|a| string_arg(name, "module", a, rows))
            .transpose()?;
        let lowercases = args
            .args
            .get(2)
            .map(|a| boolean_arg(name, "lowercase", a, rows))
            .transpose()?;
        // The qualified name adds the module and a dot to the symbol.
        let hint = symbols
            .bytes_hint(rows)
            .saturating_add(modules.as_ref().map_or(0, |m| m.bytes_hint(rows)));
        let mut output = Utf8Output::new(name, rows, hint);
        let mut buffers = QnameBuffers::default();
        for row in 0..rows {
            let Some(symbol) = symbols.get(row) else {
                output.append_null();
                continue;
            };
            let module = modules.as_ref().and_then(|m| m.get(row));
            let lowercase = lowercases.and_then(|l| l.get(row)).unwrap_or(false);
            match buffers.qualify(symbol, module, lowercase) {
                Some(qname) => output.append_value(qname)?,
                None => output.append_null(),
            }
        }
        output.finish(scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Buffers reused from row to row, so that a row allocates nothing once they have grown.
#[derive(Debug, Default)]
struct QnameBuffers {
    normalized: String,
    symbol: String,
    module: String,
    qualified: String,
}

impl QnameBuffers {
    /// The qualified name of one row, or `None` (NULL) when the symbol cleans to nothing.
    fn qualify(&mut self, symbol: &str, module: Option<&str>, lowercase: bool) -> Option<&str> {
        let options = NormalizeOptions {
            form: NormalForm::Nfkc,
            casefold: lowercase,
            collapse_ws: true,
        };
        normalize_text(symbol, options, &mut self.normalized);
        clean_dots(&self.normalized, &mut self.symbol);
        if self.symbol.is_empty() {
            return None;
        }
        // An already qualified symbol ignores the module, so it is not even cleaned.
        if self.symbol.contains('.') {
            return Some(self.symbol.as_str());
        }
        self.module.clear();
        if let Some(module) = module {
            normalize_text(module, options, &mut self.normalized);
            clean_dots(&self.normalized, &mut self.module);
        }
        if self.module.is_empty() {
            return Some(self.symbol.as_str());
        }
        self.qualified.clear();
        self.qualified.push_str(&self.module);
        self.qualified.push('.');
        self.qualified.push_str(&self.symbol);
        Some(self.qualified.as_str())
    }
}

/// Writes `name` into `out` (cleared first) as its non-empty dot-separated parts, each
/// without surrounding whitespace, joined by single dots. This one rule removes
/// whitespace around dots, collapses runs of dots (the parts between them are empty)
/// and drops leading and trailing dots (the parts before and after them are empty).
fn clean_dots(name: &str, out: &mut String) {
    out.clear();
    for part in name.split('.').map(str::trim).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        call_column, call_scalar, flag, flag_column, text, text_column,
    };
    use super::*;

    fn qname(symbol: Option<&str>, module: Option<&str>) -> Option<String> {
        call_scalar(&QnameNormalize::default(), vec![text(symbol), text(module)])
    }

    fn cleaned(name: &str) -> String {
        let mut out = String::from("left over");
        clean_dots(name, &mut out);
        out
    }

    #[test]
    fn dot_rules() {
        assert_eq!(cleaned(" a . .b.. "), "a.b");
        assert_eq!(cleaned("a..b"), "a.b");
        assert_eq!(cleaned(".a.b."), "a.b");
        assert_eq!(cleaned("a . b"), "a.b");
        assert_eq!(cleaned("..."), "");
        assert_eq!(cleaned(" . "), "");
        assert_eq!(cleaned("a b.c"), "a b.c");
        assert_eq!(cleaned(""), "");
    }

    #[test]
    fn qualifies_and_keeps_case() {
        assert_eq!(
            qname(Some("Parser"), Some("json.decoder")).as_deref(),
            Some("json.decoder.Parser")
        );
        assert_eq!(qname(Some("Foo"), None).as_deref(), Some("Foo"));
        assert_eq!(qname(Some("foo"), None).as_deref(), Some("foo"));
        assert_eq!(
            qname(Some("os.path"), Some("x")).as_deref(),
            Some("os.path")
        );
        assert_eq!(
            qname(Some(" Foo "), Some(" Pkg . Mod. ")).as_deref(),
            Some("Pkg.Mod.Foo")
        );
        assert_eq!(qname(Some("Foo"), Some(" .. ")).as_deref(), Some("Foo"));
    }

    #[test]
    fn cleans_dots_and_spaces() {
        assert_eq!(qname(Some(" a . .b.. "), None).as_deref(), Some("a.b"));
        // The cleaned symbol contains a dot, so the module is not added.
        assert_eq!(qname(Some(" a . .b.. "), Some("m")).as_deref(), Some("a.b"));
        // A leading dot is not a qualification once removed.
        assert_eq!(qname(Some(".Foo"), Some("m")).as_deref(), Some("m.Foo"));
        // NFKC turns a fullwidth full stop into a dot.
        assert_eq!(qname(Some("a\u{FF0E}b"), None).as_deref(), Some("a.b"));
    }

    #[test]
    fn empty_symbol_is_null() {
        assert_eq!(qname(Some("..."), Some("m")), None);
        assert_eq!(qname(Some("   "), Some("m")), None);
        assert_eq!(qname(Some(""), None), None);
        assert_eq!(qname(None, Some("m")), None);
    }

    #[test]
    fn lowercase_is_opt_in() {
        let udf = QnameNormalize::default();
        assert_eq!(
            call_scalar(
                &udf,
                vec![
                    text(Some("Parser")),
                    text(Some("JSON.Decoder")),
                    flag(Some(true))
                ]
            )
            .as_deref(),
            Some("json.decoder.parser")
        );
        assert_eq!(
            call_scalar(
                &udf,
                vec![
                    text(Some("Parser")),
                    text(Some("JSON.Decoder")),
                    flag(Some(false))
                ]
            )
            .as_deref(),
            Some("JSON.Decoder.Parser")
        );
        assert_eq!(
            call_scalar(&udf, vec![text(Some("Parser")), text(None), flag(None)]).as_deref(),
            Some("Parser")
        );
        let result = call_column(
            &udf,
            vec![
                text_column(vec![Some("A"), Some("A"), Some("A")]),
                text(Some("M")),
                flag_column(vec![Some(true), Some(false), None]),
            ],
            3,
        );
        assert_eq!(
            result,
            vec![
                Some("m.a".to_string()),
                Some("M.A".to_string()),
                Some("M.A".to_string())
            ]
        );
    }

    #[test]
    fn too_many_arguments_is_a_planning_error() {
        let types = vec![
            DataType::Utf8,
            DataType::Utf8,
            DataType::Boolean,
            DataType::Utf8,
        ];
        assert_eq!(
            QnameNormalize::default()
                .coerce_types(&types)
                .unwrap_err()
                .strip_backtrace(),
            "Error during planning: qname_normalize expects 1 to 3 arguments (symbol, module, lowercase), got 4"
        );
        let types = vec![DataType::Utf8, DataType::Utf8, DataType::Utf8];
        assert_eq!(
            QnameNormalize::default()
                .coerce_types(&types)
                .unwrap_err()
                .strip_backtrace(),
            "Error during planning: qname_normalize: argument 3 (lowercase) has type Utf8; accepted: Boolean or NULL"
        );
    }
}
