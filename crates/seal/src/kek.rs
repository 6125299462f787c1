//! The key-encryption key (KEK) that wraps every per-media [`SealKey`].
//!
//! # Why
//!
//! A seal key stored in clear beside the sealed copy protects nothing from
//! whoever can read the database and the blob store together: a database
//! dump, a backup, a replica. So the database holds only the seal key
//! *wrapped* under a KEK that lives outside it — a file with owner-only
//! permissions (or an environment variable) that the API and worker processes
//! read at start. A database copy alone then opens nothing; the host that
//! runs the processes still can, while media is being processed (it must, to
//! transcribe it).
//!
//! # Format
//!
//! A keyring is one or more 32-byte KEKs, written as 64 hex digits each; the
//! **first is current** (new wraps use it), the others are kept only to
//! unwrap keys wrapped before a rotation. In a file: one key per line, `#`
//! starts a comment. In `SEALSCRIBE_KEK`: keys separated by commas or spaces.
//! A KEK's id is the first 8 bytes of `SHA-256("sealscribe-kek-id\0" ‖ kek)`,
//! in hex: computed, never configured, so a key and its id cannot disagree.
//!
//! A wrapped seal key is the text
//!
//! ```text
//! sskw1:<kek id, 16 hex>:<hex(nonce (12) ‖ AES-256-GCM(kek, nonce, seal key) (32) ‖ tag (16))>
//! ```
//!
//! with a random nonce and the associated data
//! `"sealscribe seal key v1\0" ‖ kek id ‖ media id`: a wrapped key moved to
//! another media row, or relabelled with another KEK id, does not unwrap.
//!
//! # Rotation
//!
//! A keyring read from a file notices when the file changes (its length,
//! modification time or inode) and reads it again before the next wrap or
//! unwrap, and once more when it meets an unknown KEK id. So `sealscribe kek
//! rotate`, which writes the file with a new current KEK in front of the old
//! ones and then rewraps every stored key, needs no restart: a process that
//! unwrapped under the old KEK just before the rewrap still holds it, one that
//! reads a rewrapped key picks up the new KEK from the file.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::{KEY_LEN, SealKey, fill_random};

/// Length of a KEK in bytes (AES-256).
pub const KEK_LEN: usize = 32;
/// The prefix of every wrapped key (format version 1).
pub const WRAPPED_PREFIX: &str = "sskw1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_LABEL: &[u8] = b"sealscribe seal key v1\0";

/// Errors of the keyring. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KekError {
    /// The keyring file or variable is not a list of 64-hex-digit keys.
    #[error("{0}")]
    BadKeyring(String),
    /// The keyring file cannot be read or written.
    #[error("key-encryption key file {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The keyring file can be read by other users.
    #[error(
        "key-encryption key file {} is readable by other users (mode {mode:o}): run chmod 600 on it",
        path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },
    /// The wrapped key names a KEK this keyring does not hold.
    #[error(
        "the seal key is wrapped under key-encryption key {0}, which this process's keyring does \
         not hold (every API and worker process must share the same KEK file)"
    )]
    UnknownKek(String),
    /// Not a wrapped key, or it does not unwrap (tampered, or bound to another media item).
    #[error("the wrapped seal key is malformed, tampered with or belongs to another media item")]
    BadWrap,
}

/// One key-encryption key.
#[derive(Clone)]
struct Kek {
    id: String,
    key: Zeroizing<[u8; KEK_LEN]>,
}

impl Kek {
    fn new(key: [u8; KEK_LEN]) -> Self {
        let key = Zeroizing::new(key);
        let mut h = Sha256::new();
        h.update(b"sealscribe-kek-id\0");
        h.update(key.as_slice());
        let id = hex::encode(&h.finalize()[..8]);
        Self { id, key }
    }

    fn generate() -> Self {
        let mut key = [0u8; KEK_LEN];
        fill_random(&mut key);
        let kek = Self::new(key);
        key.zeroize();
        kek
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.as_slice()))
    }
}

