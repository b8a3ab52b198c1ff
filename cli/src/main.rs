//! `cpg-sql`: runs SQL files, commands or standard input on DataFusion 55 with the
//! datafusion-cpg bundle installed, and prints results as a table, CSV, JSON or
//! newline-delimited JSON.
//!
//! It is deliberately not built on datafusion-cli: that crate compiles DataFusion with
//! other features (avro, cloud object stores, parquet encryption) and ~60 more crates,
//! which would make every build of the workspace compile DataFusion twice.
//!
//! A query over an unbounded table (`CREATE UNBOUNDED EXTERNAL TABLE`) prints its rows as
//! they arrive, batch by batch, until it ends (a `LIMIT`) or is interrupted.
//!
//! Built with the `ballista` feature, `--ballista df://host:port` (or `standalone`)
//! runs the queries on a Ballista cluster with the bundle installed.
//!
//! Statements run in order. The first failing statement stops the run with exit code 1
//! and a message naming the statement, its line and its source (`--continue-on-error`
//! reports each failure and goes on, still exiting with 1 at the end).

mod output;
mod script;

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use datafusion::common::config::ConfigNonZeroUsize;
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::context::SessionConfig;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::SessionContext;

use crate::output::{Format, MaxRows, Printer};
use crate::script::Statement;

#[derive(Debug, Parser)]
#[clap(
    name = "cpg-sql",
    version,
    about = "Run SQL on DataFusion 55 with the datafusion-cpg functions installed. \
             Without -c or -f, reads statements from standard input."
)]
struct Args {
    /// Run from this directory (relative paths in SQL resolve against it).
    #[clap(short = 'p', long, value_parser(parse_valid_dir))]
    data_path: Option<String>,

    /// The batch size of each query (DataFusion's default if not given).
    #[clap(short = 'b', long)]
    batch_size: Option<usize>,

    /// Execute the given SQL string(s), after any files.
    #[clap(short = 'c', long, num_args = 0..)]
    command: Vec<String>,

    /// Execute the statements of these file(s), in order.
    #[clap(short, long, num_args = 0.., value_parser(parse_valid_file))]
    file: Vec<String>,

    /// Output format of query results.
    #[clap(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Print only results and errors: no banner, no row counts.
    #[clap(short, long)]
    quiet: bool,

    /// The maximum number of rows the table format shows per result (a number or `inf`).
    #[clap(long, default_value = "40")]
    maxrows: MaxRows,

    /// Report a failing statement and go on with the next one (the exit code is still
    /// 1 if any failed). By default the first failure stops the run.
    #[clap(long)]
    continue_on_error: bool,

    /// Run the queries on the Ballista cluster whose scheduler is at this URL
    /// (`df://host:port`), or on an in-process one (`standalone`).
    #[cfg(feature = "ballista")]
    #[clap(long, value_name = "URL")]
    ballista: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cpg-sql: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything the arguments ask for; `Ok(false)` if a statement failed.
async fn run(args: &Args) -> Result<bool> {
    if let Some(path) = &args.data_path {
        std::env::set_current_dir(Path::new(path))?;
    }
    let ctx = session(args).await?;
    let mut sources: Vec<(String, String)> = Vec::new();
    for file in &args.file {
        sources.push((file.clone(), std::fs::read_to_string(file)?));
    }
    for (i, command) in args.command.iter().enumerate() {
        sources.push((format!("command {}", i + 1), command.clone()));
    }
    if args.file.is_empty() && args.command.is_empty() {
        let stdin = std::io::stdin();
        if stdin.is_terminal() && !args.quiet {
            eprintln!(
                "cpg-sql {}: enter SQL statements ending with ';', then end of input (Ctrl-D)",
                env!("CARGO_PKG_VERSION")
            );
        }
        let mut sql = String::new();
        stdin.lock().read_to_string(&mut sql)?;
        sources.push(("standard input".to_string(), sql));
    }

    let printer = Printer::new(args.format, args.maxrows, args.quiet);
    let mut all_ok = true;
    for (source, sql) in &sources {
        let statements = match script::split(&ctx, sql) {
            Ok(statements) => statements,
            Err(e) => {
                eprintln!("Error in {source}: {e}");
                all_ok = false;
                if args.continue_on_error {
                    continue;
                }
                return Ok(false);
            }
        };
        for statement in &statements {
            if let Err(e) = execute(&ctx, statement, &printer).await {
                eprintln!(
                    "Error in statement {} (line {}) of {source}: {e}",
                    statement.number, statement.line
                );
                all_ok = false;
                if !args.continue_on_error {
                    return Ok(false);
                }
            }
        }
    }
    std::io::stdout().flush()?;
    Ok(all_ok)
}

async fn execute(ctx: &SessionContext, statement: &Statement, printer: &Printer) -> Result<()> {
    let started = std::time::Instant::now();
    // Checked against the session's cpg.policy before DataFusion runs DDL or SET.
    let df = datafusion_cpg::optimizer::policy::checked_sql(ctx, &statement.sql).await?;
    let schema = df.schema().as_arrow().clone();
    let plan = df.create_physical_plan().await?;
    if plan.boundedness().is_unbounded() {
        // An unbounded table's query: rows are printed as they arrive, until interrupted.
        let stream = datafusion::physical_plan::execute_stream(plan, ctx.task_ctx())?;
        return printer.print_stream(&schema, stream, started).await;
    }
    let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
    printer.print(&schema, &batches, started.elapsed())
}

async fn session(args: &Args) -> Result<SessionContext> {
    #[cfg(feature = "ballista")]
    if let Some(url) = &args.ballista {
        use datafusion_cpg_ballista::Cluster;
        let cluster = match url.as_str() {
            "standalone" => Cluster::Standalone,
            url => Cluster::Remote(url.to_string()),
        };
        let ctx = datafusion_cpg_ballista::session(cluster).await?;
        configure(ctx.state_ref().write().config_mut().options_mut(), args)?;
        return Ok(ctx);
    }
    let mut options = ConfigOptions::from_env()?;
    configure(&mut options, args)?;
    let ctx = SessionContext::new_with_config(SessionConfig::from(options)).enable_url_table();
    datafusion_cpg::register_all(&ctx)?;
    Ok(ctx)
}

/// The session options the arguments set.
fn configure(options: &mut ConfigOptions, args: &Args) -> Result<()> {
    options.catalog.information_schema = true;
    if let Some(batch_size) = args.batch_size {
        options.execution.batch_size = ConfigNonZeroUsize::try_new(batch_size)?;
    }
    Ok(())
}

fn parse_valid_file(path: &str) -> std::result::Result<String, String> {
    if Path::new(path).is_file() {
        Ok(path.to_string())
    } else {
        Err(format!("Invalid file '{path}'"))
    }
}

fn parse_valid_dir(path: &str) -> std::result::Result<String, String> {
    if Path::new(path).is_dir() {
        Ok(path.to_string())
    } else {
        Err(format!("Invalid data directory '{path}'"))
    }
}
