//! Lateral `UNNEST`, with or without `WITH ORDINALITY`.
//!
//! # Supported SQL
//!
//! ```sql
//! -- one row per element; NULL and empty lists give no row
//! SELECT t.id, u.value, u.ordinality
//! FROM t CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality);
//!
//! -- the same with a comma, or [INNER] JOIN ... ON <condition>
//! SELECT t.id, u.value, u.ordinality FROM t, UNNEST(t.items) WITH ORDINALITY AS u;
//!
//! -- every row of t is kept: a NULL or empty list gives one row with NULL value and
//! -- NULL ordinality
//! SELECT t.id, u.value, u.ordinality
//! FROM t LEFT JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality) ON true;
//!
//! -- without ordinality
//! SELECT t.id, u.value FROM t CROSS JOIN UNNEST(t.items) AS u(value);
//! ```
//!
//! The ordinality is the 1-based position of the element in its list, as `Int64`.
//! Several arrays (`UNNEST(t.a, t.b)`) are zipped: the shorter ones are padded with
//! NULL, the ordinality counts the rows of the longest one.
//!
//! # Output columns
//!
//! | argument count | value columns              | ordinality column |
//! |----------------|----------------------------|-------------------|
//! | 1              | `value`                    | `ordinality`      |
//! | n > 1          | `value_1`, ..., `value_n`  | `ordinality`      |
//!
//! The names in `AS alias(c1, c2, ...)` replace these defaults in order; fewer names
//! than columns keep the remaining defaults, more names is a plan error. Without an
//! alias the columns are qualified by `unnest`. All of them are nullable.
//!
//! # How it is planned
//!
//! DataFusion plans an `UNNEST` table factor on its own, with the columns of the
//! preceding `FROM` items visible only as outer references, and it rejects
//! `WITH ORDINALITY`. Two extension points fix both:
//!
//! 1. [`LateralUnnestPlanner`], a `RelationPlanner`, plans `UNNEST(...) WITH
//!    ORDINALITY`, and `UNNEST(...)` whose arguments reference a preceding `FROM` item,
//!    into a [`LateralUnnest`] marker node (a `LogicalPlan::Extension` with no input
//!    that carries the argument expressions, outer references included, and the
//!    output schema). DataFusion's SQL planner then wraps it in a `Subquery` (it has
//!    outer references) and joins it to the preceding items.
//! 2. [`LateralUnnestRule`], an `AnalyzerRule`, replaces `Join(left, LateralUnnest)`
//!    (the marker possibly wrapped in a `Subquery`) by
//!
//!    ```text
//!    Projection: <left columns>, get_field(__cpg_unnest_0, 'value') AS u.value,
//!                get_field(__cpg_unnest_0, 'ordinality') AS u.ordinality
//!      Unnest: __cpg_unnest_0   (NULL and empty lists: dropped, or one NULL row)
//!        Projection: <left columns>, list_enumerate(left.items) AS __cpg_unnest_0
//!          <left>
//!    ```
//!
//!    whose schema is exactly the join's. `CROSS JOIN`, the comma form and `[INNER]
//!    JOIN ... ON <condition>` (the condition becomes a `Filter` on top) unnest with
//!    [`NullHandling::Drop`]; `LEFT JOIN ... ON true` with
//!    [`NullHandling::PreserveAndExpandEmpty`]. A marker outside such a join (for
//!    example `SELECT * FROM UNNEST([1, 2]) WITH ORDINALITY`) is unnested over a
//!    one-row empty relation.
//!
//! # Not supported (plan errors)
//!
//! - `RIGHT` / `FULL` joins with a lateral `UNNEST` (rejected by DataFusion's SQL
//!   planner: the right side of such a join cannot see the left one);
//! - `LEFT JOIN UNNEST(...) ON <anything but true>`, and semi / anti joins, when the
//!   `UNNEST` references the left side;
//! - a correlated `UNNEST` that is not directly one side of such a join (for example
//!   the first `FROM` item of a `LATERAL (SELECT ...)` subquery);
//! - struct (or other non-list) arguments, data types in column aliases;
//! - BigQuery's `WITH OFFSET`, which is left to DataFusion (which rejects it).
//!
//! [`NullHandling::Drop`]: datafusion::common::NullHandling::Drop
//! [`NullHandling::PreserveAndExpandEmpty`]: datafusion::common::NullHandling::PreserveAndExpandEmpty

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DFSchemaRef, Result, internal_err, plan_err};
use datafusion::logical_expr::planner::RelationPlanner;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, UserDefinedLogicalNodeCore};