fn aad(kek_id: &str, media: &str) -> Vec<u8> {
    [AAD_LABEL, kek_id.as_bytes(), b"\0", media.as_bytes()].concat()
}

/// Parses keyring text: 64-hex-digit keys separated by whitespace or commas,
/// `#` comments to the end of a line; the first key is current.
fn parse(text: &str) -> Result<Vec<Kek>, KekError> {
    let mut keys: Vec<Kek> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        for word in line.split(|c: char| c.is_whitespace() || c == ',') {
            if word.is_empty() {
                continue;
            }
            let mut key = [0u8; KEK_LEN];
            hex::decode_to_slice(word, &mut key).map_err(|_| {
                KekError::BadKeyring(format!(
                    "a key-encryption key is {} hex digits; found a word of {} characters",
                    KEK_LEN * 2,
                    word.len()
                ))
            })?;
            let kek = Kek::new(key);
            key.zeroize();
            if !keys.iter().any(|k| k.id == kek.id) {
                keys.push(kek);
            }
        }
    }
    if keys.is_empty() {
        return Err(KekError::BadKeyring(
            "the keyring holds no key-encryption key".into(),
        ));
    }
    Ok(keys)
}

/// The file's identity and version, to notice that it was replaced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path)?;
    Ok(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode: m.ino(),
    })
}

struct Loaded {
    keys: Vec<Kek>,
    stamp: Option<Stamp>,
}

/// The KEKs a process holds: the current one wraps, all of them unwrap.
pub struct Keyring {
    /// The file the keys come from (`None`: from a variable, fixed).
    path: Option<PathBuf>,
    loaded: RwLock<Loaded>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("path", &self.path)
            .field("ids", &self.ids())
            .finish()
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> KekError + '_ {
    move |error| KekError::Io {
        path: path.to_owned(),
        error,
    }
}

fn read_file(path: &Path) -> Result<Loaded, KekError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KekError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io_error(path))?);
    let keys = parse(&text).map_err(|e| match e {
        KekError::BadKeyring(m) => KekError::BadKeyring(format!("{}: {m}", path.display())),
        other => other,
    })?;
    Ok(Loaded {
        keys,
        stamp: stamp(path).ok(),
    })
}

/// Writes `keys` to `path` atomically (a temporary file renamed over it),
/// readable by the owner only. Without `replace`, an existing file is left
/// alone (`AlreadyExists`): two processes creating the file at once end up
/// with the same keys.
fn write_file(path: &Path, keys: &[Kek], replace: bool) -> Result<(), KekError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut text = Zeroizing::new(String::from(
        "# sealscribe key-encryption keys (docs/encryption.md). The first is current;\n\
         # the others only unwrap keys wrapped before a rotation. Keep this file secret.\n",
    ));
    for k in keys {
        text.push_str(&hex::encode(k.key.as_slice()));
        text.push('\n');
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nonce = [0u8; 8];
    fill_random(&mut nonce);
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("kek"),
        hex::encode(nonce)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if replace {
            std::fs::rename(&tmp, path)?;
        } else {
            // A hard link never replaces an existing file.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)?;
        }
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_error(path))
}

impl Keyring {
    /// Reads the keyring file at `path` (owner-only permissions required).
    ///
    /// # Errors
    ///
    /// The file is missing, unreadable, readable by others or malformed.
    pub fn open(path: &Path) -> Result<Self, KekError> {
        Ok(Self {
            path: Some(path.to_owned()),
            loaded: RwLock::new(read_file(path)?),
        })
    }

    /// Creates a keyring file with one new KEK at `path` (which must not
    /// exist), readable by the owner only.
    ///
    /// # Errors
    ///
    /// The file exists or cannot be written.
    pub fn create(path: &Path) -> Result<Self, KekError> {
        write_file(path, &[Kek::generate()], false)?;
        Self::open(path)
    }

