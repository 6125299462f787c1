//! The blob store: where media bytes live (uploads, streams, sealed working copies).
//!
//! # Why `object_store`
//!
//! [`BlobStore`] is a thin handle over the `object_store` crate (the one Apache
//! Arrow, DataFusion and Delta Lake use). It gives one streaming API over a
//! local directory (the embedded default) and S3-compatible stores (AWS S3,
//! MinIO, SeaweedFS, Ceph RGW, R2, … for scale-out), with multipart uploads,
//! ranged reads, paginated listing, bulk deletes, retries with backoff and
//! SigV4 pre-signing already done right. The pipeline and the API never learn
//! which backend they talk to; only [`BlobStore::local_path`] and
//! [`BlobStore::presigned_get`] differ, and both say so in their type.
//!
//! # Where things are stored
//!
//! Keys are relative paths such as `media/<id>/original` ([`media_blob`]); a
//! media item's blobs all live under `media/<id>/` ([`media_prefix`]).
//!
//! * `file:///ABSOLUTE/DIR` — each key is a file under `DIR` (created if missing).
//! * `s3://BUCKET[/PREFIX]` — each key is the object `PREFIX/<key>` in `BUCKET`,
//!   so several deployments (or test runs) can share one bucket. The endpoint,
//!   region and credentials come from the usual AWS variables
//!   (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//!   `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`), overridden by
//!   [`S3Settings`] or by the URL's query (`?endpoint=http://host:8333&region=…`).
//!   A custom endpoint (MinIO, SeaweedFS, …) is addressed path-style, and plain
//!   `http://` is allowed only when the endpoint says so.
//!
//! # Memory and failure bounds
//!
//! Writes are multipart uploads with at most 2 parts in flight: 5 MiB parts on
//! S3 (its minimum part size), so a writer holds about 15 MiB whatever the object
//! size, and 1 MiB parts in a local directory, which has no minimum (about 3 MiB;
//! an upload writes two blobs at once, and the parts' buffers are what its memory
//! is made of). [`BlobWriter::put`] takes a buffer the caller has filled without
//! copying it. Reads are streams. Nothing is visible at a key until
//! [`BlobWriter::finish`]; an aborted or dropped writer removes its parts.
//!
//! Talking to S3 fails fast instead of hanging: connections time out after 3 s,
//! a request that has not answered (or a response that stalls) after 30 s is
//! abandoned, and failed requests are retried at most 3 times within 15 s, so an
//! outage surfaces as [`StoreError::Unavailable`] (HTTP 503) within seconds.
//! [`BlobStore::ping`] is bounded to 5 s. There is deliberately no deadline on a
//! whole transfer: a read that stalls because its consumer is slow (a client
//! downloading over a slow link) resumes where it stopped with a ranged GET,
//! pinned to the object's ETag.
//!
//! # Pre-signed downloads
//!
//! On S3, [`BlobStore::presigned_get`] returns a SigV4 query-signed URL that lets
//! a client fetch one object directly from the store, without credentials and
//! without the bytes passing through sealscribe, until it expires (at most 7
//! days). Signing is local computation: no request is made, and the URL of a
//! missing object simply answers 404. On the local store it returns `None` and
//! the API streams the bytes itself.

mod s3;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sealscribe_domain::MediaId;
use tokio::io::AsyncWriteExt;

use crate::StoreError;

pub use s3::S3Settings;

/// Size of each part of a multipart write to S3 (its minimum is 5 MiB); also the
/// largest object [`BlobStore::put_bytes`] writes in one request.
const CHUNK: usize = 5 * 1024 * 1024;
/// Size of each part of a write to a local directory: the parts are written one
/// after another into one file, so nothing needs them larger, and smaller parts keep
/// a writer's memory small.
const LOCAL_CHUNK: usize = 1024 * 1024;
/// Parts in flight at once: bounds a writer's memory to about `part * (1 + IN_FLIGHT)`.
const IN_FLIGHT: usize = 2;
/// [`BlobStore::ping`] answers within this, whatever the network does.
const PING_DEADLINE: Duration = Duration::from_secs(5);
/// Keys handed to one bulk delete (S3's `DeleteObjects` takes at most 1000).
const DELETE_BATCH: usize = 1000;

