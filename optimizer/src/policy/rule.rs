//! [`PolicyRule`]: the analyzer rule that checks every plan that reaches analysis — from
//! SQL, the DataFrame API or built in code — against the session's `cpg.policy`: the
//! statement class of DML, COPY and statement nodes (also under EXPLAIN), the functions
//! called (after type coercion, so syntax that builds a function, `EXTRACT`, `POSITION`,
//! `SUBSTRING`, counts under its function's name) and the tables read or written, by
//! resolved name. Views are checked on what they read: DataFusion's analyzer inlines
//! them before this rule, which runs after the built-in rules.
//!
//! Analyzer errors always fail the query (`skip_failed_rules` applies to optimizer
//! rules only). DDL and `SET` are executed by `SessionContext::sql` before analysis:
//! those are checked on the statement ([`super::statement`]).

use std::collections::BTreeSet;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, TableReference};
use datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction, WindowFunction};
use datafusion::logical_expr::logical_plan::dml::WriteOp;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{
    DdlStatement, Expr, LogicalPlan, Statement, Volatility, WindowFunctionDefinition,
};
use datafusion::optimizer::AnalyzerRule;

use datafusion::catalog::default_table_source::source_as_provider;
use datafusion::datasource::listing::ListingTable;

use super::config::{CpgOptions, SqlPolicy, StatementClass};
use super::denial::{PolicyCode, deny};
use super::paths::check_location;

/// The rule's name in the session's analyzer.
pub const RULE_NAME: &str = "cpg_sql_policy";

/// Checks plans against the `cpg.policy` options of the session analysing them.
#[derive(Debug, Default)]
pub struct PolicyRule;

impl PolicyRule {
    pub fn new() -> Self {
        Self
    }
}

impl AnalyzerRule for PolicyRule {
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        if let Some(options) = config.extensions.get::<CpgOptions>() {
            let catalog = &config.catalog;
            let mut lineage = Lineage::default();
            let checked = check_plan(
                &plan,
                &options.policy,
                &catalog.default_catalog,
                &catalog.default_schema,
                &mut lineage,
            );
            // A plan the walk cannot fingerprint is still checked and logged.
            let fingerprint = crate::fingerprint::fingerprint(&plan, config).ok();
            if let Some(fingerprint) = fingerprint {
                crate::fingerprint::remember(&plan, fingerprint);
            }
            options
                .log
                .record(&plan, fingerprint, checked.as_ref().err(), lineage);
            checked?;
        }
        Ok(plan)
    }

    fn name(&self) -> &str {
        RULE_NAME
    }
}

/// What a plan reads and calls, as far as the check got: resolved table names and
/// function names, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lineage {
    pub tables: BTreeSet<String>,
    pub functions: BTreeSet<String>,
}

/// Checks every node of `plan`, its subqueries and every expression in them, and the
/// plan's shape; collects what it reads and calls into `lineage`.
pub fn check_plan(
    plan: &LogicalPlan,
    policy: &SqlPolicy,
    default_catalog: &str,
    default_schema: &str,
    lineage: &mut Lineage,
) -> Result<()> {
    if let Some(max) = policy.max_plan_depth() {
        let depth = plan_depth(plan);
        if depth > max {
            return Err(deny(
                PolicyCode::PlanShape,
                format!("a plan {depth} nodes deep"),
                format!("cpg.policy.max_plan_depth ({max})"),
            ));
        }
    }
    if !policy.allows_cross_joins() {
        check_cross_joins(plan, &[])?;
    }
    let mut joins = 0usize;
    plan.apply_with_subqueries(|node| {
        if matches!(node, LogicalPlan::Join(_)) {
            joins += 1;
            if let Some(max) = policy.max_joins()
                && joins > max
            {
                return Err(deny(
                    PolicyCode::PlanShape,
                    format!("a plan with more than {max} joins"),
                    "cpg.policy.max_joins",
                ));
            }
        }
        check_node(node, policy, default_catalog, default_schema, lineage)?;
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                check_expr(e, policy, lineage)?;
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    })
    .map(|_| ())
}

