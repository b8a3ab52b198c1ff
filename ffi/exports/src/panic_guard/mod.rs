//! Panic guards: wrappers that turn a panic inside any of the bundle's extensions into a
//! `DataFusionError` before it reaches an FFI boundary.
//!
//! datafusion-ffi calls extensions from `extern "C"` callbacks without `catch_unwind`;
//! a panic there aborts the host process (a Python interpreter, say). Async callbacks
//! go through async-ffi, which catches the panic and re-raises it on the host's side.
//! Every export therefore crosses wrapped: [`GuardedScalarUdf`] for functions,
//! [`GuardedTableFunction`], [`GuardedTableProviderFactory`] and
//! [`GuardedTableProvider`] for tables, [`GuardedExec`] (with its stream) for
//! execution, [`GuardedQueryPlanner`] and [`GuardedPhysicalOptimizerRule`] for planning.

mod plan;
mod planner;
mod scalar_udf;
mod table;

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use datafusion::common::{DataFusionError, Result};
use futures::FutureExt;

pub use plan::{GuardedExec, GuardedStream};
pub use planner::{GuardedPhysicalOptimizerRule, GuardedQueryPlanner};
pub use scalar_udf::GuardedScalarUdf;
pub use table::{GuardedTableFunction, GuardedTableProvider, GuardedTableProviderFactory};

// With panic = "abort" nothing can be caught: a build that would silently lose every
// guard is refused instead.
#[cfg(panic = "abort")]
compile_error!(
    "datafusion-cpg-exports needs panic = \"unwind\": its panic guards are what keep a \
     panic in an extension from aborting the host process"
);

/// The text of a panic payload.
pub fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn panic_error(owner: &str, what: &str, panic: &Box<dyn Any + Send>) -> DataFusionError {
    DataFusionError::Execution(format!(
        "{owner} panicked in {what}: {}; please report this with the query",
        panic_message(panic)
    ))
}

/// Runs `f`; a panic becomes an execution error naming `owner` and `what`.
pub fn guard<T>(owner: &str, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_error(owner, what, &panic)))
}

/// Awaits `future`; a panic while polling it becomes an execution error.
pub async fn guard_future<T>(
    owner: &str,
    what: &str,
    future: impl Future<Output = Result<T>>,
) -> Result<T> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panic_error(owner, what, &panic)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_owner_and_call() {
        let error = guard::<()>("thing", "call", || panic!("boom")).unwrap_err();
        assert_eq!(
            error.strip_backtrace(),
            "Execution error: thing panicked in call: boom; please report this with the query"
        );
        assert_eq!(guard("thing", "call", || Ok(7)).unwrap(), 7);
    }

    #[tokio::test]
    async fn a_panic_in_a_future_becomes_an_error() {
        let error = guard_future::<()>("thing", "poll", async { panic!("late {}", 1) })
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("thing panicked in poll: late 1"),
            "{error}"
        );
    }
}
