//! What the process may do on the machine, set before anything else runs.
//!
//! - **umask 077**: every file and directory sealscribe creates (the database,
//!   blobs, scratch plaintext, seal keys in the database file, a client's
//!   downloads) is readable by its owner only, whatever the shell's umask was.
//!   Other local users cannot read scratch plaintext or keys.
//! - **Open files**: the soft limit is raised towards the hard one so that
//!   `--max-connections` can be reached before the kernel refuses sockets.

use rustix::fs::Mode;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit, umask};

/// Owner-only permissions for everything created from now on.
pub fn restrict_umask() {
    umask(Mode::from_raw_mode(0o077));
}

/// Raises the open-files soft limit to fit `connections` (plus room for the
/// database, blobs and ffmpeg pipes), up to the hard limit; warns when the
/// hard limit is lower.
pub fn fit_open_files(connections: u64) {
    let want = connections.saturating_add(256);
    let current = getrlimit(Resource::Nofile);
    if current.current.is_some_and(|soft| soft >= want) {
        return;
    }
    let target = match current.maximum {
        Some(hard) => want.min(hard),
        None => want,
    };
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: current.maximum,
        },
    );
    if raised.is_err() || target < want {
        tracing::warn!(
            connections,
            open_files = target,
            "the open-files limit is below --max-connections plus room for storage; \
             raise it (ulimit -n / LimitNOFILE=) or lower --max-connections"
        );
    }
}
