//! The blob store: where media bytes live (uploads, streams, sealed working copies).
//!
//! A thin handle over `object_store`, which gives one streaming API over a local
//! directory (the embedded default) and S3-compatible stores (scale-out), so the
//! pipeline never needs to know which one it talks to. Writes are multipart
//! uploads of bounded chunks, so memory stays flat whatever the object size.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use sealscribe_domain::MediaId;
use tokio::io::AsyncWriteExt;

use crate::StoreError;

/// Size of each part of a multipart write (S3's minimum is 5 MiB).
const CHUNK: usize = 5 * 1024 * 1024;
/// Parts in flight at once: bounds a writer's memory to about `CHUNK * (1 + IN_FLIGHT)`.
const IN_FLIGHT: usize = 2;

/// A cheap-to-clone handle on the configured blob store.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
    /// Root directory when the store is a local directory.
    local_root: Option<PathBuf>,
}

/// Where a media item's blobs live: everything under `media/<id>/`.
pub fn media_prefix(id: MediaId) -> Path {
    Path::from(format!("media/{id}"))
}

/// The blob of a media item's stream (`original`, …).
pub fn media_blob(id: MediaId, name: &str) -> Path {
    Path::from(format!("media/{id}/{name}"))
}

fn unavailable(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::Unavailable(format!("blob store: {other}")),
    }
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
                    StoreError::Config(format!(
                        "cannot create blob directory {}: {e}",
                        dir.display()
                    ))
                })?;
                let fs = LocalFileSystem::new_with_prefix(&dir).map_err(|e| {
                    StoreError::Config(format!("blob directory {}: {e}", dir.display()))
                })?;
                Ok(Self {
                    inner: Arc::new(fs),
                    description: format!("file://{}", dir.display()),
                    local_root: Some(dir),
                })
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
            .map_err(unavailable)
    }

    /// Starts a streaming write of `key`. Nothing is visible at `key` until
    /// [`BlobWriter::finish`]; [`BlobWriter::abort`] (or an error) leaves nothing.
    pub async fn writer(&self, key: &Path) -> Result<BlobWriter, StoreError> {
        let upload = self.inner.put_multipart(key).await.map_err(unavailable)?;
        Ok(BlobWriter {
            inner: WriteMultipart::new_with_chunk_size(upload, CHUNK),
            written: 0,
        })
    }

    /// Reads `key` (or a byte range of it) as a stream. Returns the stream, the
    /// range served and the object's total size.
    pub async fn read(
        &self,
        key: &Path,
        range: Option<Range<u64>>,
    ) -> Result<
        (
            BoxStream<'static, Result<Bytes, StoreError>>,
            Range<u64>,
            u64,
        ),
        StoreError,
    > {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let result = self
            .inner
            .get_opts(key, options)
            .await
            .map_err(unavailable)?;
        let (served, size) = (result.range.clone(), result.meta.size);
        Ok((
            result.into_stream().map(|r| r.map_err(unavailable)).boxed(),
            served,
            size,
        ))
    }

    /// The size of `key`.
    pub async fn size(&self, key: &Path) -> Result<u64, StoreError> {
        Ok(self.inner.head(key).await.map_err(unavailable)?.size)
    }

    /// Copies `key` into a local file (for tools such as ffmpeg that want a path).
    pub async fn download_to(&self, key: &Path, dest: &std::path::Path) -> Result<u64, StoreError> {
        let (mut stream, _, _) = self.read(key, None).await?;
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| StoreError::Internal(format!("creating {}: {e}", dest.display())))?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| StoreError::Internal(format!("writing {}: {e}", dest.display())))?;
        }
        file.flush()
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(n)
    }

    /// The file behind `key` when the store is a local directory, so local
    /// deployments can hand it to ffmpeg without a copy.
    pub fn local_path(&self, key: &Path) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key.as_ref()))
    }

    /// Deletes every blob under `prefix`. Missing blobs are not an error.
    pub async fn delete_prefix(&self, prefix: &Path) -> Result<usize, StoreError> {
        let keys: Vec<Path> = self
            .inner
            .list(Some(prefix))
            .filter_map(|m| async move { m.ok().map(|m| m.location) })
            .collect()
            .await;
        for key in &keys {
            match self.inner.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        if let Some(dir) = self.local_path(prefix) {
            // The local backend leaves empty directories behind.
            let _ = std::fs::remove_dir(dir);
        }
        Ok(keys.len())
    }
}

/// A streaming write in progress.
pub struct BlobWriter {
    inner: WriteMultipart,
    written: u64,
}

impl BlobWriter {
    /// Appends `data`, waiting while too many parts are in flight.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.inner
            .wait_for_capacity(IN_FLIGHT)
            .await
            .map_err(unavailable)?;
        self.inner.write(data);
        self.written += data.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the blob visible.
    pub async fn finish(self) -> Result<u64, StoreError> {
        let n = self.written;
        self.inner.finish().await.map_err(unavailable)?;
        Ok(n)
    }

    /// Abandons the write; nothing is left behind.
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!("aborting a blob write failed: {e}");
        }
    }
}

impl BlobStore {
    /// Streams a local file into `key`.
    pub async fn upload_file(&self, key: &Path, src: &std::path::Path) -> Result<u64, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(src)
            .await
            .map_err(|e| StoreError::Internal(format!("opening {}: {e}", src.display())))?;
        let mut writer = self.writer(key).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    writer.abort().await;
                    return Err(StoreError::Internal(format!(
                        "reading {}: {e}",
                        src.display()
                    )));
                }
            };
            if let Err(e) = writer.write(&buf[..n]).await {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await
    }

    /// Writes a small object in one go.
    pub async fn put_bytes(&self, key: &Path, data: &[u8]) -> Result<u64, StoreError> {
        let mut writer = self.writer(key).await?;
        if let Err(e) = writer.write(data).await {
            writer.abort().await;
            return Err(e);
        }
        writer.finish().await
    }

    /// Deletes one object; a missing object is not an error.
    pub async fn delete(&self, key: &Path) -> Result<(), StoreError> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
