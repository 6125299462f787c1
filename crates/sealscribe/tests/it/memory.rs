//! Plaintext only in memory where it can be: the server writes no core dump
//! and cannot be read through ptrace or `/proc/PID/mem` by other processes of
//! its user (not dumpable), and the plaintext of encrypted media lives in the
//! memory-backed `--scratch-dir`, owner-only, and is gone when the job ends.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sealscribe_openpgp::testing::GpgHome;
use serde_json::json;

use crate::common::{BIN, Env, files_under, json_part};

/// `Max core file size` of `/proc/PID/limits`: (soft, hard).
fn core_limit(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[4].to_owned(), fields[5].to_owned())
}

/// The real user id of a process, from `/proc/PID/status`.
fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The owner of `/proc/PID/environ`: the process's user while it is
/// dumpable, root when it is not (the kernel's `task_dump_owner`).
fn environ_owner(pid: u32) -> u32 {
    std::fs::metadata(format!("/proc/{pid}/environ"))
        .unwrap()
        .uid()
}

/// `program args…`, as user nobody when we are root (root owns nothing to
/// tell apart), else as ourselves.
fn as_unprivileged(program: &str) -> Command {
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            program,
        ]);
        cmd
    } else {
        Command::new(program)
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An API-only server (no model to read) run by an unprivileged user: its
/// core limit is 0, its `/proc/PID` entries belong to root (not dumpable)
/// while those of another process of the same user (the control) do not,
/// and it still serves.
#[tokio::test]
async fn the_server_writes_no_core_and_is_not_dumpable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = as_unprivileged(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("SEALSCRIBE_DATABASE_URL")
        .env_remove("SEALSCRIBE_BLOB_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut server = Killed(cmd.spawn().expect("start sealscribe serve"));
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("sealscribe listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server starts as an unprivileged user");
    // setpriv execs the server: same process.
    let pid = server.0.id();

    let mut control = Killed(as_unprivileged("sleep").arg("60").spawn().unwrap());
    // Once setpriv has become `sleep` (exec), its user is the server's.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{}/comm", control.0.id())).unwrap() != "sleep\n" {
        assert!(Instant::now() < deadline, "the control did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    let user = uid_of(control.0.id());
    assert_eq!(uid_of(pid), user);
    assert_ne!(user, 0);
    assert_eq!(
        environ_owner(control.0.id()),
        user,
        "control: a dumpable process owns its /proc entries"
    );
    assert_eq!(environ_owner(pid), 0, "the server is dumpable");
    assert_eq!(core_limit(pid), ("0".into(), "0".into()));
    assert_ne!(
        core_limit(control.0.id()).1,
        "0",
        "control: the hard core limit is not 0 for other processes"
    );
    // Memory readings (what crates/testkit and the benches read) still work
    // for the server's own user; its environment (credentials) and memory do
    // not, for another process of that user.
    let read_as_user = |file: &str| {
        as_unprivileged("cat")
            .arg(format!("/proc/{pid}/{file}"))
            .output()
            .unwrap()
    };
    let status = read_as_user("status");
    assert!(status.status.success());
    assert!(String::from_utf8_lossy(&status.stdout).contains("VmRSS:"));
    assert!(sealscribe_testkit::proc::try_status_kib(&pid.to_string(), "VmRSS").is_some());
    assert!(!read_as_user("environ").status.success());
    assert!(
        as_unprivileged("cat")
            .arg(format!("/proc/{}/environ", control.0.id()))
            .output()
            .unwrap()
            .status
            .success(),
        "control: a dumpable process's environment reads for its user"
    );
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);

    let _ = control.0.kill();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
}

fn filesystem_type(dir: &Path) -> String {
    let out = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The opened upload of an encrypted media is written to the memory-backed
/// `--scratch-dir` (never to the data directory's disk scratch), readable by
/// its owner only, and is gone when the job has finished; the worker's
/// directory goes when the server stops. The worker (as every server) runs
/// with a core limit of 0.
#[tokio::test]
async fn encrypted_plaintext_is_scratched_in_memory_owner_only_and_removed() {
    let env = Env::new();
    let token = env.create_account("acme");
    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Scratch <scratch@example.com>");
    let audio = std::fs::read(env.speech("scratch", "Memory keeps this sentence.")).unwrap();
    let server = env.start();
    assert_eq!(core_limit(server.pid()), ("0".into(), "0".into()));

    let memory = env.scratch.path().to_path_buf();
    let disk = env.data_dir().join("tmp");
    assert_eq!(filesystem_type(&memory), "tmpfs");
    // The worker's own directory, in a sealscribe directory of its own.
    let own: Vec<PathBuf> = files_under(&memory);
    assert!(
        own.len() == 1 && own[0].ends_with(".lock"),
        "the worker's lock file only: {own:?}"
    );
    let sealscribe_dir = own[0].parent().unwrap().parent().unwrap();
    assert!(
        sealscribe_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("sealscribe-")
    );
    let mode = std::fs::metadata(sealscribe_dir).unwrap().mode();
    assert_eq!(mode & 0o777, 0o700);

    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let config = json!({"encryption": {"publicKeyId": key_id}}).to_string();
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("configuration.json", &config))
        .part(
            "media",
            reqwest::multipart::Part::bytes(audio)
                .file_name("scratch.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    let id = server.post_form_ok(&token, form).await;

    // Watch both scratch directories while the job runs.
    let mut seen_in_memory: Vec<(PathBuf, u32)> = Vec::new();
    let mut seen_on_disk: Vec<PathBuf> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut polls = 0u32;
    loop {
        for path in files_under(&memory) {
            if path.extension().is_some_and(|e| e == "plain")
                && let Ok(meta) = std::fs::metadata(&path)
                && !seen_in_memory.iter().any(|(p, _)| *p == path)
            {
                seen_in_memory.push((path, meta.mode()));
            }
        }
        seen_on_disk.extend(
            files_under(&disk)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "plain" || e == "wav")),
        );
        polls += 1;
        if polls.is_multiple_of(50) {
            let status = server.get_json(&token, &format!("/v3/media/{id}")).await;
            if status["status"] == "finished" {
                break;
            }
            assert_ne!(status["status"], "failed", "{status}");
        }
        assert!(Instant::now() < deadline, "processing did not finish");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        !seen_in_memory.is_empty(),
        "the opened upload was never seen in the memory-backed scratch"
    );
    for (path, mode) in &seen_in_memory {
        assert_eq!(mode & 0o777, 0o600, "{path:?} is not owner-only");
        assert!(path.starts_with(sealscribe_dir));
    }
    assert!(
        seen_on_disk.is_empty(),
        "plaintext on the disk scratch: {seen_on_disk:?}"
    );

    // Finished: nothing but the running worker's lock files is left.
    for dir in env.scratch_dirs() {
        let left: Vec<_> = files_under(&dir)
            .into_iter()
            .filter(|p| !p.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "left after the job: {left:?}");
    }
    assert!(server.stop());
    for dir in env.scratch_dirs() {
        assert!(
            files_under(&dir).is_empty(),
            "left after stop: {:?}",
            files_under(&dir)
        );
    }
}