mod planner;
mod rule;

pub use planner::LateralUnnestPlanner;
pub use rule::LateralUnnestRule;

/// Name of [`LateralUnnestRule`] in the session's analyzer.
pub const RULE_NAME: &str = "cpg_lateral_unnest";

/// The name the bundle's export registry gives [`LateralUnnestPlanner`].
pub const PLANNER_NAME: &str = "cpg_lateral_unnest_planner";

/// Qualifier of the output columns of an `UNNEST` without alias.
pub const DEFAULT_QUALIFIER: &str = "unnest";

/// Name of the value column of a one-argument `UNNEST` (`value_<i>` for several).
pub const DEFAULT_VALUE_NAME: &str = datafusion_cpg_udfs::list::list_enumerate::VALUE;

/// Name of the ordinality column.
pub const DEFAULT_ORDINALITY_NAME: &str = datafusion_cpg_udfs::list::list_enumerate::ORDINALITY;

/// Marker for an `UNNEST` table factor that [`LateralUnnestRule`] turns into an
/// `Unnest` plan once its left side is known. It has no input; its expressions are
/// the `UNNEST` arguments, which may hold outer references to the left side.
///
/// Its schema is qualified by the table alias: one nullable column per argument
/// with the element type, then a nullable `Int64` ordinality column if requested.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LateralUnnest {
    list_exprs: Vec<Expr>,
    with_ordinality: bool,
    schema: DFSchemaRef,
}

impl LateralUnnest {
    pub(crate) fn new(list_exprs: Vec<Expr>, with_ordinality: bool, schema: DFSchemaRef) -> Self {
        Self {
            list_exprs,
            with_ordinality,
            schema,
        }
    }

    /// The `UNNEST` arguments.
    pub fn list_exprs(&self) -> &[Expr] {
        &self.list_exprs
    }

    /// Whether `WITH ORDINALITY` was given.
    pub fn has_ordinality(&self) -> bool {
        self.with_ordinality
    }

    /// Whether an argument references a column of an enclosing scope (a preceding
    /// `FROM` item for a lateral `UNNEST`).
    pub fn is_correlated(&self) -> bool {
        self.list_exprs.iter().any(Expr::contains_outer)
    }
}

// `DFSchema` has no order: two nodes compare only through their expressions and
// flag, and are "equal" only when their schemas are equal too.
impl PartialOrd for LateralUnnest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.list_exprs.partial_cmp(&other.list_exprs) {
            Some(Ordering::Equal) => {}
            ordering => return ordering,
        }
        match self.with_ordinality.partial_cmp(&other.with_ordinality) {
            Some(Ordering::Equal) => {}
            ordering => return ordering,
        }
        (self.schema == other.schema).then_some(Ordering::Equal)
    }
}

impl UserDefinedLogicalNodeCore for LateralUnnest {
    fn name(&self) -> &str {
        "LateralUnnest"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        self.list_exprs.clone()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let args: Vec<String> = self.list_exprs.iter().map(|e| e.to_string()).collect();
        write!(f, "LateralUnnest: UNNEST({})", args.join(", "))?;
        if self.with_ordinality {
            write!(f, " WITH ORDINALITY")?;
        }
        let columns: Vec<String> = self
            .schema
            .columns()
            .iter()
            .map(|c| c.flat_name())
            .collect();
        write!(f, " AS [{}]", columns.join(", "))
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        if !inputs.is_empty() {
            return internal_err!("LateralUnnest has no input, got {}", inputs.len());
        }
        if exprs.len() != self.list_exprs.len() {
            return internal_err!(
                "LateralUnnest has {} expressions, got {}",
                self.list_exprs.len(),
                exprs.len()
            );
        }
        Ok(Self {
            list_exprs: exprs,
            with_ordinality: self.with_ordinality,
            schema: Arc::clone(&self.schema),
        })
    }
}

