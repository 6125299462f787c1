//! How ffprobe and ffmpeg are run on customer media: which demuxers and
//! protocols they may use, the resource limits and sandbox they run in, and
//! the deadlines and the longest media accepted.
//!
//! Why all of this: customer bytes are fed to a large C program. Left to
//! itself, ffmpeg follows what the file says: an HLS playlist or a concat
//! list names other files (`file:/etc/…`, a neighbour's working copy) and
//! ffmpeg opens them — `-protocol_whitelist file` does not stop that, since
//! those *are* files. So the demuxers are an allow-list of audio/video
//! containers ([`DEMUXERS`]; no playlists, concat lists, image sequences,
//! SDP/RTP or devices), the protocols are the one the caller uses (`file` for
//! a working copy, `pipe` for the upload sniff), and, as a second wall for the
//! day a decoder has a bug, the child runs
//!
//! * under `prlimit` rlimits: address space, CPU seconds, no file writes
//!   (ffmpeg only ever writes to its stdout pipe here), few open files, no
//!   core dumps (a core would be customer audio on disk);
//! * with an empty environment (the server's holds database and S3
//!   credentials);
//! * where `bwrap` (bubblewrap) works, in a sandbox with every namespace
//!   unshared (no network), `/usr` read-only, and of the host's files only
//!   the one input, read-only.
//!
//! The policy is process-wide: [`install`] decides it once at start (it
//! tries the sandbox and logs which mode it runs in); [`current`] returns it
//! and, in programs that never called [`install`] (the `transcribe` command,
//! tests), detects it with the defaults on first use.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::child;

/// The demuxers ffprobe/ffmpeg may use (`-format_whitelist`): audio and
/// video containers that hold their media themselves. Not allowed, among
/// others: `hls`, `dash`, `concat`, `image2` (file-name patterns), `sdp`,
/// `rtp`, `rtsp`, `lavfi`, `data`, `tee`, `mpjpeg`, `webm_dash_manifest`.
///
/// A multi-name demuxer is allowed when one of its names is listed
/// (ffmpeg's `mov,mp4,m4a,3gp,3g2,mj2` by `mov`, `matroska,webm` by
/// `matroska`).
pub const DEMUXERS: &str = "wav,w64,mp3,flac,ogg,matroska,webm,mov,mp4,m4a,aac,ac3,eac3,\
                            amr,amrnb,amrwb,gsm,au,aiff,caf,mpegts,mpeg,asf,avi,flv,wv";

/// The options that restrict ffprobe/ffmpeg's next input to `protocol`
/// (`file` or `pipe`) and to the [`DEMUXERS`]; put them before `-i`.
pub fn input_options(protocol: &'static str) -> [&'static str; 4] {
    [
        "-protocol_whitelist",
        protocol,
        "-format_whitelist",
        DEMUXERS,
    ]
}

/// Whether ffprobe/ffmpeg run in a bubblewrap sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SandboxSetting {
    /// Use bubblewrap when it works on this machine, else run with limits only (logged).
    #[default]
    Auto,
    /// Refuse to start without a working bubblewrap sandbox.
    Required,
    /// Never sandbox (resource limits still apply).
    Off,
}

/// The operator's limits for media tools (the `--media-*` settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaLimits {
    /// The longest media accepted, judged from what ffprobe reads in the
    /// headers before anything is decoded; decoding also stops just past it.
    pub max_duration: Duration,
    /// Deadline of one ffprobe run (upload sniff, worker probe).
    pub probe_timeout: Duration,
    /// Deadline of one ffmpeg decode, whatever the media claims to last.
    /// Also the CPU-time rlimit of every run.
    pub decode_timeout: Duration,
    /// Address-space rlimit of one ffprobe/ffmpeg process, in bytes.
    pub memory_bytes: u64,
    /// Open-files rlimit of one ffprobe/ffmpeg process.
    pub open_files: u64,
    /// Whether to sandbox them with bubblewrap.
    pub sandbox: SandboxSetting,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            max_duration: Duration::from_secs(4 * 3600),
            probe_timeout: Duration::from_secs(30),
            decode_timeout: Duration::from_secs(3600),
            memory_bytes: 2 << 30,
            open_files: 64,
            sandbox: SandboxSetting::Auto,
        }
    }
}

/// The resolved policy: the limits and how children are contained on this machine.
#[derive(Debug)]
pub struct MediaTools {
    limits: MediaLimits,
    prlimit: Option<PathBuf>,
    bwrap: Option<PathBuf>,
    /// Why there is no sandbox (when there is none).
    unsandboxed: Option<String>,
}

