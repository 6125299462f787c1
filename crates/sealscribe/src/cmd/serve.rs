//! `sealscribe serve` (the HTTP API and in-process workers) and `sealscribe
//! worker` (workers only).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sealscribe_api::{AppState, Limits};
use sealscribe_asr::{SpeechEngine, WhisperEngine};
use sealscribe_pipeline::{Settings, Workers};
use sealscribe_store::{BlobStore, Db, open_db, redact_url};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::config::{MetricsArgs, ServeArgs, StorageArgs, WorkerArgs, WorkerCommandArgs};

/// With `--metrics-listen`: installs the recorder, binds the address and
/// serves `/metrics` until `shutdown`, as a task of `tracker`.
async fn start_metrics(
    args: &MetricsArgs,
    db: &Arc<dyn Db>,
    shutdown: &tokio_util::sync::CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()> {
    let Some(addr) = args.metrics_listen else {
        return Ok(());
    };
    let handle = sealscribe_api::metrics::install().context("installing the metrics recorder")?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    let addr = listener.local_addr()?;
    println!("sealscribe metrics on http://{addr}/metrics");
    tracing::info!(%addr, "serving metrics");
    tracker.spawn(sealscribe_api::metrics::serve(
        listener,
        handle,
        db.clone(),
        shutdown.clone(),
    ));
    Ok(())
}

/// Loads the speech model once for the whole process; a missing or corrupt
/// model stops the start with a message saying how to fetch it.
async fn load_engine(args: &WorkerArgs) -> anyhow::Result<Arc<dyn SpeechEngine>> {
    let config = args.asr.to_config();
    let engine = tokio::task::spawn_blocking(move || WhisperEngine::load(&config))
        .await?
        .context("loading the speech-recognition model (fetch it with scripts/fetch-model.sh)")?;
    Ok(Arc::new(engine))
}

pub fn worker_settings(storage: &StorageArgs, args: &WorkerArgs) -> anyhow::Result<Settings> {
    Ok(Settings {
        workers: args.workers,
        lease: Duration::from_secs(args.job_lease_secs),
        priority_aging: Duration::from_secs(args.priority_aging_secs),
        poll: Duration::from_millis(500),
        max_attempts: args.job_max_attempts,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        tmp_dir: storage.data_dir()?.join("tmp"),
        plain_dir: crate::scratch::resolve(
            args.scratch_dir.as_deref(),
            &crate::scratch::default_candidates(),
            &storage.data_dir()?.join("tmp"),
        )?
        .root,
        url_policy: args.url_policy(),
        worker_id: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        callbacks: args.callback_settings(),
    })
}

/// The database (migrated) and the blob store the storage flags name.
async fn open_storage(storage: &StorageArgs) -> anyhow::Result<(Arc<dyn Db>, BlobStore)> {
    let db_url = storage.database_url()?;
    let db = open_db(&db_url)
        .await
        .with_context(|| format!("opening database {}", redact_url(&db_url)))?;
    let blobs = storage.blob_store()?;
    tracing::info!(database = %redact_url(&db_url), blob_store = blobs.describe(), "storage ready");
    blobs.warn_if_versioned().await;
    Ok((db, blobs))
}

/// `sealscribe worker`: workers only. They find work by polling the shared
/// database (uploads on API nodes cannot wake them) and stop on SIGINT or
/// SIGTERM, finishing or releasing their current job.
pub async fn worker(storage: &StorageArgs, args: WorkerCommandArgs) -> anyhow::Result<()> {
    let metrics = args.metrics;
    let args = args.workers;
    anyhow::ensure!(
        args.workers > 0,
        "a worker process needs --workers 1 or more"
    );
    args.media.install().await?;
    let (db, blobs) = open_storage(storage).await?;
    let keys = storage.keyring()?;
    super::kek::wrap_clear_keys(db.as_ref(), &keys).await?;
    let engine = load_engine(&args).await?;
    let shutdown = crate::shutdown::on_signal();
    let tracker = TaskTracker::new();
    start_metrics(&metrics, &db, &shutdown, &tracker).await?;
    let workers = Workers::new(db, blobs, engine, keys, worker_settings(storage, &args)?)?;
    workers.spawn(&shutdown, &tracker)?;
    tracker.close();
    println!("sealscribe worker ready ({} workers)", args.workers);
    tracing::info!(workers = args.workers, "worker process ready");
    tracker.wait().await;
    tracing::info!("workers stopped; bye");
    Ok(())
}

pub async fn run(storage: &StorageArgs, args: ServeArgs) -> anyhow::Result<()> {
    args.workers.media.install().await?;
    let (db, blobs) = open_storage(storage).await?;
    let keys = storage.keyring()?;
    super::kek::wrap_clear_keys(db.as_ref(), &keys).await?;

    let limits = Limits {
        max_upload_bytes: args.max_upload_bytes,
        stream_redirect: (args.stream_redirect_secs > 0)
            .then(|| Duration::from_secs(args.stream_redirect_secs)),
        url_policy: args.workers.url_policy(),
        multipart: args.http.multipart_limits(),
        max_callbacks: args.http.max_callbacks_per_media as usize,
        max_search_terms: args.http.max_search_terms as usize,
        max_search_term_chars: args.http.max_search_term_chars as usize,
        max_list_bytes: args.http.max_list_bytes,
        max_category_query_chars: args.http.max_category_query_chars as usize,
        max_ephemeral_key_ttl: std::time::Duration::from_secs(args.http.max_ephemeral_key_secs),
    };
    let server_limits = args.http.server_limits(args.max_upload_bytes);
    crate::privileges::fit_open_files(args.http.max_connections);
    // `--workers 0` is an API-only node: no model is loaded.
    let workers = if args.workers.workers > 0 {
        let engine = load_engine(&args.workers).await?;
        let settings = worker_settings(storage, &args.workers)?;
        Some(Workers::new(
            db.clone(),
            blobs.clone(),
            engine,
            keys.clone(),
            settings,
        )?)
    } else {
        None
    };
    let shutdown = crate::shutdown::on_signal();
    let tracker = TaskTracker::new();
    start_metrics(&args.metrics, &db, &shutdown, &tracker).await?;
    let state = match &workers {
        Some(w) => AppState::with_workers(db, blobs, keys, limits, w.waker()),
        None => AppState::new(db, blobs, keys, limits),
    };

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;

    if let Some(w) = &workers {
        w.spawn(&shutdown, &tracker)?;
    }
    tracker.close();

    // The bound address on stdout, for people and for scripts that asked for port 0.
    println!("sealscribe listening on http://{addr}");
    tracing::info!(%addr, workers = args.workers.workers, "listening");
    sealscribe_api::serve(listener, state, server_limits, shutdown).await?;
    tracing::info!("HTTP server stopped; waiting for workers");
    tracker.wait().await;
    tracing::info!("workers stopped; bye");
    Ok(())
}
