//! Sealed working copies of customer media.
//!
//! # Why
//!
//! With Client Supplied Encryption the customer's results are encrypted to
//! their OpenPGP key and the operator must never hold plaintext at rest. But
//! while a media item is being processed, workers — possibly on other
//! machines, all sharing one S3 bucket — need the *plaintext* media. Writing
//! it to the bucket as-is would leave plaintext at rest in a shared store
//! (bucket replicas, versioning, backups, anyone with read access to the
//! bucket).
//!
//! So the working copy is **sealed**: encrypted with a fresh random
//! per-media [`SealKey`] using authenticated encryption, streamed so that
//! media of any size is processed in bounded memory. The key is *not* stored
//! next to the blob: the database holds it only wrapped under a
//! key-encryption key kept outside the database ([`kek::Keyring::wrap`]), for
//! as long as processing runs, and the wrapped key is deleted when
//! processing ends. From that moment every copy of the sealed blob — in the
//! bucket, in its versions, in backups — is unreadable ciphertext, even if
//! deleting the blob itself fails or lags behind (crypto-shredding).
//!
//! # Format
//!
//! ```text
//! header  = "SSSEAL1\0" (8 bytes) ‖ nonce prefix (7 random bytes)
//! chunk_i = AES-256-GCM(key, nonce_i, plaintext_i) ‖ tag (16 bytes)
//! nonce_i = prefix (7) ‖ i as u32 big-endian (4) ‖ last flag (1: 0x01 on the final chunk, else 0x00)
//! stream  = header ‖ chunk_0 ‖ chunk_1 ‖ … ‖ chunk_n   (chunk_n is the final chunk)
//! ```
//!
//! Every non-final chunk carries exactly [`CHUNK_SIZE`] (64 KiB) of plaintext;
//! the final chunk carries up to 64 KiB and may be empty (an empty input is
//! the header followed by one empty final chunk, 31 bytes in all). There is no
//! associated data. [`Sealer`] always ends a stream with a final chunk shorter
//! than 64 KiB (an empty one if the input is a multiple of 64 KiB); [`Opener`]
//! also accepts a full 64 KiB final chunk, as the format allows.
//!
//! # Why STREAM
//!
//! Sealing each chunk independently under one key would let an attacker with
//! write access to the bucket drop, duplicate or reorder chunks, or cut the
//! object short, and every remaining chunk would still authenticate. The
//! STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, *Online
//! Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance*, 2015)
//! binds each chunk to its position (the counter) and marks the end of the
//! stream (the last flag) inside the nonce, so:
//!
//! * a reordered, duplicated or dropped chunk fails authentication (wrong
//!   counter);
//! * a stream cut at a chunk boundary lacks a chunk sealed with the last flag
//!   and is reported as [`SealError::Truncated`]; one cut mid-chunk fails
//!   authentication;
//! * bytes after the final chunk are rejected.
//!
//! The random 7-byte prefix keeps nonces unique even if a key were ever
//! reused (which it is not meant to be: one key per media item).
//!
//! Every chunk is fully authenticated before any of its plaintext is released
//! (AES-GCM verifies the tag before decrypting), so a consumer never sees
//! unauthenticated plaintext. It does see the plaintext of earlier, valid
//! chunks before a later chunk fails, as with any streaming AEAD: consumers
//! must treat the whole stream as failed on any error.
//!
//! # APIs
//!
//! * push API for async code (no blocking bridges): [`Sealer`] and
//!   [`Opener`], each buffering at most one chunk;
//! * `std::io` adapters: [`SealWriter`] and [`OpenReader`];
//! * [`kek`]: the key-encryption key under which the database holds each
//!   [`SealKey`] (wrapped, never in clear).
//!
//! # Layout
//! - the crate root: [`SealKey`] and the STREAM sealing above;
//! - [`kek`]: wrapping a [`SealKey`] under the key-encryption keys, on top
//!   of the root (it uses the key, the root never uses it).

pub mod kek;

