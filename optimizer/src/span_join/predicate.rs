//! Which joins are span joins: the analysis of a join filter into the two spans it
//! compares, and the proof that the filter implies their closed overlap.
//!
//! A filter qualifies when its top-level conjuncts include comparisons (`<`, `<=`, `>`,
//! `>=`, `=`) between integer columns (or lossless casts of them) of the two inputs,
//! from which — assuming each side's `start <= end` — `build.start <= probe.end AND
//! probe.start <= build.end` follows. That covers overlap, containment either way,
//! point-in-span and their inclusive/exclusive variants, in any order or orientation.
//! The other conjuncts are the residual; the whole filter still decides every candidate,
//! so the assumption only chooses candidates: rows breaking it are checked apart
//! ([`super::index::RowSpan::Irregular`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::JoinSide;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, TryCastExpr};
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_plan::joins::utils::JoinFilter;

/// A bound of one of the two spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    BuildStart = 0,
    BuildEnd = 1,
    ProbeStart = 2,
    ProbeEnd = 3,
}

fn range_of(bounds: &mut BuildBounds, var: Var) -> &mut (i64, i64) {
    match var {
        Var::BuildStart => &mut bounds.start,
        _ => &mut bounds.end,
    }
}

/// `left op right` over span bounds, `op` one of `<`, `<=`, `=` (others are flipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub left: Var,
    pub op: Operator,
    pub right: Var,
}

impl Comparison {
    /// Whether it holds for these bound values.
    pub fn holds(&self, values: &[i64; 4]) -> bool {
        let (l, r) = (values[self.left as usize], values[self.right as usize]);
        match self.op {
            Operator::Lt => l < r,
            Operator::LtEq => l <= r,
            _ => l == r,
        }
    }
}

/// The two spans a join filter compares, as columns of the build and probe inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanPredicate {
    /// Build input columns of the start and the end (the same column for a point).
    pub build: (usize, usize),
    /// Probe input columns of the start and the end.
    pub probe: (usize, usize),
    /// The comparisons among the bounds; when [`Self::has_residual`] is false they are
    /// the whole filter.
    pub comparisons: Vec<Comparison>,
    pub has_residual: bool,
}

/// The build spans a probe span can match under the comparisons: ranges for the
/// build start and end (closed; integers, so `a < b` is `a <= b - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildBounds {
    pub start: (i64, i64),
    pub end: (i64, i64),
}

impl BuildBounds {
    /// The closed query of the interval index: a regular build span (start <= end)
    /// within these bounds has `start <= .1` and `end >= .0`.
    #[inline]
    pub fn query(&self) -> (i64, i64) {
        (self.end.0.max(self.start.0), self.start.1.min(self.end.1))
    }

    #[inline]
    pub fn admits(&self, start: i64, end: i64) -> bool {
        self.start.0 <= start && start <= self.start.1 && self.end.0 <= end && end <= self.end.1
    }
}

impl SpanPredicate {
    /// Whether all comparisons hold for the bounds `[build start, build end, probe
    /// start, probe end]`.
    pub fn holds(&self, values: &[i64; 4]) -> bool {
        self.comparisons.iter().all(|c| c.holds(values))
    }

    /// The bounds a build span must meet to match probe span `probe_start..probe_end`
    /// under the comparisons between the sides, or `None` when the comparisons among
    /// the probe bounds fail or no build span can meet them. Comparisons among the
    /// build bounds alone are not included ([`Self::build_only`]).
    pub fn build_bounds(&self, probe_start: i64, probe_end: i64) -> Option<BuildBounds> {
        let mut bounds = BuildBounds {
            start: (i64::MIN, i64::MAX),
            end: (i64::MIN, i64::MAX),
        };
        let probe = |v: Var| match v {
            Var::ProbeStart => Some(probe_start),
            Var::ProbeEnd => Some(probe_end),
            _ => None,
        };
        for c in &self.comparisons {
            let strict = i64::from(c.op == Operator::Lt);
            match (probe(c.left), probe(c.right)) {
                (Some(_), Some(_)) => {
                    if !c.holds(&[0, 0, probe_start, probe_end]) {
                        return None;
                    }
                }
                // build var <= probe value (- 1 when strict)
                (None, Some(r)) => {
                    let limit = r.checked_sub(strict)?;
                    let range = range_of(&mut bounds, c.left);
                    range.1 = range.1.min(limit);
                    if c.op == Operator::Eq {
                        range.0 = range.0.max(r);
                    }
                }
                // probe value (+ 1 when strict) <= build var
                (Some(l), None) => {
                    let limit = l.checked_add(strict)?;
                    let range = range_of(&mut bounds, c.right);
                    range.0 = range.0.max(limit);
                    if c.op == Operator::Eq {
                        range.1 = range.1.min(l);
                    }
                }
                (None, None) => {}
            }
        }
        (bounds.start.0 <= bounds.start.1 && bounds.end.0 <= bounds.end.1).then_some(bounds)
    }

