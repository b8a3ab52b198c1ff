//! [`LateralUnnestRule`]: rewrites joins with a [`LateralUnnest`] marker into `Unnest`.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{
    Column, DFSchema, NullHandling, Result, ScalarValue, TableReference, UnnestOptions,
    internal_err, plan_err,
};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    Case, Cast, Expr, ExprSchemable, Filter, Join, JoinType, LogicalPlan, LogicalPlanBuilder,
    Projection, Unnest,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion_cpg_udfs::list::list_enumerate::{ORDINALITY, VALUE};

use super::{LateralUnnest, RULE_NAME, as_lateral_unnest, list_argument};

/// Replaces every [`LateralUnnest`] marker by an `Unnest` plan; see the
/// [module documentation](super).
///
/// It runs after DataFusion's own analyzer rules (type coercion included), so every
/// expression it builds is already of the exact type its consumer takes.
#[derive(Debug, Default, Clone, Copy)]
pub struct LateralUnnestRule;

impl LateralUnnestRule {
    pub fn new() -> Self {
        Self
    }
}

impl AnalyzerRule for LateralUnnestRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        if !contains_lateral_unnest(&plan)? {
            return Ok(plan);
        }
        // Top-down, so that a join sees its marker before the marker itself is
        // visited (and would be unnested without the join's left side).
        plan.transform_down_with_subqueries(rewrite_node).data()
    }

    fn name(&self) -> &str {
        RULE_NAME
    }
}

const UNSUPPORTED_POSITION: &str = "an UNNEST that references columns of a preceding FROM item \
     must be joined directly to them: `FROM t CROSS JOIN UNNEST(t.list)`, `FROM t, UNNEST(t.list)`, \
     `FROM t [INNER] JOIN UNNEST(t.list) ... ON <condition>` or \
     `FROM t LEFT JOIN UNNEST(t.list) ... ON true`";

fn contains_lateral_unnest(plan: &LogicalPlan) -> Result<bool> {
    let mut found = false;
    plan.apply_with_subqueries(|node| {
        if as_lateral_unnest(node).is_some() {
            found = true;
            Ok(TreeNodeRecursion::Stop)
        } else {
            Ok(TreeNodeRecursion::Continue)
        }
    })?;
    Ok(found)
}

fn rewrite_node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    match plan {
        LogicalPlan::Join(join) => rewrite_join(join),
        // DataFusion wraps a correlated lateral factor in a `Subquery`; the joins we
        // rewrite consume it before it is visited, so any other is misplaced.
        LogicalPlan::Subquery(subquery) => {
            if as_lateral_unnest(subquery.subquery.as_ref())
                .is_some_and(LateralUnnest::is_correlated)
            {
                return plan_err!("{UNSUPPORTED_POSITION}");
            }
            Ok(Transformed::no(LogicalPlan::Subquery(subquery)))
        }
        plan => {
            let node = as_lateral_unnest(&plan).cloned();
            match node {
                // Not the right side of a join (e.g. `SELECT * FROM UNNEST([1, 2]) WITH
                // ORDINALITY`): unnest over one empty row. Outer references to an
                // enclosing query, if any, stay for DataFusion's decorrelation.
                Some(node) => {
                    let input = LogicalPlanBuilder::empty(true).build()?;
                    build_lateral_unnest(input, &node, None, NullHandling::Drop)
                        .map(Transformed::yes)
                }
                None => Ok(Transformed::no(plan)),
            }
        }
    }
}

