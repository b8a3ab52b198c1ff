//! Policy denials: every one is a `DataFusionError::Plan` with a stable code,
//! `CPG-POLICY-<n>: <what> denied by <rule>`. Codes never change meaning.

use datafusion::common::DataFusionError;

/// The stable code of a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyCode {
    /// A statement class the policy denies (`allow_<class> = false`).
    Statement = 1,
    /// `SET` of a key outside `set_allowlist`.
    SetKey = 2,
    /// A change the locked policy refuses (its own keys, weakening engine options).
    Locked = 3,
    /// A function the policy denies.
    Function = 4,
    /// A table the policy denies.
    Table = 5,
    /// An external location outside `allow_paths`.
    Path = 6,
    /// A plan beyond the shape limits (joins, cross joins, depth).
    PlanShape = 7,
}

impl PolicyCode {
    pub const fn number(self) -> u32 {
        self as u32
    }
}

/// The error for `what` denied by `rule`.
pub fn deny(code: PolicyCode, what: impl AsRef<str>, rule: impl AsRef<str>) -> DataFusionError {
    DataFusionError::Plan(format!(
        "CPG-POLICY-{}: {} denied by {}",
        code.number(),
        what.as_ref(),
        rule.as_ref()
    ))
}