static TOOLS: OnceLock<MediaTools> = OnceLock::new();

/// Decides the process-wide policy from `limits`: checks that `prlimit` and
/// (unless off) bubblewrap work here, by running `ffprobe -version` the way
/// media will be run, and logs the mode. Call once at start, before any media
/// is read.
///
/// # Errors
/// When the sandbox is [`SandboxSetting::Required`] and does not work (the
/// text says why), or when the policy was already decided differently.
pub fn install(limits: MediaLimits) -> Result<&'static MediaTools, String> {
    let tools = MediaTools::detect(limits.clone())?;
    tools.log(tracing::Level::INFO);
    let installed = TOOLS.get_or_init(|| tools);
    if installed.limits != limits {
        return Err("the media tool limits were already set differently in this process".into());
    }
    Ok(installed)
}

/// The process-wide policy; detected with the default limits on first use when
/// [`install`] was not called.
pub fn current() -> &'static MediaTools {
    TOOLS.get_or_init(|| {
        let tools = MediaTools::detect(MediaLimits::default()).unwrap_or_else(|e| {
            unreachable!("the default (auto) sandbox setting never fails: {e}")
        });
        tools.log(tracing::Level::DEBUG);
        tools
    })
}

/// `program` as found on `PATH`, absolute.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

impl MediaTools {
    fn detect(limits: MediaLimits) -> Result<MediaTools, String> {
        Self::detect_with(limits, which("bwrap"))
    }

    fn detect_with(limits: MediaLimits, bwrap: Option<PathBuf>) -> Result<MediaTools, String> {
        let prlimit = which("prlimit");
        let mut tools = MediaTools {
            limits,
            prlimit,
            bwrap: None,
            unsandboxed: None,
        };
        let want = tools.limits.sandbox;
        if want == SandboxSetting::Off {
            tools.unsandboxed = Some("the sandbox is turned off (--media-sandbox off)".into());
            return Ok(tools);
        }
        let tried = match bwrap {
            None => Err("bubblewrap (`bwrap`) is not installed".to_string()),
            Some(bwrap) => {
                tools.bwrap = Some(bwrap);
                tools.smoke_test()
            }
        };
        if let Err(why) = tried {
            tools.bwrap = None;
            if want == SandboxSetting::Required {
                return Err(format!(
                    "the media sandbox is required (--media-sandbox bwrap) but cannot be used: \
                     {why}; install the Debian package `bubblewrap` and allow unprivileged user \
                     namespaces (sysctl kernel.unprivileged_userns_clone=1), or use \
                     --media-sandbox auto"
                ));
            }
            tools.unsandboxed = Some(why);
        }
        Ok(tools)
    }

    /// Runs `ffprobe -version` exactly as media will be run.
    fn smoke_test(&self) -> Result<(), String> {
        let mut cmd = self.command("ffprobe", None);
        cmd.arg("-version");
        // Read the version text: a closed pipe would fail the trial.
        let done = child::run_with_deadline(cmd, "ffprobe", Duration::from_secs(20), |mut o| {
            let _ = std::io::copy(&mut o, &mut std::io::sink());
        })
        .map_err(|e| e.to_string())?;
        if done.status.success() {
            Ok(())
        } else {
            let last = done
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("no diagnostic")
                .trim()
                .to_string();
            Err(format!("a trial run in the sandbox failed: {last}"))
        }
    }