/// The [`LateralUnnest`] of `plan`, if `plan` is one.
pub fn as_lateral_unnest(plan: &LogicalPlan) -> Option<&LateralUnnest> {
    match plan {
        LogicalPlan::Extension(Extension { node }) => node.as_any().downcast_ref::<LateralUnnest>(),
        _ => None,
    }
}

/// Whether `planner` is a [`LateralUnnestPlanner`] (relation planners have no name,
/// their `Debug` output is used instead).
pub fn is_lateral_unnest_planner(planner: &Arc<dyn RelationPlanner>) -> bool {
    format!("{planner:?}").starts_with("LateralUnnestPlanner")
}

/// How one `UNNEST` argument of type `data_type` is prepared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListArgument {
    /// Type the argument is cast to first, if any: `list_enumerate` takes List and
    /// LargeList only, `Unnest` does not take Null.
    pub(crate) cast_to: Option<DataType>,
    /// Type of the list elements, that is of the value column.
    pub(crate) element_type: DataType,
}

pub(crate) fn list_argument(data_type: &DataType, with_ordinality: bool) -> Result<ListArgument> {
    let (cast_to, element_type) = match data_type {
        DataType::List(item) | DataType::LargeList(item) => (None, item.data_type().clone()),
        DataType::FixedSizeList(item, _) => (
            with_ordinality.then(|| DataType::List(Arc::clone(item))),
            item.data_type().clone(),
        ),
        DataType::ListView(item) => (
            Some(DataType::List(Arc::clone(item))),
            item.data_type().clone(),
        ),
        DataType::LargeListView(item) => (
            Some(DataType::LargeList(Arc::clone(item))),
            item.data_type().clone(),
        ),
        DataType::Null => (
            Some(DataType::List(Arc::new(Field::new_list_field(
                DataType::Null,
                true,
            )))),
            DataType::Null,
        ),
        DataType::Struct(_) => {
            return plan_err!(
                "lateral UNNEST and UNNEST ... WITH ORDINALITY take list arguments, got {data_type}; \
                 use unnest(struct) in the SELECT list to expand a struct"
            );
        }
        other => {
            return plan_err!(
                "lateral UNNEST and UNNEST ... WITH ORDINALITY take list arguments, got {other}"
            );
        }
    };
    Ok(ListArgument {
        cast_to,
        element_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Fields;

    fn item(data_type: DataType) -> Arc<Field> {
        Arc::new(Field::new_list_field(data_type, true))
    }

    #[test]
    fn lists_are_taken_as_they_are() {
        for with_ordinality in [false, true] {
            for data_type in [
                DataType::List(item(DataType::Utf8)),
                DataType::LargeList(item(DataType::Utf8)),
            ] {
                let argument = list_argument(&data_type, with_ordinality).unwrap();
                assert_eq!(argument.cast_to, None);
                assert_eq!(argument.element_type, DataType::Utf8);
            }
        }
    }

    #[test]
    fn fixed_size_lists_are_cast_for_list_enumerate_only() {
        let data_type = DataType::FixedSizeList(item(DataType::Int32), 2);
        let plain = list_argument(&data_type, false).unwrap();
        assert_eq!(plain.cast_to, None);
        assert_eq!(plain.element_type, DataType::Int32);
        let enumerated = list_argument(&data_type, true).unwrap();
        assert_eq!(
            enumerated.cast_to,
            Some(DataType::List(item(DataType::Int32)))
        );
        assert_eq!(enumerated.element_type, DataType::Int32);
    }

    #[test]
    fn null_becomes_an_empty_list_type() {
        let argument = list_argument(&DataType::Null, true).unwrap();
        assert_eq!(argument.cast_to, Some(DataType::List(item(DataType::Null))));
        assert_eq!(argument.element_type, DataType::Null);
    }

    #[test]
    fn non_lists_are_plan_errors() {
        let err = list_argument(&DataType::Int64, true).unwrap_err();
        assert!(err.to_string().contains("take list arguments"), "{err}");
        let err = list_argument(&DataType::Struct(Fields::empty()), false).unwrap_err();
        assert!(err.to_string().contains("struct"), "{err}");
    }
}