/// A cheap-to-clone handle on the configured blob store.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
    /// Root directory when the store is a local directory.
    local_root: Option<PathBuf>,
    /// Pre-signing, when the store is S3.
    signer: Option<s3::Signing>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("store", &self.description)
            .finish_non_exhaustive()
    }
}

/// Where a media item's blobs live: everything under `media/<id>/`.
pub fn media_prefix(id: MediaId) -> Path {
    Path::from(format!("media/{id}"))
}

/// The blob of a media item's stream (`original`, …).
pub fn media_blob(id: MediaId, name: &str) -> Path {
    Path::from(format!("media/{id}/{name}"))
}

/// Classifies an `object_store` failure by what the caller can do about it.
fn store_error(e: object_store::Error) -> StoreError {
    use object_store::Error as E;
    if s3::is_missing_bucket(&e) {
        // A 404 too, but one no retry or upload will cure.
        return StoreError::Config(format!(
            "the blob store's S3 bucket does not exist: create it or fix the blob store URL ({e})"
        ));
    }
    match e {
        E::NotFound { .. } => StoreError::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => StoreError::Unavailable(format!(
            "blob store refused the request; check AWS_ACCESS_KEY_ID, \
                 AWS_SECRET_ACCESS_KEY and the bucket's policy ({e})"
        )),
        // Connection failures, timeouts and 5xx answers (after retries).
        E::Generic { .. } => StoreError::Unavailable(format!("blob store: {e}")),
        E::Precondition { .. } => StoreError::Internal(format!(
            "blob store: the object changed while it was being read ({e})"
        )),
        other => StoreError::Internal(format!("blob store: {other}")),
    }
}

