//! The blob store: where media bytes live (uploads, streams, sealed working copies).
//!
//! A thin handle over `object_store`, which gives one streaming API over a local
//! directory (the embedded default) and S3-compatible stores (scale-out), so the
//! pipeline never needs to know which one it talks to.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;

use crate::StoreError;

/// A cheap-to-clone handle on the configured blob store.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl BlobStore {
    /// Opens the store named by `url`: `file://ABSOLUTE_DIR` (created if missing).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| StoreError::Config(format!("invalid blob store URL {url:?}: {e}")))?;
        match parsed.scheme() {
            "file" => {
                let dir = parsed.to_file_path().map_err(|()| {
                    StoreError::Config(format!(
                        "blob store URL {url:?} must name an absolute directory, e.g. file:///var/lib/sealscribe/blobs"
                    ))
                })?;
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StoreError::Config(format!("cannot create blob directory {}: {e}", dir.display()))
                })?;
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| StoreError::Config(format!("blob directory {}: {e}", dir.display())))?;
                Ok(Self { inner: Arc::new(fs), description: format!("file://{}", dir.display()) })
            }
            "s3" => Err(StoreError::Config(
                "S3 blob stores are not supported by this build yet; use the embedded file:// default"
                    .into(),
            )),
            other => Err(StoreError::Config(format!(
                "unsupported blob store scheme {other:?}: expected file://DIR"
            ))),
        }
    }

    /// The underlying object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// Where the blobs live, for logs (never contains credentials).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Cheap reachability check: lists the root without reading any object.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner
            .list_with_delimiter(None)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Unavailable(format!("blob store: {e}")))
    }
}
