//! One module per subcommand.

mod admin;
mod kek;
mod serve;

use crate::config::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.storage, args).await,
        Command::Worker(args) => serve::worker(&cli.storage, args).await,
        Command::Accounts(cmd) => admin::accounts(&cli.storage, cmd).await,
        Command::Tokens(cmd) => admin::tokens(&cli.storage, cmd).await,
        Command::Transcribe(args) => {
            tokio::task::spawn_blocking(move || sealscribe_asr::cli::run(args)).await?
        }
        // The client needs neither the data directory nor the database: `cli.storage` is
        // deliberately not touched (its flags are global, so they parse, and are ignored).
        Command::Client(args) => Ok(sealscribe_client::run(args).await?),
        Command::Kek(cmd) => kek::run(&cli.storage, cmd).await,
        Command::Migrate => {
            let url = cli.storage.database_url()?;
            sealscribe_store::open_db(&url).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