    /// Comparisons among the build bounds alone (checked per candidate).
    pub fn build_only(&self) -> Vec<Comparison> {
        let is_build = |v: Var| matches!(v, Var::BuildStart | Var::BuildEnd);
        self.comparisons
            .iter()
            .filter(|c| is_build(c.left) && is_build(c.right))
            .copied()
            .collect()
    }

    /// The spans `filter` compares, if it implies their closed overlap; the build side
    /// is `build_side` (the other input is probed).
    pub fn analyze(filter: &JoinFilter, build_side: JoinSide) -> Option<Self> {
        let schema = filter.schema();
        let columns = filter.column_indices();
        // (intermediate column, op, intermediate column)
        let mut raw = vec![];
        let mut has_residual = false;
        for conjunct in split_conjunction(filter.expression()) {
            match comparison_of(conjunct, |i| schema.fields().get(i).map(|f| f.data_type())) {
                Some(c) => raw.push(c),
                None => has_residual = true,
            }
        }
        // Input columns of each side that the comparisons use, in first-use order.
        let mut build_cols: Vec<usize> = vec![];
        let mut probe_cols: Vec<usize> = vec![];
        for (a, _, b) in &raw {
            for column in [a, b] {
                let index = columns.get(*column)?;
                let list = if index.side == build_side {
                    &mut build_cols
                } else {
                    &mut probe_cols
                };
                if !list.contains(&index.index) {
                    list.push(index.index);
                }
            }
        }
        if !(1..=2).contains(&build_cols.len()) || !(1..=2).contains(&probe_cols.len()) {
            return None;
        }
        for build in role_choices(&build_cols) {
            for probe in role_choices(&probe_cols) {
                let var_of = |column: usize| -> Option<Var> {
                    let index = columns.get(column)?;
                    let (start, end, is_start, is_end) = if index.side == build_side {
                        (build.0, build.1, Var::BuildStart, Var::BuildEnd)
                    } else {
                        (probe.0, probe.1, Var::ProbeStart, Var::ProbeEnd)
                    };
                    // A point (start == end) is referred to as its start.
                    if index.index == start {
                        Some(is_start)
                    } else if index.index == end {
                        Some(is_end)
                    } else {
                        None
                    }
                };
                let comparisons: Option<Vec<Comparison>> = raw
                    .iter()
                    .map(|(a, op, b)| {
                        Some(Comparison {
                            left: var_of(*a)?,
                            op: *op,
                            right: var_of(*b)?,
                        })
                    })
                    .collect();
                let comparisons = comparisons?;
                if implies_closed_overlap(&comparisons, build.0 == build.1, probe.0 == probe.1) {
                    return Some(Self {
                        build,
                        probe,
                        comparisons,
                        has_residual,
                    });
                }
            }
        }
        None
    }
}

/// `(start, end)` assignments for the columns a side uses.
fn role_choices(columns: &[usize]) -> Vec<(usize, usize)> {
    match columns {
        [point] => vec![(*point, *point)],
        [a, b] => vec![(*a, *b), (*b, *a)],
        _ => vec![],
    }
}

