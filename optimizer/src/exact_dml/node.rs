//! [`ExactDml`]: the logical node a DELETE or UPDATE becomes when DataFusion could not pass
//! its WHERE clause to the provider. Its one input produces the selected rows: the key
//! columns first, then (UPDATE) the new value of each assigned column.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::{DFSchemaRef, Result, TableReference, plan_err};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

/// Which statement an [`ExactDml`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum DmlKind {
    Delete,
    Update,
}

impl fmt::Display for DmlKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Delete => "DELETE",
            Self::Update => "UPDATE",
        })
    }
}

/// A DELETE or UPDATE run as "select the rows, then hand the provider a filter that is
/// true exactly for them".
#[derive(Clone)]
pub struct ExactDml {
    pub kind: DmlKind,
    pub table_name: TableReference,
    pub provider: Arc<dyn TableProvider>,
    /// Target columns the selected rows are identified by (the first input columns).
    pub key_columns: Vec<String>,
    /// Target columns an UPDATE assigns (the remaining input columns, in order).
    pub assigned_columns: Vec<String>,
    pub input: Arc<LogicalPlan>,
    /// The statement's output: one `count` column, as DataFusion's DML.
    pub schema: DFSchemaRef,
}

impl fmt::Debug for ExactDml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExactDml")
            .field("kind", &self.kind)
            .field("table_name", &self.table_name)
            .field("key_columns", &self.key_columns)
            .field("assigned_columns", &self.assigned_columns)
            .field("input", &self.input)
            .finish()
    }
}

impl ExactDml {
    fn identity(&self) -> (DmlKind, &TableReference, &[String], &[String], &LogicalPlan) {
        (
            self.kind,
            &self.table_name,
            &self.key_columns,
            &self.assigned_columns,
            &self.input,
        )
    }

    fn same_provider(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.provider, &other.provider)
    }
}

impl PartialEq for ExactDml {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity() && self.same_provider(other)
    }
}

impl Eq for ExactDml {}

impl Hash for ExactDml {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl PartialOrd for ExactDml {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if !self.same_provider(other) {
            return None;
        }
        self.identity().partial_cmp(&other.identity())
    }
}

impl UserDefinedLogicalNodeCore for ExactDml {
    fn name(&self) -> &str {
        "ExactDml"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![self.input.as_ref()]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ExactDml: op=[{}] table=[{}] keys=[{}]",
            self.kind,
            self.table_name,
            self.key_columns.join(", ")
        )?;
        if !self.assigned_columns.is_empty() {
            write!(f, " set=[{}]", self.assigned_columns.join(", "))?;
        }
        Ok(())
    }

    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        if !exprs.is_empty() || inputs.len() != 1 {
            return plan_err!(
                "ExactDml takes no expressions and one input, got {} and {}",
                exprs.len(),
                inputs.len()
            );
        }
        let mut node = self.clone();
        if let Some(input) = inputs.pop() {
            node.input = Arc::new(input);
        }
        Ok(node)
    }

    fn supports_limit_pushdown(&self) -> bool {
        false
    }
}
