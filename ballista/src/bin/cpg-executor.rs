//! `cpg-executor`: a Ballista executor with the datafusion-cpg bundle installed.

use clap::Parser;
use datafusion_cpg_ballista::executor::ExecutorFlags;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = ExecutorFlags::parse();
    eprintln!(
        "cpg-executor: flight port {}, scheduler {}:{}",
        flags.bind_port, flags.scheduler_host, flags.scheduler_port
    );
    match flags.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cpg-executor: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
