//! Best-match span alignment: for every left row, the single best right row of the same
//! path by a span criterion — `span_align(left, right, mode [, options])` in SQL, and
//! [`span_align`] on DataFrames.
//!
//! Semantics (spans are half-open byte ranges `[start, end)`):
//! - A row takes part only if its path and both bounds are non-NULL, `start <= end`, and
//!   the bounds fit in `Int64`; any other right row never matches, any other left row
//!   has no match.
//! - Modes, each a condition on a left span `l` and a right span `r` of the same path and
//!   a score (higher is better) that picks the best match:
//!   - `contained_best`: `r.start <= l.start AND l.end <= r.end` (the right span contains
//!     the left one); score `-(r.end - r.start)`: the shortest containing span wins;
//!   - `contains_best`: `l.start <= r.start AND r.end <= l.end` (the right span lies
//!     inside the left one); score `r.end - r.start`: the longest such span wins;
//!   - `overlap_best`: `r.start < l.end AND l.start < r.end`; score `min(l.end, r.end) -
//!     max(l.start, r.start)`: the largest overlap wins;
//!   - `exact`: `r.start = l.start AND r.end = l.end`; score `r.end - r.start`.
//! - Ties on the score are broken by the `tie_breakers` (right columns, each ascending
//!   or descending, NULLs as SQL orders them), then the smaller right start, the smaller
//!   right end, and the earlier right row (right input partitions in order, rows in
//!   order).
//! - Output: the left columns, the kept right columns (a name that clashes with a left
//!   column gets the suffix), `match_kind` (the mode in upper case, or `NO_MATCH`) and
//!   `match_score` (Float64; NULL without a match). `how = inner` drops left rows without
//!   a match; `how = left` keeps them with NULL right columns. Left rows keep their order
//!   within each partition of the left input (a single-partition left input is first
//!   spread over the session's partitions, batch by batch).
//!
//! The right side is collected (under the memory pool) and indexed per path with the span
//! join's interval index ([`crate::span_join::index`]); the left side streams.

pub mod codec;
pub mod exec;
pub mod table;

use datafusion::arrow::compute::SortOptions;
use datafusion::common::{DataFusionError, Result};

pub use exec::SpanAlignExec;
pub use table::{SPAN_ALIGN_FUNCTION, SpanAlignFunction, SpanAlignTable, span_align};

/// How a right span must relate to the left one, and which match is best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignMode {
    ContainedBest,
    ContainsBest,
    OverlapBest,
    Exact,
}

impl AlignMode {
    pub const ALL: [AlignMode; 4] = [
        Self::ContainedBest,
        Self::ContainsBest,
        Self::OverlapBest,
        Self::Exact,
    ];

    /// The mode's name in SQL (lower case).
    pub const fn name(self) -> &'static str {
        match self {
            Self::ContainedBest => "contained_best",
            Self::ContainsBest => "contains_best",
            Self::OverlapBest => "overlap_best",
            Self::Exact => "exact",
        }
    }

    /// The `match_kind` of a match in this mode.
    pub const fn match_kind(self) -> &'static str {
        match self {
            Self::ContainedBest => "CONTAINED_BEST",
            Self::ContainsBest => "CONTAINS_BEST",
            Self::OverlapBest => "OVERLAP_BEST",
            Self::Exact => "EXACT",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        let wanted = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|m| m.name() == wanted)
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "span_align: unknown mode '{text}'; accepted: {}",
                    Self::ALL.map(|m| m.name()).join(", ")
                ))
            })
    }

    /// The closed index query `(low, high)` (right spans with `end >= low` and `start <=
    /// high`) that holds every right span qualifying for left span `(start, end)`.
    #[inline]
    pub fn query(self, (start, end): (i64, i64)) -> (i64, i64) {
        match self {
            // r.start <= l.start and r.end >= l.end
            Self::ContainedBest | Self::Exact => (end, start),
            Self::ContainsBest | Self::OverlapBest => (start, end),
        }
    }

    /// The score of right span `r` for left span `l` if it qualifies.
    #[inline]
    pub fn score(self, (ls, le): (i64, i64), (rs, re): (i64, i64)) -> Option<i64> {
        match self {
            Self::ContainedBest => (rs <= ls && le <= re).then(|| -(re - rs)),
            Self::ContainsBest => (ls <= rs && re <= le).then_some(re - rs),
            Self::OverlapBest => (rs < le && ls < re).then(|| le.min(re) - ls.max(rs)),
            Self::Exact => (rs == ls && re == le).then_some(re - rs),
        }
    }
}