impl BlobStore {
    /// Opens the store named by `url`, taking any S3 settings from the
    /// environment alone: see [`BlobStore::open_with`].
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, &S3Settings::default())
    }

    /// Opens the store named by `url`:
    ///
    /// * `file:///ABSOLUTE/DIR` — a local directory (created if missing);
    ///   `settings` are ignored;
    /// * `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]` — every key under
    ///   `PREFIX` in `BUCKET`. `settings` override the URL's query, which
    ///   overrides the `AWS_…` environment variables.
    ///
    /// Nothing is contacted here: a wrong endpoint or bucket shows in
    /// [`BlobStore::ping`] (and in every later call).
    pub fn open_with(url: &str, settings: &S3Settings) -> Result<Self, StoreError> {
        let parsed = url::Url::parse(url).map_err(|e| {
            StoreError::Config(format!(
                "invalid blob store URL {url:?}: {e}; expected file:///DIR or s3://BUCKET[/PREFIX]"
            ))
        })?;
        match parsed.scheme() {
            "file" => Self::open_dir(url, &parsed),
            "s3" => {
                let s3 = s3::open(&parsed, settings)?;
                Ok(Self {
                    inner: s3.store,
                    description: s3.description,
                    local_root: None,
                    signer: Some(s3.signing),
                })
            }
            other => Err(StoreError::Config(format!(
                "unsupported blob store scheme {other:?}: expected file:///DIR or s3://BUCKET[/PREFIX]"
            ))),
        }
    }

    fn open_dir(url: &str, parsed: &url::Url) -> Result<Self, StoreError> {
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
        let fs = LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| StoreError::Config(format!("blob directory {}: {e}", dir.display())))?;
        Ok(Self {
            inner: Arc::new(fs),
            description: format!("file://{}", dir.display()),
            local_root: Some(dir),
            signer: None,
        })
    }

    /// Where the blobs live, for logs (never contains credentials), e.g.
    /// `file:///var/lib/sealscribe/blobs` or `s3://bucket/prefix at http://127.0.0.1:8333`.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Cheap reachability check: lists the top level of the store (on S3, one
    /// `ListObjectsV2` of the prefix with a delimiter) without reading any
    /// object. Answers within 5 s.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(PING_DEADLINE, self.inner.list_with_delimiter(None)).await {
            Ok(listed) => listed.map(|_| ()).map_err(store_error),
            Err(_) => Err(StoreError::Unavailable(format!(
                "blob store {} did not answer within {} s",
                self.description,
                PING_DEADLINE.as_secs()
            ))),
        }
    }

    /// Starts a streaming write of `key`. Nothing is visible at `key` until
    /// [`BlobWriter::finish`]; [`BlobWriter::abort`], an error or dropping the
    /// writer leaves nothing.
    pub async fn writer(&self, key: &Path) -> Result<BlobWriter, StoreError> {
        let upload = self.inner.put_multipart(key).await.map_err(store_error)?;
        let part = if self.local_root.is_some() {
            LOCAL_CHUNK
        } else {
            CHUNK
        };
        Ok(BlobWriter {
            inner: Some(WriteMultipart::new_with_chunk_size(upload, part)),
            part,
            written: 0,
        })
    }

    /// Reads `key` (or a byte range of it) as a stream. Returns the stream, the
    /// range served and the object's total size.
    ///
    /// If the stream breaks after delivering bytes (typically because its
    /// consumer was slower than the store's idle timeout), it resumes from
    /// where it stopped, provided the object has not changed since.
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
        if let Some(r) = &range
            && r.start >= r.end
        {
            return Err(StoreError::Internal(format!(
                "empty or inverted byte range {r:?} of {key}"
            )));
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..Default::default()
        };
        let result = match self.inner.get_opts(key, options).await {
            Ok(result) => result,
            Err(e) => return Err(self.read_error(key, range, e).await),
        };
        let (served, size) = (result.range.clone(), result.meta.size);
        let resumable = Resumable {
            store: Arc::clone(&self.inner),
            key: key.clone(),
            etag: result.meta.e_tag.clone(),
            next: served.start,
            end: served.end,
            progressed: false,
            body: result.into_stream(),
        };
        Ok((resumable.into_stream(), served, size))
    }

    /// Why a read failed. A range starting at or past the end of the object
    /// (`416` on S3) says nothing about the store's health: it is the
    /// caller's bug, not a 503.
    async fn read_error(
        &self,
        key: &Path,
        range: Option<Range<u64>>,
        e: object_store::Error,
    ) -> StoreError {
        if let (Some(range), object_store::Error::Generic { .. }) = (&range, &e)
            && let Ok(meta) = self.inner.head(key).await
            && range.start >= meta.size
        {
            return StoreError::Internal(format!(
                "byte range {range:?} starts past the end of {key} ({} bytes)",
                meta.size
            ));
        }
        store_error(e)
    }

    /// The size of `key`.
    pub async fn size(&self, key: &Path) -> Result<u64, StoreError> {
        Ok(self.inner.head(key).await.map_err(store_error)?.size)
    }

    /// Copies `key` into a local file (for tools such as ffmpeg that want a
    /// path), streaming; a partial file is removed on failure.
    pub async fn download_to(&self, key: &Path, dest: &std::path::Path) -> Result<u64, StoreError> {
        let (stream, _, _) = self.read(key, None).await?;
        let copied = copy_to_file(stream, dest).await;
        if copied.is_err() {
            let _ = tokio::fs::remove_file(dest).await;
        }
        copied
    }

    /// The file behind `key` when the store is a local directory, so local
    /// deployments can hand it to ffmpeg without a copy. `None` on S3.
    pub fn local_path(&self, key: &Path) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key.as_ref()))
    }

    /// Warns (a log line) when the S3 bucket keeps old versions of objects:
    /// a deleted sealed working copy would then outlive its deletion, and
    /// with it every crypto-shredding claim (docs/operations.md says what to
    /// configure). Nothing for a local directory; a bucket that cannot say
    /// is reported at debug level, since the check is advice, not a condition.
    pub async fn warn_if_versioned(&self) {
        let Some(signing) = &self.signer else { return };
        match signing.versioning().await {
            Ok(Some(status)) => tracing::warn!(
                versioning = %status,
                "the S3 bucket has versioning {status}: deleted sealed working copies and \
                 results stay as noncurrent versions; expire noncurrent versions with a \
                 lifecycle rule (docs/operations.md, Backups)"
            ),
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "could not read the bucket's versioning status"),
        }
    }

    /// The bucket's versioning status (`Enabled`, `Suspended`; `None` if never
    /// enabled, or not S3).
    pub async fn versioning(&self) -> Result<Option<String>, StoreError> {
        match &self.signer {
            Some(signing) => signing.versioning().await,
            None => Ok(None),
        }
    }

    /// A URL that lets anyone holding it `GET` `key` straight from the store
    /// until `ttl` has passed: `Some` on S3 (SigV4 query signing, no request
    /// made, `ttl` of at most 7 days), `None` on the local store.
    pub async fn presigned_get(
        &self,
        key: &Path,
        ttl: Duration,
    ) -> Result<Option<url::Url>, StoreError> {
        match &self.signer {
            Some(signing) => signing.get(key, ttl).await.map(Some),
            None => Ok(None),
        }
    }

    /// Deletes every blob under `prefix` (a whole path segment: `media/ab`
    /// does not touch `media/abc/…`). Missing blobs are not an error; returns
    /// how many were deleted. On S3, keys are listed page by page and deleted
    /// 1000 per request.
    pub async fn delete_prefix(&self, prefix: &Path) -> Result<usize, StoreError> {
        let mut pages = self
            .inner
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .try_chunks(DELETE_BATCH)
            .map_err(|e| e.1);
        let mut deleted = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(store_error)?;
            let mut results = self
                .inner
                .delete_stream(futures_util::stream::iter(page.into_iter().map(Ok)).boxed());
            while let Some(result) = results.next().await {
                match result {
                    Ok(_) => deleted += 1,
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(store_error(e)),
                }
            }
        }
        if let Some(dir) = self
            .local_path(prefix)
            .filter(|_| !prefix.as_ref().is_empty())
        {
            // The local backend leaves empty directories behind.
            let _ = std::fs::remove_dir(dir);
        }
        Ok(deleted)
    }

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

    /// Writes a small object in one go (one request on S3 up to 5 MiB; larger
    /// data goes through a multipart write).
    pub async fn put_bytes(&self, key: &Path, data: &[u8]) -> Result<u64, StoreError> {
        if data.len() <= CHUNK {
            let payload = PutPayload::from(Bytes::copy_from_slice(data));
            self.inner.put(key, payload).await.map_err(store_error)?;
            return Ok(data.len() as u64);
        }
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
            Err(e) => Err(store_error(e)),
        }
    }

    /// The names of every blob under `prefix` (`""`: all of them), sorted.
    /// For operators' tools and tests: a listing is a full scan.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = (!prefix.is_empty()).then(|| Path::from(prefix));
        let mut keys: Vec<String> = self
            .inner
            .list(prefix.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(store_error)?;
        // The local backend's in-progress multipart files are not blobs.
        keys.retain(|k| !k.contains('#'));
        keys.sort();
        Ok(keys)
    }

    /// A whole blob in memory: for small objects (results, tests), never media.
    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let (stream, _, _) = self.read(&Path::from(key), None).await?;
        let chunks: Vec<Bytes> = stream.try_collect().await?;
        Ok(chunks.concat())
    }
}

