//! `cpg-executor`: Ballista's executor process with the bundle installed — its
//! functions (UDFs travel by name), its codecs, its `cpg.*` options, and the
//! [`PolicyEngine`] re-checking each decoded plan. [`ExecutorFlags`] are Ballista's
//! executor flags (same names and defaults) plus `--policy`.

use std::sync::Arc;

use crate::codec::ClusterCodec;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::common::{DataFusionError, Result};
use datafusion_cpg::optimizer::policy::SqlPolicy;

use crate::flags::SchedulingPolicy;
use crate::policy::PolicyEngine;
use crate::{bundle_state, config};

/// Ballista's executor flags, and the executor's own SQL policy.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cpg-executor",
    version,
    about = "A Ballista executor with the datafusion-cpg bundle"
)]
pub struct ExecutorFlags {
    /// Scheduler host.
    #[arg(long, default_value = "localhost")]
    pub scheduler_host: String,
    /// Scheduler port.
    #[arg(long, default_value_t = 50050)]
    pub scheduler_port: u16,
    /// Local IP address to bind to.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_host: String,
    /// Host name or IP address other executors and clients reach this executor at
    /// (default: the address the scheduler sees).
    #[arg(long)]
    pub external_host: Option<String>,
    /// Identifier for this executor (default: a fresh id).
    #[arg(long = "id")]
    pub executor_id: Option<String>,
    /// Arrow Flight port (shuffle and results).
    #[arg(short = 'p', long, default_value_t = 50051)]
    pub bind_port: u16,
    /// gRPC port.
    #[arg(long, default_value_t = 50052)]
    pub bind_grpc_port: u16,
    /// How long to try connecting to the scheduler before failing (0: fail at once).
    #[arg(long, default_value_t = 0)]
    pub scheduler_connect_timeout_seconds: u16,
    /// Directory for shuffle files (default: a temporary directory).
    #[arg(long)]
    pub work_dir: Option<String>,
    /// Virtual cores offered to the scheduler (0: all CPU cores).
    #[arg(short = 'c', long, default_value_t = 0)]
    pub vcores: usize,
    /// Task scheduling policy; must match the scheduler's.
    #[arg(short = 's', long, value_enum, default_value_t = SchedulingPolicy::default())]
    pub task_scheduling_policy: SchedulingPolicy,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, default_value_t = 60)]
    pub executor_heartbeat_interval_seconds: u64,
    /// Seconds between clean-ups of old job directories (0: never).
    #[arg(long, default_value_t = 0)]
    pub job_data_clean_up_interval_seconds: u64,
    /// Seconds job data is kept after the job.
    #[arg(long, default_value_t = 604800)]
    pub job_data_ttl_seconds: u64,
    /// Largest gRPC message decoded, in bytes.
    #[arg(long, default_value_t = 16777216)]
    pub grpc_server_max_decoding_message_size: u32,
    /// Largest gRPC message encoded, in bytes.
    #[arg(long, default_value_t = 16777216)]
    pub grpc_server_max_encoding_message_size: u32,
    /// Total memory budget in bytes, split across vcores (default: a fraction of the
    /// machine's memory; 0: unbounded).
    #[arg(long)]
    pub memory_pool_size: Option<u64>,
    /// Seconds an idle client connection is kept.
    #[arg(long, default_value_t = 30)]
    pub client_ttl: u64,
    /// The executor's SQL policy (a TOML or JSON file of `cpg.policy.*` keys), enforced
    /// on every plan it runs whatever the client says.
    #[arg(long)]
    pub policy: Option<std::path::PathBuf>,
}

impl ExecutorFlags {
    /// Ballista's executor configuration for these flags, with the bundle installed.
    pub fn process_config(&self) -> Result<ExecutorProcessConfig> {
        let policy = self.policy.as_ref().map(SqlPolicy::from_file).transpose()?;
        let state = bundle_state(config()?)?;
        let session_config = state.config().clone();
        let mut process = ExecutorProcessConfig {
            bind_host: self.bind_host.clone(),
            external_host: self.external_host.clone(),
            port: self.bind_port,
            grpc_port: self.bind_grpc_port,
            scheduler_host: self.scheduler_host.clone(),
            scheduler_port: self.scheduler_port,
            scheduler_connect_timeout_seconds: self.scheduler_connect_timeout_seconds,
            task_scheduling_policy: self.task_scheduling_policy.into(),
            work_dir: self.work_dir.clone(),
            job_data_ttl_seconds: self.job_data_ttl_seconds,
            job_data_clean_up_interval_seconds: self.job_data_clean_up_interval_seconds,
            grpc_max_decoding_message_size: self.grpc_server_max_decoding_message_size,
            grpc_max_encoding_message_size: self.grpc_server_max_encoding_message_size,
            executor_heartbeat_interval_seconds: self.executor_heartbeat_interval_seconds,
            memory_pool_size: self.memory_pool_size,
            client_ttl: self.client_ttl,
            override_execution_engine: Some(Arc::new(PolicyEngine::new(policy))),
            override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&state))),
            override_config_producer: Some(Arc::new(move || session_config.clone())),
            override_logical_codec: Some(Arc::new(ClusterCodec::default())),
            override_physical_codec: Some(Arc::new(ClusterCodec::default())),
            ..Default::default()
        };
        if let Some(id) = &self.executor_id {
            process.executor_id = id.clone();
        }
        if self.vcores > 0 {
            process.vcores = self.vcores;
        }
        Ok(process)
    }

    /// Runs the executor until it is told to stop.
    pub async fn run(&self) -> Result<()> {
        start_executor_process(Arc::new(self.process_config()?))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }
}
