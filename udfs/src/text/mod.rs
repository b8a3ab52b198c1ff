//! Text and qualified-name normalization: `utf8_normalize` and `qname_normalize`, both
//! built on [`normalize_text`].

pub mod qname_normalize;
pub mod utf8_normalize;

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ColumnarValue;
use unicode_normalization::UnicodeNormalization;

/// A Unicode normalization form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalForm {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
}

impl NormalForm {
    /// Parses a form name, case-insensitively; the error lists the accepted names.
    pub fn parse(function: &str, name: &str) -> Result<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "NFC" => Ok(Self::Nfc),
            "NFD" => Ok(Self::Nfd),
            "NFKC" => Ok(Self::Nfkc),
            "NFKD" => Ok(Self::Nfkd),
            _ => exec_err!(
                "{function}: unknown normalization form '{name}'; accepted: NFC, NFD, NFKC, NFKD"
            ),
        }
    }
}

/// Normalization options; the defaults are NFKC, case folding and whitespace collapse.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeOptions {
    pub form: NormalForm,
    pub casefold: bool,
    pub collapse_ws: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self {
            form: NormalForm::Nfkc,
            casefold: true,
            collapse_ws: true,
        }
    }
}

/// Writes the normalized `text` into `out` (cleared first): Unicode normalization, then
/// lowercase (if `casefold`), then runs of whitespace to one space (if `collapse_ws`),
/// then leading and trailing whitespace removed.
pub fn normalize_text(text: &str, options: NormalizeOptions, out: &mut String) {
    out.clear();
    let normalized: String = match options.form {
        NormalForm::Nfc => text.nfc().collect(),
        NormalForm::Nfd => text.nfd().collect(),
        NormalForm::Nfkc => text.nfkc().collect(),
        NormalForm::Nfkd => text.nfkd().collect(),
    };
    let cased = if options.casefold {
        normalized.to_lowercase()
    } else {
        normalized
    };
    if options.collapse_ws {
        for (i, word) in cased.split_whitespace().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    } else {
        out.push_str(cased.trim());
    }
}

/// One parameter of a text function: its name and whether it takes text or a flag.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param {
    Text(&'static str),
    Flag(&'static str),
}

/// Checks the argument types of a text function whose first `required` of `params` are
/// mandatory. Text parameters take any string type (Utf8, LargeUtf8, Utf8View, a
/// dictionary of them) or NULL, flags take Boolean or NULL; the types are kept as they
/// are (the function reads every string type). Anything else is a planning error naming
/// the parameter, the type given and what is accepted.
pub(crate) fn check_params(
    function: &str,
    params: &[Param],
    required: usize,
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    let names = || {
        params
            .iter()
            .map(|p| match p {
                Param::Text(n) | Param::Flag(n) => *n,
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if arg_types.len() < required || arg_types.len() > params.len() {
        return plan_err!(
            "{function} expects {required} to {} arguments ({}), got {}",
            params.len(),
            names(),
            arg_types.len()
        );
    }
    for (position, (param, data_type)) in params.iter().zip(arg_types).enumerate() {
        let (name, ok, accepted) = match param {
            Param::Text(name) => (
                name,
                is_text(data_type),
                "Utf8, LargeUtf8, Utf8View, a dictionary of them, or NULL",
            ),
            Param::Flag(name) => (
                name,
                matches!(data_type, DataType::Boolean | DataType::Null),
                "Boolean or NULL",
            ),
        };
        if !ok {
            return plan_err!(
                "{function}: argument {} ({name}) has type {data_type}; accepted: {accepted}",
                position + 1
            );
        }
    }
    Ok(arg_types.to_vec())
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// The argument as a Utf8 array of `rows` rows (any string type or NULL accepted).
pub(crate) fn string_arg(
    function: &str,
    value: &ColumnarValue,
    rows: usize,
) -> Result<StringArray> {
    let array = value.to_array(rows)?;
    match array.data_type() {
        DataType::Utf8 => Ok(array.as_string::<i32>().clone()),
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Null | DataType::Dictionary(_, _) => {
            to_utf8(function, &array)
        }
        other => exec_err!("{function}: expected a string argument, got {other}"),
    }
}

fn to_utf8(function: &str, array: &ArrayRef) -> Result<StringArray> {
    match cast(array, &DataType::Utf8) {
        Ok(utf8) => Ok(utf8.as_string::<i32>().clone()),
        Err(e) => exec_err!(
            "{function}: cannot read {} as a string: {e}",
            array.data_type()
        ),
    }
}

/// The argument as a Boolean array of `rows` rows.
pub(crate) fn boolean_arg(
    function: &str,
    value: &ColumnarValue,
    rows: usize,
) -> Result<BooleanArray> {
    let array = value.to_array(rows)?;
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().clone()),
        DataType::Null => Ok(BooleanArray::new_null(rows)),
        other => exec_err!("{function}: expected a boolean argument, got {other}"),
    }
}

/// One row if every argument is a scalar, else the batch size.
pub(crate) fn rows_for(args: &[ColumnarValue], number_rows: usize) -> (usize, bool) {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    if all_scalar {
        (1, true)
    } else {
        (number_rows, false)
    }
}
