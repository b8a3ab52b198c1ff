//! [`SharedBuild`]: the build side one execution of an operator shares among its output
//! partitions — built once, handed to each partition's stream, and let go by the
//! operator as soon as every partition has taken it, so that a plan kept after it ran
//! (a cached plan, the codec's handle table) does not keep the data alive.

use std::sync::{Arc, Mutex};

use datafusion::common::{DataFusionError, Result};
use futures::future::{BoxFuture, Shared};

/// The shared build future: its output is the build side or the error building it.
pub type BuildFuture<T> =
    Shared<BoxFuture<'static, std::result::Result<Arc<T>, Arc<DataFusionError>>>>;

/// See the module docs.
pub struct SharedBuild<T> {
    /// The running build and how many partitions have taken it.
    state: Mutex<(Option<BuildFuture<T>>, usize)>,
}

impl<T> Default for SharedBuild<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new((None, 0)),
        }
    }
}

impl<T> std::fmt::Debug for SharedBuild<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBuild")
    }
}

impl<T> SharedBuild<T> {
    /// The build for one of `partitions` output partitions: the running one, or a new
    /// one from `start` (the first partition of an execution).
    pub fn take(
        &self,
        partitions: usize,
        start: impl FnOnce() -> Result<BuildFuture<T>>,
    ) -> Result<BuildFuture<T>> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| DataFusionError::Internal("shared build lock poisoned".into()))?;
        let build = match &state.0 {
            Some(build) => build.clone(),
            None => {
                let build = start()?;
                *state = (Some(build.clone()), 0);
                build
            }
        };
        state.1 += 1;
        if state.1 >= partitions {
            *state = (None, 0);
        }
        Ok(build)
    }
}
