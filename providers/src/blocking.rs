//! Runs deltalake's async work where it can run. deltalake needs the *current* tokio
//! runtime (`Handle::current()`), and a host that loaded the bundle over FFI polls our
//! futures from its own runtime, which this library's copy of tokio cannot see.
//!
//! - [`run`]: from a synchronous entry point (a table function's `call`, a codec's
//!   decode), whatever the caller's thread: the future runs on a scoped thread with its
//!   own small runtime (blocking the caller's runtime worker on a future that needs that
//!   runtime would deadlock a current-thread runtime);
//! - [`in_runtime`]: from an async entry point (`scan`, a factory's `create`): awaited
//!   in place when a runtime of this library is current, else as [`run`] does.

use std::future::Future;

use datafusion::common::{DataFusionError, Result};

pub async fn in_runtime<T: Send>(future: impl Future<Output = Result<T>> + Send) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        future.await
    } else {
        run(future)
    }
}

pub fn run<T: Send>(future: impl Future<Output = Result<T>> + Send) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| DataFusionError::External(Box::new(e)))?
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|_| {
                Err(DataFusionError::Execution(
                    "opening a Delta table panicked".to_string(),
                ))
            })
    })
}
