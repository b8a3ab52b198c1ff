//! What Ballista's scheduler and executor flags share: the task scheduling policy.
//! (Ballista's own parsers live behind its `build-binary` feature, which would put the S3
//! and HTTP object stores into every build of DataFusion here.)

use ballista_core::config::TaskSchedulingPolicy;

/// `--scheduler-policy` / `--task-scheduling-policy`: who starts tasks; scheduler and
/// executors must agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SchedulingPolicy {
    /// Executors poll the scheduler for tasks.
    PullStaged,
    /// The scheduler pushes tasks to executors (Ballista's default).
    #[default]
    PushStaged,
}

impl From<SchedulingPolicy> for TaskSchedulingPolicy {
    fn from(policy: SchedulingPolicy) -> Self {
        match policy {
            SchedulingPolicy::PullStaged => TaskSchedulingPolicy::PullStaged,
            SchedulingPolicy::PushStaged => TaskSchedulingPolicy::PushStaged,
        }
    }
}
