//! The `sealscribe` command: parses the configuration, sets up logging and
//! runs one subcommand. Everything else lives in the library crates.

mod cmd;
mod config;
mod privileges;
mod scratch;
mod shutdown;

use std::process::ExitCode;

fn main() -> ExitCode {
    // First, so that nothing is ever created readable by others.
    privileges::restrict_umask();
    privileges::cap_malloc_arenas();
    // Before any secret or plaintext is in memory (the client too: it holds
    // the customer's secret key).
    let core_dumps = privileges::disable_core_dumps();
    let cli = config::Cli::parse_args();
    config::init_logging(&cli.log);
    match core_dumps {
        Ok(()) => tracing::debug!(
            in_force = privileges::core_dumps_disabled(),
            "core dumps disabled (RLIMIT_CORE 0, not dumpable)"
        ),
        Err(e) => tracing::warn!(
            "core dumps could not be disabled ({e}); a crash may write memory to disk"
        ),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(cmd::run(cli));
    // Blocking work still running (a recognition whose job was released at
    // shutdown) is abandoned; its job is retried by the next worker.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // `sealscribe client` has exit codes of its own (`client --help`).
            match e.downcast_ref::<sealscribe_client::Error>() {
                Some(client) => ExitCode::from(client.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}
