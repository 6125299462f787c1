//! The test harness: starting and stopping real servers, running CLI commands.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_sealscribe");

/// Where the servers of a test keep their state. The whole suite runs once
/// per backend: `SEALSCRIBE_IT_BACKEND=scaled` (set by scripts/test.sh, with
/// the services of scripts/services.sh) puts every test on PostgreSQL and S3;
/// unset, on the embedded SQLite + files default.
pub enum Backend {
    Embedded,
    Scaled {
        /// `postgres://…/<database>`: a database of this test's own.
        database_url: String,
        /// Server URL without a database, to create and drop it.
        admin_url: String,
        database: String,
        /// `s3://bucket/<prefix>`: a prefix of this test's own.
        blob_store: String,
        s3_endpoint: String,
    },
}

/// A temporary data directory plus the log file servers started on it write to.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    /// The servers' `--scratch-dir`: memory-backed, of this test's own (the
    /// default, machine-wide `/dev/shm`, is shared by every server).
    pub scratch: tempfile::TempDir,
}

fn random_name(prefix: &str) -> String {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase();
    name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

impl Env {
    pub fn new() -> Self {
        let backend = match std::env::var("SEALSCRIBE_IT_BACKEND").as_deref() {
            Ok("scaled") => {
                let var = |name: &str| {
                    std::env::var(name).unwrap_or_else(|_| {
                        panic!("{name} is not set: run scripts/services.sh start and source target/services.env")
                    })
                };
                let admin_url = var("SEALSCRIBE_TEST_POSTGRES");
                let database = random_name("it_");
                psql(
                    &format!("{admin_url}/postgres"),
                    &format!("create database {database}"),
                );
                Backend::Scaled {
                    database_url: format!("{admin_url}/{database}"),
                    admin_url,
                    blob_store: format!(
                        "s3://{}/{}",
                        var("SEALSCRIBE_TEST_S3_BUCKET"),
                        random_name("it-")
                    ),
                    s3_endpoint: var("SEALSCRIBE_TEST_S3"),
                    database,
                }
            }
            Ok("embedded") | Err(_) => Backend::Embedded,
            Ok(other) => panic!("SEALSCRIBE_IT_BACKEND={other}: expected embedded or scaled"),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        if let Backend::Scaled { .. } = backend {
            // PostgreSQL needs a key-encryption key given to every process
            // (the embedded default creates DATA_DIR/kek itself).
            sealscribe_seal::kek::Keyring::create(&dir.path().join("kek")).expect("create the KEK");
        }
        Self {
            dir,
            backend,
            scratch: tempfile::Builder::new()
                .prefix("sealscribe-it-")
                .tempdir_in("/dev/shm")
                .expect("a scratch directory in /dev/shm"),
        }
    }

    /// The key-encryption key file the servers of this test read.
    pub fn kek_path(&self) -> PathBuf {
        match self.backend {
            Backend::Embedded => self.data_dir().join("kek"),
            Backend::Scaled { .. } => self.dir.path().join("kek"),
        }
    }

    /// The database URL the servers of this test use.
    pub fn database_url(&self) -> String {
        match &self.backend {
            Backend::Embedded => format!(
                "sqlite://{}",
                self.data_dir().join("sealscribe.db").display()
            ),
            Backend::Scaled { database_url, .. } => database_url.clone(),
        }
    }

    /// The stored (wrapped) seal key of media `id`, which must be in processing.
    pub async fn wrapped_seal_key(&self, id: &str) -> String {
        let db = sealscribe_store::open_db(&self.database_url())
            .await
            .unwrap();
        let media = db.load_media(id.parse().unwrap()).await.unwrap().unwrap();
        media
            .encryption
            .and_then(|e| e.wrapped_seal_key)
            .expect("an encrypted media in processing has a wrapped seal key")
    }

    /// The seal key of media `id` (in processing), unwrapped with this test's
    /// key-encryption key file: what scans look for (hex, either case, and raw).
    pub async fn seal_key(&self, id: &str) -> sealscribe_seal::SealKey {
        let wrapped = self.wrapped_seal_key(id).await;
        sealscribe_seal::kek::Keyring::open(&self.kek_path())
            .unwrap()
            .unwrap(&wrapped, id)
            .unwrap()
    }

    pub fn is_scaled(&self) -> bool {
        matches!(self.backend, Backend::Scaled { .. })
    }

    /// Points a `sealscribe` command at this test's storage.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.arg("--data-dir").arg(self.data_dir());
        cmd.env("SEALSCRIBE_SCRATCH_DIR", self.scratch.path());
        match &self.backend {
            Backend::Embedded => {
                cmd.env_remove("SEALSCRIBE_DATABASE_URL")
                    .env_remove("SEALSCRIBE_KEK_FILE")
                    .env_remove("SEALSCRIBE_KEK")
                    .env_remove("SEALSCRIBE_BLOB_STORE")
                    .env_remove("SEALSCRIBE_S3_ENDPOINT");
            }
            Backend::Scaled {
                database_url,
                blob_store,
                s3_endpoint,
                ..
            } => {
                cmd.env("SEALSCRIBE_DATABASE_URL", database_url)
                    .env("SEALSCRIBE_KEK_FILE", self.kek_path())
                    .env_remove("SEALSCRIBE_KEK")
                    .env("SEALSCRIBE_BLOB_STORE", blob_store)
                    .env("SEALSCRIBE_S3_ENDPOINT", s3_endpoint);
            }
        }
    }

    /// The blob store this test's servers use, opened from the test.
    pub fn blob_store(&self) -> sealscribe_store::BlobStore {
        match &self.backend {
            Backend::Embedded => sealscribe_store::BlobStore::open(&format!(
                "file://{}",
                self.data_dir().join("blobs").display()
            ))
            .unwrap(),
            Backend::Scaled {
                blob_store,
                s3_endpoint,
                ..
            } => sealscribe_store::BlobStore::open_with(
                blob_store,
                &sealscribe_store::S3Settings {
                    endpoint: Some(s3_endpoint.clone()),
                    region: None,
                },
            )
            .unwrap(),
        }
    }

    /// The names of every blob stored (`media/<id>/<stream>`).
    pub async fn blob_names(&self) -> Vec<String> {
        self.blob_store().list_keys("").await.unwrap()
    }

    /// Everything the operator's storage holds, as (where, bytes): every file
    /// under the data directory and, on the scaled backend, a dump of the
    /// PostgreSQL database (and its bytea values decoded) and every object
    /// of the S3 prefix.
    pub async fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = files_under(&self.data_dir())
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        if let Backend::Scaled { database_url, .. } = &self.backend {
            let dump = Command::new("pg_dump")
                .arg(database_url)
                .output()
                .expect("pg_dump is installed (postgresql-client)");
            assert!(dump.status.success(), "pg_dump failed");
            let decoded = decode_bytea(&dump.stdout);
            out.push(("postgres dump".into(), dump.stdout));
            out.push(("postgres bytea values".into(), decoded));
            let blobs = self.blob_store();
            for key in blobs.list_keys("").await.unwrap() {
                let bytes = blobs.get_bytes(&key).await.unwrap();
                out.push((format!("s3 {key}"), bytes));
            }
        }
        out
    }

    /// Every scratch directory this test's servers may write to: the
    /// memory-backed `--scratch-dir` and the data directory's `tmp`.
    pub fn scratch_dirs(&self) -> Vec<PathBuf> {
        vec![
            self.scratch.path().to_path_buf(),
            self.data_dir().join("tmp"),
        ]
    }

    /// The first column of the first row `query` returns on this test's
    /// database, as text (`None` for no row or SQL null).
    pub async fn sql_text(&self, query: &str) -> Option<String> {
        match &self.backend {
            Backend::Scaled { database_url, .. } => {
                let out = Command::new("psql")
                    .args([database_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", query])
                    .output()
                    .expect("psql is installed (postgresql-client)");
                assert!(out.status.success(), "psql {query}");
                let text = String::from_utf8(out.stdout).unwrap();
                let line = text.lines().next().unwrap_or_default();
                (!line.is_empty()).then(|| line.to_owned())
            }
            Backend::Embedded => {
                use sqlx::Connection;
                let path = self.data_dir().join("sealscribe.db");
                let mut db =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("open the test's database");
                let value: Option<Option<String>> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
                        .fetch_optional(&mut db)
                        .await
                        .unwrap_or_else(|e| panic!("{query}: {e}"));
                db.close().await.expect("close the test's database");
                value.flatten()
            }
        }
    }

    /// Every file the operator's storage keeps on this machine, as (where,
    /// bytes): the data directory (SQLite files and blobs on the embedded
    /// backend), every scratch directory and, on the scaled backend, the
    /// files of PostgreSQL (this test's database and the WAL, after a
    /// checkpoint has written every dirty page) and of the S3 server's data
    /// directory (scripts/services.sh writes where they are).
    pub async fn files_at_rest(&self) -> Vec<(String, Vec<u8>)> {
        let mut paths = files_under(&self.data_dir());
        for dir in self.scratch_dirs() {
            paths.extend(files_under(&dir));
        }
        if let Backend::Scaled {
            admin_url,
            database,
            ..
        } = &self.backend
        {
            let (pgdata, s3dir) = (service_dir("pgdata"), service_dir("s3dir"));
            psql(&format!("{admin_url}/postgres"), "checkpoint");
            let oid = self
                .sql_text(&format!(
                    "select oid::text from pg_database where datname = '{database}'"
                ))
                .await
                .expect("the test's database");
            let ours = files_under(&pgdata.join("base").join(&oid));
            assert!(
                !ours.is_empty(),
                "no files for database {database} in {pgdata:?}"
            );
            paths.extend(ours);
            paths.extend(files_under(&pgdata.join("pg_wal")));
            let objects = files_under(&s3dir.join("data"));
            assert!(!objects.is_empty(), "no files in the S3 server's {s3dir:?}");
            paths.extend(objects);
        }
        paths
            .into_iter()
            // Files may go while the list is read (other tests' WAL segments).
            .filter_map(|p| Some((p.display().to_string(), std::fs::read(&p).ok()?)))
            .collect()
    }

    /// Runs one SQL statement on this test's database behind the servers'
    /// back, as another version of sealscribe (or damage) could write it.
    pub async fn sql(&self, statement: &str) {
        match &self.backend {
            Backend::Scaled { database_url, .. } => psql(database_url, statement),
            Backend::Embedded => {
                use sqlx::Connection;
                let path = self.data_dir().join("sealscribe.db");
                let mut db =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("open the test's database");
                sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut db)
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
                db.close().await.expect("close the test's database");
            }
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Everything servers on this environment have logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `sealscribe ARGS` on this test's storage.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        self.configure(&mut cmd);
        cmd.output().expect("run sealscribe")
    }

    /// `sealscribe accounts create NAME`, returning the token it prints.
    pub fn create_account(&self, name: &str) -> String {
        let out = self.cli(&["accounts", "create", name]);
        assert!(
            out.status.success(),
            "accounts create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "the token must be alone on stdout: {stdout:?}"
        );
        lines[0].to_owned()
    }

    pub fn start(&self) -> Server {
        Server::start(self, &[], &[])
    }

    /// Starts a server with extra `serve` flags.
    pub fn start_with(&self, args: &[&str]) -> Server {
        Server::start(self, args, &[])
    }

    /// Starts a server with extra `serve` flags and environment variables.
    pub fn start_with_env(&self, args: &[&str], vars: &[(&str, String)]) -> Server {
        Server::start(self, args, vars)
    }

    /// Speech synthesised by espeak-ng, as a WAV file in this environment.
    pub fn speech(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.wav"));
        let status = Command::new("espeak-ng")
            .args(["-v", "en-us", "-s", "150", "-w"])
            .arg(&path)
            .arg(text)
            .status()
            .expect("espeak-ng is installed (scripts/setup.sh --test)");
        assert!(status.success());
        path
    }
}

/// A running `sealscribe serve`. Killed (SIGKILL) on drop if not stopped.
pub struct Server {
    child: Child,
    pub base: String,
    /// `http://…/metrics` when started with `--metrics-listen`.
    pub metrics: Option<String>,
    pub http: reqwest::Client,
}

impl Server {
    fn start(env: &Env, extra: &[&str], vars: &[(&str, String)]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.log_path())
            .expect("log file");
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(extra);
        env.configure(&mut cmd);
        cmd.envs(vars.iter().map(|(k, v)| (k, v)));
        let mut child = cmd
            .env("SEALSCRIBE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn sealscribe serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // The metrics line, when there is one, comes before this one.
            let mut metrics = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("sealscribe metrics on ") {
                    metrics = Some(url.to_owned());
                }
                if let Some(url) = line.strip_prefix("sealscribe listening on ") {
                    let _ = tx.send((url.to_owned(), metrics.take()));
                }
            }
        });
        let (base, metrics) = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(urls) => urls,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start; log:\n{}", env.log());
            }
        };
        Server {
            child,
            base,
            metrics,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process id, for crash tests.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `POST /v3/media` the way VoiceBase clients do: a `media` file part
    /// with a file name and MIME type, and JSON parts sent as files.
    pub async fn upload(
        &self,
        token: &str,
        audio: Vec<u8>,
        configuration: Option<&str>,
        metadata: Option<&str>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        if let Some(c) = configuration {
            form = form.part("configuration", json_part("configuration.json", c));
        }
        form = form.part(
            "media",
            reqwest::multipart::Part::bytes(audio)
                .file_name("recording.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
        if let Some(m) = metadata {
            form = form.part("metadata", json_part("metadata.json", m));
        }
        self.http
            .post(self.url("/v3/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    /// `POST /v3/media` with a form the test built itself; asserts 200 and returns the
    /// `mediaId`.
    pub async fn post_form_ok(&self, token: &str, form: reqwest::multipart::Form) -> String {
        let resp = self
            .http
            .post(self.url("/v3/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()["mediaId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST /v3/security/public-keys` the way the seed's curl does it,
    /// returning the `publicKeyId`.
    pub async fn upload_key(&self, token: &str, key: Vec<u8>) -> String {
        let resp = self
            .http
            .post(self.url("/v3/security/public-keys"))
            .bearer_auth(token)
            .header("Content-Type", "application/octet-stream")
            .body(key)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "key refused: {body}");
        body["publicKeyId"].as_str().unwrap().to_owned()
    }

    /// Uploads and returns the media id, checking the v3 "accepted" answer.
    pub async fn upload_ok(
        &self,
        token: &str,
        audio: Vec<u8>,
        configuration: Option<&str>,
        metadata: Option<&str>,
    ) -> String {
        let resp = self.upload(token, audio, configuration, metadata).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "upload refused: {body}");
        assert_eq!(body["status"], "accepted");
        body["mediaId"].as_str().unwrap().to_owned()
    }

    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// Polls the media until it is finished or failed; returns the document.
    pub async fn wait(&self, token: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let doc = self.get_json(token, &format!("/v3/media/{id}")).await;
            match doc["status"].as_str().unwrap() {
                "finished" | "failed" => return doc,
                _ if Instant::now() > deadline => panic!("media {id} did not finish: {doc}"),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Backend::Scaled {
            admin_url,
            database,
            ..
        } = &self.backend
        {
            // Servers of this test are gone by now (they are dropped first).
            psql(
                &format!("{admin_url}/postgres"),
                &format!("drop database if exists {database} with (force)"),
            );
        }
    }
}

/// A directory of the services scripts/services.sh started: `pgdata` (the
/// PostgreSQL data directory) or `s3dir` (the S3 server's).
pub fn service_dir(name: &str) -> PathBuf {
    let at = format!(
        "{}/../../target/services/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let dir = std::fs::read_to_string(&at)
        .unwrap_or_else(|e| panic!("{at}: {e} (scripts/services.sh start)"));
    PathBuf::from(dir.trim())
}

/// Runs one SQL statement with psql.
pub fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql is installed (postgresql-client)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bytes of every `\x…` bytea literal in a pg_dump, concatenated with
/// newlines, so scans see binary column values as stored.
fn decode_bytea(dump: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(dump);
    let mut out = Vec::new();
    for piece in text.split("\\x").skip(1) {
        let hex: String = piece.chars().take_while(char::is_ascii_hexdigit).collect();
        if let Ok(bytes) = hex::decode(&hex[..hex.len() & !1]) {
            out.extend_from_slice(&bytes);
            out.push(b'\n');
        }
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks a v3 error envelope and returns its message.
pub async fn expect_error(resp: reqwest::Response, status: u16, code: u64) -> String {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["status"], status, "envelope status: {body}");
    assert_eq!(body["errors"][0]["code"], code, "error code: {body}");
    assert!(
        body["warnings"].is_array(),
        "warnings must be an array: {body}"
    );
    let reference = body["reference"].as_str().expect("reference");
    assert!(uuid_like(reference), "reference is a UUID: {reference}");
    let message = body["errors"][0]["error"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        message.len() > 10,
        "a message a person can act on: {message:?}"
    );
    message
}

pub fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|&c| c == '-').count() == 4
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

pub fn json_part(file_name: &str, text: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::text(text.to_owned())
        .file_name(file_name.to_owned())
        .mime_str("application/json")
        .unwrap()
}

/// Words of a transcript document, lower-case, without punctuation tokens. Every transcript a
/// test reads this way is also checked for decoder loops (no phrase repeated 8 times in a row).
pub fn words(transcript: &Value) -> Vec<String> {
    let words: Vec<String> = transcript["words"]
        .as_array()
        .expect("words")
        .iter()
        .filter(|w| w.get("m").is_none())
        .map(|w| {
            w["w"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect()
        })
        .collect();
    sealscribe_testkit::assert_no_repeated_ngrams(&words.join(" "));
    words
}

/// A one-file HTTP server on 127.0.0.1 for `mediaUrl` tests: answers every GET
/// with `body` (or with `status` and no body). Lives until the test ends.
pub fn serve_file(body: Vec<u8>, status: u16) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let mut request = Vec::new();
            while !contains(&request, b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let body: &[u8] = if status == 200 { &body } else { b"" };
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    format!("http://{addr}/recording.wav")
}
