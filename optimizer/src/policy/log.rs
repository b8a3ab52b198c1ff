//! The query log: every policy decision (allowed or denied, the code and reason, the
//! plan's fingerprint, the tables read and functions called, the plan, the time) kept in a bounded in-memory
//! log per session, and queryable with the table function `cpg_query_log()`.
//!
//! The log lives in the session's [`CpgOptions`] (shared by the copies DataFusion makes
//! of the options per query), so each session has its own.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::logical_expr::LogicalPlan;

use super::config::CpgOptions;
use super::rule::Lineage;
use crate::fingerprint::PlanFingerprint;
use datafusion::arrow::array::{
    ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
    UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::datasource::MemTable;

/// Entries kept per session; older ones are dropped first.
pub const LOG_CAPACITY: usize = 1000;

/// Characters of the plan kept per entry.
const PLAN_TEXT_LIMIT: usize = 2000;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Microseconds since the epoch, UTC.
    pub at_micros: i64,
    pub allowed: bool,
    /// The `CPG-POLICY-<n>` number of a denial.
    pub code: Option<u32>,
    pub reason: Option<String>,
    /// The plan's fingerprint (absent if the plan could not be fingerprinted).
    pub fingerprint: Option<PlanFingerprint>,
    pub tables: Vec<String>,
    pub functions: Vec<String>,
    /// The plan, indented, cut at 2000 characters.
    pub plan: String,
}

/// A bounded log of decisions.
#[derive(Debug, Default)]
pub struct QueryLog {
    entries: Mutex<VecDeque<LogEntry>>,
}

impl QueryLog {
    /// Records the decision on `plan`: `denial` is the error the check returned, if any.
    pub fn record(
        &self,
        plan: &LogicalPlan,
        fingerprint: Option<PlanFingerprint>,
        denial: Option<&DataFusionError>,
        lineage: Lineage,
    ) {
        let at_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let reason = denial.map(|e| e.message().to_string());
        let code = reason.as_deref().and_then(policy_code);
        let text = bounded_text(plan);
        let entry = LogEntry {
            at_micros,
            allowed: denial.is_none(),
            code,
            reason,
            fingerprint,
            tables: lineage.tables.into_iter().collect(),
            functions: lineage.functions.into_iter().collect(),
            plan: text,
        };
        // A poisoned lock only means another thread panicked while logging: keep going.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().cloned().collect()
    }

    /// The entries as a record batch of [`log_schema`].
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let entries = self.entries();
        let list = |values: fn(&LogEntry) -> &Vec<String>| -> ArrayRef {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for entry in &entries {
                for value in values(entry) {
                    builder.values().append_value(value);
                }
                builder.append(true);
            }
            Arc::new(builder.finish())
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(entries.iter().map(|e| e.at_micros))
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                entries
                    .iter()
                    .map(|e| if e.allowed { "allow" } else { "deny" }),
            )),
            Arc::new(UInt32Array::from_iter(entries.iter().map(|e| e.code))),
            Arc::new(StringArray::from_iter(
                entries.iter().map(|e| e.reason.clone()),
            )),
            Arc::new(StringArray::from_iter(
                entries
                    .iter()
                    .map(|e| e.fingerprint.map(|f| f.exact.to_string())),
            )),
            Arc::new(StringArray::from_iter(
                entries
                    .iter()
                    .map(|e| e.fingerprint.map(|f| f.shape.to_string())),
            )),
            list(|e| &e.tables),
            list(|e| &e.functions),
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| e.plan.as_str()),
            )),
        ];
        Ok(RecordBatch::try_new(log_schema(), columns)?)
    }
}

/// `plan` indented, cut at [`PLAN_TEXT_LIMIT`] characters: formatting stops there, so a
/// large plan costs no more than a small one.
fn bounded_text(plan: &LogicalPlan) -> String {
    struct Bounded(String);
    impl std::fmt::Write for Bounded {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let room = PLAN_TEXT_LIMIT.saturating_sub(self.0.len());
            if s.len() <= room {
                self.0.push_str(s);
                return Ok(());
            }
            let cut = (0..=room)
                .rev()
                .find(|i| s.is_char_boundary(*i))
                .unwrap_or(0);
            self.0.push_str(&s[..cut]);
            self.0.push('…');
            Err(std::fmt::Error)
        }
    }
    let mut text = Bounded(String::with_capacity(256));
    // An Err only means the limit was reached.
    let _ = std::fmt::write(&mut text, format_args!("{}", plan.display_indent()));
    text.0
}

/// The number in a `CPG-POLICY-<n>: ...` message.
fn policy_code(message: &str) -> Option<u32> {
    let rest = message.split("CPG-POLICY-").nth(1)?;
    rest.split(':').next()?.parse().ok()
}

/// The columns of `cpg_query_log()`.
pub fn log_schema() -> SchemaRef {
    let list = || DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("decision", DataType::Utf8, false),
        Field::new("code", DataType::UInt32, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("fingerprint", DataType::Utf8, true),
        Field::new("shape", DataType::Utf8, true),
        Field::new("tables", list(), false),
        Field::new("functions", list(), false),
        Field::new("plan", DataType::Utf8, false),
    ]))
}

/// `cpg_query_log()`: the session's policy decisions, oldest first.
#[derive(Debug, Default)]
pub struct QueryLogFunction;

/// The name the table function is registered under.
pub const QUERY_LOG_FUNCTION: &str = "cpg_query_log";

impl TableFunctionImpl for QueryLogFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!(
                "{QUERY_LOG_FUNCTION} takes no arguments, got {}",
                args.exprs().len()
            );
        }
        let options = args
            .session()
            .config_options()
            .extensions
            .get::<CpgOptions>()
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{QUERY_LOG_FUNCTION}: this session has no cpg options (install the bundle \
                     with datafusion_cpg::register_all); over FFI the log is not reachable"
                ))
            })?;
        let batch = options.log.to_batch()?;
        Ok(Arc::new(MemTable::try_new(
            log_schema(),
            vec![vec![batch]],
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_read_from_the_message() {
        assert_eq!(policy_code("CPG-POLICY-5: table x denied by y"), Some(5));
        assert_eq!(policy_code("something else"), None);
    }

    #[test]
    fn the_log_is_bounded() {
        let log = QueryLog::default();
        let plan = LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
            produce_one_row: true,
            schema: Arc::new(datafusion::common::DFSchema::empty()),
        });
        for _ in 0..LOG_CAPACITY + 5 {
            log.record(&plan, None, None, Lineage::default());
        }
        assert_eq!(log.entries().len(), LOG_CAPACITY);
        assert_eq!(log.to_batch().unwrap().num_rows(), LOG_CAPACITY);
    }
}