/// `a op b` between two integer columns of the filter's schema, `op` normalized to
/// `<`, `<=` or `=`.
fn comparison_of<'a>(
    expr: &Arc<dyn PhysicalExpr>,
    type_of: impl Fn(usize) -> Option<&'a DataType>,
) -> Option<(usize, Operator, usize)> {
    let binary = expr.downcast_ref::<BinaryExpr>()?;
    let left = integer_column(binary.left(), &type_of)?;
    let right = integer_column(binary.right(), &type_of)?;
    match binary.op() {
        Operator::Lt => Some((left, Operator::Lt, right)),
        Operator::LtEq => Some((left, Operator::LtEq, right)),
        Operator::Gt => Some((right, Operator::Lt, left)),
        Operator::GtEq => Some((right, Operator::LtEq, left)),
        Operator::Eq => Some((left, Operator::Eq, right)),
        _ => None,
    }
}

/// The column under `expr` if it is an integer column, or a cast of one that keeps
/// every value (so comparing the cast values compares the column values).
fn integer_column<'a>(
    expr: &Arc<dyn PhysicalExpr>,
    type_of: &impl Fn(usize) -> Option<&'a DataType>,
) -> Option<usize> {
    if let Some(column) = expr.downcast_ref::<Column>() {
        return type_of(column.index())
            .filter(|t| t.is_integer())
            .map(|_| column.index());
    }
    let (inner, target) = if let Some(cast) = expr.downcast_ref::<CastExpr>() {
        (cast.expr(), cast.cast_type())
    } else if let Some(cast) = expr.downcast_ref::<TryCastExpr>() {
        (cast.expr(), cast.cast_type())
    } else {
        return None;
    };
    let column = inner.downcast_ref::<Column>()?;
    let source = type_of(column.index())?;
    lossless_integer_cast(source, target).then_some(column.index())
}

/// Whether every value of integer type `from` is exactly represented in `to`, keeping
/// order.
fn lossless_integer_cast(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let bits = |t: &DataType| -> Option<(bool, u32)> {
        Some(match t {
            Int8 => (true, 8),
            Int16 => (true, 16),
            Int32 => (true, 32),
            Int64 => (true, 64),
            UInt8 => (false, 8),
            UInt16 => (false, 16),
            UInt32 => (false, 32),
            UInt64 => (false, 64),
            _ => return None,
        })
    };
    let Some((from_signed, from_bits)) = bits(from) else {
        return false;
    };
    match to {
        // Decimal digits needed for the widest value of `from`.
        Decimal128(precision, 0) | Decimal256(precision, 0) => {
            let digits = match from_bits {
                8 => 3,
                16 => 5,
                32 => 10,
                _ => 20,
            };
            u32::from(*precision) >= digits
        }
        _ => match bits(to) {
            Some((true, to_bits)) => {
                if from_signed {
                    to_bits >= from_bits
                } else {
                    to_bits > from_bits
                }
            }
            Some((false, to_bits)) => !from_signed && to_bits >= from_bits,
            None => false,
        },
    }
}

