//! DELETE and UPDATE that change exactly the rows their WHERE clause selects.
//!
//! DataFusion 55 runs `DELETE`/`UPDATE` by collecting the `Filter` predicates above the
//! target's `TableScan` and handing them to `TableProvider::delete_from`/`update`
//! (`extract_dml_filters` in its physical planner). When the optimizer has turned the
//! WHERE clause into something else — an `IN`/`EXISTS` subquery into a semi or anti join,
//! a scalar subquery into a left join, `WHERE false` into an empty relation — no predicate
//! is left to collect, the provider receives an empty filter list, which means "no WHERE
//! clause", and every row of the table is deleted or updated
//! (apache/datafusion#24654; the open upstream fix, apache/datafusion#24657, refuses
//! these statements).
//!
//! [`rewrite`] runs in the bundle's query planner on the optimized plan. It leaves alone
//! every statement whose predicate DataFusion passes on whole (input made only of filters
//! without subqueries, aliases, column projections and the target's scan), so it does
//! nothing once DataFusion plans them right. Any other DELETE/UPDATE becomes an
//! [`ExactDml`] node: its input is the optimized statement's own input, reduced to the
//! target's columns the statement reads (the row key) and the new values. At execution
//! ([`ExactDmlExec`]) those rows are collected into a [`row_index::RowIndex`], and the
//! provider gets one filter, true exactly for the selected keys, and (UPDATE) one
//! value expression per assigned column. The key is exact: two target rows that agree
//! on every column the statement reads are treated alike by it. Nothing is handed to the
//! provider when no row is selected.

mod exec;
mod node;
pub mod row_index;

use std::sync::Arc;

use datafusion::catalog::default_table_source::DefaultTableSource;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, Result, TableReference, plan_datafusion_err};
use datafusion::logical_expr::{
    DmlStatement, Explain, Expr, Extension, LogicalPlan, LogicalPlanBuilder, WriteOp,
};

pub use exec::{ExactDmlExec, ExactDmlPlanner};
pub use node::{DmlKind, ExactDml};

/// Replaces each DELETE/UPDATE of `plan` whose predicate DataFusion would lose by an
/// [`ExactDml`] node. Under `EXPLAIN` (not `EXPLAIN ANALYZE`) every DELETE/UPDATE is
/// replaced: DataFusion 55 calls the provider while planning, and a `MemTable` changes its
/// rows then, so a plain `EXPLAIN DELETE` would delete; [`ExactDmlExec`] does nothing
/// until executed.
pub fn rewrite(plan: LogicalPlan) -> Result<LogicalPlan> {
    // Most plans hold no DELETE/UPDATE: leave them untouched (a rewrite copies the tree).
    if !plan.exists(|node| Ok(matches!(node, LogicalPlan::Dml(_))))? {
        return Ok(plan);
    }
    plan.transform_down(|node| match node {
        LogicalPlan::Explain(explain) => {
            let inner =
                Arc::unwrap_or_clone(explain.plan).transform_up(|node| replace(node, true))?;
            Ok(Transformed::new(
                LogicalPlan::Explain(Explain {
                    plan: Arc::new(inner.data),
                    ..explain
                }),
                inner.transformed,
                TreeNodeRecursion::Jump,
            ))
        }
        node => replace(node, false),
    })
    .map(|transformed| transformed.data)
}

fn replace(node: LogicalPlan, always: bool) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Dml(dml) = &node else {
        return Ok(Transformed::no(node));
    };
    match exact_dml_for(dml, always)? {
        Some(exact) => Ok(Transformed::yes(LogicalPlan::Extension(Extension {
            node: Arc::new(exact),
        }))),
        None => Ok(Transformed::no(node)),
    }
}

