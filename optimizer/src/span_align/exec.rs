//! [`SpanAlignExec`]: executes `span_align` (semantics in the parent module). Children:
//! the left input, streamed partition by partition, and the right input, collected once
//! (its partitions in order, so "the earlier right row" is well defined) and indexed.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Builder, RecordBatch, RecordBatchOptions, StringBuilder, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, NullEquality, Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{FutureExt, StreamExt, TryStreamExt};

use super::{AlignHow, AlignMode, TieBreaker};
use crate::span_join::index::{Cursor, KeyGroups, RowSpan, SpanIndex, check_build_rows};
use crate::span_join::shared::{BuildFuture, SharedBuild};

/// Column positions and choices the operator needs, resolved against its inputs.
#[derive(Debug, Clone)]
pub struct AlignPlan {
    pub mode: AlignMode,
    pub how: AlignHow,
    /// (path, start, end) column indices of the left and right inputs.
    pub left_span: (usize, usize, usize),
    pub right_span: (usize, usize, usize),
    /// Where each output column comes from, in order.
    pub outputs: Vec<OutputColumn>,
    /// Right input columns and orders that break score ties.
    pub tie_breakers: Vec<(usize, TieBreaker)>,
    /// The output schema (one field per entry of `outputs`).
    pub schema: SchemaRef,
}

/// The source of one output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputColumn {
    Left(usize),
    Right(usize),
    MatchKind,
    MatchScore,
}