    /// Opens the keyring file at `path`, creating it with a new KEK first if
    /// it does not exist; `true` when it was created.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open) and [`create`](Self::create).
    pub fn open_or_create(path: &Path) -> Result<(Self, bool), KekError> {
        match Self::open(path) {
            Err(KekError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
                match Self::create(path) {
                    Ok(ring) => Ok((ring, true)),
                    // Another process created it first: use its keys.
                    Err(KekError::Io { error, .. })
                        if error.kind() == std::io::ErrorKind::AlreadyExists =>
                    {
                        Ok((Self::open(path)?, false))
                    }
                    Err(e) => Err(e),
                }
            }
            other => other.map(|k| (k, false)),
        }
    }

    /// A keyring from text (`SEALSCRIBE_KEK`): fixed for the life of the process.
    ///
    /// # Errors
    ///
    /// The text is not a list of keys.
    pub fn from_text(text: &str) -> Result<Self, KekError> {
        Ok(Self {
            path: None,
            loaded: RwLock::new(Loaded {
                keys: parse(text)?,
                stamp: None,
            }),
        })
    }

    /// A keyring with one new random KEK held only in memory (tests).
    #[must_use]
    pub fn ephemeral() -> Self {
        Self {
            path: None,
            loaded: RwLock::new(Loaded {
                keys: vec![Kek::generate()],
                stamp: None,
            }),
        }
    }

    /// The file the keys come from, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The ids of the KEKs held, current first.
    #[must_use]
    pub fn ids(&self) -> Vec<String> {
        self.read().keys.iter().map(|k| k.id.clone()).collect()
    }

    /// The id of the current KEK.
    #[must_use]
    pub fn current_id(&self) -> String {
        self.read().keys[0].id.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the file again if it changed since it was read (`force`: in any case).
    fn refresh(&self, force: bool) {
        let Some(path) = &self.path else { return };
        let now = stamp(path).ok();
        if !force && now.is_some() && now == self.read().stamp {
            return;
        }
        match read_file(path) {
            Ok(loaded) => {
                let mut guard = self.loaded.write().unwrap_or_else(|e| e.into_inner());
                *guard = loaded;
            }
            // Keep the keys already held; the next use tries again.
            Err(e) => tracing::warn!(error = %e, "cannot reload the key-encryption keys"),
        }
    }

    /// Wraps `key` for the media item `media` under the current KEK.
    #[must_use]
    pub fn wrap(&self, key: &SealKey, media: &str) -> String {
        self.refresh(false);
        let loaded = self.read();
        wrap_with(&loaded.keys[0], key, media)
    }

    /// Unwraps a key [`wrap`](Self::wrap) made for the media item `media`.
    ///
    /// # Errors
    ///
    /// [`KekError::UnknownKek`] when the KEK is not held (even after reading
    /// the file again), [`KekError::BadWrap`] when it does not unwrap.
    pub fn unwrap(&self, wrapped: &str, media: &str) -> Result<SealKey, KekError> {
        let (id, _) = split(wrapped)?;
        self.refresh(false);
        if !self.read().keys.iter().any(|k| k.id == id) {
            self.refresh(true);
        }
        let loaded = self.read();
        let kek = loaded
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| KekError::UnknownKek(id.to_owned()))?;
        unwrap_with(kek, wrapped, media)
    }

    /// The id of the KEK `wrapped` is wrapped under.
    ///
    /// # Errors
    ///
    /// It is not a wrapped key.
    pub fn kek_id_of(wrapped: &str) -> Result<&str, KekError> {
        split(wrapped).map(|(id, _)| id)
    }

    /// `wrapped` wrapped again under the current KEK, or `None` if it already is.
    ///
    /// # Errors
    ///
    /// As [`unwrap`](Self::unwrap).
    pub fn rewrap(&self, wrapped: &str, media: &str) -> Result<Option<String>, KekError> {
        if split(wrapped)?.0 == self.current_id() {
            return Ok(None);
        }
        let key = self.unwrap(wrapped, media)?;
        Ok(Some(self.wrap(&key, media)))
    }

    /// Puts a new KEK in front of the file's keys (the old ones stay, to
    /// unwrap what they wrapped) and returns its id.
    ///
    /// # Errors
    ///
    /// A keyring not read from a file, or the file cannot be written.
    pub fn rotate(&self) -> Result<String, KekError> {
        let path = self.file()?;
        self.refresh(true);
        let mut keys = vec![Kek::generate()];
        keys.extend(self.read().keys.iter().cloned());
        write_file(path, &keys, true)?;
        self.refresh(true);
        Ok(keys[0].id.clone())
    }