/// Refuses a join with no join predicate. The analysed plan of `FROM a, b WHERE a.x =
/// b.y` is a predicate-less join under a filter (the optimizer moves the predicate into
/// the join later), so a conjunct of a filter above the join that references both of
/// its sides counts as its predicate; `ON true` counts as none.
fn check_cross_joins(plan: &LogicalPlan, filters: &[&Expr]) -> Result<()> {
    match plan {
        LogicalPlan::Filter(filter) => {
            let mut above = filters.to_vec();
            above.push(&filter.predicate);
            check_cross_joins(&filter.input, &above)?;
        }
        LogicalPlan::Join(join) => {
            let trivial = |filter: &Expr| {
                matches!(
                    filter,
                    Expr::Literal(datafusion::common::ScalarValue::Boolean(Some(true)), _)
                )
            };
            if join.on.is_empty() && join.filter.as_ref().is_none_or(trivial) {
                let (left, right) = (join.left.schema(), join.right.schema());
                let joins_both_sides =
                    filters
                        .iter()
                        .flat_map(|f| split_conjunction(f))
                        .any(|conjunct| {
                            let columns = conjunct.column_refs();
                            columns.iter().any(|c| left.has_column(c))
                                && columns.iter().any(|c| right.has_column(c))
                        });
                if !joins_both_sides {
                    return Err(deny(
                        PolicyCode::PlanShape,
                        "a join without any join predicate",
                        "cpg.policy.allow_cross_joins",
                    ));
                }
            }
            // Conjuncts above apply to the joins nested under this one too.
            check_cross_joins(&join.left, filters)?;
            check_cross_joins(&join.right, filters)?;
        }
        other => {
            for input in other.inputs() {
                check_cross_joins(input, &[])?;
            }
        }
    }
    let mut result = Ok(());
    let _ = plan.apply_subqueries(|subquery| {
        result = check_cross_joins(subquery, &[]);
        Ok(if result.is_ok() {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    result
}

/// The depth of the deepest path from the root through inputs and subqueries.
fn plan_depth(plan: &LogicalPlan) -> usize {
    let mut deepest = 0;
    let _ = plan.apply_subqueries(|subquery| {
        deepest = deepest.max(plan_depth(subquery));
        Ok(TreeNodeRecursion::Continue)
    });
    for input in plan.inputs() {
        deepest = deepest.max(plan_depth(input));
    }
    1 + deepest
}

fn check_node(
    node: &LogicalPlan,
    policy: &SqlPolicy,
    default_catalog: &str,
    default_schema: &str,
    lineage: &mut Lineage,
) -> Result<()> {
    let mut table = |name: &TableReference| -> Result<()> {
        let resolved = name
            .clone()
            .resolve(default_catalog, default_schema)
            .to_string();
        lineage.tables.insert(resolved.clone());
        match policy.table_denied_by(&resolved) {
            Some(rule) => Err(deny(PolicyCode::Table, format!("table {resolved}"), rule)),
            None => Ok(()),
        }
    };
    match node {
        LogicalPlan::TableScan(scan) => {
            table(&scan.table_name)?;
            // Listing tables (external tables, URL tables) read their locations.
            if let Ok(provider) = source_as_provider(&scan.source)
                && let Some(listing) = provider.downcast_ref::<ListingTable>()
            {
                for url in listing.table_paths() {
                    check_location(url.as_str(), "read", policy)?;
                }
            }
        }
        LogicalPlan::Copy(copy) => check_location(&copy.output_url, "COPY TO", policy)?,
        LogicalPlan::Ddl(DdlStatement::CreateExternalTable(create)) => {
            for location in &create.locations {
                check_location(location, "external table at", policy)?;
            }
        }
        _ => {}
    }
    let class = match node {
        LogicalPlan::Dml(dml) => {
            table(&dml.table_name)?;
            Some(match &dml.op {
                WriteOp::Insert(_) => StatementClass::Insert,
                WriteOp::Update | WriteOp::MergeInto(_) => StatementClass::Update,
                WriteOp::Delete | WriteOp::Truncate => StatementClass::Delete,
                WriteOp::Ctas => StatementClass::CreateTable,
                // A write kind added after DataFusion 55.2: governed as a DML write.
                _ => StatementClass::Update,
            })
        }
        LogicalPlan::Copy(_) => Some(StatementClass::CopyTo),
        LogicalPlan::Ddl(ddl) => Some(match ddl {
            DdlStatement::CreateExternalTable(_) => StatementClass::CreateExternalTable,
            DdlStatement::CreateMemoryTable(_) | DdlStatement::CreateIndex(_) => {
                StatementClass::CreateTable
            }
            DdlStatement::CreateView(_) => StatementClass::CreateView,
            DdlStatement::CreateCatalogSchema(_) | DdlStatement::CreateCatalog(_) => {
                StatementClass::CreateCatalogOrSchema
            }
            DdlStatement::DropTable(_) => StatementClass::DropTable,
            DdlStatement::DropView(_) => StatementClass::DropView,
            DdlStatement::DropCatalogSchema(_) => StatementClass::DropCatalogOrSchema,
            DdlStatement::CreateFunction(_) => StatementClass::CreateFunction,
            DdlStatement::DropFunction(_) => StatementClass::DropFunction,
        }),
        LogicalPlan::Statement(statement) => Some(match statement {
            Statement::TransactionStart(_) | Statement::TransactionEnd(_) => {
                StatementClass::Transaction
            }
            Statement::SetVariable(_) | Statement::ResetVariable(_) => StatementClass::Set,
            Statement::Prepare(_) | Statement::Execute(_) | Statement::Deallocate(_) => {
                StatementClass::PrepareExecute
            }
        }),
        _ => None,
    };
    match class {
        Some(class) if !policy.allows(class) => Err(deny(
            PolicyCode::Statement,
            format!(
                "{} statement",
                class.name().replace('_', " ").to_uppercase()
            ),
            format!("cpg.policy.allow_{}", class.name()),
        )),
        _ => Ok(()),
    }
}

fn check_expr(expr: &Expr, policy: &SqlPolicy, lineage: &mut Lineage) -> Result<()> {
    let (name, volatile) = match expr {
        Expr::ScalarFunction(ScalarFunction { func, .. }) => (
            func.name(),
            func.signature().volatility == Volatility::Volatile,
        ),
        Expr::AggregateFunction(AggregateFunction { func, .. }) => (
            func.name(),
            func.signature().volatility == Volatility::Volatile,
        ),
        Expr::WindowFunction(window) => {
            let WindowFunction { fun, .. } = window.as_ref();
            let volatile = match fun {
                WindowFunctionDefinition::AggregateUDF(f) => {
                    f.signature().volatility == Volatility::Volatile
                }
                WindowFunctionDefinition::WindowUDF(f) => {
                    f.signature().volatility == Volatility::Volatile
                }
            };
            (fun.name(), volatile)
        }
        _ => return Ok(()),
    };
    lineage.functions.insert(name.to_ascii_lowercase());
    policy.check_function(name, volatile)
}
