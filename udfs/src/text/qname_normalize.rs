//! `qname_normalize(symbol [, module])`: a comparable qualified name.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::{NormalizeOptions, Param, check_params, normalize_text, rows_for, string_arg};

#[user_doc(
    doc_section(label = "Text Functions"),
    description = "Qualified-name normalization: symbol and module are normalized as by utf8_normalize with its defaults (NFKC, lowercase, whitespace collapsed, trimmed). An empty or NULL symbol gives NULL. If the symbol already contains '.' or the module is NULL or empty, the symbol is returned; otherwise 'module.symbol'.",
    syntax_example = "qname_normalize(symbol[, module])",
    sql_example = r#"```sql
> select qname_normalize(' Foo ', 'Pkg.Mod'), qname_normalize('os.path', 'x');
pkg.mod.foo, os.path
```"#,
    argument(
        name = "symbol",
        description = "Symbol name, possibly already qualified."
    ),
    argument(
        name = "module",
        description = "Module that qualifies an unqualified symbol."
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
const PARAMS: &[Param] = &[Param::Text("symbol"), Param::Text("module")];

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
            return exec_err!("{name} expects a symbol argument");
        };
        let symbol = string_arg(name, symbol, rows)?;
        let module = args
            .args
            .get(1)
            .map(|a| string_arg(name, a, rows))
            .transpose()?;
        let options = NormalizeOptions::default();
        let mut builder = StringBuilder::with_capacity(rows, symbol.value_data().len());
        let (mut sym, mut module_text) = (String::new(), String::new());
        for row in 0..rows {
            if symbol.is_null(row) {
                builder.append_null();
                continue;
            }
            normalize_text(symbol.value(row), options, &mut sym);
            module_text.clear();
            if let Some(m) = module.as_ref().filter(|m| m.is_valid(row)) {
                normalize_text(m.value(row), options, &mut module_text);
            }
            if sym.is_empty() {
                builder.append_null();
            } else if sym.contains('.') || module_text.is_empty() {
                builder.append_value(&sym);
            } else {
                builder.append_value(format!("{module_text}.{sym}"));
            }
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
