//! Where the plaintext of encrypted media lives while a job runs.
//!
//! ffmpeg reads files, so a worker opens an encrypted upload into a plaintext
//! scratch file for the length of the job (and writes redacted audio beside
//! it). On a memory-backed file system (tmpfs, ramfs) that plaintext never
//! reaches a disk — unless the machine swaps, which an operator can rule out
//! (`docs/security.md`) — and a reboot or power loss leaves nothing behind.
//! So `--scratch-dir` defaults to `/dev/shm` when it is memory-backed and
//! writable, else `$XDG_RUNTIME_DIR` when it is, else the data directory's
//! `tmp` folder on disk; the choice is logged once at start, with a warning
//! for the disk fallback.
//!
//! In the chosen place sealscribe works in a directory of its own,
//! `sealscribe-<uid>`, created owner-only and refused when it exists as
//! anything else (a symlink, another user's, group- or world-accessible):
//! `/dev/shm` is writable by every local user. Inside it each worker process
//! has its own directory, removed when it stops and, after a crash, by the
//! next worker that starts (`sealscribe_pipeline::Workers`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rustix::fs::{Mode, statfs};

/// `statfs` magic numbers of memory-backed file systems (linux/magic.h).
const TMPFS_MAGIC: u64 = 0x0102_1994;
const RAMFS_MAGIC: u64 = 0x8584_58f6;

/// The resolved scratch location for plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainScratch {
    /// The directory workers put their per-process directories in.
    pub root: PathBuf,
    /// Whether it is on a memory-backed file system.
    pub memory: bool,
}

/// True when `path` is on tmpfs or ramfs.
pub fn memory_backed(path: &Path) -> bool {
    // `f_type`'s integer type differs between architectures.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    statfs(path).is_ok_and(|s| matches!(s.f_type as u64, TMPFS_MAGIC | RAMFS_MAGIC))
}

/// Creates (or checks) `<parent>/sealscribe-<uid>`: a directory, not a
/// symlink, owned by this user, with no access for group or others.
fn own_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = rustix::process::geteuid().as_raw();
    let dir = parent.join(format!("sealscribe-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    anyhow::ensure!(
        meta.file_type().is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0,
        "{} exists but is not a directory of this user's with owner-only permissions \
         (another user may have created it); remove it or choose another --scratch-dir",
        dir.display()
    );
    // The umask is 077, so this is a no-op unless someone loosened it.
    rustix::fs::chmod(&dir, Mode::from_raw_mode(0o700))?;
    Ok(dir)
}

/// Decides where plaintext scratch goes: `explicit` (`--scratch-dir`) when
/// given, else the first memory-backed, writable place among `candidates`,
/// else `disk` (the data directory's `tmp`). Logs the choice once.
///
/// # Errors
/// An explicit directory that cannot be used.
pub fn resolve(
    explicit: Option<&Path>,
    candidates: &[PathBuf],
    disk: &Path,
) -> anyhow::Result<PlainScratch> {
    if let Some(dir) = explicit {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating --scratch-dir {}", dir.display()))?;
        let root = own_dir(dir).context("--scratch-dir")?;
        let memory = memory_backed(&root);
        if memory {
            tracing::info!(scratch = %root.display(), "plaintext scratch is memory-backed");
        } else {
            tracing::warn!(
                scratch = %root.display(),
                "--scratch-dir is not memory-backed (tmpfs/ramfs): the plaintext of encrypted \
                 media is written to disk there while it is processed"
            );
        }
        return Ok(PlainScratch { root, memory });
    }
    let mut passed = Vec::new();
    for dir in candidates {
        if !dir.is_dir() || !memory_backed(dir) {
            passed.push(format!(
                "{} is not a memory-backed directory",
                dir.display()
            ));
            continue;
        }
        match own_dir(dir) {
            Ok(root) => {
                tracing::info!(scratch = %root.display(), "plaintext scratch is memory-backed");
                return Ok(PlainScratch { root, memory: true });
            }
            Err(e) => passed.push(format!("{e:#}")),
        }
    }
    tracing::warn!(
        scratch = %disk.display(),
        "no memory-backed scratch directory ({}): the plaintext of encrypted media is written \
         to disk while it is processed; mount a tmpfs and pass --scratch-dir (docs/security.md)",
        passed.join("; ")
    );
    Ok(PlainScratch {
        root: disk.to_path_buf(),
        memory: memory_backed(disk),
    })
}

/// The default candidates: `/dev/shm`, then `$XDG_RUNTIME_DIR`.
pub fn default_candidates() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/dev/shm")];
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(run));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_shm_is_chosen_when_memory_backed_and_disk_otherwise() {
        let disk = tempfile::tempdir().unwrap();
        assert!(
            !memory_backed(disk.path()),
            "the test's temp dir is on disk"
        );
        // Debian (and CI) mounts /dev/shm as tmpfs.
        assert!(memory_backed(Path::new("/dev/shm")));
        let chosen = resolve(None, &default_candidates(), disk.path()).unwrap();
        let uid = rustix::process::geteuid().as_raw();
        assert_eq!(
            chosen,
            PlainScratch {
                root: PathBuf::from(format!("/dev/shm/sealscribe-{uid}")),
                memory: true
            }
        );
        // A candidate on disk is passed over: the data directory's tmp is used.
        let fallback = resolve(None, &[disk.path().to_path_buf()], disk.path()).unwrap();
        assert_eq!(fallback.root, disk.path());
        assert!(!fallback.memory);
        assert!(!disk.path().join(format!("sealscribe-{uid}")).exists());
    }

    #[test]
    fn an_explicit_directory_gets_an_owner_only_directory_of_its_own() {
        use std::os::unix::fs::PermissionsExt;
        let shm = tempfile::tempdir_in("/dev/shm").unwrap();
        let chosen = resolve(Some(&shm.path().join("x")), &[], Path::new("/nonexistent")).unwrap();
        assert!(chosen.memory);
        assert!(chosen.root.starts_with(shm.path().join("x")));
        let mode = std::fs::metadata(&chosen.root)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        // Again: the existing directory is accepted.
        assert_eq!(
            resolve(Some(&shm.path().join("x")), &[], Path::new("/nonexistent")).unwrap(),
            chosen
        );
        // Opened up to others, or replaced by a symlink, it is refused.
        std::fs::set_permissions(&chosen.root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = resolve(Some(&shm.path().join("x")), &[], Path::new("/nonexistent"));
        assert!(e.is_err());
        std::fs::remove_dir(&chosen.root).unwrap();
        std::os::unix::fs::symlink(shm.path(), &chosen.root).unwrap();
        let e = resolve(Some(&shm.path().join("x")), &[], Path::new("/nonexistent")).unwrap_err();
        assert!(format!("{e:#}").contains("owner-only"), "{e:#}");
    }
}
