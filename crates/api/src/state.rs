use std::sync::Arc;

use sealscribe_ingress::UrlPolicy;
use sealscribe_seal::kek::Keyring;
use sealscribe_store::{BlobStore, Db};
use tokio::sync::Notify;

/// What every handler can reach: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    db: Arc<dyn Db>,
    blobs: BlobStore,
    /// Wraps the seal key of every encrypted upload before it is stored.
    keys: Arc<Keyring>,
    limits: Limits,
    wake_workers: Option<Arc<Notify>>,
    /// For checking `mediaUrl`s at submission.
    http: sealscribe_ingress::Outbound,
}

/// Request limits and policies the handlers enforce.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted media upload.
    pub max_upload_bytes: u64,
    /// What `mediaUrl`s are acceptable (checked again when fetched).
    pub url_policy: UrlPolicy,
    /// Answer stream downloads with a 302 to a pre-signed URL of this life
    /// (S3 only); `None` serves the bytes.
    pub stream_redirect: Option<std::time::Duration>,
    /// Caps of the multipart intake (preamble, part headers, part count).
    pub multipart: crate::limits::MultipartLimits,
    /// Callbacks one configuration may ask for.
    pub max_callbacks: usize,
    /// Terms one search `query` may have, `extendedFilter` conditions included.
    pub max_search_terms: usize,
    /// Characters one search term may have.
    pub max_search_term_chars: usize,
    /// Bound on a listing's `limit` × the largest metadata part.
    pub max_list_bytes: u64,
    /// Characters a category's VBQL query may have.
    pub max_category_query_chars: usize,
    /// Longest life of an ephemeral API key (`/v3/profile/keys`).
    pub max_ephemeral_key_ttl: std::time::Duration,
}

impl AppState {
    pub fn new(db: Arc<dyn Db>, blobs: BlobStore, keys: Arc<Keyring>, limits: Limits) -> Self {
        let http = sealscribe_ingress::http_client(&limits.url_policy);
        Self(Arc::new(Inner {
            db,
            blobs,
            keys,
            limits,
            wake_workers: None,
            http,
        }))
    }

    /// Lets handlers wake in-process workers when they queue a job.
    pub fn with_workers(
        db: Arc<dyn Db>,
        blobs: BlobStore,
        keys: Arc<Keyring>,
        limits: Limits,
        wake: Arc<Notify>,
    ) -> Self {
        let http = sealscribe_ingress::http_client(&limits.url_policy);
        Self(Arc::new(Inner {
            db,
            blobs,
            keys,
            limits,
            wake_workers: Some(wake),
            http,
        }))
    }

    pub fn db(&self) -> &dyn Db {
        self.0.db.as_ref()
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.0.blobs
    }

    pub fn http(&self) -> &sealscribe_ingress::Outbound {
        &self.0.http
    }

    /// The key-encryption keys (see [`Keyring`]).
    pub fn keys(&self) -> &Keyring {
        &self.0.keys
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// Tells in-process workers (if any) that a job is waiting.
    pub fn job_queued(&self) {
        if let Some(w) = &self.0.wake_workers {
            w.notify_one();
        }
    }
}