async fn copy_to_file(
    mut stream: BoxStream<'static, Result<Bytes, StoreError>>,
    dest: &std::path::Path,
) -> Result<u64, StoreError> {
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
        .map_err(|e| StoreError::Internal(format!("writing {}: {e}", dest.display())))?;
    Ok(n)
}

/// A read that resumes with a ranged GET when its body breaks after progress.
///
/// `object_store` itself retries a broken body a few times, but within the
/// retry budget of the original request (15 s). A consumer that pauses for
/// longer than the idle timeout (a slow client, a writer waiting for its part
/// uploads) would then get an error for a perfectly healthy store; this picks
/// up from the last byte delivered, with `If-Match` on the ETag so a replaced
/// object is never spliced. A reopened body that breaks before delivering
/// anything ends the stream with the error, so a dead store still fails.
struct Resumable {
    store: Arc<dyn ObjectStore>,
    key: Path,
    etag: Option<String>,
    /// Offset of the next byte to deliver.
    next: u64,
    end: u64,
    /// Whether the current body has delivered anything.
    progressed: bool,
    body: BoxStream<'static, object_store::Result<Bytes>>,
}

impl Resumable {
    fn into_stream(self) -> BoxStream<'static, Result<Bytes, StoreError>> {
        futures_util::stream::try_unfold(self, |mut st| async move {
            loop {
                match st.body.next().await {
                    Some(Ok(bytes)) => {
                        st.next += bytes.len() as u64;
                        st.progressed = true;
                        return Ok(Some((bytes, st)));
                    }
                    None => return Ok(None),
                    Some(Err(e)) if !st.progressed || st.next >= st.end => {
                        return Err(store_error(e));
                    }
                    Some(Err(e)) => {
                        tracing::debug!(
                            key = %st.key,
                            offset = st.next,
                            "blob read interrupted ({e}); resuming"
                        );
                        let options = GetOptions {
                            range: Some(GetRange::Bounded(st.next..st.end)),
                            if_match: st.etag.clone(),
                            ..Default::default()
                        };
                        let result = st
                            .store
                            .get_opts(&st.key, options)
                            .await
                            .map_err(store_error)?;
                        st.body = result.into_stream();
                        st.progressed = false;
                    }
                }
            }
        })
        .boxed()
    }
}

