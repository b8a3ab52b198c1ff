//! Text and qualified-name normalization: `utf8_normalize` and `qname_normalize`.
//!
//! This module owns what the two share: the normalization pipeline ([`normalize_text`]:
//! Unicode normalization, full Unicode case folding, whitespace), checking and reading
//! their arguments (every string type, read in place rather than cast), and
//! `Utf8Output`, the result builder that returns an error naming the function, instead
//! of panicking, when a batch's text would outgrow the 32-bit offsets of a Utf8 array.

pub mod qname_normalize;
pub mod utf8_normalize;

use std::sync::Arc;

use caseless::Caseless;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericStringArray, LargeStringArray, OffsetSizeTrait,
    StringArray, StringBuilder, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{ArrowNativeType, DataType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
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
    /// Parses a form name, ignoring ASCII case and surrounding whitespace; the error
    /// lists the accepted names.
    pub fn parse(function: &str, name: &str) -> Result<Self> {
        // Compared in place: this runs once per row when the form is a column.
        let trimmed = name.trim();
        for (candidate, form) in [
            ("NFC", Self::Nfc),
            ("NFD", Self::Nfd),
            ("NFKC", Self::Nfkc),
            ("NFKD", Self::Nfkd),
        ] {
            if trimmed.eq_ignore_ascii_case(candidate) {
                return Ok(form);
            }
        }
        exec_err!("{function}: unknown normalization form '{name}'; accepted: NFC, NFD, NFKC, NFKD")
    }
}

/// Normalization options; the defaults are NFKC, case folding and whitespace collapse.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeOptions {
    pub form: NormalForm,
    /// Full Unicode case folding (not just lowercasing), see [`normalize_text`].
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

/// Writes the normalized `text` into `out` (cleared first), in this order:
///
/// 1. Unicode normalization to `options.form`.
/// 2. If `casefold`: full Unicode case folding (CaseFolding.txt statuses C and F, as
///    implemented by the `caseless` crate: 'ß' becomes "ss", 'ς' and 'Σ' become 'σ',
///    'ﬁ' becomes "fi"), then normalization to `options.form` again, because folding can
///    produce text that is not normalized. For the default NFKC this is
///    NFKC(fold(NFKC(text))), close to Unicode's NFKC_Casefold except that default
///    ignorable code points are kept.
/// 3. Whitespace (`char::is_whitespace`): leading and trailing whitespace removed and,
///    if `collapse_ws`, every inner run replaced by one space.
///
/// The steps stream into `out` without intermediate strings.
pub fn normalize_text(text: &str, options: NormalizeOptions, out: &mut String) {
    out.clear();
    match options.form {
        NormalForm::Nfc => fold_and_finish(text.nfc(), options, out),
        NormalForm::Nfd => fold_and_finish(text.nfd(), options, out),
        NormalForm::Nfkc => fold_and_finish(text.nfkc(), options, out),
        NormalForm::Nfkd => fold_and_finish(text.nfkd(), options, out),
    }
}

/// Steps 2 and 3 of [`normalize_text`] on already normalized characters.
fn fold_and_finish(
    normalized: impl Iterator<Item = char>,
    options: NormalizeOptions,
    out: &mut String,
) {
    let collapse_ws = options.collapse_ws;
    if options.casefold {
        let folded = normalized.default_case_fold();
        match options.form {
            NormalForm::Nfc => push_trimmed(folded.nfc(), collapse_ws, out),
            NormalForm::Nfd => push_trimmed(folded.nfd(), collapse_ws, out),
            NormalForm::Nfkc => push_trimmed(folded.nfkc(), collapse_ws, out),
            NormalForm::Nfkd => push_trimmed(folded.nfkd(), collapse_ws, out),
        }
    } else {
        push_trimmed(normalized, collapse_ws, out);
    }
}

/// Appends `chars` to the empty `out` without leading or trailing whitespace and, if
/// `collapse_ws`, with each inner whitespace run as one space.
fn push_trimmed(chars: impl Iterator<Item = char>, collapse_ws: bool, out: &mut String) {
    // A run is written only once a non-whitespace character follows it, so leading and
    // trailing runs never reach `out`.
    let mut pending_space = false;
    for c in chars {
        if !c.is_whitespace() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        } else if collapse_ws {
            pending_space = !out.is_empty();
        } else if !out.is_empty() {
            out.push(c);
        }
    }
    if !collapse_ws {
        let kept = out.trim_end().len();
        out.truncate(kept);
    }
}

/// One parameter of a text function: its name and whether it takes text or a flag.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param {
    Text(&'static str),
    Flag(&'static str),
}

impl Param {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Param::Text(n) | Param::Flag(n) => n,
        }
    }
}