/// Whether left rows without a match are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlignHow {
    #[default]
    Inner,
    Left,
}

/// A right column that breaks score ties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieBreaker {
    pub column: String,
    pub options: SortOptions,
}

/// The path, start and end column names of one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanColumnNames {
    pub path: String,
    pub start: String,
    pub end: String,
}

impl Default for SpanColumnNames {
    fn default() -> Self {
        Self {
            path: "path".into(),
            start: "bstart".into(),
            end: "bend".into(),
        }
    }
}

/// Everything `span_align` takes besides its two inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlignOptions {
    pub mode: AlignMode,
    pub how: AlignHow,
    pub left_span: SpanColumnNames,
    pub right_span: SpanColumnNames,
    /// Left columns in the output (None: all).
    pub left_columns: Option<Vec<String>>,
    /// Right columns in the output (None: all).
    pub right_columns: Option<Vec<String>>,
    pub tie_breakers: Vec<TieBreaker>,
    /// Appended to a kept right column whose name a left column has.
    pub suffix: String,
}

/// The option keys `span_align` accepts.
pub const OPTION_KEYS: [&str; 14] = [
    "how",
    "path",
    "start",
    "end",
    "left_path",
    "left_start",
    "left_end",
    "right_path",
    "right_start",
    "right_end",
    "left_columns",
    "right_columns",
    "tie_breakers",
    "suffix",
];

impl AlignOptions {
    pub fn new(mode: AlignMode) -> Self {
        Self {
            mode,
            how: AlignHow::Inner,
            left_span: SpanColumnNames::default(),
            right_span: SpanColumnNames::default(),
            left_columns: None,
            right_columns: None,
            tie_breakers: vec![],
            suffix: "__r".into(),
        }
    }

