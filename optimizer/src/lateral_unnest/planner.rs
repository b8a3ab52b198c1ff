//! [`LateralUnnestPlanner`]: plans `UNNEST` table factors into [`LateralUnnest`] markers.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DFSchema, Result, TableReference, plan_err};
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{Expr, ExprSchemable, Extension, LogicalPlan};
use datafusion::sql::sqlparser::ast::{TableAlias, TableFactor};

use super::{
    DEFAULT_ORDINALITY_NAME, DEFAULT_QUALIFIER, DEFAULT_VALUE_NAME, LateralUnnest, list_argument,
};

/// Plans `UNNEST(...) WITH ORDINALITY`, and `UNNEST(...)` whose arguments reference
/// a preceding `FROM` item, into a [`LateralUnnest`] marker; see the
/// [module documentation](super). Any other table factor, an uncorrelated `UNNEST`
/// without ordinality included, is left to DataFusion.
#[derive(Debug, Default, Clone, Copy)]
pub struct LateralUnnestPlanner;

impl LateralUnnestPlanner {
    pub fn new() -> Self {
        Self
    }
}

impl RelationPlanner for LateralUnnestPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        let (alias, array_exprs, with_ordinality) = match relation {
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality,
            } => (alias, array_exprs, with_ordinality),
            other => return Ok(RelationPlanning::Original(Box::new(other))),
        };
        if array_exprs.is_empty() {
            return plan_err!("UNNEST must have at least one argument");
        }

        // Without ORDINALITY DataFusion plans an uncorrelated UNNEST itself: keep the
        // arguments to hand the factor back unchanged.
        let original_exprs = (!with_ordinality).then(|| array_exprs.clone());

        // The columns of the preceding FROM items are not in this (empty) schema but
        // in the planner's outer query schemas, so they become outer references.
        let empty = DFSchema::empty();
        let list_exprs = array_exprs
            .into_iter()
            .map(|sql_expr| context.sql_expr_to_logical_expr(sql_expr, &empty))
            .collect::<Result<Vec<Expr>>>()?;

        if let Some(array_exprs) = original_exprs
            && !list_exprs.iter().any(Expr::contains_outer)
        {
            return Ok(RelationPlanning::Original(Box::new(TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality: false,
            })));
        }

        let mut element_types = Vec::with_capacity(list_exprs.len());
        for expr in &list_exprs {
            // Outer references carry their field, so the empty schema is enough; a
            // column that resolves nowhere fails here with "No field named ...".
            let data_type = expr.get_type(&empty)?;
            element_types.push(list_argument(&data_type, with_ordinality)?.element_type);
        }

        let (qualifier, column_aliases) = match alias {
            Some(alias) => alias_names(alias, context)?,
            None => (DEFAULT_QUALIFIER.to_string(), vec![]),
        };
        let names = column_names(element_types.len(), with_ordinality, column_aliases)?;

        let qualifier = TableReference::bare(qualifier);
        let fields = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let data_type = element_types.get(i).cloned().unwrap_or(DataType::Int64);
                (
                    Some(qualifier.clone()),
                    Arc::new(Field::new(name.as_str(), data_type, true)),
                )
            })
            .collect::<Vec<_>>();
        let schema = Arc::new(DFSchema::new_with_metadata(fields, HashMap::new())?);

        let node = LateralUnnest::new(list_exprs, with_ordinality, schema);
        let plan = LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        });
        // The alias is already applied: the marker's columns carry it.
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan, None,
        ))))
    }
}

/// The normalized table alias and column aliases of `AS alias(c1, c2, ...)`.
fn alias_names(
    alias: TableAlias,
    context: &dyn RelationPlannerContext,
) -> Result<(String, Vec<String>)> {
    let qualifier = context.normalize_ident(alias.name);
    let mut names = Vec::with_capacity(alias.columns.len());
    for column in alias.columns {
        if column.data_type.is_some() {
            return plan_err!("UNNEST column aliases cannot declare a data type: {column}");
        }
        names.push(context.normalize_ident(column.name));
    }
    Ok((qualifier, names))
}

/// Output column names: the defaults, replaced in order by the aliases.
fn column_names(
    arguments: usize,
    with_ordinality: bool,
    aliases: Vec<String>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = if arguments == 1 {
        vec![DEFAULT_VALUE_NAME.to_string()]
    } else {
        (1..=arguments)
            .map(|i| format!("{DEFAULT_VALUE_NAME}_{i}"))
            .collect()
    };
    if with_ordinality {
        names.push(DEFAULT_ORDINALITY_NAME.to_string());
    }
    if aliases.len() > names.len() {
        return plan_err!(
            "UNNEST produces {} columns but {} column aliases were given",
            names.len(),
            aliases.len()
        );
    }
    for (name, alias) in names.iter_mut().zip(aliases) {
        *name = alias;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::column_names;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_names() {
        assert_eq!(column_names(1, false, vec![]).unwrap(), strings(&["value"]));
        assert_eq!(
            column_names(1, true, vec![]).unwrap(),
            strings(&["value", "ordinality"])
        );
        assert_eq!(
            column_names(2, true, vec![]).unwrap(),
            strings(&["value_1", "value_2", "ordinality"])
        );
    }

    #[test]
    fn aliases_replace_defaults_in_order() {
        assert_eq!(
            column_names(1, true, strings(&["v"])).unwrap(),
            strings(&["v", "ordinality"])
        );
        assert_eq!(
            column_names(1, true, strings(&["v", "n"])).unwrap(),
            strings(&["v", "n"])
        );
        let err = column_names(1, true, strings(&["a", "b", "c"])).unwrap_err();
        assert!(err.to_string().contains("column aliases"), "{err}");
    }
}
