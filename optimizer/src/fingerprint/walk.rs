//! The canonical walk of a logical plan: every node and expression written to an
//! [`super::encoder::Encoder`] by its meaning, not its text.
//!
//! - Columns are written by their position in the node's input schema, so internal
//!   aliases (`FROM t AS x`, `SELECT a AS b` inside a subquery, `__correlated_sq_1`) do not
//!   matter; the root's output names and order are written by the caller.
//! - Tables by resolved name `catalog.schema.table`; their columns by name.
//! - Functions by name and arity; every node's output column types (so the return
//!   type of each function whose value a node produces, and every cast).
//! - In the shape a literal is written as a placeholder of its type, and an IN list of
//!   literals as one placeholder list of the first literal's type, whatever its length.
//! - Nodes the walk has no canonical form for (DDL other than external tables, statements,
//!   extension nodes) by their one-line display, which DataFusion prints from their fields.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, Result, TableReference};
use datafusion::logical_expr::expr::{
    AggregateFunction, Alias, Exists, InList, InSubquery, ScalarFunction, SetComparison,
    WindowFunction,
};
use datafusion::logical_expr::{
    DdlStatement, Distinct, Expr, LogicalPlan, Partitioning, Signature, SortExpr, Subquery,
    Volatility, WindowFunctionDefinition,
};

use super::encoder::Both;

/// A function the plan calls, for the catalog digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUse {
    pub signature: String,
    pub volatility: String,
}

/// One walk in one mode.
pub struct Walk<'a> {
    /// The exact and the shape encodings, written in one walk.
    pub encoder: Both,
    default_catalog: &'a str,
    default_schema: &'a str,
    /// The whole plan, for [`Walk::alias_position`].
    root: &'a LogicalPlan,
    /// SubqueryAlias / CTE names → their position in the plan, so alias text never counts;
    /// collected the first time a named column needs it.
    aliases: Option<HashMap<String, usize>>,
    /// Resolved table name → the table's schema.
    pub tables: BTreeMap<String, SchemaRef>,
    /// `kind:name` → signature and volatility.
    pub functions: BTreeMap<String, FunctionUse>,
    pub volatile: bool,
    /// Function objects already recorded in `functions`.
    seen_functions: HashSet<usize>,
}

impl<'a> Walk<'a> {
    pub fn new(plan: &'a LogicalPlan, default_catalog: &'a str, default_schema: &'a str) -> Self {
        Self {
            encoder: Both::default(),
            default_catalog,
            default_schema,
            root: plan,
            aliases: None,
            tables: BTreeMap::new(),
            functions: BTreeMap::new(),
            volatile: false,
            seen_functions: HashSet::new(),
        }
    }

    /// The position of the alias `name` in the plan, if it is one.
    fn alias_position(&mut self, name: &str) -> Option<usize> {
        let root = self.root;
        let aliases = self.aliases.get_or_insert_with(|| {
            let mut aliases = HashMap::new();
            // The closure never fails.
            let _ = root.apply_with_subqueries(|node| {
                let name = match node {
                    LogicalPlan::SubqueryAlias(alias) => Some(alias.alias.table().to_string()),
                    LogicalPlan::RecursiveQuery(query) => Some(query.name.clone()),
                    _ => None,
                };
                if let Some(name) = name {
                    let next = aliases.len();
                    aliases.entry(name).or_insert(next);
                }
                Ok(TreeNodeRecursion::Continue)
            });
            aliases
        });
        aliases.get(name).copied()
    }

    fn resolved(&self, table: &TableReference) -> String {
        table
            .clone()
            .resolve(self.default_catalog, self.default_schema)
            .to_string()
    }

    /// A qualifier: an alias by its position, a table by its resolved name.
    fn qualifier(&mut self, qualifier: Option<&TableReference>) {
        match qualifier {
            None => self.encoder.tag("unqualified"),
            Some(reference) => match self.alias_position(reference.table()) {
                Some(position) if reference.schema().is_none() => {
                    self.encoder.tag("alias");
                    self.encoder.len(position);
                }
                _ => {
                    self.encoder.tag("table");
                    self.encoder.display(
                        reference
                            .clone()
                            .resolve(self.default_catalog, self.default_schema),
                    );
                }
            },
        }
    }