    /// Applies `key=value; key=value` options (the SQL form's fourth argument).
    pub fn with_option_text(mut self, text: &str) -> Result<Self> {
        for item in text.split(';') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                return Err(DataFusionError::Plan(format!(
                    "span_align: option '{item}' is not key=value; options are written \
                     'key=value; key=value' with keys {}",
                    OPTION_KEYS.join(", ")
                )));
            };
            self.set(key.trim(), value.trim())?;
        }
        Ok(self)
    }

    /// Sets one option.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let list = |value: &str| -> Option<Vec<String>> {
            let items: Vec<String> = value
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            (!(items.is_empty() || items == ["*"])).then_some(items)
        };
        match key.to_ascii_lowercase().as_str() {
            "how" => {
                self.how = match value.to_ascii_lowercase().as_str() {
                    "inner" => AlignHow::Inner,
                    "left" => AlignHow::Left,
                    _ => {
                        return Err(DataFusionError::Plan(format!(
                            "span_align: how='{value}' is not accepted; accepted: inner, left"
                        )));
                    }
                }
            }
            "path" => {
                self.left_span.path = value.into();
                self.right_span.path = value.into();
            }
            "start" => {
                self.left_span.start = value.into();
                self.right_span.start = value.into();
            }
            "end" => {
                self.left_span.end = value.into();
                self.right_span.end = value.into();
            }
            "left_path" => self.left_span.path = value.into(),
            "left_start" => self.left_span.start = value.into(),
            "left_end" => self.left_span.end = value.into(),
            "right_path" => self.right_span.path = value.into(),
            "right_start" => self.right_span.start = value.into(),
            "right_end" => self.right_span.end = value.into(),
            "left_columns" => self.left_columns = list(value),
            "right_columns" => self.right_columns = list(value),
            "tie_breakers" => {
                self.tie_breakers = list(value)
                    .unwrap_or_default()
                    .iter()
                    .map(|item| parse_tie_breaker(item))
                    .collect::<Result<_>>()?
            }
            "suffix" => self.suffix = value.into(),
            _ => {
                return Err(DataFusionError::Plan(format!(
                    "span_align: unknown option '{key}'; accepted: {}",
                    OPTION_KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// `column [ASC|DESC] [NULLS FIRST|NULLS LAST]`, SQL's defaults (NULLs last ascending,
/// first descending).
fn parse_tie_breaker(text: &str) -> Result<TieBreaker> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let original: Vec<&str> = text.split_whitespace().collect();
    let bad = || {
        DataFusionError::Plan(format!(
            "span_align: tie breaker '{text}' is not accepted; write \
             'column [asc|desc] [nulls first|nulls last]'"
        ))
    };
    let column = original.first().ok_or_else(bad)?.to_string();
    let mut descending = false;
    let mut rest = &words[1..];
    if let Some(direction) = rest.first() {
        match direction.as_str() {
            "asc" => rest = &rest[1..],
            "desc" => {
                descending = true;
                rest = &rest[1..];
            }
            _ => {}
        }
    }
    let nulls_first = match rest {
        [] => descending,
        [nulls, first] if nulls == "nulls" && first == "first" => true,
        [nulls, last] if nulls == "nulls" && last == "last" => false,
        _ => return Err(bad()),
    };
    Ok(TieBreaker {
        column,
        options: SortOptions {
            descending,
            nulls_first,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_refuse_with_the_accepted_values() {
        let options = AlignOptions::new(AlignMode::ContainsBest)
            .with_option_text(
                "how=left; right_columns=id, kind; tie_breakers=depth desc, id nulls first; \
                 path=file; right_start=lo; suffix=_tok",
            )
            .unwrap();
        assert_eq!(options.how, AlignHow::Left);
        assert_eq!(
            options.right_columns,
            Some(vec!["id".into(), "kind".into()])
        );
        assert_eq!(options.left_span.path, "file");
        assert_eq!(options.right_span.start, "lo");
        assert_eq!(options.left_span.start, "bstart");
        assert_eq!(options.suffix, "_tok");
        assert_eq!(
            options.tie_breakers[0].options,
            SortOptions {
                descending: true,
                nulls_first: true
            }
        );
        assert!(options.tie_breakers[1].options.nulls_first);
        assert!(!options.tie_breakers[1].options.descending);
        let error = AlignOptions::new(AlignMode::Exact)
            .with_option_text("color=red")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown option 'color'; accepted: how, path"),
            "{error}"
        );
        let error = AlignMode::parse("closest").unwrap_err().to_string();
        assert!(
            error.contains("accepted: contained_best, contains_best, overlap_best, exact"),
            "{error}"
        );
    }

    #[test]
    fn scores_follow_the_documented_semantics() {
        use AlignMode::*;
        assert_eq!(ContainedBest.score((5, 8), (0, 10)), Some(-10));
        assert_eq!(ContainedBest.score((5, 8), (6, 10)), None);
        assert_eq!(ContainsBest.score((0, 10), (2, 5)), Some(3));
        assert_eq!(OverlapBest.score((0, 10), (8, 20)), Some(2));
        assert_eq!(OverlapBest.score((0, 10), (10, 20)), None);
        assert_eq!(Exact.score((3, 4), (3, 4)), Some(1));
        // zero-length spans: contained at either boundary, never overlapping
        assert_eq!(ContainedBest.score((5, 5), (0, 5)), Some(-5));
        assert_eq!(OverlapBest.score((5, 5), (0, 10)), Some(0));
    }
}
