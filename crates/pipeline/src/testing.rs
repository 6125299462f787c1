//! Test support: a fake [`SpeechEngine`] and a pipeline over a real SQLite
//! database and blob directory in a temporary directory, so the scheduler's
//! logic (retries, leases, shutdown) is tested without whisper or espeak.
//! Probing still runs ffprobe, on a short silent WAV.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sealscribe_asr::{AsrError, MediaInfo, RecognitionOptions, SpeechEngine, Transcript};
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::media::{MediaRecord, MediaSource, initial_tasks};
use sealscribe_domain::{AccountId, MediaId, TokenHash};
use sealscribe_ingress::UrlPolicy;
use sealscribe_store::{BlobStore, Db, NewMedia, media_blob};

use crate::ctx::{CallbackSettings, Ctx, Settings};

/// One scripted answer of the [`FakeEngine`].
type Answer = Box<dyn FnOnce() -> Result<Transcript, AsrError> + Send>;

/// A speech engine that answers from a script, after an optional delay;
/// once the script is used up it recognises an empty transcript.
#[derive(Default)]
pub struct FakeEngine {
    script: Mutex<VecDeque<Answer>>,
    delay: Duration,
    calls: AtomicUsize,
    languages: Mutex<Vec<String>>,
    audio: Mutex<Vec<sealscribe_asr::AudioSelection>>,
    /// Answers for one audio selection (a channel of a stereo call), whatever the call order.
    by_audio: Mutex<Vec<(sealscribe_asr::AudioSelection, Transcript)>>,
}

impl FakeEngine {
    /// Every recognition takes `delay` (blocking, as the real engine does).
    pub fn slow(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// The next recognition fails with the error `make` returns.
    pub fn then_fail(self, make: impl FnOnce() -> AsrError + Send + 'static) -> Self {
        self.script
            .lock()
            .unwrap()
            .push_back(Box::new(move || Err(make())));
        self
    }

    /// Recognitions of `audio` (e.g. one channel) give `transcript`: channels are recognised
    /// in parallel, so their answers cannot be scripted by call order.
    pub fn recognising(
        self,
        audio: sealscribe_asr::AudioSelection,
        transcript: Transcript,
    ) -> Self {
        self.by_audio.lock().unwrap().push((audio, transcript));
        self
    }

    /// The language of each recognition asked for (Whisper's code).
    pub fn languages(&self) -> Vec<String> {
        self.languages.lock().unwrap().clone()
    }

    /// The audio each recognition was asked for (in the order the calls came).
    pub fn audio(&self) -> Vec<sealscribe_asr::AudioSelection> {
        self.audio.lock().unwrap().clone()
    }

    /// How many recognitions were asked for.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl SpeechEngine for FakeEngine {
    fn transcribe(
        &self,
        _media: &Path,
        _info: &MediaInfo,
        opts: &RecognitionOptions,
    ) -> Result<Transcript, AsrError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.languages.lock().unwrap().push(opts.language.clone());
        self.audio.lock().unwrap().push(opts.audio);
        std::thread::sleep(self.delay);
        if let Some((_, t)) = self
            .by_audio
            .lock()
            .unwrap()
            .iter()
            .find(|(a, _)| *a == opts.audio)
        {
            return Ok(t.clone());
        }
        match self.script.lock().unwrap().pop_front() {
            Some(answer) => answer(),
            None => Ok(Transcript::default()),
        }
    }
}

/// A transient engine failure (a server-side problem; retrying may help).
pub fn engine_trouble() -> AsrError {
    AsrError::Engine("the fake engine is having a bad day".into())
}

