//! The customer's ciphertext of an upload, made while the upload streams in.
//!
//! When the `configuration` part names a usable `publicKeyId` before the `media` part
//! arrives, the media bytes go two ways as they are read: sealed into `work.sealed` (the
//! worker's input) by the intake, and here, OpenPGP-encrypted to the pinned key into
//! `original-encrypted`. The stream is then complete when the upload answers, instead of
//! a worker task later (the worker sees it exists and skips its `protect` step); until it
//! was, the only protection of the original was the seal.
//!
//! OpenPGP encryption is CPU-bound (~400 MB/s per core) and serial (CFB), so it is the
//! upload's critical path and runs on a thread of its own, doing nothing else: the request
//! task copies the part's bytes into batches of [`BATCH`] bytes (the one copy of the
//! plaintext on this path; it runs beside the seal, on the request's thread) and hands
//! each through a bounded channel to the blocking encryptor, which hashes and encrypts it
//! in place ([`Encryptor`]) and passes the encrypted batch itself to the blob writer
//! ([`BlobWriter::put`]): no copy of the ciphertext, and every buffer has the same size, so
//! the allocator reuses them instead of keeping freed odd sizes around. Memory stays flat
//! whatever the size: [`QUEUED`] batches wait at most, and the blob writer holds a few
//! parts. The intake ends it with [`Encrypting::finish`] (the blob becomes visible,
//! atomically, on both backends) or [`Encrypting::abort`]; a request dropped mid-way (the
//! client went away) drops the sender, which the blocking task takes as an abort: nothing
//! is left to serve.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use sealscribe_domain::{MediaId, codes};
use sealscribe_openpgp::{EncryptError, Encryptor, Piece, Recipient};
use sealscribe_store::{BlobWriter, media_blob};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{ApiError, AppState, Result};

/// Plaintext handed to the encryptor at once. Its ciphertext goes to the blob writer as
/// one buffer, so this is also the size of the pieces the store's parts are made of.
const BATCH: usize = 256 * 1024;
/// Batches waiting for the encryptor (2 MiB); the request waits when the encryptor is
/// behind.
const QUEUED: usize = 8;

/// What the request task sends.
enum Input {
    Data(BytesMut),
    /// The part ended: finish the message. A sender dropped without it is an abort.
    End,
}

/// An `original-encrypted` being written.
pub(super) struct Encrypting {
    input: mpsc::Sender<Input>,
    /// The batch being filled (capacity [`BATCH`]).
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
            pending: BytesMut::with_capacity(BATCH),
            task: Some(task),
        })
    }

    /// Adds the next bytes of the media part; waits while the encryptor is behind.
    pub(super) async fn push(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let take = (BATCH - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == BATCH {
                let batch = std::mem::replace(&mut self.pending, BytesMut::with_capacity(BATCH));
                self.send(Input::Data(batch)).await?;
            }
        }
        Ok(())
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
            let rest = std::mem::take(&mut self.pending);
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
        // The task sees the channel close without `End` and aborts the write.
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

/// The blocking side: encrypts the batches from the channel into the blob, then finishes
/// the blob (or aborts it on any error, or when the channel closes without [`Input::End`]).
fn encrypt(
    handle: &Handle,
    recipient: &Recipient,
    rx: mpsc::Receiver<Input>,
    mut writer: BlobWriter,
) -> Result<u64> {
    let written = write_message(handle, recipient, rx, &mut writer);
    match written {
        Ok(bytes) => {
            handle.block_on(writer.finish())?;
            Ok(bytes)
        }
        Err(e) => {
            handle.block_on(writer.abort());
            Err(e)
        }
    }
}

/// Writes the whole message into `writer`; returns the plaintext bytes encrypted.
fn write_message(
    handle: &Handle,
    recipient: &Recipient,
    mut rx: mpsc::Receiver<Input>,
    writer: &mut BlobWriter,
) -> Result<u64> {
    let (mut encryptor, head) = Encryptor::new(recipient).map_err(|e| match e {
        EncryptError::RecipientExpired { fingerprint } => ApiError::bad_request(
            codes::KEY_EXPIRED_OR_REVOKED,
            format!(
                "The public key {fingerprint} has no encryption key that is still valid: \
                 upload a renewed key and use its publicKeyId."
            ),
        ),
        e => ApiError::internal(format!("encrypting the upload: {e}")),
    })?;
    // The encryptor's own bytes (packet framing, a few hundred bytes held back between
    // batches) are gathered and go to the writer just before the next batch range.
    let mut own = head;
    loop {
        match rx.blocking_recv() {
            Some(Input::Data(mut batch)) => {
                let pieces = encryptor.encrypt(&mut batch);
                let batch = batch.freeze();
                let mut out = Vec::with_capacity(4);
                for piece in pieces {
                    match piece {
                        Piece::Bytes(bytes) => own.extend_from_slice(bytes),
                        Piece::Batch(range) => {
                            if !own.is_empty() {
                                out.push(Bytes::from(std::mem::take(&mut own)));
                            }
                            out.push(batch.slice(range));
                        }
                    }
                }
                handle.block_on(async {
                    for bytes in out {
                        writer.put(bytes).await?;
                    }
                    Ok::<_, ApiError>(())
                })?;
            }
            Some(Input::End) => break,
            None => return Err(ApiError::internal("the upload was abandoned")),
        }
    }
    let (tail, bytes) = encryptor.finish();
    own.extend_from_slice(&tail);
    handle.block_on(writer.put(Bytes::from(own)))?;
    Ok(bytes)
}