/// Text parameters accept these types.
const TEXT_TYPES: &str = "Utf8, LargeUtf8, Utf8View, a dictionary of them, or NULL";

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
    if arg_types.len() < required || arg_types.len() > params.len() {
        return plan_err!(
            "{function} expects {required} to {} arguments ({}), got {}",
            params.len(),
            param_names(params),
            arg_types.len()
        );
    }
    for (position, (param, data_type)) in params.iter().zip(arg_types).enumerate() {
        let (ok, accepted) = match param {
            Param::Text(_) => (is_text(data_type), TEXT_TYPES),
            Param::Flag(_) => (
                matches!(data_type, DataType::Boolean | DataType::Null),
                "Boolean or NULL",
            ),
        };
        if !ok {
            return plan_err!(
                "{function}: argument {} ({}) has type {data_type}; accepted: {accepted}",
                position + 1,
                param.name()
            );
        }
    }
    Ok(arg_types.to_vec())
}

fn param_names(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// One text argument, read where it is: a scalar is not repeated into an array of the
/// batch size, and no string array is cast, since a cast to Utf8 can fail on data a
/// LargeUtf8 or Utf8View array holds.
pub(crate) enum StrArg<'a> {
    Scalar(Option<&'a str>),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    /// A dictionary, unpacked to LargeUtf8 so that the values fit whatever their size.
    Unpacked(LargeStringArray),
}

impl StrArg<'_> {
    /// The value at `row`; NULL (`None`) also for a row past the end, which
    /// [`string_arg`]'s length check rules out.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        match self {
            StrArg::Scalar(v) => *v,
            StrArg::Utf8(a) => string_at(*a, row),
            StrArg::LargeUtf8(a) => string_at(*a, row),
            StrArg::Utf8View(a) => (row < a.len() && a.is_valid(row)).then(|| a.value(row)),
            StrArg::Unpacked(a) => string_at(a, row),
        }
    }

    /// Bytes of text in the argument's `rows` rows, as a capacity hint for the output.
    pub(crate) fn bytes_hint(&self, rows: usize) -> usize {
        match self {
            StrArg::Scalar(v) => v.map_or(0, str::len).saturating_mul(rows),
            StrArg::Utf8(a) => offsets_span(*a),
            StrArg::LargeUtf8(a) => offsets_span(*a),
            StrArg::Utf8View(a) => a.total_buffer_bytes_used(),
            StrArg::Unpacked(a) => offsets_span(a),
        }
    }
}

#[inline]
fn string_at<O: OffsetSizeTrait>(array: &GenericStringArray<O>, row: usize) -> Option<&str> {
    (row < array.len() && array.is_valid(row)).then(|| array.value(row))
}

/// The bytes between the array's first and last offsets: its text, even when sliced.
fn offsets_span<O: OffsetSizeTrait>(array: &GenericStringArray<O>) -> usize {
    let offsets = array.value_offsets();
    match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => {
            ArrowNativeType::as_usize(*last).saturating_sub(ArrowNativeType::as_usize(*first))
        }
        _ => 0,
    }
}

/// Reads argument `param` of `function` as text over `rows` rows.
pub(crate) fn string_arg<'a>(
    function: &str,
    param: &str,
    value: &'a ColumnarValue,
    rows: usize,
) -> Result<StrArg<'a>> {
    let array = match value {
        ColumnarValue::Scalar(scalar) => {
            return scalar_str(function, param, scalar).map(StrArg::Scalar);
        }
        ColumnarValue::Array(array) => array,
    };
    check_rows(function, param, array, rows)?;
    if let Some(a) = array.as_string_opt::<i32>() {
        return Ok(StrArg::Utf8(a));
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Ok(StrArg::LargeUtf8(a));
    }
    if let Some(a) = array.as_string_view_opt() {
        return Ok(StrArg::Utf8View(a));
    }
    match array.data_type() {
        DataType::Null => Ok(StrArg::Scalar(None)),
        DataType::Dictionary(_, values) if is_text(values) => unpack(function, param, array),
        other => exec_err!("{function}: argument {param} has type {other}; accepted: {TEXT_TYPES}"),
    }
}

fn scalar_str<'a>(function: &str, param: &str, value: &'a ScalarValue) -> Result<Option<&'a str>> {
    match value {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
            Ok(v.as_deref())
        }
        ScalarValue::Null => Ok(None),
        ScalarValue::Dictionary(_, inner) => scalar_str(function, param, inner),
        other => exec_err!(
            "{function}: argument {param} has type {}; accepted: {TEXT_TYPES}",
            other.data_type()
        ),
    }
}