/// A database, a blob store and scratch space in a temporary directory.
pub struct Fixture {
    pub db: Arc<dyn Db>,
    pub blobs: BlobStore,
    pub account: AccountId,
    dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = sealscribe_store::open_db(&format!("sqlite://{}/db.sqlite", dir.path().display()))
            .await
            .unwrap();
        let blobs = BlobStore::open(&format!("file://{}/blobs", dir.path().display())).unwrap();
        let account = db
            .create_account("acme", "acme_aaa", &TokenHash("h".into()))
            .await
            .unwrap()
            .id;
        Self {
            db,
            blobs,
            account,
            dir,
        }
    }

    /// Settings for one worker `id`, with a 2 s lease.
    pub fn settings(&self, id: &str) -> Settings {
        Settings {
            workers: 1,
            lease: Duration::from_secs(2),
            priority_aging: Duration::from_secs(600),
            poll: Duration::from_millis(50),
            max_attempts: 3,
            shutdown_grace: Duration::from_secs(30),
            tmp_dir: self.dir.path().join("tmp"),
            plain_dir: self.dir.path().join("plain"),
            url_policy: UrlPolicy {
                destinations: sealscribe_ingress::Destinations::default(),
                max_bytes: 1 << 20,
                timeout: Duration::from_secs(5),
            },
            worker_id: id.into(),
            callbacks: CallbackSettings::default(),
        }
    }

    /// What a job run by `settings.worker_id` needs.
    pub fn ctx(&self, engine: &Arc<FakeEngine>, settings: Settings) -> Arc<Ctx> {
        std::fs::create_dir_all(&settings.tmp_dir).unwrap();
        std::fs::create_dir_all(&settings.plain_dir).unwrap();
        Arc::new(Ctx {
            db: self.db.clone(),
            blobs: self.blobs.clone(),
            engine: engine.clone(),
            keys: Arc::new(sealscribe_seal::kek::Keyring::ephemeral()),
            http: sealscribe_ingress::http_client(&settings.url_policy),
            settings,
        })
    }

    /// Uploads a short silent WAV as a new media item (which queues its job).
    pub async fn upload(&self) -> MediaId {
        self.upload_with(&MediaConfig::default()).await
    }

    /// As [`Self::upload`], with `config` as the media's stored configuration.
    pub async fn upload_with(&self, config: &MediaConfig) -> MediaId {
        self.upload_silence(config, 300).await
    }

    /// As [`Self::upload_with`], with `ms` milliseconds of silence as the media.
    pub async fn upload_silence(&self, config: &MediaConfig, ms: u32) -> MediaId {
        self.upload_audio(config, silent_wav(ms)).await
    }

    /// As [`Self::upload_with`], with the media file `wav`.
    pub async fn upload_audio(&self, config: &MediaConfig, wav: Vec<u8>) -> MediaId {
        let id = MediaId::new();
        self.blobs
            .put_bytes(&media_blob(id, "original"), &wav)
            .await
            .unwrap();
        self.db
            .create_media(&NewMedia {
                id,
                account_id: self.account,
                source: MediaSource::Upload {
                    file_name: Some("call.wav".into()),
                    content_type: Some("audio/wav".into()),
                    size_bytes: wav.len() as u64,
                },
                configuration: serde_json::to_value(config).unwrap(),
                metadata: None,
                external_id: None,
                searchable: false,
                tasks: initial_tasks(config),
                encryption: None,
            })
            .await
            .unwrap();
        id
    }

    pub async fn media(&self, id: MediaId) -> MediaRecord {
        self.db.load_media(id).await.unwrap().unwrap()
    }

    /// Claims the next job as `worker` at `now + ahead` (time travel: the
    /// database decides what is due and whose lease expired by the `now` it is given).
    pub async fn claim(
        &self,
        worker: &str,
        ahead: Duration,
    ) -> Option<sealscribe_domain::media::JobClaim> {
        let now = Utc::now() + ahead;
        self.db
            .claim_job(worker, now, now + Duration::from_secs(2))
            .await
            .unwrap()
    }
}

/// 0.3 s of stereo silence as a WAV file (16 kHz, s16le).
pub fn silent_stereo_wav() -> Vec<u8> {
    silent_stereo(300)
}

/// `ms` milliseconds of stereo silence as a WAV file (16 kHz, s16le).
pub fn silent_stereo(ms: u32) -> Vec<u8> {
    let mono = silent_wav(ms);
    let data_len = (mono.len() - 44) * 2;
    let mut wav = mono[..44].to_vec();
    wav[4..8].copy_from_slice(&u32::try_from(data_len + 36).unwrap().to_le_bytes());
    wav[22..24].copy_from_slice(&2u16.to_le_bytes()); // channels
    wav[28..32].copy_from_slice(&(sealscribe_testkit::wav::RATE * 4).to_le_bytes()); // byte rate
    wav[32..34].copy_from_slice(&4u16.to_le_bytes()); // block align
    wav[40..44].copy_from_slice(&u32::try_from(data_len).unwrap().to_le_bytes());
    wav.resize(44 + data_len, 0);
    wav
}

/// `ms` milliseconds of silence as a WAV file.
fn silent_wav(ms: u32) -> Vec<u8> {
    let data_len = ms * sealscribe_testkit::wav::RATE / 1000 * 2;
    let mut wav = sealscribe_testkit::wav::header(data_len).to_vec();
    wav.resize(wav.len() + data_len as usize, 0);
    wav
}