    pub fn plan(&mut self, plan: &LogicalPlan) -> Result<()> {
        let inputs = plan.inputs();
        let schema = Scope::of(&inputs);
        let e = |walk: &mut Self, expr: &Expr| walk.expr(expr, schema);
        match plan {
            LogicalPlan::Projection(projection) => {
                self.encoder.tag("projection");
                self.exprs(&projection.expr, schema)?;
            }
            LogicalPlan::Filter(filter) => {
                self.encoder.tag("filter");
                e(self, &filter.predicate)?;
            }
            LogicalPlan::Window(window) => {
                self.encoder.tag("window");
                self.exprs(&window.window_expr, schema)?;
            }
            LogicalPlan::Aggregate(aggregate) => {
                self.encoder.tag("aggregate");
                self.exprs(&aggregate.group_expr, schema)?;
                self.exprs(&aggregate.aggr_expr, schema)?;
            }
            LogicalPlan::Sort(sort) => {
                self.encoder.tag("sort");
                self.sorts(&sort.expr, schema)?;
                self.encoder.opt_u64(sort.fetch.map(|f| f as u64));
            }
            LogicalPlan::Join(join) => {
                self.encoder.tag("join");
                self.encoder.display(join.join_type);
                self.encoder
                    .display(format_args!("{:?}", join.join_constraint));
                self.encoder
                    .display(format_args!("{:?}", join.null_equality));
                self.encoder.len(join.on.len());
                for (left, right) in &join.on {
                    e(self, left)?;
                    e(self, right)?;
                }
                self.opt_expr(join.filter.as_ref(), schema)?;
            }
            LogicalPlan::Repartition(repartition) => {
                self.encoder.tag("repartition");
                match &repartition.partitioning_scheme {
                    Partitioning::RoundRobinBatch(n) => {
                        self.encoder.tag("round_robin");
                        self.encoder.len(*n);
                    }
                    Partitioning::Hash(exprs, n) => {
                        self.encoder.tag("hash");
                        self.exprs(exprs, schema)?;
                        self.encoder.len(*n);
                    }
                    Partitioning::DistributeBy(exprs) => {
                        self.encoder.tag("distribute_by");
                        self.exprs(exprs, schema)?;
                    }
                    other => self.encoder.str(&format!("{other:?}")),
                }
            }
            LogicalPlan::Union(_) => self.encoder.tag("union"),
            LogicalPlan::TableScan(scan) => {
                self.encoder.tag("table_scan");
                let resolved = self.resolved(&scan.table_name);
                self.encoder.str(&resolved);
                let source = scan.source.schema();
                match &scan.projection {
                    Some(indices) => {
                        self.encoder.bool(true);
                        self.encoder.len(indices.len());
                        for index in indices {
                            match source.fields().get(*index) {
                                Some(field) => self.encoder.str(field.name()),
                                None => self.encoder.len(*index),
                            }
                        }
                    }
                    None => self.encoder.bool(false),
                }
                // Filters (pushed down by the optimizer; none in an analyzed plan) name
                // the table's own columns.
                if scan.filters.is_empty() {
                    self.encoder.len(0);
                } else {
                    let table_schema = DFSchema::try_from_qualified_schema(
                        scan.table_name.clone(),
                        source.as_ref(),
                    )?;
                    self.exprs(&scan.filters, Scope::one(&table_schema))?;
                }
                self.encoder.opt_u64(scan.fetch.map(|f| f as u64));
                self.tables.insert(resolved, source);
            }
            LogicalPlan::EmptyRelation(empty) => {
                self.encoder.tag("empty_relation");
                self.encoder.bool(empty.produce_one_row);
                self.encoder.len(empty.schema.fields().len());
                for field in empty.schema.fields() {
                    self.encoder.data_type(field.data_type());
                }
            }
            LogicalPlan::Subquery(subquery) => {
                self.encoder.tag("subquery");
                self.encoder.len(subquery.outer_ref_columns.len());
            }
            // A pure rename: columns are positional, so the alias is invisible.
            LogicalPlan::SubqueryAlias(alias) => return self.plan(&alias.input),
            LogicalPlan::Limit(limit) => {
                self.encoder.tag("limit");
                self.opt_expr(limit.skip.as_deref(), schema)?;
                self.opt_expr(limit.fetch.as_deref(), schema)?;
            }
            LogicalPlan::Values(values) => {
                self.encoder.tag("values");
                self.encoder.len(values.values.len());
                for row in &values.values {
                    self.exprs(row, schema)?;
                }
            }
            LogicalPlan::Explain(explain) => {
                self.encoder.tag("explain");
                self.encoder.bool(explain.verbose);
            }
            LogicalPlan::Analyze(analyze) => {
                self.encoder.tag("analyze");
                self.encoder.bool(analyze.verbose);
            }
            LogicalPlan::Distinct(Distinct::All(_)) => self.encoder.tag("distinct"),
            LogicalPlan::Distinct(Distinct::On(on)) => {
                self.encoder.tag("distinct_on");
                self.exprs(&on.on_expr, schema)?;
                self.exprs(&on.select_expr, schema)?;
                match &on.sort_expr {
                    Some(sorts) => {
                        self.encoder.bool(true);
                        self.sorts(sorts, schema)?;
                    }
                    None => self.encoder.bool(false),
                }
            }
            LogicalPlan::Dml(dml) => {
                self.encoder.tag("dml");
                self.encoder.tag(dml.op.name());
                let resolved = self.resolved(&dml.table_name);
                self.encoder.str(&resolved);
            }
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(create)) => {
                self.encoder.tag("create_external_table");
                let resolved = self.resolved(&create.name);
                self.encoder.str(&resolved);
                self.encoder.len(create.locations.len());
                for location in &create.locations {
                    self.encoder.str(location);
                }
                self.encoder.str(&create.file_type);
                self.encoder.map(&create.options);
                self.encoder.len(create.schema.fields().len());
                for field in create.schema.fields() {
                    self.encoder.field(field);
                }
                self.encoder.len(create.table_partition_cols.len());
                for column in &create.table_partition_cols {
                    self.encoder.str(column);
                }
                self.encoder.bool(create.unbounded);
                self.encoder.bool(create.if_not_exists);
                self.encoder.bool(create.or_replace);
            }
            LogicalPlan::Copy(copy) => {
                self.encoder.tag("copy");
                self.encoder.str(&copy.output_url);
                self.encoder.str(&copy.file_type.get_ext());
                self.encoder.len(copy.partition_by.len());
                for column in &copy.partition_by {
                    self.encoder.str(column);
                }
                self.encoder.map(&copy.options);
            }
            LogicalPlan::Unnest(unnest) => {
                self.encoder.tag("unnest");
                self.encoder.len(unnest.exec_columns.len());
                for column in &unnest.exec_columns {
                    self.column(column, schema);
                }
                self.encoder.len(unnest.list_type_columns.len());
                for (index, list) in &unnest.list_type_columns {
                    self.encoder.len(*index);
                    self.encoder.len(list.depth);
                }
                self.encoder.len(unnest.struct_type_columns.len());
                for index in &unnest.struct_type_columns {
                    self.encoder.len(*index);
                }
                self.encoder.str(&format!("{:?}", unnest.options));
            }
            LogicalPlan::RecursiveQuery(query) => {
                self.encoder.tag("recursive_query");
                self.encoder.bool(query.is_distinct);
            }
            LogicalPlan::Extension(extension) => {
                self.encoder.tag("extension");
                self.encoder.str(extension.node.name());
                self.encoder.str(&plan.display().to_string());
                self.exprs(&extension.node.expressions(), schema)?;
            }
            // Statements, other DDL and DESCRIBE: their one-line display.
            LogicalPlan::Statement(_) | LogicalPlan::Ddl(_) | LogicalPlan::DescribeTable(_) => {
                self.encoder.tag("statement");
                self.encoder.str(&plan.display().to_string());
            }
        }
        // Every node's output column types: the return types of the functions it
        // computes, the types its casts and coercions produced.
        let output = plan.schema().fields();
        self.encoder.len(output.len());
        for field in output {
            self.encoder.data_type(field.data_type());
        }
        self.encoder.len(inputs.len());
        for input in inputs {
            self.plan(input)?;
        }
        Ok(())
    }

    fn exprs(&mut self, exprs: &[Expr], scope: Scope<'_>) -> Result<()> {
        let schema = scope;
        self.encoder.len(exprs.len());
        for expr in exprs {
            self.expr(expr, schema)?;
        }
        Ok(())
    }

    fn opt_expr(&mut self, expr: Option<&Expr>, scope: Scope<'_>) -> Result<()> {
        let schema = scope;
        match expr {
            Some(expr) => {
                self.encoder.bool(true);
                self.expr(expr, schema)
            }
            None => {
                self.encoder.bool(false);
                Ok(())
            }
        }
    }

    fn sorts(&mut self, sorts: &[SortExpr], scope: Scope<'_>) -> Result<()> {
        let schema = scope;
        self.encoder.len(sorts.len());
        for sort in sorts {
            self.expr(&sort.expr, schema)?;
            self.encoder.bool(sort.asc);
            self.encoder.bool(sort.nulls_first);
        }
        Ok(())
    }

    fn column(&mut self, column: &Column, scope: Scope<'_>) {
        match scope.index_of(column) {
            Some(index) => {
                self.encoder.tag("col");
                self.encoder.len(index);
            }
            None => {
                self.encoder.tag("named_col");
                self.qualifier(column.relation.as_ref());
                self.encoder.str(&column.name);
            }
        }
    }

    fn subquery(&mut self, subquery: &Subquery) -> Result<()> {
        self.encoder.len(subquery.outer_ref_columns.len());
        self.plan(&subquery.subquery)
    }

    /// Records a function the plan calls, once per function object.
    fn record_function<F: Send + Sync + 'static>(
        &mut self,
        kind: &str,
        function: &Arc<F>,
        name: &str,
        signature: &Signature,
    ) {
        if signature.volatility == Volatility::Volatile {
            self.volatile = true;
        }
        let identity = Arc::as_ptr(function) as *const () as usize;
        if self.seen_functions.insert(identity) {
            self.functions.insert(
                format!("{kind}:{name}"),
                signature_text(function, identity, signature),
            );
        }
    }

    fn expr(&mut self, expr: &Expr, scope: Scope<'_>) -> Result<()> {
        let schema = scope;
        let boxed = |walk: &mut Self, tag: &str, inner: &Expr| -> Result<()> {
            walk.encoder.tag(tag);
            walk.expr(inner, schema)
        };
        match expr {
            // Internal names never count; the root's output names are written separately.
            Expr::Alias(Alias { expr, .. }) => self.expr(expr, schema)?,
            Expr::Column(column) => self.column(column, schema),
            Expr::OuterReferenceColumn(field, column) => {
                self.encoder.tag("outer_col");
                self.qualifier(column.relation.as_ref());
                self.encoder.str(&column.name);
                self.encoder.data_type(field.data_type());
            }
            Expr::Literal(value, _) => {
                self.encoder.exact.tag("literal");
                self.encoder.exact.scalar(value);
                self.encoder.shape.tag("placeholder");
                self.encoder.shape.data_type(&value.data_type());
            }
            Expr::ScalarVariable(field, names) => {
                self.encoder.tag("variable");
                self.encoder.len(names.len());
                for name in names {
                    self.encoder.str(name);
                }
                self.encoder.data_type(field.data_type());
            }
            Expr::Placeholder(placeholder) => {
                self.encoder.tag("parameter");
                self.encoder.str(&placeholder.id);
                match &placeholder.field {
                    Some(field) => self.encoder.data_type(field.data_type()),
                    None => self.encoder.tag("untyped"),
                }
            }
            Expr::BinaryExpr(binary) => {
                self.encoder.tag("binary");
                self.encoder.display(binary.op);
                self.expr(&binary.left, schema)?;
                self.expr(&binary.right, schema)?;
            }
            Expr::Like(like) | Expr::SimilarTo(like) => {
                self.encoder.tag(if matches!(expr, Expr::Like(_)) {
                    "like"
                } else {
                    "similar_to"
                });
                self.encoder.bool(like.negated);
                self.encoder.bool(like.case_insensitive);
                self.encoder.opt_u64(like.escape_char.map(u64::from));
                self.expr(&like.expr, schema)?;
                self.expr(&like.pattern, schema)?;
            }
            Expr::Not(e) => boxed(self, "not", e)?,
            Expr::IsNotNull(e) => boxed(self, "is_not_null", e)?,
            Expr::IsNull(e) => boxed(self, "is_null", e)?,
            Expr::IsTrue(e) => boxed(self, "is_true", e)?,
            Expr::IsFalse(e) => boxed(self, "is_false", e)?,
            Expr::IsUnknown(e) => boxed(self, "is_unknown", e)?,
            Expr::IsNotTrue(e) => boxed(self, "is_not_true", e)?,
            Expr::IsNotFalse(e) => boxed(self, "is_not_false", e)?,
            Expr::IsNotUnknown(e) => boxed(self, "is_not_unknown", e)?,
            Expr::Negative(e) => boxed(self, "negative", e)?,
            Expr::Between(between) => {
                self.encoder.tag("between");
                self.encoder.bool(between.negated);
                self.expr(&between.expr, schema)?;
                self.expr(&between.low, schema)?;
                self.expr(&between.high, schema)?;
            }
            Expr::Case(case) => {
                self.encoder.tag("case");
                self.opt_expr(case.expr.as_deref(), schema)?;
                self.encoder.len(case.when_then_expr.len());
                for (when, then) in &case.when_then_expr {
                    self.expr(when, schema)?;
                    self.expr(then, schema)?;
                }
                self.opt_expr(case.else_expr.as_deref(), schema)?;
            }
            Expr::Cast(cast) => {
                self.encoder.tag("cast");
                self.encoder.data_type(cast.field.data_type());
                self.expr(&cast.expr, schema)?;
            }
            Expr::TryCast(cast) => {
                self.encoder.tag("try_cast");
                self.encoder.data_type(cast.field.data_type());
                self.expr(&cast.expr, schema)?;
            }
            Expr::ScalarFunction(ScalarFunction { func, args }) => {
                self.encoder.tag("scalar_function");
                self.encoder.str(func.name());
                self.record_function("scalar", func, func.name(), func.signature());
                self.exprs(args, schema)?;
            }
            Expr::AggregateFunction(AggregateFunction { func, params }) => {
                self.encoder.tag("aggregate_function");
                self.encoder.str(func.name());
                self.record_function("aggregate", func, func.name(), func.signature());
                self.encoder.bool(params.distinct);
                self.exprs(&params.args, schema)?;
                self.opt_expr(params.filter.as_deref(), schema)?;
                self.sorts(&params.order_by, schema)?;
                self.encoder
                    .display(format_args!("{:?}", params.null_treatment));
            }
            Expr::WindowFunction(window) => {
                let WindowFunction { fun, params } = window.as_ref();
                self.encoder.tag("window_function");
                self.encoder.str(fun.name());
                match fun {
                    WindowFunctionDefinition::AggregateUDF(udaf) => {
                        self.record_function("aggregate", udaf, udaf.name(), udaf.signature())
                    }
                    WindowFunctionDefinition::WindowUDF(udwf) => {
                        self.record_function("window", udwf, udwf.name(), udwf.signature())
                    }
                }
                self.exprs(&params.args, schema)?;
                self.exprs(&params.partition_by, schema)?;
                self.sorts(&params.order_by, schema)?;
                self.encoder.display(&params.window_frame);
                self.opt_expr(params.filter.as_deref(), schema)?;
                self.encoder
                    .display(format_args!("{:?}", params.null_treatment));
            }
            Expr::InList(InList {
                expr: inner,
                list,
                negated,
            }) => {
                self.encoder.tag("in_list");
                self.encoder.bool(*negated);
                self.expr(inner, schema)?;
                let literals = list.iter().all(|item| matches!(item, Expr::Literal(..)));
                if literals {
                    // The exact lists every literal; the shape collapses the list: any
                    // number of literals of the first one's type.
                    self.encoder.exact.len(list.len());
                    for item in list {
                        if let Expr::Literal(value, _) = item {
                            self.encoder.exact.tag("literal");
                            self.encoder.exact.scalar(value);
                        }
                    }
                    self.encoder.shape.tag("literal_list");
                    match list.first() {
                        Some(Expr::Literal(value, _)) => {
                            self.encoder.shape.data_type(&value.data_type())
                        }
                        _ => self.encoder.shape.tag("empty"),
                    }
                } else {
                    self.exprs(list, schema)?;
                }
            }
            Expr::Exists(Exists { subquery, negated }) => {
                self.encoder.tag("exists");
                self.encoder.bool(*negated);
                self.subquery(subquery)?;
            }
            Expr::InSubquery(InSubquery {
                expr: inner,
                subquery,
                negated,
            }) => {
                self.encoder.tag("in_subquery");
                self.encoder.bool(*negated);
                self.expr(inner, schema)?;
                self.subquery(subquery)?;
            }
            Expr::SetComparison(SetComparison {
                expr: inner,
                subquery,
                op,
                quantifier,
            }) => {
                self.encoder.tag("set_comparison");
                self.encoder.display(op);
                self.encoder.display(format_args!("{quantifier:?}"));
                self.expr(inner, schema)?;
                self.subquery(subquery)?;
            }
            Expr::ScalarSubquery(subquery) => {
                self.encoder.tag("scalar_subquery");
                self.subquery(subquery)?;
            }
            // The rest (grouping sets, unnest, lambdas, wildcards before expansion): their
            // variant and their child expressions in order.
            other => {
                self.encoder.tag(other.variant_name());
                let mut children = vec![];
                other.apply_children(|child| {
                    children.push(child.clone());
                    Ok(TreeNodeRecursion::Continue)
                })?;
                self.exprs(&children, schema)?;
            }
        }
        Ok(())
    }
}

