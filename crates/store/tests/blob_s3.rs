//! The blob store against a real S3 server (SeaweedFS from `scripts/services.sh`)
//! and against a local directory, with the same assertions where the two agree.
//!
//! S3 tests need `SEALSCRIBE_TEST_S3` (the endpoint), `SEALSCRIBE_TEST_S3_BUCKET`
//! and the `AWS_…` credentials (`source target/services.env`). Without them
//! they say so loudly and pass, unless `SEALSCRIBE_REQUIRE_SERVICES=1`, where
//! they fail. Each test works under its own random prefix of the bucket.

use std::io::Write;
use std::ops::Range;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sealscribe_store::{BlobKey, BlobStore, StoreError};
use sealscribe_testkit::Rng;
use sealscribe_testkit::proc::status_kib;

const MIB: usize = 1024 * 1024;

/// Set in the child processes some tests run themselves in.
const CHILD: &str = "SEALSCRIBE_BLOB_S3_CHILD";

/// Runs the test `name` alone in a fresh process of this test binary (with
/// [`CHILD`] set and the environment adjusted by `adjust`), fails if it fails,
/// and returns its output.
fn run_alone(name: &str, adjust: impl FnOnce(&mut Command)) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1");
    adjust(&mut child);
    let output = child.output().unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{name} in a child process:\n{out}");
    assert!(out.contains("1 passed"), "the child ran {name}:\n{out}");
    out
}

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

struct S3Env {
    endpoint: String,
    bucket: String,
}

fn s3_env() -> Option<S3Env> {
    match std::env::var("SEALSCRIBE_TEST_S3") {
        Ok(endpoint) if !endpoint.is_empty() => Some(S3Env {
            endpoint,
            bucket: std::env::var("SEALSCRIBE_TEST_S3_BUCKET")
                .unwrap_or_else(|_| "sealscribe".into()),
        }),
        _ => {
            assert!(
                std::env::var("SEALSCRIBE_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "SEALSCRIBE_REQUIRE_SERVICES=1 but SEALSCRIBE_TEST_S3 is unset: \
                 run scripts/services.sh start and source target/services.env"
            );
            // Straight to stderr: libtest captures eprintln! of passing tests.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n!!!!!!!! blob_s3: S3 tests skipped: set SEALSCRIBE_TEST_S3 \
                     (scripts/services.sh start) !!!!!!!!\n"
                );
            });
            None
        }
    }
}

impl S3Env {
    fn url(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}",
            self.bucket,
            url_escape(&self.endpoint)
        )
    }
}

fn url_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace('+', "%2B")
}

/// A store under a fresh random prefix, and that prefix.
fn s3_store(env: &S3Env) -> (TestStore, String) {
    let prefix = format!("tests/{}", uuid::Uuid::new_v4());
    let url = env.url(&prefix);
    let store = BlobStore::open(&url).expect("opening the S3 store");
    (TestStore { store, url }, prefix)
}

/// A store that deletes everything under its prefix when dropped, even when
/// the test fails, so the shared bucket does not fill up.
struct TestStore {
    store: BlobStore,
    url: String,
}

impl std::ops::Deref for TestStore {
    type Target = BlobStore;
    fn deref(&self) -> &BlobStore {
        &self.store
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // On a runtime and a client of its own: the test's runtime is blocked
        // here, and the test's client has its connections on that runtime.
        let url = self.url.clone();
        let cleaned = std::thread::spawn(move || {
            let store = BlobStore::open(&url)?;
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(store.delete_prefix(&key("")))
        })
        .join();
        if let Ok(Err(e)) = cleaned {
            eprintln!("cleaning up {}: {e}", self.store.describe());
        }
    }
}

/// Gets the S3 environment, or skips the test.
macro_rules! s3_or_skip {
    () => {
        match s3_env() {
            Some(env) => env,
            None => return,
        }
    };
}

fn key(s: &str) -> BlobKey {
    BlobKey::from(s)
}