fn rewrite_join(join: Join) -> Result<Transformed<LogicalPlan>> {
    let lateral = lateral_right_input(join.right.as_ref())
        .map(|(node, qualifier)| (node.clone(), qualifier.cloned()));
    let Some((node, qualifier)) = lateral else {
        return Ok(Transformed::no(LogicalPlan::Join(join)));
    };
    let correlated = node.is_correlated();
    let on_true = join.on.is_empty() && join.filter.as_ref().is_none_or(is_true_literal);
    let join_type = join.join_type;

    match join_type {
        // CROSS JOIN, comma, [INNER] JOIN ... ON <condition>: unnest, then filter.
        JoinType::Inner => {
            let Join {
                left, on, filter, ..
            } = join;
            let mut predicates: Vec<Expr> = on.into_iter().map(|(l, r)| l.eq(r)).collect();
            predicates.extend(filter.filter(|filter| !is_true_literal(filter)));
            let plan = build_lateral_unnest(
                Arc::unwrap_or_clone(left),
                &node,
                qualifier.as_ref(),
                NullHandling::Drop,
            )?;
            let plan = match conjunction(predicates) {
                Some(predicate) => LogicalPlan::Filter(Filter::try_new(predicate, Arc::new(plan))?),
                None => plan,
            };
            Ok(Transformed::yes(plan))
        }
        // LEFT JOIN ... ON true: NULL and empty lists give one row of NULLs.
        JoinType::Left if on_true => {
            let plan = build_lateral_unnest(
                Arc::unwrap_or_clone(join.left),
                &node,
                qualifier.as_ref(),
                NullHandling::PreserveAndExpandEmpty,
            )?;
            Ok(Transformed::yes(plan))
        }
        // An uncorrelated UNNEST is an ordinary relation: the marker alone is
        // unnested when the traversal reaches it.
        _ if !correlated => Ok(Transformed::no(LogicalPlan::Join(join))),
        JoinType::Left => plan_err!(
            "LEFT JOIN with an UNNEST that references the left side supports only `ON true`; \
             put other conditions in WHERE, or use [INNER] JOIN ... ON <condition>"
        ),
        other => plan_err!(
            "{other} JOIN with an UNNEST that references the left side is not supported; {UNSUPPORTED_POSITION}"
        ),
    }
}

/// The marker on the right side of a join, and the qualifier a `SubqueryAlias`
/// around it imposes, if any.
fn lateral_right_input(plan: &LogicalPlan) -> Option<(&LateralUnnest, Option<&TableReference>)> {
    match plan {
        LogicalPlan::Subquery(subquery) => {
            as_lateral_unnest(subquery.subquery.as_ref()).map(|node| (node, None))
        }
        LogicalPlan::SubqueryAlias(alias) => {
            lateral_right_input(alias.input.as_ref()).map(|(node, _)| (node, Some(&alias.alias)))
        }
        plan => as_lateral_unnest(plan).map(|node| (node, None)),
    }
}

fn is_true_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(ScalarValue::Boolean(Some(true)), _))
}

