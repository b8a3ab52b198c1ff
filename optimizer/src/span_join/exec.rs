//! [`SpanJoinExec`]: a hash join on equi-keys plus a span filter, executed with an
//! interval index per key instead of comparing every pair of rows with equal keys.
//!
//! It is built from the [`HashJoinExec`] it replaces and keeps that join's contract:
//! same inputs and input distribution (collect-left or co-partitioned by key), output
//! schema, projection, fetch, partitioning and ordering (the probe side's order is kept,
//! as in the hash join). The build (left) side is collected under the memory pool and
//! indexed ([`super::index`]); the probe (right) side streams batch by batch, each probe
//! row looking up the candidates of its key and span, which the join filter decides —
//! natively on the span bounds when the filter is only span comparisons.
//! Unmatched build rows (left, full, semi, anti joins) are emitted once every probe
//! stream sharing the build side has finished.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array, new_empty_array,
    new_null_array,
};
use datafusion::arrow::compute::{concat, take};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, JoinSide, JoinType, Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::apply_expression_roots;
use datafusion::physical_plan::joins::utils::{ColumnIndex, JoinFilter, build_join_schema};
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, Time,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ChildStats, InputDistributionRequirements, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{FutureExt, StreamExt};

use super::index::{Cursor, KeyGroups, RowSpan, SpanIndex, check_build_rows};
use super::predicate::SpanPredicate;
use super::shared::{BuildFuture, SharedBuild};

/// See the module docs.
pub struct SpanJoinExec {
    /// The join this operator executes: inputs, keys, filter, type, mode, projection.
    join: Arc<HashJoinExec>,
    predicate: SpanPredicate,
    /// Where each output column comes from (after the join's projection).
    output_columns: Vec<ColumnIndex>,
    /// The build side shared by every probe stream (collect-left mode).
    shared_build: SharedBuild<BuildSide>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for SpanJoinExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanJoinExec")
            .field("join", &self.join)
            .field("predicate", &self.predicate)
            .finish()
    }
}

/// Join types the operator executes (mark joins stay hash joins).
pub fn supported_join_type(join_type: JoinType) -> bool {
    !matches!(join_type, JoinType::LeftMark | JoinType::RightMark)
}

impl SpanJoinExec {
    /// The span join that computes `join`, if its filter is a span predicate and its
    /// form is one this operator executes.
    pub fn try_replace(join: &HashJoinExec) -> Result<Option<Self>> {
        if !supported_join_type(*join.join_type())
            || join.null_aware
            || *join.partition_mode() == PartitionMode::Auto
        {
            return Ok(None);
        }
        let Some(filter) = join.filter() else {
            return Ok(None);
        };
        let Some(predicate) = SpanPredicate::analyze(filter, JoinSide::Left) else {
            return Ok(None);
        };
        Ok(Some(Self::new(
            Arc::new(join.builder().build()?),
            predicate,
        )))
    }