    /// Removes every KEK but the current one and those in `keep` from the
    /// file; returns the ids removed.
    ///
    /// # Errors
    ///
    /// A keyring not read from a file, or the file cannot be written.
    pub fn retire(&self, keep: &[String]) -> Result<Vec<String>, KekError> {
        let path = self.file()?;
        self.refresh(true);
        let (kept, removed): (Vec<Kek>, Vec<Kek>) = {
            let loaded = self.read();
            let current = loaded.keys[0].id.clone();
            loaded
                .keys
                .iter()
                .cloned()
                .partition(|k| k.id == current || keep.contains(&k.id))
        };
        if !removed.is_empty() {
            write_file(path, &kept, true)?;
            self.refresh(true);
        }
        Ok(removed.into_iter().map(|k| k.id).collect())
    }

    fn file(&self) -> Result<&Path, KekError> {
        self.path.as_deref().ok_or_else(|| {
            KekError::BadKeyring(
                "keys given in SEALSCRIBE_KEK cannot be changed in place: move them to a file \
                 (--kek-file) to rotate them"
                    .into(),
            )
        })
    }
}

fn split(wrapped: &str) -> Result<(&str, &str), KekError> {
    let rest = wrapped
        .strip_prefix(WRAPPED_PREFIX)
        .ok_or(KekError::BadWrap)?;
    let (id, body) = rest.split_once(':').ok_or(KekError::BadWrap)?;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KekError::BadWrap);
    }
    Ok((id, body))
}

fn wrap_with(kek: &Kek, key: &SealKey, media: &str) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce);
    let mut buf = Zeroizing::new(key.0);
    let tag = kek
        .cipher()
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            &aad(&kek.id, media),
            buf.as_mut_slice(),
        )
        .expect("32 bytes are within AES-GCM limits");
    let mut body = Vec::with_capacity(NONCE_LEN + KEY_LEN + TAG_LEN);
    body.extend_from_slice(&nonce);
    body.extend_from_slice(buf.as_slice());
    body.extend_from_slice(&tag);
    format!("{WRAPPED_PREFIX}{}:{}", kek.id, hex::encode(body))
}

