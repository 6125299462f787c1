//! The scheduler's rules with a fake engine over a real SQLite store: retry
//! with backoff, permanent failure, lease renewal and expiry, shutdown.

use std::time::Duration;

use sealscribe_asr::AsrError;
use sealscribe_domain::MediaId;
use sealscribe_domain::codes;
use sealscribe_domain::media::{MediaStatus, TaskStatus};

use super::*;
use crate::testing::{FakeEngine, Fixture, engine_trouble};

const NOW: Duration = Duration::ZERO;
/// Far enough ahead that every backoff and lease has passed.
const LATER: Duration = Duration::from_secs(24 * 3600);

/// Runs one claimed job to its end, as a worker does (no shutdown).
async fn run(ctx: &Arc<Ctx>, claim: JobClaim) {
    run_job(ctx, claim, &CancellationToken::new()).await;
}

/// The failure of a media item that must have failed.
async fn failure_of(fx: &Fixture, id: MediaId) -> Failure {
    let media = fx.media(id).await;
    assert_eq!(media.status, MediaStatus::Failed);
    media.failure.expect("a failed media says why")
}

#[test]
fn the_backoff_grows_fourfold_up_to_a_limit() {
    let secs: Vec<u64> = (1..=7).map(|a| retry_backoff(a).as_secs()).collect();
    assert_eq!(secs, [5, 20, 80, 320, 1280, 1280, 1280]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_after_the_backoff() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::default().then_fail(engine_trouble));
    let ctx = fx.ctx(&engine, fx.settings("w1"));
    let id = fx.upload().await;

    let claim = fx.claim("w1", NOW).await.expect("the upload queued a job");
    assert_eq!((claim.media_id, claim.attempt), (id, 1));
    let started = Utc::now();
    run(&ctx, claim).await;
    let ended = Utc::now();
    assert_eq!(engine.calls(), 1);
    assert_ne!(fx.media(id).await.status, MediaStatus::Failed);

    // Not due before the backoff has passed…
    let backoff = retry_backoff(1);
    let early = (started + backoff - Utc::now()).to_std().unwrap() - Duration::from_millis(200);
    assert!(fx.claim("w2", early).await.is_none(), "retried too early");
    // …and due once it has, as the second attempt.
    let due = (ended + backoff - Utc::now()).to_std().unwrap() + Duration::from_millis(200);
    let again = fx.claim("w1", due).await.expect("the job is due again");
    assert_eq!((again.media_id, again.attempt), (id, 2));

    run(&ctx, again).await;
    let media = fx.media(id).await;
    assert_eq!(media.status, MediaStatus::Finished);
    assert!(media.transcript.is_some() && media.failure.is_none());
    assert_eq!(engine.calls(), 2);
    assert!(fx.claim("w1", LATER).await.is_none(), "the job is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_fails_the_media_with_its_reason() {
    let fx = Fixture::new().await;
    let engine = Arc::new(
        FakeEngine::default().then_fail(|| AsrError::UnreadableMedia {
            detail: "garbled frames".into(),
        }),
    );
    let ctx = fx.ctx(&engine, fx.settings("w1"));
    let id = fx.upload().await;

    let claim = fx.claim("w1", NOW).await.unwrap();
    run(&ctx, claim).await;

    let media = fx.media(id).await;
    assert_eq!(media.status, MediaStatus::Failed);
    let failure = media.failure.expect("the failure is recorded");
    assert_eq!(failure.code, codes::MEDIA_UNREADABLE);
    // Generic for the customer: what the decoder said stays in the log.
    assert!(
        failure.error.contains("cannot be read") && !failure.error.contains("garbled frames"),
        "{}",
        failure.error
    );
    let status = |task: &str| {
        media
            .tasks
            .iter()
            .find(|t| t.task_id == task)
            .unwrap()
            .status
    };
    assert_eq!(status("probe"), TaskStatus::Completed);
    assert_eq!(status("transcribe"), TaskStatus::Failed);
    assert!(media.transcript.is_none());
    assert!(fx.claim("w1", LATER).await.is_none(), "not retried");
    assert_eq!(engine.calls(), 1);
}

/// The configured language reaches the engine as Whisper's code; an English-only model asked
/// for Spanish fails the media for good, saying what would help.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_is_passed_to_the_engine() {
    use sealscribe_domain::configuration::MediaConfig;
    let fx = Fixture::new().await;
    let engine = Arc::new(
        FakeEngine::default().then_fail(|| AsrError::LanguageNotSupported {
            language: "es".into(),
        }),
    );
    let ctx = fx.ctx(&engine, fx.settings("w1"));
    let config = |language: &str| MediaConfig {
        language: language.into(),
        ..MediaConfig::default()
    };
    let spanish = fx.upload_with(&config("es-MX")).await;
    run(&ctx, fx.claim("w1", NOW).await.unwrap()).await;
    let failure = failure_of(&fx, spanish).await;
    assert_eq!(failure.code, codes::LANGUAGE_NOT_SUPPORTED);
    assert!(failure.error.contains("English only"), "{}", failure.error);
    assert!(
        failure.error.contains("--asr-model base"),
        "{}",
        failure.error
    );
    assert!(fx.claim("w1", LATER).await.is_none(), "not retried");

    for tag in ["en-UK", "es-419"] {
        let id = fx.upload_with(&config(tag)).await;
        run(&ctx, fx.claim("w1", NOW).await.unwrap()).await;
        assert_eq!(fx.media(id).await.status, MediaStatus::Finished, "{tag}");
    }
    assert_eq!(engine.languages(), ["es", "en", "es"]);

    // A stored tag this version does not know fails without recognition.
    let unknown = fx.upload_with(&config("fr-FR")).await;
    run(&ctx, fx.claim("w1", NOW).await.unwrap()).await;
    let failure = failure_of(&fx, unknown).await;
    assert_eq!(failure.code, codes::LANGUAGE_NOT_SUPPORTED);
    assert!(failure.error.contains("fr-FR"), "{}", failure.error);
    assert_eq!(engine.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_on_the_last_attempt_fails_the_media() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::default().then_fail(engine_trouble));
    let settings = Settings {
        max_attempts: 1,
        ..fx.settings("w1")
    };
    let ctx = fx.ctx(&engine, settings);
    let id = fx.upload().await;

    run(&ctx, fx.claim("w1", NOW).await.unwrap()).await;

    // The customer sees an internal error, not the engine's words.
    let failure = failure_of(&fx, id).await;
    assert_eq!(failure.code, codes::INTERNAL);
    assert!(!failure.error.contains("bad day"), "{}", failure.error);
    assert!(fx.claim("w1", LATER).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_renewed_while_a_long_step_runs() {
    let fx = Fixture::new().await;
    // Recognition takes three leases; the heartbeat renews every third of one.
    let lease = Duration::from_millis(1500);
    let engine = Arc::new(FakeEngine::slow(3 * lease));
    let ctx = fx.ctx(
        &engine,
        Settings {
            lease,
            ..fx.settings("w1")
        },
    );
    let id = fx.upload().await;
    let now = Utc::now();
    let claim = fx
        .db
        .claim_job("w1", now, now + lease)
        .await
        .unwrap()
        .unwrap();

    let job = tokio::spawn({
        let ctx = ctx.clone();
        async move { run_job(&ctx, claim, &CancellationToken::new()).await }
    });
    for _ in 0..3 {
        tokio::time::sleep(lease).await;
        assert!(!job.is_finished());
        assert!(
            fx.claim("w2", NOW).await.is_none(),
            "another worker took a job whose worker is alive"
        );
    }
    job.await.unwrap();
    assert_eq!(fx.media(id).await.status, MediaStatus::Finished);
    assert_eq!(engine.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_lets_another_worker_take_the_job() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::default());
    let id = fx.upload().await;
    // A worker claims the job and dies: its lease is never renewed.
    let dead = fx.claim("dead", NOW).await.unwrap();
    assert!(fx.claim("w1", NOW).await.is_none(), "still leased");

    let lease = fx.settings("w1").lease;
    let taken = fx
        .claim("w1", lease + Duration::from_secs(1))
        .await
        .expect("the lease expired");
    assert_eq!((taken.job_id, taken.attempt), (dead.job_id, 2));
    // The dead worker, were it to wake, has lost the job.
    let until = Utc::now() + LATER;
    assert!(!fx.db.renew_lease(dead.job_id, "dead", until).await.unwrap());

    let ctx = fx.ctx(&engine, fx.settings("w1"));
    run(&ctx, taken).await;
    assert_eq!(fx.media(id).await.status, MediaStatus::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_keeps_killing_its_workers_is_abandoned() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::default());
    let settings = Settings {
        max_attempts: 2,
        ..fx.settings("w1")
    };
    let id = fx.upload().await;
    let mut claim = None;
    for (attempt, ahead) in [(1, 0), (2, 3), (3, 6)] {
        let c = fx.claim("w1", Duration::from_secs(ahead)).await.unwrap();
        assert_eq!(c.attempt, attempt);
        claim = Some(c);
    }

    run(&fx.ctx(&engine, settings), claim.unwrap()).await;

    let failure = failure_of(&fx, id).await;
    assert_eq!(failure.code, codes::INTERNAL);
    assert!(
        failure.error.contains("interrupted 2 times"),
        "{}",
        failure.error
    );
    assert_eq!(engine.calls(), 0, "not tried a third time");
}

/// Starts a pool of one worker; returns its shutdown token and tracker.
fn start(
    fx: &Fixture,
    engine: &Arc<FakeEngine>,
    settings: Settings,
) -> (Workers, CancellationToken, TaskTracker) {
    let workers = Workers::new(
        fx.db.clone(),
        fx.blobs.clone(),
        engine.clone(),
        Arc::new(sealscribe_seal::kek::Keyring::ephemeral()),
        settings,
    )
    .unwrap();
    let (shutdown, tracker) = (CancellationToken::new(), TaskTracker::new());
    workers.spawn(&shutdown, &tracker).unwrap();
    (workers, shutdown, tracker)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn stop(shutdown: &CancellationToken, tracker: &TaskTracker) {
    shutdown.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(30), tracker.wait())
        .await
        .expect("the workers stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_claiming_and_lets_the_running_job_end() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::slow(Duration::from_millis(1500)));
    let (a, b) = (fx.upload().await, fx.upload().await);
    let (_workers, shutdown, tracker) = start(&fx, &engine, fx.settings("w1"));

    until("a job is being recognised", || engine.calls() == 1).await;
    stop(&shutdown, &tracker).await;

    let statuses = [fx.media(a).await.status, fx.media(b).await.status];
    assert!(
        statuses.contains(&MediaStatus::Finished) && statuses.contains(&MediaStatus::Accepted),
        "one job ended, the other was not started: {statuses:?}"
    );
    assert_eq!(engine.calls(), 1);
    let left = fx
        .claim("w2", NOW)
        .await
        .expect("the other job is still queued");
    assert_eq!(left.attempt, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_still_running_after_the_grace_period_is_handed_back() {
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::slow(Duration::from_secs(3)));
    let id = fx.upload().await;
    let settings = Settings {
        shutdown_grace: Duration::from_millis(100),
        ..fx.settings("w1")
    };
    let (_workers, shutdown, tracker) = start(&fx, &engine, settings);

    until("the job is being recognised", || engine.calls() == 1).await;
    stop(&shutdown, &tracker).await;

    assert_ne!(fx.media(id).await.status, MediaStatus::Finished);
    let again = fx
        .claim("w2", NOW)
        .await
        .expect("released for another worker at once");
    assert_eq!((again.media_id, again.attempt), (id, 2));
}

/// Scratch roots are shared (a machine-wide /dev/shm): a starting worker
/// removes the directories of dead processes (their lock is free), and
/// leaves alone those of live ones and those still being created (no lock
/// file yet); its own goes when it stops.
#[test]
fn scratch_cleanup_spares_live_and_new_directories() {
    let root = tempfile::tempdir().unwrap();
    let live = super::Scratch::create(root.path(), "live").unwrap();
    std::fs::write(live.dir.join("x.plain"), b"live plaintext").unwrap();
    let dead = root.path().join("dead");
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join(".lock"), b"").unwrap();
    std::fs::write(dead.join("y.plain"), b"a crashed worker's plaintext").unwrap();
    let new = root.path().join("new");
    std::fs::create_dir(&new).unwrap();

    let ours = super::Scratch::create(root.path(), "ours").unwrap();
    assert!(live.dir.join("x.plain").exists());
    assert!(!dead.exists(), "a dead process's scratch is removed");
    assert!(new.exists(), "a directory being created is spared");
    let dir = ours.dir.clone();
    assert!(dir.join(".lock").exists());
    drop(ours);
    assert!(!dir.exists());
}

/// Conversation metrics are computed from the recognised words with the configured speakers,
/// stored with the media and shown by its `metrics` task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_metrics_are_computed_and_stored() {
    use sealscribe_asr::{Transcript, Word};
    use sealscribe_domain::configuration::{Channel, Ingest, MediaConfig, Speaker};
    use sealscribe_domain::conversation_metrics::{self, MetricGroup, MetricGroupResult};

    // The agent talks 1000–5900 ms; the caller starts at 5000 (900 ms of caller overtalk) and
    // talks to 8900. Words of 400 ms every 500 ms, in time order; a turn token starts each
    // turn (while both talk, the words alternate and so do the turns).
    let mut timed: Vec<(&str, u64)> = Vec::new();
    for (speaker, start, n) in [("Agent", 1000, 10), ("Caller", 5000, 8)] {
        timed.extend((0..n).map(|i| (speaker, start + i * 500)));
    }
    timed.sort_by_key(|w| w.1);
    let mut words: Vec<Word> = Vec::new();
    let mut current = "";
    for (speaker, s) in timed {
        let token = |w: &str, e, m: Option<&str>, p: usize| Word {
            p: p as u32,
            s,
            e,
            c: 0.9,
            w: w.into(),
            m: m.map(Into::into),
        };
        if speaker != current {
            words.push(token(speaker, s, Some("turn"), words.len()));
            current = speaker;
        }
        words.push(token("word", s + 400, None, words.len()));
    }
    let transcript = Transcript {
        confidence: 0.9,
        words,
        ..Transcript::default()
    };
    let fx = Fixture::new().await;
    let engine = Arc::new(FakeEngine::default().then_recognise(transcript.clone()));
    let ctx = fx.ctx(&engine, fx.settings("w1"));
    let channel = |name: &str| Channel {
        speaker: Speaker {
            name: name.into(),
            role: None,
        },
        ignore: false,
    };
    let config = MediaConfig {
        metrics: vec![MetricGroup::Overtalk, MetricGroup::TalkTimeAndRate],
        ingest: Ingest::Channels {
            channels: vec![channel("Agent"), channel("Caller")],
        },
        ..MediaConfig::default()
    };
    let id = fx.upload_silence(&config, 10_000).await;
    run(&ctx, fx.claim("w1", NOW).await.unwrap()).await;
    let media = fx.media(id).await;
    assert_eq!(media.status, MediaStatus::Finished);
    let stored: Vec<MetricGroupResult> =
        serde_json::from_value(media.metrics.clone().expect("metrics stored")).unwrap();
    let duration = media.length_ms.unwrap();
    assert!(duration.abs_diff(10_000) < 10, "{duration}");
    let expected = conversation_metrics::compute(
        &transcript,
        duration,
        &conversation_metrics::configured_speakers(&config.ingest),
        &config.metrics,
    );
    assert_eq!(stored, expected);
    let v = |name| conversation_metrics::value_of(&stored, name).unwrap();
    assert_eq!(v("overtalk-incidents"), 1.0);
    assert_eq!(v("caller-overtalk-incidents"), 1.0);
    assert_eq!(v("agent-overtalk-incidents"), 0.0);
    assert_eq!(v("caller-overtalk-ratio"), 0.09); // 900 / 10000
    assert_eq!(v("silence-ratio"), 0.21); // talk 1000–8900
    assert!(
        media
            .tasks
            .iter()
            .any(|t| t.task_id == "metrics" && t.status == TaskStatus::Completed),
        "{:?}",
        media.tasks
    );
    // The document shows them; no warnings, as both groups are computed.
    let doc = sealscribe_domain::document::document(&media).unwrap();
    assert_eq!(doc["metrics"], media.metrics.unwrap());
    assert!(doc.get("warnings").is_none());
}