fn unpack<'a>(function: &str, param: &str, array: &ArrayRef) -> Result<StrArg<'a>> {
    let unpacked = match cast(array, &DataType::LargeUtf8) {
        Ok(unpacked) => unpacked,
        Err(e) => {
            return exec_err!(
                "{function}: cannot read argument {param} of type {} as text: {e}",
                array.data_type()
            );
        }
    };
    match unpacked.as_string_opt::<i64>() {
        Some(a) => Ok(StrArg::Unpacked(a.clone())),
        None => exec_err!(
            "{function}: cannot read argument {param} of type {} as text: the cast gave {}",
            array.data_type(),
            unpacked.data_type()
        ),
    }
}

/// One flag argument, read where it is.
#[derive(Clone, Copy)]
pub(crate) enum BoolArg<'a> {
    Scalar(Option<bool>),
    Array(&'a BooleanArray),
}

impl BoolArg<'_> {
    /// The value at `row`; NULL (`None`) also for a row past the end, which
    /// [`boolean_arg`]'s length check rules out.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<bool> {
        match self {
            BoolArg::Scalar(v) => *v,
            BoolArg::Array(a) => (row < a.len() && a.is_valid(row)).then(|| a.value(row)),
        }
    }
}

/// Reads argument `param` of `function` as a flag over `rows` rows.
pub(crate) fn boolean_arg<'a>(
    function: &str,
    param: &str,
    value: &'a ColumnarValue,
    rows: usize,
) -> Result<BoolArg<'a>> {
    match value {
        ColumnarValue::Scalar(ScalarValue::Boolean(v)) => Ok(BoolArg::Scalar(*v)),
        ColumnarValue::Scalar(ScalarValue::Null) => Ok(BoolArg::Scalar(None)),
        ColumnarValue::Scalar(other) => exec_err!(
            "{function}: argument {param} has type {}; accepted: Boolean or NULL",
            other.data_type()
        ),
        ColumnarValue::Array(array) => {
            check_rows(function, param, array, rows)?;
            match array.as_boolean_opt() {
                Some(a) => Ok(BoolArg::Array(a)),
                None if array.data_type() == &DataType::Null => Ok(BoolArg::Scalar(None)),
                None => exec_err!(
                    "{function}: argument {param} has type {}; accepted: Boolean or NULL",
                    array.data_type()
                ),
            }
        }
    }
}

