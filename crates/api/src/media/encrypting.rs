//! The customer's ciphertext of an upload, made while the upload streams in.
//!
//! When the `configuration` part names a usable `publicKeyId` before the `media` part
//! arrives, the media bytes go two ways as they are read: sealed into `work.sealed` (the
//! worker's input) by the intake, and here, OpenPGP-encrypted to the pinned key into
//! `original-encrypted`. The stream is then complete when the upload answers, instead of
//! a worker task later (the worker sees it exists and skips its `protect` step); until it
//! was, the only protection of the original was the seal.
//!
//! OpenPGP encryption is CPU-bound (~300 MB/s per core), so it runs on the blocking pool:
//! the request task hands it the part's bytes through a channel bounded in batches (a few
//! MiB at most), rPGP pulls them as a `Read` and writes partial-length packets into the
//! blob writer. Memory stays flat whatever the size, and the two ciphers run on two
//! cores at once. The intake ends it with [`Encrypting::finish`] (the blob becomes
//! visible, atomically, on both backends) or [`Encrypting::abort`]; a request dropped
//! mid-way (the client went away) drops the sender, which the blocking task takes as an
//! abort: nothing is left to serve.

use std::io::{self, Read, Write};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use sealscribe_domain::{MediaId, codes};
use sealscribe_openpgp::{EncryptError, EncryptOptions, Recipient};
use sealscribe_store::{BlobWriter, StoreError, media_blob};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{ApiError, AppState, Result};

/// Bytes handed to the encryptor at once: small chunks are gathered up to this.
const BATCH: usize = 256 * 1024;
/// Batches waiting for the encryptor. With hyper's chunks (at most ~400 KiB) this bounds
/// what is queued to a few MiB; the request waits when the encryptor is behind.
const QUEUED: usize = 8;
/// Ciphertext gathered before it is handed to the blob writer.
const OUT_BATCH: usize = 1 << 20;

/// What the request task sends.
enum Input {
    Data(Bytes),
    /// The part ended: finish the message. A sender dropped without it is an abort.
    End,
}

/// An `original-encrypted` being written.
pub(super) struct Encrypting {
    input: mpsc::Sender<Input>,
    pending: BytesMut,
    /// `None` once awaited (after the encryptor stopped early).
    task: Option<JoinHandle<Result<u64>>>,
}

impl Encrypting {
    /// Opens the blob writer of `original-encrypted` and starts encrypting to `recipient`.
    pub(super) async fn start(
        state: &AppState,
        id: MediaId,
        recipient: Arc<Recipient>,
    ) -> Result<Self> {
        let writer = state
            .blobs()
            .writer(&media_blob(id, "original-encrypted"))
            .await?;
        let (input, rx) = mpsc::channel(QUEUED);
        let handle = Handle::current();
        let task = tokio::task::spawn_blocking(move || encrypt(&handle, &recipient, rx, writer));
        Ok(Self {
            input,
            pending: BytesMut::new(),
            task: Some(task),
        })
    }

    /// Adds the next bytes of the media part; waits while the encryptor is behind.
    pub(super) async fn push(&mut self, chunk: Bytes) -> Result<()> {
        let batch = if self.pending.is_empty() && chunk.len() >= BATCH {
            chunk
        } else {
            if self.pending.is_empty() {
                // One allocation per batch (the last one went with its `Bytes`).
                self.pending.reserve(BATCH);
            }
            self.pending.extend_from_slice(&chunk);
            if self.pending.len() < BATCH {
                return Ok(());
            }
            self.pending.split().freeze()
        };
        self.send(Input::Data(batch)).await
    }

    async fn send(&mut self, input: Input) -> Result<()> {
        if self.input.send(input).await.is_ok() {
            return Ok(());
        }
        // The encryptor stopped: its error says why.
        let Some(task) = self.task.take() else {
            return Err(ApiError::internal(
                "the upload's encryptor had already stopped",
            ));
        };
        match task.await? {
            Err(e) => Err(e),
            Ok(_) => Err(ApiError::internal("the upload's encryptor ended early")),
        }
    }

    /// Ends the message and makes `original-encrypted` visible; returns the plaintext
    /// bytes encrypted.
    pub(super) async fn finish(mut self) -> Result<u64> {
        if !self.pending.is_empty() {
            let rest = self.pending.split().freeze();
            self.send(Input::Data(rest)).await?;
        }
        self.send(Input::End).await?;
        let task = self.task.take().expect("present unless send failed");
        drop(self.input);
        let bytes = task.await??;
        metrics::counter!(sealscribe_ingress::metrics::ENCRYPTED_BYTES, "what" => "original")
            .increment(bytes);
        Ok(bytes)
    }

    /// Abandons the message: the blob writer is aborted, nothing is left behind.
    pub(super) async fn abort(self) {
        drop(self.input);
        // The task sees the channel close without `End`, fails its read and aborts the write.
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

/// The blocking side: rPGP reads the part from the channel and writes into the blob.
fn encrypt(
    handle: &Handle,
    recipient: &Recipient,
    rx: mpsc::Receiver<Input>,
    writer: BlobWriter,
) -> Result<u64> {
    let mut source = ChannelReader {
        rx,
        current: Bytes::new(),
        ended: false,
    };
    let mut sink = BlobSink {
        handle,
        writer: Some(writer),
        buf: Vec::with_capacity(OUT_BATCH),
        error: None,
    };
    let encrypted =
        sealscribe_openpgp::encrypt(recipient, &mut source, &mut sink, EncryptOptions::binary());
    let writer = sink
        .writer
        .take()
        .expect("the sink keeps its writer until here");
    match encrypted {
        Ok(bytes) => {
            // `encrypt` flushed the sink: everything is in the writer.
            handle.block_on(writer.finish())?;
            Ok(bytes)
        }
        Err(e) => {
            handle.block_on(writer.abort());
            Err(match (e, sink.error) {
                (EncryptError::Write(_), Some(store)) => store.into(),
                (EncryptError::RecipientExpired { fingerprint }, _) => ApiError::bad_request(
                    codes::KEY_EXPIRED_OR_REVOKED,
                    format!(
                        "The public key {fingerprint} has no encryption key that is still valid: \
                         upload a renewed key and use its publicKeyId."
                    ),
                ),
                (e, _) => ApiError::internal(format!("encrypting the upload: {e}")),
            })
        }
    }
}

/// The media part as a `Read`, from the request task's batches.
struct ChannelReader {
    rx: mpsc::Receiver<Input>,
    current: Bytes,
    ended: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Input::Data(bytes)) => self.current = bytes,
                Some(Input::End) => self.ended = true,
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the upload was abandoned",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Ciphertext into the blob writer, in batches of [`OUT_BATCH`]; keeps the store's error
/// so that an outage is a 503 like any other.
struct BlobSink<'h> {
    handle: &'h Handle,
    writer: Option<BlobWriter>,
    buf: Vec<u8>,
    error: Option<StoreError>,
}

impl BlobSink<'_> {
    fn hand_on(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let writer = self.writer.as_mut().expect("writer present while writing");
        match self.handle.block_on(writer.write(&self.buf)) {
            Ok(()) => {
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                let io = io::Error::other(e.to_string());
                self.error.get_or_insert(e);
                Err(io)
            }
        }
    }
}

impl Write for BlobSink<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= OUT_BATCH {
            self.hand_on()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.hand_on()
    }
}
