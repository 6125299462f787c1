//! `client media …`: `/v3/media`, one module per subcommand.

mod delete;
mod download;
mod get;
mod list;
mod results;
mod transcript;
mod upload;
mod wait;

use std::io::Write as _;

use crate::api::Api;
use crate::{Error, MediaCommand, Ui};

pub(crate) async fn run(api: &Api, ui: &Ui, cmd: MediaCommand) -> Result<(), Error> {
    match cmd {
        MediaCommand::Upload {
            file,
            public_key_id,
            config,
            metadata,
        } => upload::run(api, ui, &file, public_key_id, config, metadata).await,
        MediaCommand::Wait {
            id,
            timeout,
            interval,
        } => wait::run(api, ui, &id, timeout, interval).await,
        MediaCommand::Get { id } => get::run(api, ui, &id).await,
        MediaCommand::Transcript { id, format } => transcript::run(api, ui, &id, format).await,
        MediaCommand::List { query, limit } => list::run(api, ui, query, limit).await,
        MediaCommand::Delete { id } => delete::run(api, ui, &id).await,
        MediaCommand::Download { id, stream, output } => {
            download::run(api, ui, &id, &stream, output.as_deref()).await
        }
        MediaCommand::Results { id, key } => results::run(api, ui, &id, &key).await,
    }
}

/// Writes a rendition or a decrypted document to stdout as it is.
fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => crate::stdout_failed(e),
        other => other.map_err(|e| Error::local(format!("writing to stdout: {e}"))),
    }
}