fn check_rows(function: &str, param: &str, array: &ArrayRef, rows: usize) -> Result<()> {
    if array.len() == rows {
        Ok(())
    } else {
        exec_err!(
            "{function}: argument {param} has {} rows; accepted: {rows} (the batch size)",
            array.len()
        )
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

/// The most bytes of text one Utf8 array can hold: its offsets are i32.
pub(crate) const UTF8_MAX_BYTES: usize = i32::MAX as usize;

/// `used + extra`, the text bytes of an output after appending `extra` more, if a Utf8
/// array can address them; otherwise an error naming `function` and the size.
pub(crate) fn checked_utf8_len(function: &str, used: usize, extra: usize) -> Result<usize> {
    match used.checked_add(extra) {
        Some(total) if total <= UTF8_MAX_BYTES => Ok(total),
        // u128 so that the size in the message is exact even past usize::MAX.
        _ => exec_err!(
            "{function}: output too large: {} bytes of text in one batch; accepted: at most {UTF8_MAX_BYTES} bytes per batch (Utf8 offsets are 32-bit); use a smaller datafusion.execution.batch_size",
            used as u128 + extra as u128
        ),
    }
}

/// A Utf8 result under construction. Arrow's `StringBuilder` panics once its offsets
/// overflow i32; this one counts the bytes first and returns an error instead.
pub(crate) struct Utf8Output<'f> {
    function: &'f str,
    builder: StringBuilder,
    bytes: usize,
}

impl<'f> Utf8Output<'f> {
    pub(crate) fn new(function: &'f str, rows: usize, bytes_hint: usize) -> Self {
        Self {
            function,
            builder: StringBuilder::with_capacity(rows, bytes_hint.min(UTF8_MAX_BYTES)),
            bytes: 0,
        }
    }

    pub(crate) fn append_value(&mut self, value: &str) -> Result<()> {
        self.bytes = checked_utf8_len(self.function, self.bytes, value.len())?;
        self.builder.append_value(value);
        Ok(())
    }

    pub(crate) fn append_null(&mut self) {
        self.builder.append_null();
    }

    /// The result: the single row as a scalar if `scalar`, else the array.
    pub(crate) fn finish(mut self, scalar: bool) -> Result<ColumnarValue> {
        let array = self.builder.finish();
        if scalar {
            ScalarValue::try_from_array(&array, 0).map(ColumnarValue::Scalar)
        } else {
            Ok(ColumnarValue::Array(Arc::new(array)))
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Calling a text function the way DataFusion's executor does.

    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{ColumnarValue, ScalarUDFImpl};

    pub(crate) fn text(value: Option<&str>) -> (ColumnarValue, FieldRef) {
        (
            ColumnarValue::Scalar(ScalarValue::Utf8(value.map(str::to_string))),
            Arc::new(Field::new("lit", DataType::Utf8, value.is_none())),
        )
    }

    pub(crate) fn flag(value: Option<bool>) -> (ColumnarValue, FieldRef) {
        (
            ColumnarValue::Scalar(ScalarValue::Boolean(value)),
            Arc::new(Field::new("lit", DataType::Boolean, value.is_none())),
        )
    }

    pub(crate) fn text_column(values: Vec<Option<&str>>) -> (ColumnarValue, FieldRef) {
        let array: ArrayRef = Arc::new(StringArray::from(values));
        (
            ColumnarValue::Array(array),
            Arc::new(Field::new("c", DataType::Utf8, true)),
        )
    }

    pub(crate) fn flag_column(values: Vec<Option<bool>>) -> (ColumnarValue, FieldRef) {
        let array: ArrayRef = Arc::new(BooleanArray::from(values));
        (
            ColumnarValue::Array(array),
            Arc::new(Field::new("f", DataType::Boolean, true)),
        )
    }

    pub(crate) use crate::test_support::call;

    /// The function's result on scalar arguments, which must be a Utf8 scalar.
    pub(crate) fn call_scalar(
        udf: &dyn ScalarUDFImpl,
        args: Vec<(ColumnarValue, FieldRef)>,
    ) -> Option<String> {
        match call(udf, args, 1).unwrap() {
            ColumnarValue::Scalar(ScalarValue::Utf8(v)) => v,
            other => panic!("expected a Utf8 scalar, got {other:?}"),
        }
    }

    /// The function's result on column arguments, which must be a Utf8 array.
    pub(crate) fn call_column(
        udf: &dyn ScalarUDFImpl,
        args: Vec<(ColumnarValue, FieldRef)>,
        number_rows: usize,
    ) -> Vec<Option<String>> {
        match call(udf, args, number_rows).unwrap() {
            ColumnarValue::Array(a) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
            other => panic!("expected a Utf8 array, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str, options: NormalizeOptions) -> String {
        let mut out = String::from("left over");
        normalize_text(text, options, &mut out);
        out
    }

    #[test]
    fn full_case_folding() {
        let d = NormalizeOptions::default();
        assert_eq!(normalized("Straße", d), "strasse");
        assert_eq!(normalized("ΣΑΣ", d), "σασ");
        assert_eq!(normalized("ὀδυσσεύς", d), normalized("ὈΔΥΣΣΕΎΣ", d));
        assert_eq!(normalized("ς", d), "σ");
        assert_eq!(normalized("ﬁle", d), "file");
        assert_eq!(normalized("Ｆｏｏ", d), "foo");
        assert_eq!(normalized("  Ｆｏｏ   Bar ", d), "foo bar");
        // Folding without compatibility normalization still folds ﬁ.
        let nfc = NormalizeOptions {
            form: NormalForm::Nfc,
            ..d
        };
        assert_eq!(normalized("ﬁle", nfc), "file");
        assert_eq!(normalized("Ｆｏｏ", nfc), "ｆｏｏ");
    }

    #[test]
    fn folding_is_renormalized() {
        // ǰ (U+01F0) folds to "j" + U+030C; without the second normalization NFC output
        // would be decomposed.
        let nfc = NormalizeOptions {
            form: NormalForm::Nfc,
            ..NormalizeOptions::default()
        };
        assert_eq!(normalized("\u{1F0}", nfc), "\u{1F0}");
        let nfd = NormalizeOptions {
            form: NormalForm::Nfd,
            ..nfc
        };
        assert_eq!(normalized("\u{1F0}", nfd), "j\u{30C}");
        // U+1E9E (capital sharp s) folds to "ss"; İ (U+0130) folds to "i" + U+0307,
        // which has no precomposed form.
        assert_eq!(normalized("\u{1E9E}", nfc), "ss");
        assert_eq!(normalized("\u{130}", nfc), "i\u{307}");
        // The Angstrom sign is canonically Å (U+00C5), which folds to å (U+00E5).
        assert_eq!(normalized("\u{212B}", nfc), "\u{E5}");
        assert_eq!(normalized("\u{212B}", nfd), "a\u{30A}");
    }

    #[test]
    fn case_kept_without_casefold() {
        let keep = NormalizeOptions {
            casefold: false,
            ..NormalizeOptions::default()
        };
        assert_eq!(normalized(" Straße  X ", keep), "Straße X");
    }

    #[test]
    fn whitespace() {
        let collapse = NormalizeOptions::default();
        let keep = NormalizeOptions {
            collapse_ws: false,
            ..collapse
        };
        assert_eq!(normalized(" \t a \n\n b \u{3000}", collapse), "a b");
        assert_eq!(normalized(" \t a \n\n b \u{3000}", keep), "a \n\n b");
        assert_eq!(normalized("   ", collapse), "");
        assert_eq!(normalized("   ", keep), "");
        assert_eq!(normalized("", keep), "");
    }

    #[test]
    fn form_names() {
        assert_eq!(NormalForm::parse("f", " nfkd ").unwrap(), NormalForm::Nfkd);
        assert_eq!(NormalForm::parse("f", "NfC").unwrap(), NormalForm::Nfc);
        assert_eq!(
            NormalForm::parse("f", "NFX").unwrap_err().strip_backtrace(),
            "Execution error: f: unknown normalization form 'NFX'; accepted: NFC, NFD, NFKC, NFKD"
        );
    }

    #[test]
    fn utf8_length_limit() {
        let max = UTF8_MAX_BYTES;
        assert_eq!(max, 2_147_483_647);
        assert_eq!(checked_utf8_len("f", 0, 0).unwrap(), 0);
        assert_eq!(checked_utf8_len("f", max - 1, 1).unwrap(), max);
        assert_eq!(checked_utf8_len("f", 0, max).unwrap(), max);
        assert_eq!(
            checked_utf8_len("utf8_normalize", max, 1)
                .unwrap_err()
                .strip_backtrace(),
            "Execution error: utf8_normalize: output too large: 2147483648 bytes of text in one batch; accepted: at most 2147483647 bytes per batch (Utf8 offsets are 32-bit); use a smaller datafusion.execution.batch_size"
        );
        assert_eq!(
            checked_utf8_len("f", 1_500_000_000, 1_500_000_000)
                .unwrap_err()
                .strip_backtrace(),
            "Execution error: f: output too large: 3000000000 bytes of text in one batch; accepted: at most 2147483647 bytes per batch (Utf8 offsets are 32-bit); use a smaller datafusion.execution.batch_size"
        );
        // Past usize::MAX the sum does not wrap into a small, accepted number.
        let e = checked_utf8_len("f", usize::MAX, 2)
            .unwrap_err()
            .strip_backtrace();
        assert!(
            e.contains(&format!("{} bytes", usize::MAX as u128 + 2)),
            "{e}"
        );
    }

    #[test]
    fn output_refuses_what_it_cannot_hold() {
        let mut output = Utf8Output::new("f", 2, 0);
        output.append_value("abc").unwrap();
        // Pretend the batch already holds almost 2 GiB, without allocating it.
        output.bytes = UTF8_MAX_BYTES - 2;
        assert!(output.append_value("abc").is_err());
        output.append_value("ab").unwrap();
        output.append_null();
        match output.finish(false).unwrap() {
            ColumnarValue::Array(a) => {
                let strings = a.as_string::<i32>();
                assert_eq!(
                    strings.iter().collect::<Vec<_>>(),
                    vec![Some("abc"), Some("ab"), None]
                );
            }
            other => panic!("expected an array, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_string_type() {
        let values = vec![Some("a"), None, Some("c")];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(values.clone())),
            Arc::new(LargeStringArray::from(values.clone())),
            Arc::new(StringViewArray::from(values.clone())),
            cast(
                &(Arc::new(StringArray::from(values.clone())) as ArrayRef),
                &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            )
            .unwrap(),
        ];
        for array in arrays {
            let data_type = array.data_type().clone();
            let value = ColumnarValue::Array(array);
            let arg = string_arg("f", "text", &value, 3).unwrap();
            let read = (0..4).map(|row| arg.get(row)).collect::<Vec<_>>();
            assert_eq!(read, vec![Some("a"), None, Some("c"), None], "{data_type}");
        }
        let value = ColumnarValue::Array(Arc::new(StringArray::from(values)));
        assert_eq!(
            string_arg("f", "text", &value, 4)
                .err()
                .map(|e| e.strip_backtrace()),
            Some(
                "Execution error: f: argument text has 3 rows; accepted: 4 (the batch size)"
                    .to_string()
            )
        );
    }
}