/// The columns a node's expressions are resolved against: its input's, or both sides of
/// a join, left then right (nodes with several inputs of other kinds have no expressions).
#[derive(Clone, Copy)]
struct Scope<'s> {
    schemas: [Option<&'s DFSchema>; 2],
}

impl<'s> Scope<'s> {
    fn of(inputs: &[&'s LogicalPlan]) -> Self {
        match inputs {
            [input] => Self::one(input.schema()),
            [left, right] => Self {
                schemas: [Some(left.schema().as_ref()), Some(right.schema().as_ref())],
            },
            _ => Self {
                schemas: [None, None],
            },
        }
    }

    fn one(schema: &'s DFSchema) -> Self {
        Self {
            schemas: [Some(schema), None],
        }
    }

    /// The position of `column` among all the scope's columns.
    fn index_of(&self, column: &Column) -> Option<usize> {
        let mut offset = 0;
        for schema in self.schemas.iter().flatten() {
            if let Ok(index) = schema.index_of_column(column) {
                return Some(offset + index);
            }
            offset += schema.fields().len();
        }
        None
    }
}

/// Signatures as the catalog digest writes them, per function object. Formatting a
/// signature is most of a fingerprint's cost otherwise; the cache holds the function
/// itself, so an address is never reused for another function while cached.
type SignatureCache = HashMap<usize, (Arc<dyn Any + Send + Sync>, FunctionUse)>;

static SIGNATURES: LazyLock<Mutex<SignatureCache>> = LazyLock::new(Default::default);

/// Functions cached at most; the cache starts over when full.
const SIGNATURE_CACHE_CAPACITY: usize = 4096;

fn signature_text<F: Send + Sync + 'static>(
    function: &Arc<F>,
    identity: usize,
    signature: &Signature,
) -> FunctionUse {
    let mut cache = SIGNATURES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, text)) = cache.get(&identity) {
        return text.clone();
    }
    let text = FunctionUse {
        signature: format!("{:?}", signature.type_signature),
        volatility: format!("{:?}", signature.volatility),
    };
    if cache.len() >= SIGNATURE_CACHE_CAPACITY {
        cache.clear();
    }
    let keep: Arc<dyn Any + Send + Sync> = Arc::clone(function) as _;
    cache.insert(identity, (keep, text.clone()));
    text
}