/// Deterministic, non-repeating-per-MiB bytes (so a misplaced part shows).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    Rng(seed).bytes(len)
}

async fn read_all(
    store: &BlobStore,
    k: &BlobKey,
    range: Option<Range<u64>>,
) -> (Vec<u8>, Range<u64>, u64) {
    let (mut stream, served, size) = store.read(k, range).await.expect("read");
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("read chunk"));
    }
    (out, served, size)
}

/// Everything `BlobStore` promises, on whichever backend `store` is.
async fn contract(store: &BlobStore, scratch: &std::path::Path) {
    store.ping().await.expect("ping");

    // Small objects, whole and ranged.
    let small = key("media/one/small");
    assert_eq!(store.put_bytes(&small, b"hello, blobs").await.unwrap(), 12);
    assert_eq!(store.size(&small).await.unwrap(), 12);
    assert_eq!(
        read_all(store, &small, None).await,
        (b"hello, blobs".to_vec(), 0..12, 12)
    );
    assert_eq!(
        read_all(store, &small, Some(7..12)).await,
        (b"blobs".to_vec(), 7..12, 12)
    );

    // Ranges running past the end are cut short; ranges starting there are
    // the caller's bug, not an outage.
    assert_eq!(
        read_all(store, &small, Some(7..100)).await,
        (b"blobs".to_vec(), 7..12, 12)
    );
    for range in [12..13, 20..30, 5..5] {
        assert!(
            matches!(
                store.read(&small, Some(range.clone())).await.map(|_| ()),
                Err(StoreError::Internal(_))
            ),
            "range {range:?}"
        );
    }

    // An empty object through the streaming writer.
    let empty = key("media/one/empty");
    let writer = store.writer(&empty).await.unwrap();
    assert_eq!(writer.finish().await.unwrap(), 0);
    assert_eq!(store.size(&empty).await.unwrap(), 0);
    assert_eq!(read_all(store, &empty, None).await.0, Vec::<u8>::new());

    // Missing keys.
    let missing = key("media/one/missing");
    assert!(matches!(
        store.size(&missing).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.read(&missing, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.read(&missing, Some(0..1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.download_to(&missing, &scratch.join("missing")).await,
        Err(StoreError::NotFound)
    ));
    assert!(!scratch.join("missing").exists(), "no partial file is left");
    store
        .delete(&missing)
        .await
        .expect("deleting a missing key is fine");

    // A 17 MiB streamed write: four parts, the last one short.
    let big = key("media/two/original");
    let data = pattern(17 * MIB, 17);
    let mut writer = store.writer(&big).await.unwrap();
    for piece in data.chunks(64 * 1024 + 3) {
        writer.write(piece).await.unwrap();
    }
    assert_eq!(writer.written(), data.len() as u64);
    assert!(
        matches!(store.size(&big).await, Err(StoreError::NotFound)),
        "nothing is visible before finish"
    );
    assert_eq!(writer.finish().await.unwrap(), data.len() as u64);
    assert_eq!(store.size(&big).await.unwrap(), data.len() as u64);
    let (whole, served, size) = read_all(store, &big, None).await;
    assert_eq!((served, size), (0..data.len() as u64, data.len() as u64));
    assert!(whole == data, "the 17 MiB object reads back identical");
    // The same bytes handed over as buffers (`put`, no copy), mixed with copied writes,
    // some buffers larger than a part.
    let put = key("media/two/put");
    let mut writer = store.writer(&put).await.unwrap();
    let mut at = 0;
    for (i, len) in [15, 300_000, 6 * MIB + 1, 64 * 1024, 7 * MIB, 1]
        .iter()
        .cycle()
        .enumerate()
    {
        let end = (at + len).min(data.len());
        if i % 3 == 2 {
            writer.write(&data[at..end]).await.unwrap();
        } else {
            writer
                .put(bytes::Bytes::copy_from_slice(&data[at..end]))
                .await
                .unwrap();
        }
        at = end;
        if at == data.len() {
            break;
        }
    }
    assert_eq!(writer.finish().await.unwrap(), data.len() as u64);
    let (whole, _, _) = read_all(store, &put, None).await;
    assert!(whole == data, "put and write read back identical");

    let n = data.len() as u64;
    let part = 5 * MIB as u64;
    for range in [
        0..1,
        part - 10..part + 10,
        2 * part - 1..3 * part + 1,
        n - 7..n,
        3..n,
    ] {
        let (bytes, served, size) = read_all(store, &big, Some(range.clone())).await;
        assert_eq!((served, size), (range.clone(), n), "range {range:?}");
        assert!(
            bytes == data[range.start as usize..range.end as usize],
            "range {range:?} reads back identical"
        );
    }

    // download_to streams into a file.
    let dest = scratch.join("downloaded");
    assert_eq!(store.download_to(&big, &dest).await.unwrap(), n);
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "download_to copies the bytes"
    );
    match store.local_path(&big) {
        Some(path) => assert!(std::fs::read(path).unwrap() == data),
        None => assert!(store.describe().starts_with("s3://")),
    }

    // upload_file of a 12 MiB file.
    let src = scratch.join("upload");
    let file_data = pattern(12 * MIB, 12);
    std::fs::write(&src, &file_data).unwrap();
    let uploaded = key("media/three/original");
    assert_eq!(
        store.upload_file(&uploaded, &src).await.unwrap(),
        file_data.len() as u64
    );
    assert!(read_all(store, &uploaded, None).await.0 == file_data);

    // put_bytes above the single-request limit goes multipart.
    let large = key("media/three/large");
    let large_data = pattern(6 * MIB, 6);
    assert_eq!(
        store.put_bytes(&large, &large_data).await.unwrap(),
        large_data.len() as u64
    );
    assert!(read_all(store, &large, None).await.0 == large_data);

    // An aborted write leaves nothing; neither does a dropped one.
    let aborted = key("media/four/aborted");
    let mut writer = store.writer(&aborted).await.unwrap();
    writer.write(&data[..6 * MIB]).await.unwrap();
    writer.abort().await;
    assert!(matches!(
        store.size(&aborted).await,
        Err(StoreError::NotFound)
    ));
    let dropped = key("media/four/dropped");
    let mut writer = store.writer(&dropped).await.unwrap();
    writer.write(&data[..6 * MIB]).await.unwrap();
    drop(writer);
    assert!(matches!(
        store.size(&dropped).await,
        Err(StoreError::NotFound)
    ));

    // Overwrites replace.
    store.put_bytes(&small, b"replaced").await.unwrap();
    assert_eq!(read_all(store, &small, None).await.0, b"replaced");

    // delete_prefix removes exactly that prefix, whole segments only.
    for k in [
        "media/del/a",
        "media/del/b",
        "media/del/c",
        "media/delx/d",
        "media/keep/e",
    ] {
        store.put_bytes(&key(k), k.as_bytes()).await.unwrap();
    }
    assert_eq!(store.delete_prefix(&key("media/del")).await.unwrap(), 3);
    for k in ["media/del/a", "media/del/b", "media/del/c"] {
        assert!(
            matches!(store.size(&key(k)).await, Err(StoreError::NotFound)),
            "{k} deleted"
        );
    }
    for k in ["media/delx/d", "media/keep/e"] {
        assert_eq!(
            read_all(store, &key(k), None).await.0,
            k.as_bytes(),
            "{k} survives"
        );
    }
    assert_eq!(store.delete_prefix(&key("media/del")).await.unwrap(), 0);

    // delete removes one object.
    store.delete(&small).await.unwrap();
    assert!(matches!(
        store.size(&small).await,
        Err(StoreError::NotFound)
    ));

    // Everything else goes too.
    assert!(store.delete_prefix(&key("media")).await.unwrap() >= 6);
    assert!(matches!(store.size(&big).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn local_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("blobs").display());
    let store = BlobStore::open(&url).unwrap();
    assert_eq!(store.describe(), url);
    assert!(
        store
            .presigned_get(&key("media/x/y"), Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    contract(&store, scratch.path()).await;
}

#[tokio::test]
async fn s3_store_keeps_the_contract() {
    let env = s3_or_skip!();
    let (store, prefix) = s3_store(&env);
    let scratch = tempfile::tempdir().unwrap();
    assert_eq!(
        store.describe(),
        format!(
            "s3://{}/{prefix} at {}",
            env.bucket,
            env.endpoint.trim_end_matches('/')
        )
    );
    assert!(store.local_path(&key("media/x/original")).is_none());
    contract(&store, scratch.path()).await;
}

#[tokio::test]
async fn s3_keys_live_under_the_prefix_and_prefixes_are_isolated() {
    let env = s3_or_skip!();
    let (one, one_prefix) = s3_store(&env);
    let (two, _) = s3_store(&env);
    let root = BlobStore::open(&format!(
        "s3://{}?endpoint={}",
        env.bucket,
        url_escape(&env.endpoint)
    ))
    .unwrap();

    let k = key("media/same/original");
    one.put_bytes(&k, b"one").await.unwrap();
    two.put_bytes(&k, b"two").await.unwrap();
    assert_eq!(read_all(&one, &k, None).await.0, b"one");
    assert_eq!(read_all(&two, &k, None).await.0, b"two");
    // The object really is PREFIX/key in the bucket.
    let full = key(&format!("{one_prefix}/media/same/original"));
    assert_eq!(read_all(&root, &full, None).await.0, b"one");
    assert!(matches!(root.size(&k).await, Err(StoreError::NotFound)));

    // Deleting everything in one store leaves the other alone.
    assert_eq!(one.delete_prefix(&key("")).await.unwrap(), 1);
    assert!(matches!(one.size(&k).await, Err(StoreError::NotFound)));
    assert_eq!(read_all(&two, &k, None).await.0, b"two");
}

#[tokio::test]
async fn s3_presigned_get_serves_the_object_until_it_expires() {
    let env = s3_or_skip!();
    let (store, prefix) = s3_store(&env);
    let k = key("media/signed/original");
    let data = pattern(300_000, 3);
    store.put_bytes(&k, &data).await.unwrap();
    let http = reqwest::Client::new();

    let url = store
        .presigned_get(&k, Duration::from_secs(300))
        .await
        .unwrap()
        .expect("S3 stores pre-sign");
    assert!(
        url.as_str().starts_with(&format!(
            "{}/{}/{prefix}/media/signed/original?",
            env.endpoint.trim_end_matches('/'),
            env.bucket
        )),
        "{url}"
    );
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    assert!(
        secret.is_empty() || !url.as_str().contains(&secret),
        "no secret in the URL"
    );
    assert!(secret.is_empty() || !store.describe().contains(&secret));
    let response = http.get(url.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.unwrap() == data,
        "the URL serves the bytes"
    );

    // A ranged GET works too (players seek).
    let response = http
        .get(url.clone())
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert!(response.bytes().await.unwrap() == data[10..20]);

    // Tampering with the signature, the key or the expiry is refused.
    let mut bad_signature = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "X-Amz-Signature" {
                let mut v = v.into_owned();
                let last = v.pop().unwrap();
                v.push(if last == '0' { '1' } else { '0' });
                v
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    bad_signature.query_pairs_mut().clear().extend_pairs(&pairs);
    assert_ne!(bad_signature, url);
    let mut other_key = url.clone();
    other_key.set_path(&url.path().replace("/original", "/other"));
    let mut longer = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "X-Amz-Expires" {
                "604800".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    longer.query_pairs_mut().clear().extend_pairs(&pairs);
    store
        .put_bytes(&key("media/signed/other"), b"secret")
        .await
        .unwrap();
    for (what, bad) in [
        ("signature", bad_signature),
        ("key", other_key),
        ("expiry", longer),
    ] {
        let response = http.get(bad).send().await.unwrap();
        assert_eq!(response.status(), 403, "tampered {what} is refused");
    }
    // Unsigned access is refused as well.
    let mut unsigned = url.clone();
    unsigned.set_query(None);
    assert_eq!(http.get(unsigned).send().await.unwrap().status(), 403);

    // An expired URL is refused.
    let short = store
        .presigned_get(&k, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(http.get(short.clone()).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        http.get(short).send().await.unwrap().status(),
        403,
        "expired URL is refused"
    );

    // Lifetimes SigV4 cannot express are a configuration error.
    assert!(matches!(
        store.presigned_get(&k, Duration::ZERO).await,
        Err(StoreError::Config(_))
    ));
    assert!(matches!(
        store
            .presigned_get(&k, Duration::from_secs(8 * 24 * 3600))
            .await,
        Err(StoreError::Config(_))
    ));
}

/// `err` must be `Unavailable`, and have come within the behaviour bound.
fn assert_fast_unavailable<T: std::fmt::Debug>(
    what: &str,
    started: Instant,
    result: Result<T, StoreError>,
) {
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{what}: {result:?}"
    );
    assert!(elapsed < Duration::from_secs(15), "{what} took {elapsed:?}");
    eprintln!("{what}: unavailable after {elapsed:?}");
}

#[tokio::test]
async fn s3_unreachable_endpoint_is_unavailable_within_seconds() {
    let env = s3_or_skip!();
    let store = BlobStore::open(&format!(
        "s3://{}/tests/down?endpoint=http://127.0.0.1:1",
        env.bucket
    ))
    .unwrap();
    assert_eq!(
        store.describe(),
        format!("s3://{}/tests/down at http://127.0.0.1:1", env.bucket)
    );
    let k = key("media/x/original");

    let t = Instant::now();
    assert_fast_unavailable("ping", t, store.ping().await);
    let t = Instant::now();
    assert_fast_unavailable("read", t, store.read(&k, None).await.map(|_| ()));
    let t = Instant::now();
    assert_fast_unavailable("size", t, store.size(&k).await);
    let t = Instant::now();
    assert_fast_unavailable("put_bytes", t, store.put_bytes(&k, b"x").await);
    let t = Instant::now();
    assert_fast_unavailable("writer", t, store.writer(&k).await.map(|_| ()));
    let t = Instant::now();
    assert_fast_unavailable("delete_prefix", t, store.delete_prefix(&key("media")).await);
}

#[tokio::test]
async fn s3_ping_is_bounded_when_the_server_hangs() {
    let env = s3_or_skip!();
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let store = BlobStore::open(&format!(
        "s3://{}/tests/hang?endpoint=http://{addr}",
        env.bucket
    ))
    .unwrap();
    let t = Instant::now();
    assert_fast_unavailable("ping of a hanging server", t, store.ping().await);
    hold.abort();
}

#[tokio::test]
async fn s3_missing_bucket_is_a_configuration_error() {
    let env = s3_or_skip!();
    let bucket = format!(
        "no-such-bucket-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let store = BlobStore::open(&format!(
        "s3://{bucket}/p?endpoint={}",
        url_escape(&env.endpoint)
    ))
    .unwrap();
    match store.ping().await {
        Err(StoreError::Config(msg)) => assert!(msg.contains("does not exist"), "{msg}"),
        other => panic!("ping of a missing bucket: {other:?}"),
    }
}

#[tokio::test]
async fn s3_slow_reader_resumes_after_the_idle_timeout() {
    let env = s3_or_skip!();
    let (store, _) = s3_store(&env);
    let k = key("media/slow/original");
    let data = pattern(8 * MIB, 8);
    store.put_bytes(&k, &data).await.unwrap();
    let (mut stream, _, _) = store.read(&k, None).await.unwrap();
    let mut out = stream.next().await.unwrap().unwrap().to_vec();
    // Longer than the client's 30 s idle timeout.
    tokio::time::sleep(Duration::from_secs(33)).await;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("the read resumes"));
    }
    assert!(
        out == data,
        "a paused read still delivers every byte, in order"
    );
}

/// Runs in a process of its own, so no other test's buffers (or the memory
/// the allocator keeps after them) blur its RSS.
#[tokio::test]
async fn s3_writing_200_mib_keeps_memory_flat() {
    let env = s3_or_skip!();
    if !in_child() {
        let out = run_alone("s3_writing_200_mib_keeps_memory_flat", |_| {});
        for line in out.lines().filter(|l| l.starts_with("200 MiB write")) {
            eprintln!("{line}");
        }
        return;
    }
    let (store, _) = s3_store(&env);
    // Warm up the client (connection pool, TLS-free here, lazy statics).
    store
        .put_bytes(&key("warm"), &pattern(6 * MIB, 1))
        .await
        .unwrap();
    store.delete(&key("warm")).await.unwrap();

    // Reset the high-water mark where the kernel allows it.
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("self", "VmRSS");
    let mut peak = before;
    let total = 200 * MIB;
    let mut piece = vec![0u8; 256 * 1024];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let k = key("media/big/original");
    let mut writer = store.writer(&k).await.unwrap();
    let mut written = 0;
    while written < total {
        rng.fill(&mut piece);
        writer.write(&piece).await.unwrap();
        written += piece.len();
        peak = peak.max(status_kib("self", "VmRSS"));
    }
    writer.finish().await.unwrap();
    let hwm = status_kib("self", "VmHWM");
    if hwm_reset {
        // The kernel's own peak, which sampling between writes could miss.
        peak = peak.max(hwm);
    }
    let growth_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "200 MiB write: RSS {} MiB before, peak sampled {} MiB, VmHWM {} MiB; growth {growth_mib} MiB",
        before / 1024,
        peak / 1024,
        hwm / 1024
    );
    assert!(
        growth_mib < 64,
        "RSS grew by {growth_mib} MiB while writing 200 MiB"
    );
    assert_eq!(store.size(&k).await.unwrap(), total as u64);
}

#[tokio::test]
async fn bad_urls_are_configuration_errors() {
    for (url, needle) in [
        ("s3://", "no bucket"),
        ("s3:///just/a/prefix", "no bucket"),
        ("s3://bucket/p?endpoint=ftp://x", "invalid S3 endpoint"),
        (
            "s3://bucket/p?endpoint=http://u:hunter2@h:1/",
            "invalid S3 endpoint",
        ),
        (
            "s3://bucket/p?colour=blue",
            "unknown blob store URL parameter",
        ),
        ("s3://key:hunter2@bucket/p", "must not carry credentials"),
        ("s3://bucket/a//b", "invalid prefix"),
        ("gs://bucket", "unsupported blob store scheme"),
        ("not a url", "invalid blob store URL"),
        ("file://relative", "absolute directory"),
    ] {
        match BlobStore::open(url) {
            Err(StoreError::Config(msg)) => {
                assert!(msg.contains(needle), "{url}: {msg}");
                assert!(!msg.contains("hunter2"), "{url}: credentials in {msg}");
            }
            Err(other) => panic!("{url}: {other:?}"),
            Ok(store) => panic!("{url} opened {}", store.describe()),
        }
    }
}

/// Without credentials the store refuses to open, naming the variables to
/// set. Runs in a child process so the environment can be emptied.
#[test]
fn missing_credentials_are_a_configuration_error() {
    if !in_child() {
        run_alone("missing_credentials_are_a_configuration_error", |child| {
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("AWS_") {
                    child.env_remove(name);
                }
            }
        });
        return;
    }
    match BlobStore::open("s3://bucket/prefix?endpoint=http://127.0.0.1:1") {
        Err(StoreError::Config(msg)) => assert!(
            msg.contains("AWS_ACCESS_KEY_ID") && msg.contains("AWS_SECRET_ACCESS_KEY"),
            "{msg}"
        ),
        Err(other) => panic!("{other:?}"),
        Ok(store) => panic!("opened {}", store.describe()),
    }
}