/// A streaming write in progress.
///
/// Dropping it without [`BlobWriter::finish`] aborts the upload in the
/// background (on S3, the parts already sent are discarded).
pub struct BlobWriter {
    /// `None` only once finished or aborted.
    inner: Option<WriteMultipart>,
    /// Part size: what [`BlobWriter::write`] copies at most before it waits for room.
    part: usize,
    written: u64,
}

impl BlobWriter {
    fn upload(&mut self) -> &mut WriteMultipart {
        self.inner
            .as_mut()
            .expect("a BlobWriter is consumed by finish and abort")
    }

    /// Appends `data`, waiting while too many parts are in flight (so memory
    /// stays bounded however large `data` is).
    pub async fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        for piece in data.chunks(self.part) {
            let upload = self.upload();
            upload
                .wait_for_capacity(IN_FLIGHT)
                .await
                .map_err(store_error)?;
            upload.write(piece);
            self.written += piece.len() as u64;
        }
        Ok(())
    }

    /// Appends `data` without copying it: the buffer itself becomes (part of) a
    /// part, and is freed once that part is stored. For callers that fill buffers
    /// of their own (of at least a few KiB; smaller ones cost a write each on the
    /// local store): waits like [`BlobWriter::write`].
    pub async fn put(&mut self, mut data: Bytes) -> Result<(), StoreError> {
        while !data.is_empty() {
            // At most one part is started per piece, after waiting for room.
            let piece = data.split_to(data.len().min(self.part));
            let len = piece.len() as u64;
            let upload = self.upload();
            upload
                .wait_for_capacity(IN_FLIGHT)
                .await
                .map_err(store_error)?;
            upload.put(piece);
            self.written += len;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the blob visible.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        let n = self.written;
        let upload = self.inner.take().expect("not yet finished");
        upload.finish().await.map_err(store_error)?;
        Ok(n)
    }

    /// Abandons the write; nothing is left behind.
    pub async fn abort(mut self) {
        if let Some(upload) = self.inner.take()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!("aborting a blob write failed: {e}");
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        let Some(upload) = self.inner.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = upload.abort().await {
                        tracing::warn!("aborting an abandoned blob write failed: {e}");
                    }
                });
            }
            Err(_) => tracing::warn!(
                "a blob write was abandoned outside a runtime; its parts are left to the \
                 store's cleanup (on S3, an AbortIncompleteMultipartUpload lifecycle rule)"
            ),
        }
    }
}
