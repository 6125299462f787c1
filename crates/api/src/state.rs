use std::sync::Arc;

use sealscribe_store::{BlobStore, Db};

/// What every handler can reach: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    db: Arc<dyn Db>,
    blobs: BlobStore,
}

impl AppState {
    pub fn new(db: Arc<dyn Db>, blobs: BlobStore) -> Self {
        Self(Arc::new(Inner { db, blobs }))
    }

    pub fn db(&self) -> &dyn Db {
        self.0.db.as_ref()
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.0.blobs
    }
}
