//! Table functions: `delta_cdf('path', start [, end])` (a version number, or a timestamp
//! as a string or timestamp value) and `delta_snapshot('path' [, version or timestamp])`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Expr;

use super::cdf::DeltaCdf;
use super::options::VersionBound;
use super::snapshot::DeltaSnapshot;

pub const DELTA_CDF_FUNCTION: &str = "delta_cdf";
pub const DELTA_SNAPSHOT_FUNCTION: &str = "delta_snapshot";

/// `delta_cdf('path', start [, end])`.
#[derive(Debug, Default)]
pub struct DeltaCdfFunction;

/// `delta_snapshot('path' [, version or timestamp])`.
#[derive(Debug, Default)]
pub struct DeltaSnapshotFunction;

impl TableFunctionImpl for DeltaCdfFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let usage = "delta_cdf('path', start [, end]): start and end are versions \
                     (integers) or timestamps ('2026-01-31T10:00:00Z')";
        let (path, bounds) = path_and_bounds(args.exprs(), 1..=2, usage)?;
        let builder = DeltaCdf::new(path)
            .starting(bounds[0])
            .ending(bounds.get(1).copied());
        Ok(Arc::new(crate::blocking::run(builder.build())?))
    }
}

impl TableFunctionImpl for DeltaSnapshotFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let usage = "delta_snapshot('path' [, version or timestamp])";
        let (path, bounds) = path_and_bounds(args.exprs(), 0..=1, usage)?;
        let builder = DeltaSnapshot::new(path).at(bounds.first().copied());
        Ok(Arc::new(crate::blocking::run(builder.build())?))
    }
}

fn path_and_bounds(
    args: &[Expr],
    bound_count: std::ops::RangeInclusive<usize>,
    usage: &str,
) -> Result<(String, Vec<VersionBound>)> {
    let wrong = |what: String| DataFusionError::Plan(format!("{what}; usage: {usage}"));
    let Some((path, bounds)) = args.split_first() else {
        return Err(wrong("no arguments".into()));
    };
    if !bound_count.contains(&bounds.len()) {
        return Err(wrong(format!("{} arguments", args.len())));
    }
    let path = match path {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => s.clone(),
        other => {
            return Err(wrong(format!(
                "the path must be a string literal, got {other}"
            )));
        }
    };
    let bounds = bounds
        .iter()
        .map(|expr| {
            bound(expr).ok_or_else(|| wrong(format!("{expr} is not a version or a timestamp")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((path, bounds))
}

fn bound(expr: &Expr) -> Option<VersionBound> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => VersionBound::parse_timestamp("timestamp", s).ok(),
        ScalarValue::TimestampSecond(Some(_), _)
        | ScalarValue::TimestampMillisecond(Some(_), _)
        | ScalarValue::TimestampMicrosecond(Some(_), _)
        | ScalarValue::TimestampNanosecond(Some(_), _) => {
            let micros = value
                .cast_to(&datafusion::arrow::datatypes::DataType::Timestamp(
                    datafusion::arrow::datatypes::TimeUnit::Microsecond,
                    None,
                ))
                .ok()?;
            match micros {
                ScalarValue::TimestampMicrosecond(Some(t), _) => Some(VersionBound::Timestamp(t)),
                _ => None,
            }
        }
        other => match other
            .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
            .ok()?
        {
            ScalarValue::Int64(Some(v)) if v >= 0 => Some(VersionBound::Version(v as u64)),
            _ => None,
        },
    }
}
