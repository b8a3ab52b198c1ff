//! `cpg-scheduler`: a Ballista scheduler with the datafusion-cpg bundle installed.

use clap::Parser;
use datafusion_cpg_ballista::scheduler::SchedulerFlags;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = SchedulerFlags::parse();
    eprintln!(
        "cpg-scheduler: listening on {}:{}",
        flags.bind_host, flags.bind_port
    );
    match flags.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cpg-scheduler: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