/// The [`ExactDml`] for `dml`, or `None` when DataFusion's own planning is exact and not
/// `always` (or the statement is not about a provider's rows: INSERT, CTAS, TRUNCATE, a
/// foreign table source).
fn exact_dml_for(dml: &DmlStatement, always: bool) -> Result<Option<ExactDml>> {
    let kind = match dml.op {
        WriteOp::Delete => DmlKind::Delete,
        WriteOp::Update => DmlKind::Update,
        _ => return Ok(None),
    };
    let Some(source) = dml.target.downcast_ref::<DefaultTableSource>() else {
        return Ok(None);
    };
    let provider = Arc::clone(&source.table_provider);
    let targets = target_references(&dml.input, &dml.table_name)?;
    let table_schema = provider.schema();

    // UPDATE's input is a projection computing every column of the table; DELETE's
    // input yields the rows to delete.
    let (selection, assignments) = match kind {
        DmlKind::Delete => (dml.input.as_ref(), vec![]),
        DmlKind::Update => match dml.input.as_ref() {
            LogicalPlan::Projection(projection) => {
                let mut assignments = vec![];
                for (expr, (_, field)) in projection.expr.iter().zip(projection.schema.iter()) {
                    if !is_column_of(expr, field.name(), &targets) {
                        assignments.push((field.name().clone(), expr.clone()));
                    }
                }
                (projection.input.as_ref(), assignments)
            }
            // `WHERE false`, folded by the optimizer: no row is selected, nothing to assign.
            LogicalPlan::EmptyRelation(empty) if !empty.produce_one_row => {
                (dml.input.as_ref(), vec![])
            }
            _ => {
                return Err(cannot_identify(
                    kind,
                    &dml.table_name,
                    "its input is no projection",
                ));
            }
        },
    };
    if !always
        && provider_sees_whole_predicate(selection, &dml.table_name)
        && !assignments.iter().any(|(_, expr)| has_subquery(expr))
    {
        return Ok(None);
    }

    let mut key_columns: Vec<String> = vec![];
    let mut columns = vec![];
    for (qualifier, field) in selection.schema().iter() {
        let of_target = qualifier.is_none_or(|q| targets.iter().any(|t| q.resolved_eq(t)));
        if of_target
            && table_schema.field_with_name(field.name()).is_ok()
            && !key_columns.contains(field.name())
        {
            columns.push(
                Expr::Column(Column::new(qualifier.cloned(), field.name()))
                    .alias(format!("__cpg_key_{}", key_columns.len())),
            );
            key_columns.push(field.name().clone());
        }
    }
    if kind == DmlKind::Delete && key_columns.len() != table_schema.fields().len() {
        return Err(cannot_identify(
            kind,
            &dml.table_name,
            "its input does not yield every column of the table",
        ));
    }
    let mut assigned_columns = vec![];
    for (n, (column, expr)) in assignments.into_iter().enumerate() {
        columns.push(expr.unalias_nested().data.alias(format!("__cpg_set_{n}")));
        assigned_columns.push(column);
    }
    let input = LogicalPlanBuilder::from(selection.clone())
        .project(columns)?
        .build()?;
    Ok(Some(ExactDml {
        kind,
        table_name: dml.table_name.clone(),
        provider,
        key_columns,
        assigned_columns,
        input: Arc::new(input),
        schema: Arc::clone(&dml.output_schema),
    }))
}

/// Whether DataFusion's `extract_dml_filters` sees the statement's whole predicate: the
/// input is the target's scan under filters without subqueries, aliases and column
/// projections only.
fn provider_sees_whole_predicate(plan: &LogicalPlan, table: &TableReference) -> bool {
    match plan {
        LogicalPlan::TableScan(scan) => scan.table_name.resolved_eq(table) && scan.fetch.is_none(),
        LogicalPlan::Filter(filter) => {
            !has_subquery(&filter.predicate) && provider_sees_whole_predicate(&filter.input, table)
        }
        LogicalPlan::SubqueryAlias(alias) => provider_sees_whole_predicate(&alias.input, table),
        LogicalPlan::Projection(projection) => {
            projection
                .expr
                .iter()
                .all(|expr| matches!(expr.clone().unalias_nested().data, Expr::Column(_)))
                && provider_sees_whole_predicate(&projection.input, table)
        }
        _ => false,
    }
}

fn has_subquery(expr: &Expr) -> bool {
    expr.exists(|e| {
        Ok(matches!(
            e,
            Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::SetComparison(_)
                | Expr::ScalarSubquery(_)
        ))
    })
    .unwrap_or(true)
}

/// The names the target table goes by in `input`: its own and its aliases.
fn target_references(input: &LogicalPlan, table: &TableReference) -> Result<Vec<TableReference>> {
    let mut references = vec![table.clone()];
    input.apply(|node| {
        if let LogicalPlan::SubqueryAlias(alias) = node
            && let LogicalPlan::TableScan(scan) = alias.input.as_ref()
            && scan.table_name.resolved_eq(table)
        {
            references.push(alias.alias.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(references)
}

/// Whether `expr` is the target's column `name` passed through unchanged.
fn is_column_of(expr: &Expr, name: &str, targets: &[TableReference]) -> bool {
    match expr.clone().unalias_nested().data {
        Expr::Column(column) => {
            column.name == name
                && column
                    .relation
                    .as_ref()
                    .is_none_or(|r| targets.iter().any(|t| r.resolved_eq(t)))
        }
        _ => false,
    }
}

fn cannot_identify(
    kind: DmlKind,
    table: &TableReference,
    why: &str,
) -> datafusion::error::DataFusionError {
    plan_datafusion_err!(
        "{kind} on '{table}' refused: its WHERE clause cannot be passed to the table \
         provider and the rows it selects cannot be identified ({why}); nothing was changed"
    )
}