    fn log(&self, level: tracing::Level) {
        let l = &self.limits;
        let (memory_mib, cpu_secs) = (l.memory_bytes >> 20, l.decode_timeout.as_secs());
        let max_duration_secs = l.max_duration.as_secs();
        match (&self.unsandboxed, level) {
            (None, _) => tracing::info!(
                memory_mib,
                cpu_secs,
                max_duration_secs,
                "media tools run in a bubblewrap sandbox (no network; only the input file visible)"
            ),
            (Some(why), tracing::Level::INFO) if l.sandbox == SandboxSetting::Auto => {
                tracing::warn!(
                    memory_mib,
                    cpu_secs,
                    max_duration_secs,
                    "media tools run WITHOUT a sandbox ({why}); only resource limits and the \
                     demuxer/protocol allow-lists contain them (docs/security.md)"
                )
            }
            (Some(why), _) => tracing::debug!(
                memory_mib,
                cpu_secs,
                max_duration_secs,
                "media tools run without a sandbox ({why})"
            ),
        }
        if self.prlimit.is_none() {
            tracing::warn!(
                "`prlimit` (Debian package util-linux) was not found: media tools run without \
                 resource limits"
            );
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    /// True when children run in the bubblewrap sandbox.
    pub fn sandboxed(&self) -> bool {
        self.bwrap.is_some()
    }

    /// A command running `program` (`ffprobe`/`ffmpeg`) contained: rlimits,
    /// an empty environment and, when available, the sandbox, in which only
    /// `input` (read-only) of the host's own files is visible. The caller
    /// appends the program's arguments and must pass `input` to it as an
    /// absolute path ([`absolute`]).
    pub fn command(&self, program: &str, input: Option<&Path>) -> Command {
        let exe = which(program).map_or_else(|| OsString::from(program), PathBuf::into_os_string);
        let mut argv: Vec<OsString> = Vec::new();
        if let Some(prlimit) = &self.prlimit {
            let l = &self.limits;
            argv.push(prlimit.clone().into_os_string());
            for limit in [
                format!("--as={}", l.memory_bytes),
                format!("--cpu={}", l.decode_timeout.as_secs().max(1)),
                // Output goes to a pipe; no file is ever written.
                "--fsize=0".to_string(),
                format!("--nofile={}", l.open_files),
                "--core=0".to_string(),
            ] {
                argv.push(limit.into());
            }
            argv.push("--".into());
        }
        if let Some(bwrap) = &self.bwrap {
            argv.push(bwrap.clone().into_os_string());
            argv.extend(sandbox_args(input));
            argv.push("--".into());
        }
        argv.push(exe);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).env_clear();
        cmd
    }
}

/// `path` made absolute (against the current directory), as the sandbox
/// binds it and as ffmpeg must then be given it.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// bubblewrap's arguments: a fresh root with `/usr` (and the merged-/usr
/// links or directories beside it), the dynamic linker's cache, a minimal
/// `/dev`, and the input.
fn sandbox_args(input: Option<&Path>) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |items: &[&OsStr]| a.extend(items.iter().map(|s| s.to_os_string()));
    push(&[
        "--unshare-all".as_ref(),
        "--die-with-parent".as_ref(),
        "--new-session".as_ref(),
        "--cap-drop".as_ref(),
        "ALL".as_ref(),
        "--ro-bind".as_ref(),
        "/usr".as_ref(),
        "/usr".as_ref(),
    ]);
    for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        match std::fs::read_link(top) {
            Ok(target) => push(&["--symlink".as_ref(), target.as_os_str(), top.as_ref()]),
            Err(_) if Path::new(top).is_dir() => {
                push(&["--ro-bind".as_ref(), top.as_ref(), top.as_ref()]);
            }
            Err(_) => {}
        }
    }
    for etc in ["/etc/ld.so.cache", "/etc/alternatives"] {
        push(&["--ro-bind-try".as_ref(), etc.as_ref(), etc.as_ref()]);
    }
    push(&["--dev".as_ref(), "/dev".as_ref()]);
    // After `--dev`, so that an input in /dev/shm (the memory-backed
    // scratch) is bound over the sandbox's fresh /dev instead of hidden by it.
    if let Some(input) = input {
        let input = absolute(input);
        push(&["--ro-bind".as_ref(), input.as_os_str(), input.as_os_str()]);
    }
    push(&["--chdir".as_ref(), "/".as_ref()]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn run(mut cmd: Command, args: &[&OsStr]) -> (bool, String, String) {
        cmd.args(args);
        let done = child::run_with_deadline(cmd, "test", Duration::from_secs(20), |mut o| {
            let mut s = String::new();
            let _ = o.read_to_string(&mut s);
            s
        })
        .unwrap();
        (done.status.success(), done.stdout, done.stderr)
    }

    /// The sandbox is what the tests and CI run with (scripts/setup.sh
    /// installs bubblewrap); failing here says the machine lacks it.
    #[test]
    fn the_sandbox_shows_only_the_input_and_no_network() {
        let tools = current();
        assert!(
            tools.sandboxed(),
            "bubblewrap must work for the tests: {:?}",
            tools.unsandboxed
        );
        let dir = tempfile_dir();
        let input = dir.join("input.bin");
        let neighbour = dir.join("neighbour.bin");
        std::fs::write(&input, b"the input").unwrap();
        std::fs::write(&neighbour, b"a neighbour").unwrap();

        let (ok, out, _) = run(tools.command("cat", Some(&input)), &[input.as_os_str()]);
        assert!(ok && out == "the input", "{out}");
        // Positive control: the same command unsandboxed reads the neighbour.
        let (ok, out, _) = run(Command::new("cat"), &[neighbour.as_os_str()]);
        assert!(ok && out == "a neighbour");
        for hidden in [neighbour.as_os_str(), "/etc/passwd".as_ref()] {
            let (ok, out, _) = run(tools.command("cat", Some(&input)), &[hidden]);
            assert!(!ok && out.is_empty(), "{hidden:?} was readable: {out}");
        }
        // No network: ffprobe cannot reach a listener on the host's loopback,
        // which it reaches unsandboxed (the positive control).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let probe: [&OsStr; 5] = [
            "-v".as_ref(),
            "error".as_ref(),
            "-rw_timeout".as_ref(),
            "2000000".as_ref(),
            url.as_ref(),
        ];
        let (ok, _, err) = run(tools.command("ffprobe", None), &probe);
        assert!(!ok, "{err}");
        assert!(
            listener.accept().is_err(),
            "the sandbox reached the network"
        );
        let (ok, _, _) = run(Command::new("ffprobe"), &probe);
        assert!(!ok, "an empty answer is not media");
        assert!(
            listener.accept().is_ok(),
            "control: ffprobe connects unsandboxed"
        );
        // The environment is empty but for bubblewrap's PWD (the server's
        // holds credentials).
        let (ok, out, _) = run(tools.command("env", None), &[]);
        assert!(ok && out.lines().all(|l| l.starts_with("PWD=")), "{out}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Plaintext scratch lives in /dev/shm (`--scratch-dir`), which the
    /// sandbox's own `/dev` would hide: the input is bound after it, so the
    /// child still reads it (and nothing else of /dev/shm).
    #[test]
    fn an_input_in_dev_shm_is_visible_in_the_sandbox() {
        let tools = current();
        assert!(tools.sandboxed(), "{:?}", tools.unsandboxed);
        let dir = tempfile_dir_in(Path::new("/dev/shm"));
        let input = dir.join("input.plain");
        let neighbour = dir.join("neighbour.plain");
        std::fs::write(&input, b"in memory").unwrap();
        std::fs::write(&neighbour, b"a neighbour").unwrap();
        let (ok, out, err) = run(tools.command("cat", Some(&input)), &[input.as_os_str()]);
        assert!(ok && out == "in memory", "{out}{err}");
        let (ok, out, _) = run(tools.command("cat", Some(&input)), &[neighbour.as_os_str()]);
        assert!(!ok && out.is_empty(), "the neighbour was readable: {out}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn children_run_under_the_resource_limits() {
        let limits = MediaLimits {
            memory_bytes: 300 << 20,
            open_files: 17,
            decode_timeout: Duration::from_secs(42),
            sandbox: SandboxSetting::Off,
            ..MediaLimits::default()
        };
        let tools = MediaTools::detect(limits).unwrap();
        assert!(tools.prlimit.is_some(), "prlimit (util-linux) is needed");
        assert!(!tools.sandboxed());
        let (ok, out, err) = run(
            tools.command("sh", None),
            &[
                "-c".as_ref(),
                "ulimit -v; ulimit -n; ulimit -t; ulimit -f; ulimit -c".as_ref(),
            ],
        );
        assert!(ok, "{err}");
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got, ["307200", "17", "42", "0", "0"]);
    }

    #[test]
    fn a_required_sandbox_that_cannot_work_stops_the_start() {
        let missing = Some(PathBuf::from("/nonexistent/bwrap"));
        let required = MediaLimits {
            sandbox: SandboxSetting::Required,
            ..MediaLimits::default()
        };
        let e = MediaTools::detect_with(required, missing.clone()).expect_err("required");
        assert!(
            e.contains("cannot be used") && e.contains("bubblewrap"),
            "{e}"
        );
        let auto = MediaTools::detect_with(MediaLimits::default(), missing).unwrap();
        assert!(!auto.sandboxed());
        let why = auto.unsandboxed.unwrap();
        assert!(why.contains("/nonexistent/bwrap"), "{why}");
    }

    fn tempfile_dir() -> PathBuf {
        tempfile_dir_in(&std::env::temp_dir())
    }

    fn tempfile_dir_in(parent: &Path) -> PathBuf {
        let dir = parent.join(format!(
            "sealscribe-tools-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_allow_list_has_no_playlist_or_list_demuxer() {
        let names: Vec<&str> = DEMUXERS.split(',').collect();
        for bad in [
            "hls", "concat", "image2", "dash", "sdp", "rtp", "lavfi", "data",
        ] {
            assert!(!names.contains(&bad), "{bad}");
        }
        assert!(names.iter().all(|n| !n.is_empty() && !n.contains(' ')));
    }
}
