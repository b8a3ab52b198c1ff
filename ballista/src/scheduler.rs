//! `cpg-scheduler`: Ballista's scheduler with the bundle installed — it decodes the
//! clients' plans with the bundle's codecs and plans them in a session with the whole
//! bundle (functions, providers, span join, policy rules), then ships stages to the
//! executors with the same codecs. [`SchedulerFlags`] are Ballista's scheduler flags
//! (same names and defaults).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::codec::ClusterCodec;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
use ballista_scheduler::scheduler_process::start_server;
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionConfig;

use crate::flags::SchedulingPolicy;
use crate::{bundle_state, config};

/// Ballista's scheduler flags.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cpg-scheduler",
    version,
    about = "A Ballista scheduler with the datafusion-cpg bundle"
)]
pub struct SchedulerFlags {
    /// Namespace of the cluster.
    #[arg(short = 'n', long, default_value = "ballista")]
    pub namespace: String,
    /// Identifier for this scheduler (default: a fresh id).
    #[arg(long = "id")]
    pub scheduler_id: Option<String>,
    /// Local host name or IP address to bind to.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_host: String,
    /// Host name or IP address executors reach this scheduler at.
    #[arg(long, default_value = "localhost")]
    pub external_host: String,
    /// Port to bind to.
    #[arg(short = 'p', long, default_value_t = 50050)]
    pub bind_port: u16,
    /// Task scheduling policy; executors must use the same.
    #[arg(short = 's', long, value_enum, default_value_t = SchedulingPolicy::default())]
    pub scheduler_policy: SchedulingPolicy,
    /// How tasks are spread over executors: `bias` (fill one first) or `round-robin`.
    #[arg(long, value_enum, default_value_t = TaskDistribution::Bias)]
    pub task_distribution: TaskDistribution,
    /// Event loop buffer size.
    #[arg(long, default_value_t = 1000)]
    pub event_loop_buffer_size: u32,
    /// Seconds before a finished job's data is cleaned up.
    #[arg(long, default_value_t = 300)]
    pub finished_job_data_clean_up_interval_seconds: u64,
    /// Seconds before a finished job's state is cleaned up.
    #[arg(long, default_value_t = 3600)]
    pub finished_job_state_clean_up_interval_seconds: u64,
    /// Seconds without a heartbeat after which an executor is dead.
    #[arg(long, default_value_t = 180)]
    pub executor_timeout_seconds: u64,
    /// Seconds between checks for dead executors.
    #[arg(long, default_value_t = 15)]
    pub expire_dead_executor_interval_seconds: u64,
    /// Attempts of a task before it fails.
    #[arg(long, default_value_t = 4)]
    pub task_max_failures: usize,
    /// Attempts of a stage before it fails.
    #[arg(long, default_value_t = 4)]
    pub stage_max_failures: usize,
    /// Largest gRPC message decoded, in bytes.
    #[arg(long, default_value_t = 16777216)]
    pub grpc_server_max_decoding_message_size: u32,
    /// Largest gRPC message encoded, in bytes.
    #[arg(long, default_value_t = 16777216)]
    pub grpc_server_max_encoding_message_size: u32,
}

/// `--task-distribution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskDistribution {
    Bias,
    RoundRobin,
}

impl SchedulerFlags {
    /// Ballista's scheduler configuration for these flags, with the bundle installed.
    pub fn scheduler_config(&self) -> Result<SchedulerConfig> {
        let session_config = config()?;
        let mut scheduler = SchedulerConfig {
            namespace: self.namespace.clone(),
            external_host: self.external_host.clone(),
            bind_host: self.bind_host.clone(),
            bind_port: self.bind_port,
            scheduling_policy: self.scheduler_policy.into(),
            task_distribution: match self.task_distribution {
                TaskDistribution::Bias => TaskDistributionPolicy::Bias,
                TaskDistribution::RoundRobin => TaskDistributionPolicy::RoundRobin,
            },
            event_loop_buffer_size: self.event_loop_buffer_size,
            finished_job_data_clean_up_interval_seconds: self
                .finished_job_data_clean_up_interval_seconds,
            finished_job_state_clean_up_interval_seconds: self
                .finished_job_state_clean_up_interval_seconds,
            executor_timeout_seconds: self.executor_timeout_seconds,
            no_executors_grace_period_seconds: self.executor_timeout_seconds,
            expire_dead_executor_interval_seconds: self.expire_dead_executor_interval_seconds,
            task_max_failures: self.task_max_failures,
            stage_max_failures: self.stage_max_failures,
            grpc_server_max_decoding_message_size: self.grpc_server_max_decoding_message_size,
            grpc_server_max_encoding_message_size: self.grpc_server_max_encoding_message_size,
            override_logical_codec: Some(Arc::new(ClusterCodec::default())),
            override_physical_codec: Some(Arc::new(ClusterCodec::default())),
            ..Default::default()
        }
        // Each client session is planned in a session with the bundle; the client's
        // settings (`cpg.policy.*` among them) arrive in `config`.
        .with_override_session_builder(Arc::new(|config: SessionConfig| bundle_state(config)))
        .with_override_config_producer(Arc::new(move || session_config.clone()));
        if let Some(id) = &self.scheduler_id {
            scheduler.scheduler_id = id.clone();
        }
        Ok(scheduler)
    }

    /// Runs the scheduler until the process ends.
    pub async fn run(&self) -> Result<()> {
        let address: SocketAddr = format!("{}:{}", self.bind_host, self.bind_port)
            .parse()
            .map_err(|e| {
                DataFusionError::Configuration(format!(
                    "--bind-host {} --bind-port {}: not an address ({e})",
                    self.bind_host, self.bind_port
                ))
            })?;
        let config = self.scheduler_config()?;
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        start_server(cluster, address, Arc::new(config))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }
}
