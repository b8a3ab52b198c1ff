//! The surfaces of `span_align`: [`SpanAlignTable`] (a table over two input plans),
//! [`SpanAlignFunction`] (SQL: `span_align('left_table', 'right_table', 'mode' [,
//! 'key=value; ...'])`, tables resolved in the calling session's catalog, so it works in
//! any host, over FFI too) and [`span_align`] (DataFrames).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue, TableReference, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::{TableType, provider_as_source, source_as_provider};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};

use super::exec::{AlignPlan, OutputColumn, SpanAlignExec};
use super::{AlignHow, AlignMode, AlignOptions, SpanColumnNames};

/// The name of the SQL table function.
pub const SPAN_ALIGN_FUNCTION: &str = "span_align";

/// The best right match of every left row of `left` in `right`, as a DataFrame (it
/// runs in `left`'s session).
pub fn span_align(left: DataFrame, right: DataFrame, options: AlignOptions) -> Result<DataFrame> {
    let right = right.logical_plan().clone();
    let (state, left) = left.into_parts();
    let table = SpanAlignTable::try_new(left, right, options)?;
    let plan = LogicalPlanBuilder::scan(
        SPAN_ALIGN_FUNCTION,
        provider_as_source(Arc::new(table)),
        None,
    )?
    .build()?;
    Ok(DataFrame::new(state, plan))
}

/// See the module docs.
#[derive(Debug)]
pub struct SpanAlignTable {
    left: LogicalPlan,
    right: LogicalPlan,
    plan: AlignPlan,
}

impl SpanAlignTable {
    pub fn try_new(left: LogicalPlan, right: LogicalPlan, options: AlignOptions) -> Result<Self> {
        let left_schema = left.schema().as_arrow().clone();
        let right_schema = right.schema().as_arrow().clone();
        let plan = resolve(&left_schema, &right_schema, &options)?;
        Ok(Self { left, right, plan })
    }

    /// The table's inputs and alignment (what its codec entry writes).
    pub(crate) fn parts(&self) -> (&LogicalPlan, &LogicalPlan, &AlignPlan) {
        (&self.left, &self.right, &self.plan)
    }

    /// The table of decoded parts.
    pub(crate) fn from_parts(left: LogicalPlan, right: LogicalPlan, plan: AlignPlan) -> Self {
        Self { left, right, plan }
    }
}

/// The index of column `name` of the `side` input, or an error listing its columns.
fn column(schema: &Schema, side: &str, name: &str) -> Result<usize> {
    schema.index_of(name).map_err(|_| {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        DataFusionError::Plan(format!(
            "span_align: the {side} input has no column '{name}'; its columns: {}",
            names.join(", ")
        ))
    })
}

fn span_columns(
    schema: &Schema,
    side: &str,
    names: &SpanColumnNames,
) -> Result<(usize, usize, usize)> {
    let path = column(schema, side, &names.path)?;
    let mut bounds = [0; 2];
    for (slot, name) in bounds.iter_mut().zip([&names.start, &names.end]) {
        *slot = column(schema, side, name)?;
        let data_type = schema.field(*slot).data_type();
        if !data_type.is_integer() {
            return plan_err!(
                "span_align: {side} span bound '{name}' is {data_type}; span bounds must be \
                 integer columns"
            );
        }
    }
    Ok((path, bounds[0], bounds[1]))
}

/// Resolves `options` against the two input schemas.
fn resolve(left: &Schema, right: &Schema, options: &AlignOptions) -> Result<AlignPlan> {
    let left_span = span_columns(left, "left", &options.left_span)?;
    let right_span = span_columns(right, "right", &options.right_span)?;
    let pick = |schema: &Schema, side: &str, names: &Option<Vec<String>>| -> Result<Vec<usize>> {
        match names {
            None => Ok((0..schema.fields().len()).collect()),
            Some(names) => names.iter().map(|n| column(schema, side, n)).collect(),
        }
    };
    let left_output = pick(left, "left", &options.left_columns)?;
    let right_output = pick(right, "right", &options.right_columns)?;
    let tie_breakers = options
        .tie_breakers
        .iter()
        .map(|t| Ok((column(right, "right", &t.column)?, t.clone())))
        .collect::<Result<Vec<_>>>()?;
    let mut fields: Vec<Field> = left_output.iter().map(|i| left.field(*i).clone()).collect();
    for i in &right_output {
        let field = right.field(*i);
        let mut name = field.name().clone();
        if fields.iter().any(|f| f.name() == &name) {
            name = format!("{name}{}", options.suffix);
            if fields.iter().any(|f| f.name() == &name) {
                return plan_err!(
                    "span_align: right column '{}' clashes with an output column even as \
                     '{name}'; choose another suffix or fewer columns",
                    field.name()
                );
            }
        }
        fields.push(
            field
                .as_ref()
                .clone()
                .with_name(name)
                .with_nullable(field.is_nullable() || options.how == AlignHow::Left),
        );
    }
    for name in ["match_kind", "match_score"] {
        if fields.iter().any(|f| f.name() == name) {
            return plan_err!(
                "span_align: the output already has a column '{name}'; leave it out with \
                 left_columns/right_columns"
            );
        }
    }
    fields.push(Field::new("match_kind", DataType::Utf8, false));
    fields.push(Field::new("match_score", DataType::Float64, true));
    Ok(AlignPlan {
        mode: options.mode,
        how: options.how,
        left_span,
        right_span,
        outputs: left_output
            .into_iter()
            .map(OutputColumn::Left)
            .chain(right_output.into_iter().map(OutputColumn::Right))
            .chain([OutputColumn::MatchKind, OutputColumn::MatchScore])
            .collect(),
        tie_breakers,
        schema: Arc::new(Schema::new(fields)),
    })
}