use std::fmt;
use std::io::{self, Read, Write};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Magic bytes that open every sealed stream (format version 1).
pub const MAGIC: [u8; 8] = *b"SSSEAL1\0";
/// Length of the random nonce prefix stored in the header.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Length of the header: magic and nonce prefix.
pub const HEADER_LEN: usize = MAGIC.len() + NONCE_PREFIX_LEN;
/// Plaintext bytes in every non-final chunk (the maximum for the final one).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Length of the AES-GCM tag appended to each chunk.
pub const TAG_LEN: usize = 16;
/// Length of a sealed non-final chunk.
pub const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_LEN;
/// Length of a [`SealKey`] in bytes.
pub const KEY_LEN: usize = 32;

/// Errors from opening a sealed stream or parsing a key.
///
/// Messages never contain key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The stream does not start with the sealed-copy magic.
    #[error("not a sealed working copy: bad or unsupported header")]
    BadHeader,
    /// A chunk failed authentication: tampered data, reordered, duplicated or
    /// missing chunks, a stream cut mid-chunk, or the wrong key.
    #[error(
        "sealed chunk failed authentication (tampered, reordered or cut-off data, or wrong key)"
    )]
    Authentication,
    /// The stream ended before its final chunk.
    #[error("sealed stream is truncated: it ended before its final chunk")]
    Truncated,
    /// Bytes follow the final chunk.
    #[error("sealed stream has data after its final chunk")]
    TrailingData,
    /// A key could not be parsed.
    #[error("invalid seal key: expected {} hex digits", KEY_LEN * 2)]
    BadKey,
}

