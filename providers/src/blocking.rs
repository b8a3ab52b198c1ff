//! Runs an async provider construction from one of DataFusion's synchronous entry
//! points (a table function's `call`, a codec's decode), whatever the caller's thread:
//! inside a tokio runtime of any flavour (blocking its worker on a future that needs that
//! same runtime would deadlock a current-thread runtime), outside any runtime, or in a
//! host that loaded the bundle over FFI. The future runs on a scoped thread with its own
//! small runtime.

use std::future::Future;

use datafusion::common::{DataFusionError, Result};

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
