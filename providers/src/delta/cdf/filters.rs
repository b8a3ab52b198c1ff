//! What a query's filters say about a change feed, used before any data is read:
//! - [`CommitFilter`]: bounds on `_commit_version` (comparisons, `BETWEEN`, `IN`) and on
//!   `_commit_timestamp` (comparisons, `BETWEEN`; mapped to versions by binary search
//!   over the log), which narrow the commits read at all;
//! - [`prune_partitions`]: filters over the table's partition columns only, evaluated on
//!   each file's partition values.
//!
//! Both only skip what cannot match; the filters are still applied to the rows.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

use super::feed::FeedFile;
use super::schema::{COMMIT_TIMESTAMP_COLUMN, COMMIT_VERSION_COLUMN};
use crate::delta::log::DeltaLog;

/// Bounds on the commits a query can see; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitFilter {
    /// Disjoint, sorted, inclusive version ranges.
    versions: Vec<(u64, u64)>,
    /// Inclusive bounds on the commit timestamp (µs).
    micros: (i64, i64),
}

impl Default for CommitFilter {
    fn default() -> Self {
        Self {
            versions: vec![(0, u64::MAX)],
            micros: (i64::MIN, i64::MAX),
        }
    }
}

impl CommitFilter {
    /// The bounds implied by `filters` (a conjunction, as `TableProvider::scan` gets it).
    pub fn from_filters(filters: &[Expr]) -> Self {
        filters
            .iter()
            .filter_map(Self::of)
            .fold(Self::default(), |all, one| all.and(&one))
    }

    /// The bounds `expr` implies, or `None` if it implies none.
    fn of(expr: &Expr) -> Option<Self> {
        match expr {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::And,
                right,
            }) => match (Self::of(left), Self::of(right)) {
                (Some(l), Some(r)) => Some(l.and(&r)),
                (one, other) => one.or(other),
            },
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Or,
                right,
            }) => Some(Self::of(left)?.or_else(&Self::of(right)?)),
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                if let (Some(column), Some(value)) = (column_name(left), literal(right)) {
                    Self::compare(column, *op, value)
                } else if let (Some(value), Some(column), Some(op)) =
                    (literal(left), column_name(right), op.swap())
                {
                    Self::compare(column, op, value)
                } else {
                    None
                }
            }
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) => {
                let column = column_name(expr)?;
                let low = Self::compare(column, Operator::GtEq, literal(low)?)?;
                Some(low.and(&Self::compare(column, Operator::LtEq, literal(high)?)?))
            }
            Expr::InList(list) if !list.negated => {
                let column = column_name(&list.expr)?;
                list.list
                    .iter()
                    .map(|item| Self::compare(column, Operator::Eq, literal(item)?))
                    .reduce(|a, b| Some(a?.or_else(&b?)))
                    .flatten()
            }
            _ => None,
        }
    }

    fn compare(column: &str, op: Operator, value: &ScalarValue) -> Option<Self> {
        let mut filter = Self::default();
        if column == COMMIT_VERSION_COLUMN {
            let range = match (op, as_version(value)?) {
                // A negative version: `>`/`>=` hold for every commit, `=`/`<`/`<=` none.
                (Operator::Gt | Operator::GtEq, None) => return None,
                (Operator::Eq | Operator::Lt | Operator::LtEq, None) => None,
                (_, None) => return None,
                (Operator::Eq, Some(v)) => Some((v, v)),
                (Operator::Gt, Some(v)) => v.checked_add(1).map(|v| (v, u64::MAX)),
                (Operator::GtEq, Some(v)) => Some((v, u64::MAX)),
                (Operator::Lt, Some(v)) => v.checked_sub(1).map(|v| (0, v)),
                (Operator::LtEq, Some(v)) => Some((0, v)),
                _ => return None,
            };
            filter.versions = range.into_iter().collect();
        } else if column == COMMIT_TIMESTAMP_COLUMN {
            let t = as_micros(value)?;
            filter.micros = match op {
                Operator::Eq => (t, t),
                Operator::Gt => (t.saturating_add(1), i64::MAX),
                Operator::GtEq => (t, i64::MAX),
                Operator::Lt => (i64::MIN, t.saturating_sub(1)),
                Operator::LtEq => (i64::MIN, t),
                _ => return None,
            };
        } else {
            return None;
        }
        Some(filter)
    }

    /// Both bounds hold.
    fn and(&self, other: &Self) -> Self {
        let mut versions = vec![];
        for &(a_lo, a_hi) in &self.versions {
            for &(b_lo, b_hi) in &other.versions {
                let (lo, hi) = (a_lo.max(b_lo), a_hi.min(b_hi));
                if lo <= hi {
                    versions.push((lo, hi));
                }
            }
        }
        versions.sort_unstable();
        Self {
            versions,
            micros: (
                self.micros.0.max(other.micros.0),
                self.micros.1.min(other.micros.1),
            ),
        }
    }

    /// Either bound holds (timestamps: the hull of both).
    fn or_else(&self, other: &Self) -> Self {
        let mut all: Vec<(u64, u64)> = self
            .versions
            .iter()
            .chain(&other.versions)
            .copied()
            .collect();
        all.sort_unstable();
        let mut versions: Vec<(u64, u64)> = vec![];
        for (lo, hi) in all {
            match versions.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => versions.push((lo, hi)),
            }
        }
        let empty = |f: &Self| f.versions.is_empty() || f.micros.0 > f.micros.1;
        let micros = match (empty(self), empty(other)) {
            (true, _) => other.micros,
            (_, true) => self.micros,
            _ => (
                self.micros.0.min(other.micros.0),
                self.micros.1.max(other.micros.1),
            ),
        };
        Self { versions, micros }
    }

    /// Whether a commit at `version` can match.
    pub fn admits(&self, version: u64) -> bool {
        self.versions
            .iter()
            .any(|&(lo, hi)| lo <= version && version <= hi)
    }

    /// `range` narrowed by these bounds; `None` if no commit of it can match. Timestamp
    /// bounds cost two binary searches over the range's commits.
    pub async fn narrow(
        &self,
        log: &DeltaLog,
        range: RangeInclusive<u64>,
    ) -> Result<Option<RangeInclusive<u64>>> {
        let within = self.and(&Self {
            versions: vec![(*range.start(), *range.end())],
            micros: (i64::MIN, i64::MAX),
        });
        let (Some(first), Some(last)) = (within.versions.first(), within.versions.last()) else {
            return Ok(None);
        };
        let (mut lo, mut hi) = (first.0, last.1);
        let (t_lo, t_hi) = self.micros;
        if t_lo > t_hi {
            return Ok(None);
        }
        if t_lo != i64::MIN {
            match log.first_version_at_or_after(t_lo, lo..=hi).await? {
                Some(v) => lo = v,
                None => return Ok(None),
            }
        }
        if t_hi != i64::MAX {
            match log.last_version_at_or_before(t_hi, lo..=hi).await? {
                Some(v) => hi = v,
                None => return Ok(None),
            }
        }
        Ok((lo <= hi).then_some(lo..=hi))
    }
}

fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(column) => Some(column.name.as_str()),
        Expr::Cast(cast) => column_name(&cast.expr),
        Expr::TryCast(cast) => column_name(&cast.expr),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(value, _) if !value.is_null() => Some(value),
        _ => None,
    }
}

/// A version literal; `Some(None)` for a negative one (matches no commit).
fn as_version(value: &ScalarValue) -> Option<Option<u64>> {
    match value.cast_to(&DataType::Int64).ok()? {
        ScalarValue::Int64(Some(v)) => Some(u64::try_from(v).ok()),
        _ => None,
    }
}

fn as_micros(value: &ScalarValue) -> Option<i64> {
    let micros = DataType::Timestamp(TimeUnit::Microsecond, None);
    match value {
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => match value.cast_to(&micros).ok()? {
            ScalarValue::TimestampMicrosecond(Some(t), _) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// Keeps the files whose partition values can satisfy the filters that read only
/// partition columns (`partition_fields`).
pub fn prune_partitions(
    files: Vec<FeedFile>,
    filters: &[Expr],
    partition_fields: &[Field],
    session: &dyn Session,
) -> Result<Vec<FeedFile>> {
    if partition_fields.is_empty() || files.is_empty() {
        return Ok(files);
    }
    let names: Vec<&str> = partition_fields.iter().map(|f| f.name().as_str()).collect();
    let partition_only: Vec<Expr> = filters
        .iter()
        .filter(|f| {
            let columns = f.column_refs();
            !columns.is_empty() && columns.iter().all(|c| names.contains(&c.name.as_str()))
        })
        .cloned()
        .collect();
    let Some(predicate) = conjunction(partition_only) else {
        return Ok(files);
    };
    let schema = Arc::new(Schema::new(partition_fields.to_vec()));
    let columns = partition_fields
        .iter()
        .map(|field| partition_column(field, &files))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    let df_schema = DFSchema::try_from(schema)?;
    let predicate = session.create_physical_expr(predicate, &df_schema)?;
    let keep = predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
    let keep = keep
        .as_any()
        .downcast_ref::<datafusion::arrow::array::BooleanArray>()
        .cloned()
        .unwrap_or_else(|| vec![true; batch.num_rows()].into());
    Ok(files
        .into_iter()
        .zip(keep.iter())
        // NULL (unknown) keeps the file: pruning only drops what cannot match.
        .filter_map(|(file, keep)| (keep != Some(false)).then_some(file))
        .collect())
}

/// The values of one partition column over `files`, typed.
fn partition_column(field: &Field, files: &[FeedFile]) -> Result<ArrayRef> {
    let values = files
        .iter()
        .map(|file| partition_value(field, &file.partition_values))
        .collect::<Result<Vec<_>>>()?;
    ScalarValue::iter_to_array(values)
}

/// A file's value of a partition column (Delta writes them as strings; absent, null or
/// empty is NULL).
pub fn partition_value(
    field: &Field,
    values: &HashMap<String, Option<String>>,
) -> Result<ScalarValue> {
    match values.get(field.name()) {
        Some(Some(value)) if !value.is_empty() => {
            ScalarValue::try_from_string(value.clone(), field.data_type())
        }
        _ => ScalarValue::try_from(field.data_type()),
    }
}