impl From<SealError> for io::Error {
    fn from(e: SealError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// A per-media sealing key: 32 bytes from the OS CSPRNG, zeroized on drop.
///
/// It is meant to live in the database only wrapped
/// ([`kek::Keyring::wrap`]) while the media is processed, and to be deleted
/// afterwards.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SealKey([u8; KEY_LEN]);

impl SealKey {
    /// Generates a fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    ///
    /// If the OS random number generator fails: there is no safe fallback.
    #[must_use]
    pub fn generate() -> Self {
        let mut key = SealKey([0; KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// Lower-case hex encoding (64 digits), for storing the key in the
    /// database until it is destroyed. The string is zeroized when dropped
    /// (written into a buffer of its final size, so no reallocation leaves a
    /// copy behind).
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = Zeroizing::new(String::with_capacity(2 * KEY_LEN));
        for b in self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }

    /// Parses a key from 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, SealError> {
        let mut key = SealKey([0; KEY_LEN]);
        hex::decode_to_slice(s.trim(), &mut key.0).map_err(|_| SealError::BadKey)?;
        Ok(key)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(…)")
    }
}

/// Exact length of the sealed stream for `plaintext_len` bytes of input,
/// as produced by [`Sealer`] (e.g. for a `Content-Length`).
#[must_use]
pub const fn sealed_len(plaintext_len: u64) -> u64 {
    let full = plaintext_len / CHUNK_SIZE as u64;
    let rest = plaintext_len % CHUNK_SIZE as u64;
    HEADER_LEN as u64 + full * SEALED_CHUNK_SIZE as u64 + rest + TAG_LEN as u64
}

fn fill_random(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("OS random number generator failed: {e}");
    }
}

fn chunk_nonce(prefix: &[u8; NONCE_PREFIX_LEN], counter: u32, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..NONCE_PREFIX_LEN].copy_from_slice(prefix);
    nonce[NONCE_PREFIX_LEN..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

/// Seals `plaintext` as chunk `counter` and appends it to `out`.
fn seal_chunk(
    cipher: &Aes256Gcm,
    prefix: &[u8; NONCE_PREFIX_LEN],
    counter: u32,
    last: bool,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) {
    debug_assert!(plaintext.len() <= CHUNK_SIZE);
    let nonce = chunk_nonce(prefix, counter, last);
    let start = out.len();
    out.reserve(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut out[start..])
        .expect("a 64 KiB chunk is within AES-GCM limits");
    out.extend_from_slice(&tag);
}

/// Authenticates and decrypts the sealed chunk `sealed` (ciphertext ‖ tag)
/// as chunk `counter`, appending its plaintext to `out` only on success.
fn open_chunk(
    cipher: &Aes256Gcm,
    prefix: &[u8; NONCE_PREFIX_LEN],
    counter: u32,
    last: bool,
    sealed: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), SealError> {
    let Some(ct_len) = sealed.len().checked_sub(TAG_LEN) else {
        return Err(SealError::Authentication);
    };
    let (ct, tag) = sealed.split_at(ct_len);
    let nonce = chunk_nonce(prefix, counter, last);
    let start = out.len();
    out.extend_from_slice(ct);
    match cipher.decrypt_in_place_detached(
        Nonce::from_slice(&nonce),
        b"",
        &mut out[start..],
        Tag::from_slice(tag),
    ) {
        Ok(()) => Ok(()),
        Err(_) => {
            // aes-gcm verifies the tag before decrypting, so this region only
            // ever held ciphertext; drop it.
            out.truncate(start);
            Err(SealError::Authentication)
        }
    }
}

/// Whether `sealed` authenticates as chunk `counter` (output discarded).
fn authenticates(
    cipher: &Aes256Gcm,
    prefix: &[u8; NONCE_PREFIX_LEN],
    counter: u32,
    last: bool,
    sealed: &[u8],
) -> bool {
    let mut scratch = Zeroizing::new(Vec::with_capacity(sealed.len()));
    open_chunk(cipher, prefix, counter, last, sealed, &mut scratch).is_ok()
}

/// Push-style sealer: feed plaintext with [`push`](Self::push), end with
/// [`finish`](Self::finish).
///
/// Buffers less than one chunk of plaintext (zeroized on drop). Dropping a
/// `Sealer` without calling `finish` leaves a stream that [`Opener`] reports
/// as [`SealError::Truncated`].
pub struct Sealer {
    cipher: Aes256Gcm,
    prefix: [u8; NONCE_PREFIX_LEN],
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
}

impl Sealer {
    /// Starts a new sealed stream under `key` with a fresh random nonce
    /// prefix. Returns the sealer and the stream header, which must be
    /// written before any output of [`push`](Self::push).
    ///
    /// # Panics
    ///
    /// If the OS random number generator fails.
    #[must_use]
    pub fn new(key: &SealKey) -> (Sealer, Vec<u8>) {
        let mut prefix = [0u8; NONCE_PREFIX_LEN];
        fill_random(&mut prefix);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&prefix);
        let sealer = Sealer {
            cipher: key.cipher(),
            prefix,
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
        };
        (sealer, header)
    }

    /// Appends to `out` the sealed form of every complete 64 KiB chunk now
    /// available; keeps the remainder (less than one chunk) buffered.
    ///
    /// # Panics
    ///
    /// If the stream exceeds 2³² chunks (256 TiB).
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if !self.buf.is_empty() {
            let take = (CHUNK_SIZE - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() < CHUNK_SIZE {
                return;
            }
            let counter = self.next_counter();
            seal_chunk(&self.cipher, &self.prefix, counter, false, &self.buf, out);
            self.buf.clear();
        }
        while data.len() >= CHUNK_SIZE {
            let counter = self.next_counter();
            seal_chunk(
                &self.cipher,
                &self.prefix,
                counter,
                false,
                &data[..CHUNK_SIZE],
                out,
            );
            data = &data[CHUNK_SIZE..];
        }
        self.buf.extend_from_slice(data);
    }

    /// Appends the final chunk (the buffered remainder, possibly empty) to
    /// `out`, ending the stream.
    pub fn finish(self, out: &mut Vec<u8>) {
        seal_chunk(
            &self.cipher,
            &self.prefix,
            self.counter,
            true,
            &self.buf,
            out,
        );
    }

    /// Plaintext bytes currently buffered (always less than [`CHUNK_SIZE`]).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Counter for the next non-final chunk. Counter `u32::MAX` is reserved
    /// for a final chunk, so a non-final chunk never leaves the stream
    /// without a valid continuation.
    fn next_counter(&mut self) -> u32 {
        let counter = self.counter;
        assert!(
            counter < u32::MAX,
            "sealed stream exceeds 2^32 chunks (256 TiB)"
        );
        self.counter += 1;
        counter
    }
}

/// Push-style opener: feed sealed bytes with [`push`](Self::push), end with
/// [`finish`](Self::finish).
///
/// Buffers at most one sealed chunk ([`SEALED_CHUNK_SIZE`] bytes). Since the
/// format marks the final chunk only inside its (authenticated) nonce, the
/// last buffered chunk is decrypted by `finish`, once the end of the stream
/// is known. After any error the opener is poisoned and returns that error
/// from every further call.
pub struct Opener {
    cipher: Aes256Gcm,
    header: [u8; HEADER_LEN],
    header_len: usize,
    prefix: Option<[u8; NONCE_PREFIX_LEN]>,
    counter: u32,
    buf: Vec<u8>,
    poisoned: Option<SealError>,
}

impl Opener {
    /// Prepares to open a stream sealed under `key` (header included in the
    /// pushed bytes).
    #[must_use]
    pub fn new(key: &SealKey) -> Opener {
        Opener {
            cipher: key.cipher(),
            header: [0; HEADER_LEN],
            header_len: 0,
            prefix: None,
            counter: 0,
            buf: Vec::with_capacity(SEALED_CHUNK_SIZE),
            poisoned: None,
        }
    }

    /// Consumes `sealed` bytes and appends to `out` the plaintext of every
    /// chunk that is complete and known not to be the final one.
    ///
    /// No plaintext of a chunk is appended unless that whole chunk
    /// authenticated. On error, `out` may already hold the plaintext of
    /// earlier, authenticated chunks from this call; treat the whole stream
    /// as failed.
    pub fn push(&mut self, sealed: &[u8], out: &mut Vec<u8>) -> Result<(), SealError> {
        if let Some(e) = self.poisoned {
            return Err(e);
        }
        let result = self.push_inner(sealed, out);
        if let Err(e) = result {
            self.poisoned = Some(e);
        }
        result
    }

    /// Ends the stream: authenticates the buffered final chunk and appends
    /// its plaintext to `out`. Fails if the final chunk is missing
    /// ([`SealError::Truncated`]) or does not authenticate.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<(), SealError> {
        if let Some(e) = self.poisoned {
            return Err(e);
        }
        let Some(prefix) = self.prefix else {
            return Err(SealError::Truncated);
        };
        let buf = &self.buf[..];
        if buf.len() < TAG_LEN {
            // Ended on (or just after) a chunk boundary: no final chunk.
            return Err(SealError::Truncated);
        }
        match open_chunk(&self.cipher, &prefix, self.counter, true, buf, out) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.diagnose(&prefix, buf, false).unwrap_or(e)),
        }
    }

    /// Sealed bytes currently buffered (at most [`SEALED_CHUNK_SIZE`]).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn push_inner(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), SealError> {
        let prefix = match self.prefix {
            Some(prefix) => prefix,
            None => {
                let take = (HEADER_LEN - self.header_len).min(data.len());
                self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
                self.header_len += take;
                data = &data[take..];
                let magic_seen = self.header_len.min(MAGIC.len());
                if self.header[..magic_seen] != MAGIC[..magic_seen] {
                    return Err(SealError::BadHeader);
                }
                if self.header_len < HEADER_LEN {
                    return Ok(());
                }
                let mut prefix = [0u8; NONCE_PREFIX_LEN];
                prefix.copy_from_slice(&self.header[MAGIC.len()..]);
                self.prefix = Some(prefix);
                prefix
            }
        };
        while !data.is_empty() {
            if self.buf.len() == SEALED_CHUNK_SIZE {
                // More bytes follow, so the buffered chunk is not the final one.
                let buf = std::mem::take(&mut self.buf);
                let result = self.open_non_final(&prefix, &buf, out);
                self.buf = buf;
                result?;
                self.buf.clear();
            }
            if self.buf.is_empty() {
                while data.len() > SEALED_CHUNK_SIZE {
                    self.open_non_final(&prefix, &data[..SEALED_CHUNK_SIZE], out)?;
                    data = &data[SEALED_CHUNK_SIZE..];
                }
            }
            let take = (SEALED_CHUNK_SIZE - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    fn open_non_final(
        &mut self,
        prefix: &[u8; NONCE_PREFIX_LEN],
        chunk: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        if self.counter == u32::MAX {
            // Only a final chunk can carry the last counter value.
            return Err(SealError::TrailingData);
        }
        match open_chunk(&self.cipher, prefix, self.counter, false, chunk, out) {
            Ok(()) => {
                self.counter += 1;
                Ok(())
            }
            Err(e) => Err(self.diagnose(prefix, chunk, true).unwrap_or(e)),
        }
    }

    /// On an authentication failure of `chunk` (the bytes at the current
    /// chunk position; `more_follows` if further bytes come after them),
    /// checks cheaply for the recognisable special cases so the error says
    /// what happened. Runs only on the failure path.
    fn diagnose(
        &self,
        prefix: &[u8; NONCE_PREFIX_LEN],
        chunk: &[u8],
        more_follows: bool,
    ) -> Option<SealError> {
        let c = self.counter;
        // A full-size final chunk followed by more bytes.
        if more_follows
            && chunk.len() == SEALED_CHUNK_SIZE
            && authenticates(&self.cipher, prefix, c, true, chunk)
        {
            return Some(SealError::TrailingData);
        }
        // An empty final chunk followed by more bytes.
        if (more_follows || chunk.len() > TAG_LEN)
            && chunk.len() >= TAG_LEN
            && authenticates(&self.cipher, prefix, c, true, &chunk[..TAG_LEN])
        {
            return Some(SealError::TrailingData);
        }
        // A stream cut exactly after a non-final chunk.
        if !more_follows
            && chunk.len() == SEALED_CHUNK_SIZE
            && authenticates(&self.cipher, prefix, c, false, chunk)
        {
            return Some(SealError::Truncated);
        }
        None
    }
}

/// A [`Write`] adapter that seals everything written to it into `W`.
///
/// Call [`finish`](Self::finish) to write the final chunk; dropping the
/// writer without it leaves a truncated (unopenable) stream.
/// [`flush`](Write::flush) writes out every complete chunk but cannot flush a
/// partial chunk without ending the stream. Holds at most one sealed chunk.
pub struct SealWriter<W: Write> {
    inner: W,
    sealer: Sealer,
    /// Sealed bytes not yet written to `inner`, from `written` on.
    pending: Vec<u8>,
    written: usize,
}

impl<W: Write> SealWriter<W> {
    /// Starts a sealed stream under `key` into `inner`. The header is written
    /// with the first write, flush or finish.
    #[must_use]
    pub fn new(inner: W, key: &SealKey) -> Self {
        let (sealer, header) = Sealer::new(key);
        let mut pending = Vec::with_capacity(SEALED_CHUNK_SIZE);
        pending.extend_from_slice(&header);
        SealWriter {
            inner,
            sealer,
            pending,
            written: 0,
        }
    }

    /// Writes the final chunk, flushes, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_pending()?;
        let SealWriter {
            mut inner,
            sealer,
            mut pending,
            ..
        } = self;
        sealer.finish(&mut pending);
        inner.write_all(&pending)?;
        inner.flush()?;
        Ok(inner)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn write_pending(&mut self) -> io::Result<()> {
        while self.written < self.pending.len() {
            match self.inner.write(&self.pending[self.written..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "failed to write sealed data",
                    ));
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.clear();
        self.written = 0;
        Ok(())
    }

    #[cfg(test)]
    fn buffer_capacities(&self) -> (usize, usize) {
        (self.pending.capacity(), self.sealer.buf.capacity())
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // Write out earlier output first, so an error consumes no input.
        self.write_pending()?;
        // Accept at most what completes one chunk: `pending` stays ≤ one sealed chunk.
        let n = (CHUNK_SIZE - self.sealer.buffered()).min(data.len());
        self.sealer.push(&data[..n], &mut self.pending);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.inner.flush()
    }
}

/// A [`Read`] adapter that opens a sealed stream read from `R`.
///
/// Returns an [`io::Error`] of kind [`InvalidData`](io::ErrorKind::InvalidData)
/// (wrapping a [`SealError`]) on a bad header, any authentication failure,
/// trailing data, or truncation at EOF, and keeps returning it afterwards.
/// Plaintext is only returned from authenticated chunks. Holds at most one
/// sealed and one plaintext chunk.
pub struct OpenReader<R: Read> {
    inner: R,
    opener: Option<Opener>,
    scratch: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
    error: Option<SealError>,
}

impl<R: Read> OpenReader<R> {
    /// Opens the sealed stream `inner` with `key`.
    #[must_use]
    pub fn new(inner: R, key: &SealKey) -> Self {
        OpenReader {
            inner,
            opener: Some(Opener::new(key)),
            scratch: vec![0; SEALED_CHUNK_SIZE],
            plain: Vec::with_capacity(CHUNK_SIZE),
            pos: 0,
            error: None,
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    #[cfg(test)]
    fn buffer_capacities(&self) -> (usize, usize, usize) {
        let opener = self.opener.as_ref().map_or(0, |o| o.buf.capacity());
        (self.scratch.capacity(), self.plain.capacity(), opener)
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.plain.len() {
                let n = (self.plain.len() - self.pos).min(buf.len());
                buf[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.plain.clear();
            self.pos = 0;
            if let Some(e) = self.error {
                return Err(e.into());
            }
            if buf.is_empty() {
                return Ok(0);
            }
            let Some(opener) = self.opener.as_mut() else {
                return Ok(0); // finished and authenticated
            };
            // Reads of at most one sealed chunk yield at most one plaintext chunk.
            let n = match self.inner.read(&mut self.scratch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let result = if n == 0 {
                let opener = self.opener.take().expect("checked above");
                opener.finish(&mut self.plain)
            } else {
                opener.push(&self.scratch[..n], &mut self.plain)
            };
            if let Err(e) = result {
                self.plain.clear();
                self.error = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_testkit::Rng;

    /// Produces `total` bytes of deterministic data: a random pattern of odd
    /// length (so it never aligns with chunks), repeated; copying keeps the
    /// unoptimised test build fast.
    struct Source {
        pattern: Vec<u8>,
        pos: u64,
        left: u64,
    }
    impl Source {
        fn new(total: u64) -> Self {
            let mut rng = Rng(0x5EA1);
            let pattern = (0..(1 << 20) + 13).map(|_| rng.next_u64() as u8).collect();
            Source {
                pattern,
                pos: 0,
                left: total,
            }
        }
    }
    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let at = (self.pos % self.pattern.len() as u64) as usize;
            let n = (buf.len() as u64)
                .min(self.left)
                .min((self.pattern.len() - at) as u64) as usize;
            buf[..n].copy_from_slice(&self.pattern[at..at + n]);
            self.pos += n as u64;
            self.left -= n as u64;
            Ok(n)
        }
    }

    /// A pipe between two threads with a bounded queue: the sealed stream is
    /// never held in memory as a whole.
    struct ChanWriter(std::sync::mpsc::SyncSender<Vec<u8>>, u64);
    impl Write for ChanWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.1 += buf.len() as u64;
            self.0.send(buf.to_vec()).map_err(io::Error::other)?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    struct ChanReader(std::sync::mpsc::Receiver<Vec<u8>>, Vec<u8>, usize);
    impl Read for ChanReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            while self.2 == self.1.len() {
                match self.0.recv() {
                    Ok(v) => (self.1, self.2) = (v, 0),
                    Err(_) => return Ok(0),
                }
            }
            let n = (self.1.len() - self.2).min(buf.len());
            buf[..n].copy_from_slice(&self.1[self.2..self.2 + n]);
            self.2 += n;
            Ok(n)
        }
    }

    /// 200 MB through SealWriter → OpenReader, streamed between threads;
    /// the adapters' buffers must stay within one sealed chunk throughout.
    #[test]
    fn two_hundred_mb_constant_memory() {
        const TOTAL: u64 = 200 * 1000 * 1000;
        let limit = SEALED_CHUNK_SIZE;
        let key = SealKey::generate();
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let writer_key = SealKey::from_hex(&key.to_hex()).unwrap();
        let sealing = std::thread::spawn(move || {
            let mut writer = SealWriter::new(ChanWriter(tx, 0), &writer_key);
            let mut src = Source::new(TOTAL);
            let mut block = vec![0u8; 1 << 20];
            let mut sizes = Rng(7);
            loop {
                let want = 1 + (sizes.next_u64() % block.len() as u64) as usize;
                let n = src.read(&mut block[..want]).unwrap();
                if n == 0 {
                    break;
                }
                writer.write_all(&block[..n]).unwrap();
                let (pending, buf) = writer.buffer_capacities();
                assert!(pending <= limit && buf <= limit, "{pending} {buf}");
            }
            writer.finish().unwrap().1
        });

        let mut reader = OpenReader::new(ChanReader(rx, Vec::new(), 0), &key);
        let mut expect = Source::new(TOTAL);
        let mut sizes = Rng(11);
        let mut got = vec![0u8; 1 << 20];
        let mut want_buf = vec![0u8; 1 << 20];
        let mut seen = 0u64;
        loop {
            let want = 1 + (sizes.next_u64() % got.len() as u64) as usize;
            let n = reader.read(&mut got[..want]).unwrap();
            let (scratch, plain, opener) = reader.buffer_capacities();
            assert!(scratch <= limit && plain <= limit && opener <= limit);
            if n == 0 {
                break;
            }
            expect.read_exact(&mut want_buf[..n]).unwrap();
            assert!(got[..n] == want_buf[..n], "mismatch at {seen}");
            seen += n as u64;
        }
        assert_eq!(seen, TOTAL);
        assert_eq!(sealing.join().unwrap(), sealed_len(TOTAL));
    }

    #[test]
    fn push_api_buffers_stay_bounded() {
        let key = SealKey::generate();
        let (mut sealer, header) = Sealer::new(&key);
        let mut opener = Opener::new(&key);
        let mut plain = Vec::new();
        opener.push(&header, &mut plain).unwrap();
        let data = vec![0xA5u8; 3 * CHUNK_SIZE + 999];
        let mut sealed = Vec::new();
        let mut rng = Rng(99);
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = (1 + (rng.next_u64() % 200_000) as usize).min(rest.len());
            sealer.push(&rest[..n], &mut sealed);
            rest = &rest[n..];
            assert!(sealer.buf.capacity() <= CHUNK_SIZE);
            // Feed the opener in odd pieces as the sealed bytes appear.
            for piece in sealed.chunks(777) {
                opener.push(piece, &mut plain).unwrap();
                assert!(opener.buf.capacity() <= SEALED_CHUNK_SIZE);
            }
            sealed.clear();
        }
        sealer.finish(&mut sealed);
        opener.push(&sealed, &mut plain).unwrap();
        opener.finish(&mut plain).unwrap();
        assert_eq!(plain, data);
    }

    #[test]
    fn same_plaintext_same_key_seals_differently() {
        let key = SealKey::generate();
        let seal = |data: &[u8]| {
            let (mut s, mut out) = Sealer::new(&key);
            s.push(data, &mut out);
            s.finish(&mut out);
            out
        };
        let a = seal(b"the same plaintext");
        let b = seal(b"the same plaintext");
        assert_ne!(a, b);
        assert_eq!(a[..MAGIC.len()], b[..MAGIC.len()]);
        assert_ne!(a[MAGIC.len()..HEADER_LEN], b[MAGIC.len()..HEADER_LEN]);
    }

    #[test]
    fn nonce_layout() {
        let n = chunk_nonce(&[1, 2, 3, 4, 5, 6, 7], 0x0A0B_0C0D, true);
        assert_eq!(n, [1, 2, 3, 4, 5, 6, 7, 0x0A, 0x0B, 0x0C, 0x0D, 1]);
        let n = chunk_nonce(&[0; 7], 1, false);
        assert_eq!(n, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    }
}
