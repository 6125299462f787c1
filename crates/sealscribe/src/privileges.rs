//! What the process may do on the machine, set before anything else runs.
//!
//! - **umask 077**: every file and directory sealscribe creates (the database,
//!   blobs, scratch plaintext, seal keys in the database file, a client's
//!   downloads) is readable by its owner only, whatever the shell's umask was.
//!   Other local users cannot read scratch plaintext or keys.
//! - **No core dumps**: `RLIMIT_CORE` 0 (inherited by every child, and
//!   ffprobe/ffmpeg get `--core=0` from `prlimit` besides) and not dumpable
//!   (`PR_SET_DUMPABLE` 0), so a crash never writes the process's memory
//!   (opened plaintext, seal keys, a client's secret key) to disk, and other
//!   processes of the same user cannot ptrace it or read its memory through
//!   `/proc/PID/mem`. A side effect: the kernel makes this process's
//!   `/proc/PID/` entries owned by root; the process itself can still read its
//!   own (`/proc/self/status`, `limits`, `fd`), and sealscribe reads no other.
//! - **Two malloc arenas**: glibc gives each thread its own arena (up to 8 per
//!   core) and keeps freed buffers in it; an upload's part buffers, freed on
//!   one thread after being filled on another, then stay in the process as
//!   40+ MiB of RSS that nothing uses. Two arenas keep a 512 MiB encrypted
//!   upload's growth near 20 MiB (`docs/benchmarks.md`). An operator's own
//!   `MALLOC_ARENA_MAX` in the environment wins.
//! - **Open files**: the soft limit is raised towards the hard one so that
//!   `--max-connections` can be reached before the kernel refuses sockets.

use rustix::fs::Mode;
use rustix::process::{
    DumpableBehavior, Resource, Rlimit, dumpable_behavior, getrlimit, set_dumpable_behavior,
    setrlimit, umask,
};

/// Owner-only permissions for everything created from now on.
pub fn restrict_umask() {
    umask(Mode::from_raw_mode(0o077));
}

/// Caps glibc's malloc arenas at two unless `MALLOC_ARENA_MAX` is set (then
/// glibc has read it already). Called first in `main`, before any thread exists.
pub fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        #[allow(unsafe_code)]
        // SAFETY: mallopt only sets a tuning parameter of the allocator; it takes
        // no pointers and is called while the process has a single thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Disables core dumps and makes the process not dumpable. Returns what
/// could not be done (the caller logs it once logging is set up); both calls
/// only ever lower privileges, so they succeed for unprivileged processes.
pub fn disable_core_dumps() -> Result<(), String> {
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    setrlimit(Resource::Core, zero).map_err(|e| format!("setting RLIMIT_CORE to 0: {e}"))?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| format!("prctl(PR_SET_DUMPABLE, 0): {e}"))?;
    Ok(())
}

/// Whether [`disable_core_dumps`] is in force: no core size and not dumpable.
pub fn core_dumps_disabled() -> bool {
    getrlimit(Resource::Core).current == Some(0)
        && dumpable_behavior().is_ok_and(|d| d == DumpableBehavior::NotDumpable)
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

#[cfg(test)]
mod tests {
    /// Runs in a child process of its own (the test binary re-executed), so
    /// that the test runner stays dumpable.
    #[test]
    fn core_dumps_are_disabled_and_own_proc_files_stay_readable() {
        if std::env::var_os("SEALSCRIBE_PRIVILEGES_CHILD").is_none() {
            let exe = std::env::current_exe().unwrap();
            let out = std::process::Command::new(exe)
                .args([
                    "privileges::tests::core_dumps_are_disabled_and_own_proc_files_stay_readable",
                    "--exact",
                    "--nocapture",
                ])
                .env("SEALSCRIBE_PRIVILEGES_CHILD", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("child checked"),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        assert!(
            !super::core_dumps_disabled(),
            "a test process starts dumpable"
        );
        super::disable_core_dumps().unwrap();
        assert!(super::core_dumps_disabled());
        // What a process reads about itself still reads.
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let core = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
        assert!(
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .contains("VmRSS:")
        );
        assert!(std::fs::read_dir("/proc/self/fd").unwrap().count() > 2);
        // Children inherit the core limit (exec makes them dumpable again;
        // the limit is what keeps their cores off the disk).
        let out = std::process::Command::new("sh")
            .args(["-c", "ulimit -c; ulimit -Hc"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n0\n");
        println!("child checked");
    }
}