    fn new(join: Arc<HashJoinExec>, predicate: SpanPredicate) -> Self {
        let (_, columns) = build_join_schema(
            &join.left().schema(),
            &join.right().schema(),
            join.join_type(),
        );
        let output_columns = match &join.projection {
            Some(projection) => projection
                .iter()
                .filter_map(|i| columns.get(*i).cloned())
                .collect(),
            None => columns,
        };
        Self {
            join,
            predicate,
            output_columns,
            shared_build: SharedBuild::default(),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The hash join this operator stands for (its encoding in plans and codecs).
    pub fn hash_join(&self) -> &Arc<HashJoinExec> {
        &self.join
    }

    fn filter(&self) -> Result<&JoinFilter> {
        match self.join.filter() {
            Some(filter) => Ok(filter),
            None => internal_err!("SpanJoinExec without a join filter"),
        }
    }

    fn build_future(
        &self,
        partition: usize,
        context: &Arc<TaskContext>,
    ) -> Result<BuildFuture<BuildSide>> {
        let probe_streams = match self.join.partition_mode() {
            PartitionMode::CollectLeft => self.join.right().output_partitioning().partition_count(),
            _ => 1,
        };
        let make = || -> Result<BuildFuture<BuildSide>> {
            let build_partition = match self.join.partition_mode() {
                PartitionMode::CollectLeft => 0,
                _ => partition,
            };
            let stream = self
                .join
                .left()
                .execute(build_partition, Arc::clone(context))?;
            let reservation = MemoryConsumer::new(format!("SpanJoinExec[{build_partition}]"))
                .register(context.memory_pool());
            let keys: Vec<Arc<dyn PhysicalExpr>> =
                self.join.on().iter().map(|(l, _)| Arc::clone(l)).collect();
            let needed_columns = self
                .output_columns
                .iter()
                .chain(self.filter()?.column_indices())
                .filter(|c| c.side == JoinSide::Left)
                .map(|c| c.index)
                .collect();
            let spec = BuildSpec {
                keys,
                needed_columns,
                span: self.predicate.build,
                null_equality: self.join.null_equality(),
                track_visited: needs_visited(*self.join.join_type()),
                probe_streams,
                build_time: MetricBuilder::new(&self.metrics).subset_time("build_time", partition),
                build_rows: MetricBuilder::new(&self.metrics)
                    .counter("build_input_rows", partition),
            };
            Ok(BuildSide::collect(stream, reservation, spec)
                .map(|r| r.map(Arc::new).map_err(Arc::new))
                .boxed()
                .shared())
        };
        if *self.join.partition_mode() != PartitionMode::CollectLeft {
            return make();
        }
        self.shared_build.take(probe_streams, make)
    }
}

fn needs_visited(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left | JoinType::Full | JoinType::LeftSemi | JoinType::LeftAnti
    )
}

impl DisplayAs for SpanJoinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let left = self.join.left().schema();
        let right = self.join.right().schema();
        let name = |schema: &SchemaRef, i: usize| {
            schema
                .fields()
                .get(i)
                .map_or_else(|| format!("#{i}"), |f| f.name().clone())
        };
        let span = |schema: &SchemaRef, (start, end): (usize, usize)| {
            if start == end {
                format!("{}@{start}", name(schema, start))
            } else {
                format!(
                    "[{}@{start}, {}@{end}]",
                    name(schema, start),
                    name(schema, end)
                )
            }
        };
        let on: Vec<String> = self
            .join
            .on()
            .iter()
            .map(|(l, r)| format!("({l}, {r})"))
            .collect();
        write!(
            f,
            "SpanJoinExec: mode={:?}, join_type={}, on=[{}], build_span={}, probe_span={}",
            self.join.partition_mode(),
            self.join.join_type(),
            on.join(", "),
            span(&left, self.predicate.build),
            span(&right, self.predicate.probe),
        )?;
        if let Some(filter) = self.join.filter() {
            write!(f, ", filter={}", filter.expression())?;
        }
        if let Some(projection) = &self.join.projection {
            write!(f, ", projection={projection:?}")?;
        }
        if let Some(fetch) = self.join.fetch() {
            write!(f, ", fetch={fetch}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SpanJoinExec {
    fn name(&self) -> &str {
        "SpanJoinExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.join.properties()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.join.input_distribution_requirements()
    }

    // The output ordering is declared by the hash join's properties (probe order); this
    // flag would let a generic sort pushdown map an order to the probe input by column
    // position, which a join's output does not keep.
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false, false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.join.left(), self.join.right()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let mut roots: Vec<&Arc<dyn PhysicalExpr>> = vec![];
        for (l, r) in self.join.on() {
            roots.push(l);
            roots.push(r);
        }
        if let Some(filter) = self.join.filter() {
            roots.push(filter.expression());
        }
        apply_expression_roots(roots, f)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let join = Arc::clone(&self.join).with_new_children(children)?;
        let Some(join) = join.downcast_ref::<HashJoinExec>() else {
            return internal_err!("SpanJoinExec: new children gave no hash join");
        };
        Ok(Arc::new(Self::new(
            Arc::new(join.builder().build()?),
            self.predicate.clone(),
        )))
    }

    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(
            Arc::clone(&self.join),
            self.predicate.clone(),
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn fetch(&self) -> Option<usize> {
        self.join.fetch()
    }

    // The same rows as the hash join: its estimate holds.
    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<datafusion::common::Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<datafusion::common::Statistics>> {
        self.join.statistics_from_inputs(input_stats, args)
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        self.join.child_stats_requests(partition)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let build = self.build_future(partition, &context)?;
        let probe = self.join.right().execute(partition, Arc::clone(&context))?;
        let filter = self.filter()?;
        let schema = self.schema();
        let state = ProbeState {
            spec: Arc::new(ProbeSpec {
                keys: self.join.on().iter().map(|(_, r)| Arc::clone(r)).collect(),
                predicate: self.predicate.clone(),
                build_only: self.predicate.build_only(),
                filter: filter.clone(),
                join_type: *self.join.join_type(),
                output_columns: self.output_columns.clone(),
                schema: Arc::clone(&schema),
                batch_size: context.session_config().batch_size().max(1),
            }),
            build: BuildState::Pending(build),
            probe,
            current: None,
            probe_done: false,
            final_rows: None,
            finished: false,
            remaining: self.join.fetch(),
            baseline: BaselineMetrics::new(&self.metrics, partition),
            candidates: MetricBuilder::new(&self.metrics).counter("candidate_pairs", partition),
        };
        let stream = futures::stream::unfold(state, |mut state| async move {
            match state.next_batch().await {
                Ok(Some(batch)) => Some((Ok(batch), state)),
                Ok(None) => None,
                Err(error) => {
                    state.finished = true;
                    Some((Err(error), state))
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// What building the index needs.
struct BuildSpec {
    keys: Vec<Arc<dyn PhysicalExpr>>,
    /// Build input columns the output and the join filter read.
    needed_columns: Vec<usize>,
    span: (usize, usize),
    null_equality: datafusion::common::NullEquality,
    track_visited: bool,
    probe_streams: usize,
    build_time: Time,
    build_rows: Count,
}

/// The collected and indexed build side.
pub(crate) struct BuildSide {
    batch: RecordBatch,
    groups: KeyGroups,
    index: SpanIndex,
    /// Build rows matched by any probe row (left, full, semi and anti joins).
    visited: Vec<AtomicU64>,
    /// Probe streams still running; the last one emits the build rows' final output.
    probe_streams: AtomicUsize,
    _reservation: MemoryReservation,
}

impl BuildSide {
    async fn collect(
        mut stream: SendableRecordBatchStream,
        reservation: MemoryReservation,
        spec: BuildSpec,
    ) -> Result<Self> {
        let schema = stream.schema();
        let mut batches = vec![];
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            reservation.try_grow(batch.get_array_memory_size())?;
            spec.build_rows.add(batch.num_rows());
            batches.push(batch);
        }
        let _timer = spec.build_time.timer();
        // Keys and spans batch by batch; then one batch of the build rows holding only the
        // columns the output and the filter read (the others are NULL placeholders).
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        check_build_rows("SpanJoinExec", rows)?;
        let mut groups: Option<KeyGroups> = None;
        let mut row_groups = Vec::with_capacity(rows);
        let mut spans = Vec::with_capacity(rows);
        for batch in &batches {
            let key_arrays = evaluate(&spec.keys, batch)?;
            let groups = match &mut groups {
                Some(groups) => groups,
                None => {
                    let types: Vec<DataType> =
                        key_arrays.iter().map(|a| a.data_type().clone()).collect();
                    groups.insert(KeyGroups::new(&types, spec.null_equality)?)
                }
            };
            row_groups.extend(groups.assign(&key_arrays, batch.num_rows())?);
            spans.extend(RowSpan::of_columns(
                batch.column(spec.span.0),
                batch.column(spec.span.1),
            )?);
        }
        let groups = match groups {
            Some(groups) => groups,
            None => {
                let types = spec
                    .keys
                    .iter()
                    .map(|k| k.data_type(&schema))
                    .collect::<Result<Vec<_>>>()?;
                KeyGroups::new(&types, spec.null_equality)?
            }
        };
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| {
                if spec.needed_columns.contains(&i) {
                    let arrays: Vec<&dyn Array> =
                        batches.iter().map(|b| b.column(i).as_ref()).collect();
                    if arrays.is_empty() {
                        Ok(new_empty_array(field.data_type()))
                    } else {
                        Ok(concat(&arrays)?)
                    }
                } else {
                    Ok(new_null_array(field.data_type(), rows))
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(&schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        drop(batches);
        let index = SpanIndex::build(&row_groups, &spans, groups.len());
        let visited_words = if spec.track_visited {
            rows.div_ceil(64)
        } else {
            0
        };
        drop(spans);
        reservation.try_grow(index.memory_size() + visited_words * 8)?;
        Ok(Self {
            batch,
            groups,
            index,
            visited: (0..visited_words).map(|_| AtomicU64::new(0)).collect(),
            probe_streams: AtomicUsize::new(spec.probe_streams),
            _reservation: reservation,
        })
    }

    fn visit(&self, row: u32) {
        if let Some(word) = self.visited.get(row as usize / 64) {
            word.fetch_or(1 << (row % 64), Ordering::Relaxed);
        }
    }

    fn was_visited(&self, row: usize) -> bool {
        self.visited
            .get(row / 64)
            .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (row % 64)) != 0)
    }
}

fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// What the probe streams share.
struct ProbeSpec {
    keys: Vec<Arc<dyn PhysicalExpr>>,
    predicate: SpanPredicate,
    /// The predicate's comparisons among build bounds alone (usually none).
    build_only: Vec<super::predicate::Comparison>,
    filter: JoinFilter,
    join_type: JoinType,
    output_columns: Vec<ColumnIndex>,
    schema: SchemaRef,
    batch_size: usize,
}

enum BuildState {
    Pending(BuildFuture<BuildSide>),
    Ready(Arc<BuildSide>),
}

/// A probe batch being joined, with the cursor of the next row to join.
struct ProbeBatch {
    batch: RecordBatch,
    groups: Vec<Option<u32>>,
    spans: Vec<RowSpan>,
    next_row: usize,
}

struct ProbeState {
    spec: Arc<ProbeSpec>,
    build: BuildState,
    probe: SendableRecordBatchStream,
    current: Option<ProbeBatch>,
    probe_done: bool,
    /// Build rows of the final output and how many are emitted.
    final_rows: Option<(Vec<u32>, usize)>,
    finished: bool,
    /// Rows still allowed by the join's fetch.
    remaining: Option<usize>,
    baseline: BaselineMetrics,
    candidates: Count,
}

impl ProbeState {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let build = match &self.build {
            BuildState::Ready(build) => Arc::clone(build),
            BuildState::Pending(future) => {
                let build = future.clone().await.map_err(DataFusionError::Shared)?;
                self.build = BuildState::Ready(Arc::clone(&build));
                build
            }
        };
        loop {
            if self.finished || self.remaining == Some(0) {
                return Ok(None);
            }
            let batch = if let Some((rows, emitted)) = &mut self.final_rows {
                if *emitted >= rows.len() {
                    self.finished = true;
                    return Ok(None);
                }
                let end = (*emitted + self.spec.batch_size).min(rows.len());
                let chunk = &rows[*emitted..end];
                *emitted = end;
                let timer = self.baseline.elapsed_compute().timer();
                let build_rows = UInt32Array::from(chunk.to_vec());
                let probe_rows = UInt32Array::new_null(chunk.len());
                let out = output_batch(&self.spec, &build, &build_rows, None, &probe_rows)?;
                timer.done();
                out
            } else if let Some(current) = &mut self.current {
                if current.next_row >= current.batch.num_rows() {
                    self.current = None;
                    continue;
                }
                let timer = self.baseline.elapsed_compute().timer();
                let out = join_chunk(&self.spec, &build, current, &self.candidates)?;
                timer.done();
                out
            } else if !self.probe_done {
                match self.probe.next().await {
                    Some(batch) => {
                        let batch = batch?;
                        let timer = self.baseline.elapsed_compute().timer();
                        let keys = evaluate(&self.spec.keys, &batch)?;
                        let groups = build.groups.lookup(&keys, batch.num_rows())?;
                        let (start, end) = self.spec.predicate.probe;
                        let spans = RowSpan::of_columns(batch.column(start), batch.column(end))?;
                        timer.done();
                        self.current = Some(ProbeBatch {
                            batch,
                            groups,
                            spans,
                            next_row: 0,
                        });
                    }
                    None => self.probe_done = true,
                }
                continue;
            } else {
                // Probing is done: the last stream sharing the build side emits its rows.
                let last = build.probe_streams.fetch_sub(1, Ordering::AcqRel) == 1;
                let rows = if last {
                    final_build_rows(self.spec.join_type, &build)
                } else {
                    vec![]
                };
                self.final_rows = Some((rows, 0));
                continue;
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let batch = match &mut self.remaining {
                Some(remaining) => {
                    let batch = batch.slice(0, batch.num_rows().min(*remaining));
                    *remaining -= batch.num_rows();
                    batch
                }
                None => batch,
            };
            self.baseline.record_output(batch.num_rows());
            return Ok(Some(batch));
        }
    }
}

/// The build rows a join type emits after probing: unmatched ones for left, full and
/// anti joins, matched ones for semi joins.
fn final_build_rows(join_type: JoinType, build: &BuildSide) -> Vec<u32> {
    let want_visited = match join_type {
        JoinType::LeftSemi => true,
        JoinType::Left | JoinType::Full | JoinType::LeftAnti => false,
        _ => return vec![],
    };
    (0..build.batch.num_rows())
        .filter(|row| build.was_visited(*row) == want_visited)
        .map(|row| row as u32)
        .collect()
}

/// Candidate pairs of probe and build rows, in probe order.
#[derive(Debug, Default)]
struct Pairs {
    probe: Vec<u32>,
    build: Vec<u32>,
}

impl Pairs {
    fn len(&self) -> usize {
        self.probe.len()
    }

    fn push(&mut self, probe: u32, build: u32) {
        self.probe.push(probe);
        self.build.push(build);
    }

    /// Merges two lists in probe order (each is in probe order).
    fn merge(self, other: Pairs) -> Pairs {
        if other.len() == 0 {
            return self;
        }
        if self.len() == 0 {
            return other;
        }
        let mut out = Pairs::default();
        let (mut i, mut j) = (0, 0);
        while i < self.len() || j < other.len() {
            let take_self = j >= other.len() || (i < self.len() && self.probe[i] <= other.probe[j]);
            if take_self {
                out.push(self.probe[i], self.build[i]);
                i += 1;
            } else {
                out.push(other.probe[j], other.build[j]);
                j += 1;
            }
        }
        out
    }
}

/// Joins the probe rows from the batch's cursor until about a batch of candidate pairs
/// is gathered; returns the output for those rows.
fn join_chunk(
    spec: &ProbeSpec,
    build: &BuildSide,
    current: &mut ProbeBatch,
    candidates: &Count,
) -> Result<RecordBatch> {
    let first = current.next_row;
    let rows = current.batch.num_rows();
    let residual = spec.predicate.has_residual;
    // Pairs the span comparisons accept on the bounds alone, and pairs the join filter
    // must decide (a residual, or a row the index does not hold exactly).
    let mut accepted = Pairs::default();
    let mut to_filter = Pairs::default();
    let mut seen = 0usize;
    let mut cursor = Cursor::default();
    while current.next_row < rows && seen < spec.batch_size {
        let row = current.next_row;
        current.next_row += 1;
        let probe_row = row as u32;
        let Some(Some(group)) = current.groups.get(row).copied() else {
            continue;
        };
        match current.spans.get(row) {
            Some(RowSpan::Regular { start, end }) => {
                // The span comparisons are conjuncts of the filter: they bound the build
                // spans this row can match, and the index is asked for exactly those.
                // Without a residual they decide alone; else the filter decides.
                let Some(bounds) = spec.predicate.build_bounds(*start, *end) else {
                    // No regular span can match; irregular ones still get the filter.
                    build.index.irregular_rows(group, |b| {
                        seen += 1;
                        to_filter.push(probe_row, b);
                    });
                    continue;
                };
                let (low, high) = bounds.query();
                let answer = build.index.answer(&mut cursor, group, low, high);
                seen += answer.positions.len() + answer.irregular.len();
                for i in answer.positions {
                    let (bs, be) = (answer.starts[*i], answer.ends[*i]);
                    if !bounds.admits(bs, be) {
                        continue;
                    }
                    if residual {
                        to_filter.push(probe_row, answer.rows[*i]);
                    } else if spec.build_only.is_empty()
                        || spec.predicate.holds(&[bs, be, *start, *end])
                    {
                        accepted.push(probe_row, answer.rows[*i]);
                    }
                }
                for b in answer.irregular {
                    to_filter.push(probe_row, *b);
                }
            }
            Some(RowSpan::Irregular) => build.index.all_rows(group, |b| {
                seen += 1;
                to_filter.push(probe_row, b);
            }),
            _ => {}
        }
    }
    candidates.add(seen);
    let matched = accepted.merge(filter_pairs(spec, build, current, to_filter)?);
    if needs_visited(spec.join_type) {
        for b in &matched.build {
            build.visit(*b);
        }
    }
    let last = current.next_row;
    let (build_out, probe_out) = match spec.join_type {
        JoinType::Inner | JoinType::Left => (
            UInt32Array::from(matched.build),
            UInt32Array::from(matched.probe),
        ),
        JoinType::Right | JoinType::Full => {
            let mut build_out = vec![];
            let mut probe_out = vec![];
            let mut at = 0;
            for row in first as u32..last as u32 {
                let mut any = false;
                while at < matched.len() && matched.probe[at] == row {
                    build_out.push(Some(matched.build[at]));
                    probe_out.push(Some(row));
                    at += 1;
                    any = true;
                }
                if !any {
                    build_out.push(None);
                    probe_out.push(Some(row));
                }
            }
            (UInt32Array::from(build_out), UInt32Array::from(probe_out))
        }
        JoinType::RightSemi | JoinType::RightAnti => {
            let semi = spec.join_type == JoinType::RightSemi;
            let mut probe_out = vec![];
            let mut at = 0;
            for row in first as u32..last as u32 {
                let mut any = false;
                while at < matched.len() && matched.probe[at] == row {
                    at += 1;
                    any = true;
                }
                if any == semi {
                    probe_out.push(row);
                }
            }
            (
                UInt32Array::new_null(probe_out.len()),
                UInt32Array::from(probe_out),
            )
        }
        // Left semi/anti joins emit build rows after probing; mark joins are not planned.
        _ => (
            UInt32Array::from(Vec::<u32>::new()),
            UInt32Array::from(Vec::<u32>::new()),
        ),
    };
    output_batch(spec, build, &build_out, Some(&current.batch), &probe_out)
}

/// The pairs the join filter accepts, evaluated on the pairs' columns.
fn filter_pairs(
    spec: &ProbeSpec,
    build: &BuildSide,
    current: &ProbeBatch,
    pairs: Pairs,
) -> Result<Pairs> {
    if pairs.len() == 0 {
        return Ok(pairs);
    }
    let rows = pairs.len();
    let build_take = UInt32Array::from(pairs.build);
    let probe_take = UInt32Array::from(pairs.probe);
    let columns = spec
        .filter
        .column_indices()
        .iter()
        .map(|c| match c.side {
            JoinSide::Left => take(build.batch.column(c.index), &build_take, None),
            _ => take(current.batch.column(c.index), &probe_take, None),
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let batch = RecordBatch::try_new_with_options(
        Arc::clone(spec.filter.schema()),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )?;
    let result = spec
        .filter
        .expression()
        .evaluate(&batch)?
        .into_array(rows)?;
    let result = result.as_boolean_opt().ok_or_else(|| {
        DataFusionError::Internal("span join filter did not evaluate to booleans".into())
    })?;
    let mut kept = Pairs::default();
    let pairs = probe_take.values().iter().zip(build_take.values().iter());
    for (i, (p, b)) in pairs.enumerate() {
        if result.is_valid(i) && result.value(i) {
            kept.push(*p, *b);
        }
    }
    Ok(kept)
}

/// The output rows `build_rows[i]` joined with `probe_rows[i]` (NULL: that side's
/// columns are NULL).
fn output_batch(
    spec: &ProbeSpec,
    build: &BuildSide,
    build_rows: &UInt32Array,
    probe: Option<&RecordBatch>,
    probe_rows: &UInt32Array,
) -> Result<RecordBatch> {
    let rows = build_rows.len().max(probe_rows.len());
    let columns = spec
        .output_columns
        .iter()
        .zip(spec.schema.fields())
        .map(|(c, field)| -> Result<ArrayRef> {
            Ok(match (c.side, probe) {
                (JoinSide::Left, _) => take(build.batch.column(c.index), build_rows, None)?,
                (_, Some(probe)) => take(probe.column(c.index), probe_rows, None)?,
                (_, None) => new_null_array(field.data_type(), rows),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(&spec.schema),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}