impl AlignPlan {
    /// The plan producing only the output columns `projection` names, in that order.
    pub fn project(&self, projection: &[usize]) -> Result<Self> {
        let outputs = projection
            .iter()
            .map(|i| {
                self.outputs.get(*i).copied().ok_or_else(|| {
                    DataFusionError::Internal(format!("span_align has no column {i}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            outputs,
            schema: Arc::new(self.schema.project(projection)?),
            ..self.clone()
        })
    }

    /// The input columns the plan reads (left, right; ascending), and the plan over
    /// inputs reduced to those columns.
    pub fn pruned(&self) -> (Self, Vec<usize>, Vec<usize>) {
        let mut left = vec![self.left_span.0, self.left_span.1, self.left_span.2];
        let mut right = vec![self.right_span.0, self.right_span.1, self.right_span.2];
        right.extend(self.tie_breakers.iter().map(|(i, _)| *i));
        for output in &self.outputs {
            match output {
                OutputColumn::Left(i) => left.push(*i),
                OutputColumn::Right(i) => right.push(*i),
                _ => {}
            }
        }
        for columns in [&mut left, &mut right] {
            columns.sort_unstable();
            columns.dedup();
        }
        let at = |columns: &[usize], i: usize| columns.binary_search(&i).unwrap_or(i);
        let span = |columns: &[usize], (p, s, e): (usize, usize, usize)| {
            (at(columns, p), at(columns, s), at(columns, e))
        };
        let plan = Self {
            left_span: span(&left, self.left_span),
            right_span: span(&right, self.right_span),
            outputs: self
                .outputs
                .iter()
                .map(|o| match o {
                    OutputColumn::Left(i) => OutputColumn::Left(at(&left, *i)),
                    OutputColumn::Right(i) => OutputColumn::Right(at(&right, *i)),
                    other => *other,
                })
                .collect(),
            tie_breakers: self
                .tie_breakers
                .iter()
                .map(|(i, t)| (at(&right, *i), t.clone()))
                .collect(),
            ..self.clone()
        };
        (plan, left, right)
    }
}

/// See the module docs.
pub struct SpanAlignExec {
    left: Arc<dyn ExecutionPlan>,
    right: Arc<dyn ExecutionPlan>,
    plan: Arc<AlignPlan>,
    properties: Arc<PlanProperties>,
    shared_right: SharedBuild<RightSide>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for SpanAlignExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanAlignExec")
            .field("plan", &self.plan)
            .finish()
    }
}

impl SpanAlignExec {
    pub fn new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        plan: AlignPlan,
    ) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&plan.schema)),
            Partitioning::UnknownPartitioning(left.output_partitioning().partition_count()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            left,
            right,
            plan: Arc::new(plan),
            properties: Arc::new(properties),
            shared_right: SharedBuild::default(),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// What the operator computes (its encoding in codecs).
    pub fn plan(&self) -> &AlignPlan {
        &self.plan
    }

    fn right_future(&self, context: &Arc<TaskContext>) -> Result<BuildFuture<RightSide>> {
        let partitions = self.left.output_partitioning().partition_count();
        self.shared_right.take(partitions, || {
            let streams = (0..self.right.output_partitioning().partition_count())
                .map(|p| self.right.execute(p, Arc::clone(context)))
                .collect::<Result<Vec<_>>>()?;
            let reservation =
                MemoryConsumer::new("SpanAlignExec[right]").register(context.memory_pool());
            let schema = self.right.schema();
            let plan = Arc::clone(&self.plan);
            Ok(async move {
                // Partitions are read concurrently and kept in partition order.
                let collected = futures::future::try_join_all(
                    streams.into_iter().map(|s| s.try_collect::<Vec<_>>()),
                )
                .await?;
                let batches: Vec<RecordBatch> = collected.into_iter().flatten().collect();
                RightSide::build(&schema, batches, &plan, reservation)
            }
            .map(|r| r.map(Arc::new).map_err(Arc::new))
            .boxed()
            .shared())
        })
    }
}

impl DisplayAs for SpanAlignExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let name = |schema: SchemaRef, i: usize| {
            schema
                .fields()
                .get(i)
                .map_or_else(|| format!("#{i}"), |f| f.name().clone())
        };
        let span = |schema: SchemaRef, (p, s, e): (usize, usize, usize)| {
            format!(
                "{}, [{}, {})",
                name(Arc::clone(&schema), p),
                name(Arc::clone(&schema), s),
                name(schema, e)
            )
        };
        write!(
            f,
            "SpanAlignExec: mode={}, how={:?}, left=({}), right=({})",
            self.plan.mode.name(),
            self.plan.how,
            span(self.left.schema(), self.plan.left_span),
            span(self.right.schema(), self.plan.right_span),
        )?;
        if !self.plan.tie_breakers.is_empty() {
            let names: Vec<String> = self
                .plan
                .tie_breakers
                .iter()
                .map(|(_, t)| {
                    format!(
                        "{} {}",
                        t.column,
                        if t.options.descending { "DESC" } else { "ASC" }
                    )
                })
                .collect();
            write!(f, ", tie_breakers=[{}]", names.join(", "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SpanAlignExec {
    fn name(&self) -> &str {
        "SpanAlignExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    // Left rows keep their order, but DataFusion's sort pushdown maps an order through
    // a node that "maintains" it by column position, and the output's columns are not
    // the left input's: declared false so no sort is pushed below with wrong columns.
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false, false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match <[_; 2]>::try_from(children) {
            Ok([left, right]) => Ok(Arc::new(Self::new(left, right, (*self.plan).clone()))),
            Err(children) => {
                internal_err!("SpanAlignExec has two children, got {}", children.len())
            }
        }
    }

    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(
            Arc::clone(&self.left),
            Arc::clone(&self.right),
            (*self.plan).clone(),
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let right = self.right_future(&context)?;
        let left = self.left.execute(partition, context)?;
        let plan = Arc::clone(&self.plan);
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let schema = Arc::clone(&plan.schema);
        let stream = futures::stream::once(async move {
            let right = right.await.map_err(DataFusionError::Shared)?;
            Ok::<_, DataFusionError>(left.map(move |batch| {
                let _timer = baseline.elapsed_compute().timer();
                let out = align_batch(&plan, &right, &batch?)?;
                baseline.record_output(out.num_rows());
                Ok(out)
            }))
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// The collected right input, indexed per path.
struct RightSide {
    batch: RecordBatch,
    groups: KeyGroups,
    index: SpanIndex,
    spans: Vec<RowSpan>,
    /// Tie-breaker values in row format (compare as bytes).
    tie_rows: Option<Rows>,
    _reservation: MemoryReservation,
}

impl RightSide {
    fn build(
        schema: &SchemaRef,
        batches: Vec<RecordBatch>,
        plan: &AlignPlan,
        reservation: MemoryReservation,
    ) -> Result<Self> {
        for batch in &batches {
            reservation.try_grow(batch.get_array_memory_size())?;
        }
        check_build_rows("SpanAlignExec", batches.iter().map(|b| b.num_rows()).sum())?;
        let batch = concat_batches(schema, &batches)?;
        drop(batches);
        let rows = batch.num_rows();
        let (path, start, end) = plan.right_span;
        let path = Arc::clone(batch.column(path));
        let mut groups =
            KeyGroups::new(&[path.data_type().clone()], NullEquality::NullEqualsNothing)?;
        let row_groups = groups.assign(&[path], rows)?;
        let spans = RowSpan::of_columns(batch.column(start), batch.column(end))?;
        let index = SpanIndex::build(&row_groups, &spans, groups.len());
        let tie_rows = if plan.tie_breakers.is_empty() {
            None
        } else {
            let converter = RowConverter::new(
                plan.tie_breakers
                    .iter()
                    .map(|(i, t)| {
                        SortField::new_with_options(
                            batch.schema().field(*i).data_type().clone(),
                            t.options,
                        )
                    })
                    .collect(),
            )?;
            let columns: Vec<ArrayRef> = plan
                .tie_breakers
                .iter()
                .map(|(i, _)| Arc::clone(batch.column(*i)))
                .collect();
            Some(converter.convert_columns(&columns)?)
        };
        reservation.try_grow(
            index.memory_size()
                + spans.capacity() * std::mem::size_of::<RowSpan>()
                + tie_rows.as_ref().map_or(0, |r| r.size()),
        )?;
        Ok(Self {
            batch,
            groups,
            index,
            spans,
            tie_rows,
            _reservation: reservation,
        })
    }

    fn span(&self, row: u32) -> Option<(i64, i64)> {
        match self.spans.get(row as usize) {
            Some(RowSpan::Regular { start, end }) => Some((*start, *end)),
            _ => None,
        }
    }

    /// Whether right row `a` (score `a_score`) ranks before `b`.
    fn better(&self, a: u32, a_score: i64, b: u32, b_score: i64) -> bool {
        let by_score = b_score.cmp(&a_score);
        let ordering = by_score
            .then_with(|| match &self.tie_rows {
                Some(rows) => rows.row(a as usize).cmp(&rows.row(b as usize)),
                None => Ordering::Equal,
            })
            .then_with(|| self.span(a).cmp(&self.span(b)))
            .then_with(|| a.cmp(&b));
        ordering == Ordering::Less
    }
}

/// The output for one left batch.
fn align_batch(plan: &AlignPlan, right: &RightSide, left: &RecordBatch) -> Result<RecordBatch> {
    let rows = left.num_rows();
    let (path, start, end) = plan.left_span;
    let right_path_type = right
        .batch
        .schema()
        .field(plan.right_span.0)
        .data_type()
        .clone();
    let left_path = cast(left.column(path), &right_path_type)?;
    let groups = right.groups.lookup(&[left_path], rows)?;
    let spans = RowSpan::of_columns(left.column(start), left.column(end))?;
    let mut left_rows: Vec<u32> = Vec::with_capacity(rows);
    let mut right_rows: Vec<Option<u32>> = Vec::with_capacity(rows);
    let mut kinds = StringBuilder::with_capacity(rows, rows * 8);
    let mut scores = Float64Builder::with_capacity(rows);
    let mut cursor = Cursor::default();
    for row in 0..rows {
        let mut best: Option<(u32, i64)> = None;
        if let (Some(Some(group)), Some(RowSpan::Regular { start, end })) =
            (groups.get(row), spans.get(row))
        {
            let left_span = (*start, *end);
            let (low, high) = plan.mode.query(left_span);
            let answer = right.index.answer(&mut cursor, *group, low, high);
            // Irregular right rows (reversed, or beyond Int64) never match.
            for i in answer.positions {
                let candidate = answer.rows[*i];
                let Some(score) = plan
                    .mode
                    .score(left_span, (answer.starts[*i], answer.ends[*i]))
                else {
                    continue;
                };
                let replace = match best {
                    None => true,
                    Some((b, b_score)) => right.better(candidate, score, b, b_score),
                };
                if replace {
                    best = Some((candidate, score));
                }
            }
        }
        match best {
            Some((candidate, score)) => {
                left_rows.push(row as u32);
                right_rows.push(Some(candidate));
                kinds.append_value(plan.mode.match_kind());
                scores.append_value(score as f64);
            }
            None if plan.how == AlignHow::Left => {
                left_rows.push(row as u32);
                right_rows.push(None);
                kinds.append_value("NO_MATCH");
                scores.append_null();
            }
            None => {}
        }
    }
    let out_rows = left_rows.len();
    let left_take = UInt32Array::from(left_rows);
    let right_take = UInt32Array::from(right_rows);
    let mut kinds = Some(kinds);
    let mut scores = Some(scores);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.outputs.len());
    for output in &plan.outputs {
        columns.push(match output {
            OutputColumn::Left(i) if out_rows == rows => Arc::clone(left.column(*i)),
            OutputColumn::Left(i) => take(left.column(*i), &left_take, None)?,
            OutputColumn::Right(i) => take(right.batch.column(*i), &right_take, None)?,
            OutputColumn::MatchKind => match kinds.take() {
                Some(mut kinds) => Arc::new(kinds.finish()),
                None => return internal_err!("span_align: match_kind output twice"),
            },
            OutputColumn::MatchScore => match scores.take() {
                Some(mut scores) => Arc::new(scores.finish()),
                None => return internal_err!("span_align: match_score output twice"),
            },
        });
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(&plan.schema),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(out_rows)),
    )?)
}