fn unwrap_with(kek: &Kek, wrapped: &str, media: &str) -> Result<SealKey, KekError> {
    let (_, body) = split(wrapped)?;
    let body = hex::decode(body).map_err(|_| KekError::BadWrap)?;
    if body.len() != NONCE_LEN + KEY_LEN + TAG_LEN {
        return Err(KekError::BadWrap);
    }
    let (nonce, rest) = body.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(KEY_LEN);
    let mut key = SealKey([0; KEY_LEN]);
    key.0.copy_from_slice(ct);
    kek.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            &aad(&kek.id, media),
            &mut key.0,
            Tag::from_slice(tag),
        )
        .map_err(|_| KekError::BadWrap)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn a_wrapped_key_unwraps_for_its_media_only() {
        let ring = Keyring::ephemeral();
        let key = SealKey::generate();
        let wrapped = ring.wrap(&key, "m1");
        assert!(wrapped.starts_with(&format!("sskw1:{}:", ring.current_id())));
        assert!(!wrapped.contains(key.to_hex().as_str()));
        assert_eq!(ring.unwrap(&wrapped, "m1").unwrap().to_hex(), key.to_hex());
        assert!(matches!(
            ring.unwrap(&wrapped, "m2"),
            Err(KekError::BadWrap)
        ));
        // Two wraps of one key differ (random nonce).
        assert_ne!(ring.wrap(&key, "m1"), wrapped);
    }

    #[test]
    fn a_tampered_or_relabelled_wrap_is_refused() {
        let ring = Keyring::ephemeral();
        let wrapped = ring.wrap(&SealKey::generate(), "m1");
        let mut bytes = wrapped.clone().into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(matches!(
            ring.unwrap(&tampered, "m1"),
            Err(KekError::BadWrap)
        ));
        let other = Keyring::ephemeral();
        assert!(matches!(
            other.unwrap(&wrapped, "m1"),
            Err(KekError::UnknownKek(_))
        ));
        // The id is authenticated: the same body under another id fails.
        let relabelled = wrapped.replace(&ring.current_id(), &other.current_id());
        let both = Keyring::from_text(&format!(
            "{} {}",
            hex::encode(ring.read().keys[0].key.as_slice()),
            hex::encode(other.read().keys[0].key.as_slice())
        ))
        .unwrap();
        assert!(both.unwrap(&wrapped, "m1").is_ok());
        assert!(matches!(
            both.unwrap(&relabelled, "m1"),
            Err(KekError::BadWrap)
        ));
        for bad in ["", "00", "sskw1:zz:00", &"a".repeat(64)] {
            assert!(ring.unwrap(bad, "m1").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_created_file_is_owner_only_and_a_readable_one_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = dir();
        let path = d.path().join("kek");
        let (ring, created) = Keyring::open_or_create(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, created) = Keyring::open_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.ids(), ring.ids());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keyring::open(&path),
            Err(KekError::Permissions { .. })
        ));
    }

    #[test]
    fn processes_creating_the_file_at_once_share_one_key() {
        let d = dir();
        let path = d.path().join("kek");
        let ids: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Keyring::open_or_create(&path).unwrap().0.ids()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|i| i == &ids[0] && i.len() == 1), "{ids:?}");
        assert!(Keyring::create(&path).is_err());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_rotation_keeps_old_wraps_readable_and_reaches_running_processes() {
        let d = dir();
        let path = d.path().join("kek");
        let admin = Keyring::create(&path).unwrap();
        // A running process holds the keyring read before the rotation.
        let process = Keyring::open(&path).unwrap();
        let key = SealKey::generate();
        let old = process.wrap(&key, "m1");
        let old_id = admin.current_id();

        let new_id = admin.rotate().unwrap();
        assert_ne!(new_id, old_id);
        assert_eq!(admin.ids(), vec![new_id.clone(), old_id.clone()]);
        let rewrapped = admin.rewrap(&old, "m1").unwrap().unwrap();
        assert_eq!(Keyring::kek_id_of(&rewrapped).unwrap(), new_id);
        assert_eq!(admin.rewrap(&rewrapped, "m1").unwrap(), None);

        // The running process unwraps both, and wraps under the new KEK.
        assert_eq!(process.unwrap(&old, "m1").unwrap().to_hex(), key.to_hex());
        assert_eq!(
            process.unwrap(&rewrapped, "m1").unwrap().to_hex(),
            key.to_hex()
        );
        assert_eq!(
            Keyring::kek_id_of(&process.wrap(&key, "m2")).unwrap(),
            new_id
        );

        // Retiring drops the old KEK, except one still in use.
        assert!(
            admin
                .retire(std::slice::from_ref(&old_id))
                .unwrap()
                .is_empty()
        );
        assert_eq!(admin.retire(&[]).unwrap(), vec![old_id.clone()]);
        assert!(matches!(
            process.unwrap(&old, "m1"),
            Err(KekError::UnknownKek(id)) if id == old_id
        ));
        assert!(process.unwrap(&rewrapped, "m1").is_ok());
    }

    #[test]
    fn keyring_text_is_checked() {
        assert!(Keyring::from_text("").is_err());
        assert!(Keyring::from_text("# only a comment\n").is_err());
        assert!(Keyring::from_text("abc").is_err());
        let k = "11".repeat(32);
        let ring = Keyring::from_text(&format!("{k}, {} # old\n", "22".repeat(32))).unwrap();
        assert_eq!(ring.ids().len(), 2);
        assert!(ring.rotate().is_err());
        // The error names lengths, never the key.
        let e = Keyring::from_text(&"z".repeat(64)).unwrap_err().to_string();
        assert!(!e.contains("zzzz"), "{e}");
    }
}
