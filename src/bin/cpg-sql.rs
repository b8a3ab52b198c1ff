//! `cpg-sql`: `datafusion-cli` 55 with the datafusion-cpg bundle installed.
//!
//! The REPL, file and command execution and output formats are datafusion-cli's own;
//! this binary only builds the session (with the bundle) and parses the common flags.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionConfig;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::ExplainFormat;
use datafusion::prelude::SessionContext;
use datafusion_cli::catalog::DynamicObjectStoreCatalog;
use datafusion_cli::exec;
use datafusion_cli::functions::ParquetMetadataFunc;
use datafusion_cli::object_storage::instrumented::InstrumentedObjectStoreRegistry;
use datafusion_cli::object_storage::{StdinCarriesCommands, is_stdin_location};
use datafusion_cli::print_format::PrintFormat;
use datafusion_cli::print_options::{MaxRows, PrintOptions};

#[derive(Debug, Parser)]
#[clap(
    name = "cpg-sql",
    version,
    about = "DataFusion CLI with the datafusion-cpg functions installed"
)]
struct Args {
    #[clap(
        short = 'p',
        long,
        help = "Path to your data, default to current directory",
        value_parser(parse_valid_dir)
    )]
    data_path: Option<String>,

    #[clap(
        short = 'b',
        long,
        help = "The batch size of each query, or use DataFusion default"
    )]
    batch_size: Option<usize>,

    #[clap(short = 'c', long, num_args = 0.., help = "Execute the given command string(s), then exit")]
    command: Vec<String>,

    #[clap(short, long, num_args = 0.., help = "Execute commands from file(s), then exit", value_parser(parse_valid_file))]
    file: Vec<String>,

    #[clap(short = 'r', long, num_args = 0.., help = "Run the provided files on startup", value_parser(parse_valid_file), conflicts_with = "file")]
    rc: Option<Vec<String>>,

    #[clap(long, value_enum, default_value_t = PrintFormat::Automatic)]
    format: PrintFormat,

    #[clap(
        short,
        long,
        help = "Reduce printing other than the results and work quietly"
    )]
    quiet: bool,

    #[clap(
        long,
        help = "The max number of rows to display for 'Table' format\n[possible values: numbers(0/10/...), inf(no limit)]",
        default_value = "40"
    )]
    maxrows: MaxRows,

    #[clap(long, help = "Enables console syntax highlighting")]
    color: bool,
}

impl Args {
    fn repl_mode(&self) -> bool {
        self.command.is_empty() && self.file.is_empty()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    if !args.quiet {
        println!(
            "cpg-sql {} (DataFusion CLI {})",
            env!("CARGO_PKG_VERSION"),
            datafusion_cli::DATAFUSION_CLI_VERSION
        );
    }
    if let Some(path) = &args.data_path {
        std::env::set_current_dir(Path::new(path))?;
    }
    let registry = Arc::new(InstrumentedObjectStoreRegistry::new());
    let runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::clone(&registry) as _)
        .build_arc()?;
    let ctx =
        SessionContext::new_with_config_rt(session_config(&args)?, runtime).enable_url_table();
    ctx.refresh_catalogs().await?;
    ctx.register_catalog_list(Arc::new(DynamicObjectStoreCatalog::new(
        ctx.state().catalog_list().clone(),
        ctx.state_weak_ref(),
    )));
    ctx.register_udtf("parquet_metadata", Arc::new(ParquetMetadataFunc {}));
    datafusion_cpg::register_all(&ctx)?;

    let mut print_options = PrintOptions {
        format: args.format,
        quiet: args.quiet,
        maxrows: args.maxrows,
        color: args.color,
        instrumented_registry: registry,
    };
    if args.repl_mode() {
        if let Some(rc) = args.rc {
            exec::exec_from_files(&ctx, rc, &print_options).await?;
        }
        return exec::exec_from_repl(&ctx, &mut print_options)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)));
    }
    if !args.file.is_empty() {
        exec::exec_from_files(&ctx, args.file, &print_options).await?;
    }
    if !args.command.is_empty() {
        exec::exec_from_commands(&ctx, args.command, &print_options).await?;
    }
    Ok(())
}

fn session_config(args: &Args) -> Result<SessionConfig> {
    let mut options = ConfigOptions::from_env()?;
    if let Some(batch_size) = args.batch_size {
        options.execution.batch_size =
            datafusion::common::config::ConfigNonZeroUsize::try_new(batch_size)?;
    }
    if std::env::var_os("DATAFUSION_EXPLAIN_FORMAT").is_none() {
        options.explain.format = ExplainFormat::Tree;
    }
    if std::env::var_os("DATAFUSION_FORMAT_NULL").is_none() {
        options.format.null = String::from("NULL");
    }
    let mut config = SessionConfig::from(options).with_information_schema(true);
    let sql_from_stdin = args.repl_mode() || args.file.iter().any(|f| is_stdin_location(f));
    if sql_from_stdin {
        config = config.with_extension(Arc::new(StdinCarriesCommands));
    }
    Ok(config)
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
