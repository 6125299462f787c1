//! `sealscribe serve`.

use anyhow::Context;
use sealscribe_api::AppState;
use sealscribe_store::{BlobStore, open_db, redact_url};
use tokio::net::TcpListener;

use crate::config::{ServeArgs, StorageArgs};

pub async fn run(storage: &StorageArgs, args: ServeArgs) -> anyhow::Result<()> {
    let db_url = storage.database_url()?;
    let db = open_db(&db_url)
        .await
        .with_context(|| format!("opening database {}", redact_url(&db_url)))?;
    let blobs = BlobStore::open(&storage.blob_store_url()?)?;
    tracing::info!(database = %redact_url(&db_url), blob_store = blobs.describe(), "storage ready");

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // The bound address on stdout, for people and for scripts that asked for port 0.
    println!("sealscribe listening on http://{addr}");
    tracing::info!(%addr, "listening");

    let shutdown = crate::shutdown::on_signal();
    sealscribe_api::serve(listener, AppState::new(db, blobs), shutdown).await?;
    tracing::info!("HTTP server stopped; bye");
    Ok(())
}