/// `input` joined laterally with `node`, with the schema of that join:
///
/// ```text
/// Projection: <input columns>, <value and ordinality columns of node>
///   Unnest: __cpg_unnest_0, ...
///     Projection: <input columns>, [list_enumerate(]arg_0[)] AS __cpg_unnest_0, ...
///       input
/// ```
///
/// Outer references of the arguments to `input`'s columns become plain columns.
/// `qualifier` replaces the marker's own qualifier (for a `SubqueryAlias` around it).
pub(crate) fn build_lateral_unnest(
    input: LogicalPlan,
    node: &LateralUnnest,
    qualifier: Option<&TableReference>,
    null_handling: NullHandling,
) -> Result<LogicalPlan> {
    let input_schema = Arc::clone(input.schema());
    let input_dfschema: &DFSchema = &input_schema;
    let with_ordinality = node.has_ordinality();

    // 1. Input columns and one list column per UNNEST argument.
    let mut exprs = columns_of(input_dfschema);
    let mut list_columns = Vec::with_capacity(node.list_exprs().len());
    for (i, list_expr) in node.list_exprs().iter().enumerate() {
        // Type coercion may have aliased the argument to keep its name: drop that.
        let expr = list_expr.clone().unalias_nested().data;
        let expr = resolve_outer_references(expr, input_dfschema)?;
        let argument = list_argument(&expr.get_type(input_dfschema)?, with_ordinality)?;
        let expr = match argument.cast_to {
            Some(data_type) => Expr::Cast(Cast::new(Box::new(expr), data_type)),
            None => expr,
        };
        let expr = if with_ordinality {
            datafusion_cpg_udfs::list_enumerate().call(vec![expr])
        } else {
            expr
        };
        let name = internal_name(input_dfschema, i);
        exprs.push(expr.alias(name.as_str()));
        list_columns.push(Column::from_name(name));
    }
    let projected = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?);

    // 2. Unnest the list columns (zipped when there are several).
    let options = UnnestOptions::new().with_null_handling(null_handling);
    let unnest = Unnest::try_new(Arc::new(projected), list_columns.clone(), options)?;
    let unnested_schema = Arc::clone(&unnest.schema);
    let unnested_dfschema: &DFSchema = &unnested_schema;
    let unnested = LogicalPlan::Unnest(unnest);

    // 3. The marker's columns: the elements (or their `value` fields), then the
    //    ordinality, which is the position of whichever list has an element there.
    let elements: Vec<Expr> = list_columns.into_iter().map(Expr::Column).collect();
    let mut outputs: Vec<Expr> = if with_ordinality {
        elements
            .iter()
            .map(|element| get_field(element.clone(), VALUE))
            .collect()
    } else {
        elements.clone()
    };
    if with_ordinality {
        let positions = elements
            .iter()
            .map(|element| get_field(element.clone(), ORDINALITY))
            .collect();
        outputs.push(first_non_null(positions));
    }

    let declared: &DFSchema = &node.schema;
    if outputs.len() != declared.fields().len() {
        return internal_err!(
            "LateralUnnest declares {} columns but {} were built",
            declared.fields().len(),
            outputs.len()
        );
    }
    let mut exprs = columns_of(input_dfschema);
    for (i, output) in outputs.into_iter().enumerate() {
        let (node_qualifier, field) = declared.qualified_field(i);
        // Keep the declared type even if type coercion changed an argument's type
        // after the marker was planned: the plan above was built against it.
        let output = if output.get_type(unnested_dfschema)? == *field.data_type() {
            output
        } else {
            Expr::Cast(Cast::new(Box::new(output), field.data_type().clone()))
        };
        let relation: Option<TableReference> = qualifier.or(node_qualifier).cloned();
        exprs.push(output.alias_qualified(relation, field.name().as_str()));
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        Arc::new(unnested),
    )?))
}

/// One column expression per field of `schema`, qualifiers kept.
fn columns_of(schema: &DFSchema) -> Vec<Expr> {
    schema
        .iter()
        .map(|(qualifier, field)| Expr::Column(Column::new(qualifier.cloned(), field.name())))
        .collect()
}

/// Outer references to columns of `schema` become plain columns.
fn resolve_outer_references(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    expr.transform(|expr| {
        Ok(match expr {
            Expr::OuterReferenceColumn(field, column) => {
                if schema.has_column(&column) {
                    Transformed::yes(Expr::Column(column))
                } else {
                    Transformed::no(Expr::OuterReferenceColumn(field, column))
                }
            }
            other => Transformed::no(other),
        })
    })
    .data()
}

/// A column name for the `index`-th list that `schema` does not use.
fn internal_name(schema: &DFSchema, index: usize) -> String {
    let mut name = format!("__cpg_unnest_{index}");
    while schema.has_column_with_unqualified_name(&name) {
        name.push('_');
    }
    name
}

/// `exprs[0]` if there is one, else `CASE WHEN e0 IS NOT NULL THEN e0 WHEN ... END`
/// (`coalesce` would have to be simplified into that by the optimizer first).
fn first_non_null(mut exprs: Vec<Expr>) -> Expr {
    if exprs.len() == 1 {
        return exprs.remove(0);
    }
    let when_then = exprs
        .into_iter()
        .map(|expr| (Box::new(expr.clone().is_not_null()), Box::new(expr)))
        .collect();
    Expr::Case(Case::new(None, when_then, None))
}