/// A physical plan for columns `columns` of `plan`: a plain table scan goes straight to
/// its provider (so a session passed over FFI, which cannot plan, works), anything else
/// is planned.
async fn physical_input(
    session: &dyn Session,
    plan: &LogicalPlan,
    columns: &[usize],
) -> Result<Arc<dyn ExecutionPlan>> {
    if let LogicalPlan::TableScan(scan) = plan
        && scan.filters.is_empty()
        && scan.fetch.is_none()
    {
        let provider = source_as_provider(&scan.source)?;
        let projection: Vec<usize> = match &scan.projection {
            Some(outer) => columns
                .iter()
                .filter_map(|c| outer.get(*c).copied())
                .collect(),
            None => columns.to_vec(),
        };
        return provider.scan(session, Some(&projection), &[], None).await;
    }
    let exprs: Vec<Expr> = columns
        .iter()
        .map(|c| {
            Expr::Column(datafusion::common::Column::from(
                plan.schema().qualified_field(*c),
            ))
        })
        .collect();
    let projected = LogicalPlanBuilder::from(plan.clone())
        .project(exprs)?
        .build()?;
    session.create_physical_plan(&projected).await
}

#[async_trait]
impl TableProvider for SpanAlignTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.plan.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Only the projected columns are built (a `count(*)` builds none), from only
        // the input columns they and the alignment read.
        let plan = match projection {
            Some(projection) => self.plan.project(projection)?,
            None => self.plan.clone(),
        };
        let (plan, left_columns, right_columns) = plan.pruned();
        let mut left = physical_input(session, &self.left, &left_columns).await?;
        // The left side is what runs in parallel: spread a single-partition input over
        // the session's partitions (whole batches, so document order within a batch
        // stays).
        let target = session.config().target_partitions();
        if left.output_partitioning().partition_count() < target {
            left = Arc::new(RepartitionExec::try_new(
                left,
                Partitioning::RoundRobinBatch(target),
            )?);
        }
        let right = physical_input(session, &self.right, &right_columns).await?;
        Ok(Arc::new(SpanAlignExec::new(left, right, plan)))
    }
}

/// `span_align('left_table', 'right_table', 'mode' [, 'key=value; ...'])`.
#[derive(Debug, Default)]
pub struct SpanAlignFunction;

fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(s)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _) => Some(s),
        _ => None,
    }
}

/// The scan of table `name` in `session`'s catalog.
fn table_scan(session: &dyn Session, name: &str) -> Result<LogicalPlan> {
    let reference = TableReference::parse_str(name);
    let options = session.config_options();
    let resolved = reference.clone().resolve(
        &options.catalog.default_catalog,
        &options.catalog.default_schema,
    );
    let missing = || DataFusionError::Plan(format!("span_align: no table '{name}'"));
    let catalog = session
        .catalog_list()
        .catalog(&resolved.catalog)
        .ok_or_else(missing)?;
    let schema = catalog.schema(&resolved.schema).ok_or_else(missing)?;
    // Catalog lookups are async; schema providers answer at once (in memory, or a host
    // session over FFI), so this does not wait on I/O from a runtime thread.
    let table = futures::executor::block_on(schema.table(&resolved.table))?.ok_or_else(|| {
        let mut names = schema.table_names();
        names.sort();
        DataFusionError::Plan(format!(
            "span_align: no table '{name}' in {}.{}; tables: {}",
            resolved.catalog,
            resolved.schema,
            names.join(", ")
        ))
    })?;
    LogicalPlanBuilder::scan(reference, provider_as_source(table), None)?.build()
}

impl TableFunctionImpl for SpanAlignFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let strings: Option<Vec<&str>> = exprs.iter().map(string_literal).collect();
        let (left, right, mode, option_text) = match strings.as_deref() {
            Some([left, right, mode]) => (*left, *right, *mode, ""),
            Some([left, right, mode, options]) => (*left, *right, *mode, *options),
            _ => {
                return plan_err!(
                    "{SPAN_ALIGN_FUNCTION} takes 3 or 4 string literals: left table, right \
                     table, mode ({}) and options ('key=value; ...'); got {}",
                    AlignMode::ALL.map(|m| m.name()).join(", "),
                    exprs
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        };
        let options = AlignOptions::new(AlignMode::parse(mode)?).with_option_text(option_text)?;
        let session = args.session();
        Ok(Arc::new(SpanAlignTable::try_new(
            table_scan(session, left)?,
            table_scan(session, right)?,
            options,
        )?))
    }
}