/// Whether `comparisons` and `start <= end` on both sides imply `build.start <=
/// probe.end AND probe.start <= build.end`: a transitive closure over the four bounds.
fn implies_closed_overlap(
    comparisons: &[Comparison],
    build_point: bool,
    probe_point: bool,
) -> bool {
    // le[a][b]: a <= b is implied.
    let mut le = [[false; 4]; 4];
    for (i, row) in le.iter_mut().enumerate() {
        row[i] = true;
    }
    let mut add = |a: Var, b: Var| le[a as usize][b as usize] = true;
    add(Var::BuildStart, Var::BuildEnd);
    add(Var::ProbeStart, Var::ProbeEnd);
    if build_point {
        add(Var::BuildEnd, Var::BuildStart);
    }
    if probe_point {
        add(Var::ProbeEnd, Var::ProbeStart);
    }
    for c in comparisons {
        add(c.left, c.right);
        if c.op == Operator::Eq {
            add(c.right, c.left);
        }
    }
    for k in 0..4 {
        for i in 0..4 {
            for j in 0..4 {
                if le[i][k] && le[k][j] {
                    le[i][j] = true;
                }
            }
        }
    }
    le[Var::BuildStart as usize][Var::ProbeEnd as usize]
        && le[Var::ProbeStart as usize][Var::BuildEnd as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(left: Var, op: Operator, right: Var) -> Comparison {
        Comparison { left, op, right }
    }

    #[test]
    fn overlap_and_containment_imply_closed_overlap_but_one_sided_bounds_do_not() {
        use Operator::*;
        use Var::*;
        // r.start < l.end AND l.start < r.end
        assert!(implies_closed_overlap(
            &[c(ProbeStart, Lt, BuildEnd), c(BuildStart, Lt, ProbeEnd)],
            false,
            false
        ));
        // probe inside build: b.start <= p.start AND p.end <= b.end
        assert!(implies_closed_overlap(
            &[c(BuildStart, LtEq, ProbeStart), c(ProbeEnd, LtEq, BuildEnd)],
            false,
            false
        ));
        // build inside probe
        assert!(implies_closed_overlap(
            &[c(ProbeStart, LtEq, BuildStart), c(BuildEnd, Lt, ProbeEnd)],
            false,
            false
        ));
        // only one bound compared: no proof
        assert!(!implies_closed_overlap(
            &[c(ProbeStart, Lt, BuildEnd)],
            false,
            false
        ));
        // p.start >= b.end: disjoint spans, no proof
        assert!(!implies_closed_overlap(
            &[c(BuildEnd, LtEq, ProbeStart), c(BuildStart, Lt, ProbeEnd)],
            false,
            false
        ));
        // a point inside a span
        assert!(implies_closed_overlap(
            &[c(BuildStart, LtEq, ProbeStart), c(ProbeStart, Lt, BuildEnd)],
            false,
            true
        ));
    }

    /// The bounds are exactly the comparisons: a build span is admitted iff they hold.
    #[test]
    fn build_bounds_admit_exactly_what_the_comparisons_accept() {
        use Operator::*;
        use Var::*;
        let predicates = [
            vec![c(ProbeStart, Lt, BuildEnd), c(BuildStart, Lt, ProbeEnd)],
            vec![c(BuildStart, LtEq, ProbeStart), c(ProbeEnd, LtEq, BuildEnd)],
            vec![c(ProbeStart, Lt, BuildStart), c(BuildEnd, Lt, ProbeEnd)],
            vec![c(BuildStart, Eq, ProbeStart), c(BuildEnd, Eq, ProbeEnd)],
            vec![
                c(BuildStart, LtEq, ProbeStart),
                c(ProbeStart, Lt, BuildEnd),
                c(ProbeStart, LtEq, ProbeEnd),
            ],
        ];
        for comparisons in predicates {
            let predicate = SpanPredicate {
                build: (0, 1),
                probe: (0, 1),
                comparisons,
                has_residual: false,
            };
            for ps in 0..6 {
                for pe in ps..7 {
                    let bounds = predicate.build_bounds(ps, pe);
                    for bs in 0..8 {
                        for be in bs..8 {
                            let want = predicate.holds(&[bs, be, ps, pe]);
                            let got = bounds.is_some_and(|b| b.admits(bs, be));
                            assert_eq!(
                                got, want,
                                "{predicate:?} probe {ps}..{pe} build {bs}..{be}"
                            );
                            if want {
                                let (low, high) = bounds.unwrap().query();
                                assert!(bs <= high && be >= low, "query misses {bs}..{be}");
                            }
                        }
                    }
                }
            }
        }
        let extreme = SpanPredicate {
            build: (0, 1),
            probe: (0, 1),
            comparisons: vec![c(BuildStart, Lt, ProbeStart), c(ProbeStart, Lt, BuildEnd)],
            has_residual: false,
        };
        assert_eq!(extreme.build_bounds(i64::MIN, 0), None);
    }

    #[test]
    fn casts_that_keep_every_value() {
        use DataType::*;
        assert!(lossless_integer_cast(&Int32, &Int64));
        assert!(lossless_integer_cast(&UInt32, &Int64));
        assert!(!lossless_integer_cast(&UInt64, &Int64));
        assert!(!lossless_integer_cast(&Int64, &Int32));
        assert!(!lossless_integer_cast(&Int8, &UInt16));
        assert!(lossless_integer_cast(&UInt64, &Decimal128(20, 0)));
        assert!(!lossless_integer_cast(&Int64, &Decimal128(19, 0)));
        assert!(!lossless_integer_cast(&Int64, &Float64));
    }
}
