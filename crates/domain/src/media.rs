//! Media items as stored, their processing status and the progress tasks a
//! customer sees in `GET /v3/media/{id}/progress`.

use chrono::{DateTime, Utc};
use sealscribe_transcript::Transcript;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AccountId, MediaId};

/// `status` of a media item (v3 `VbStatusEnum`, the subset sealscribe uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MediaStatus {
    Accepted,
    Running,
    Finished,
    Failed,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "accepted" => Self::Accepted,
            "running" => Self::Running,
            "finished" => Self::Finished,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// Status of one pipeline task (v3 `VbTaskStatusEnum` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Pending,
    Started,
    Completed,
    Failed,
    Skipped,
}

/// One step of the pipeline as the progress endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    pub display: String,
    pub phase: String,
    pub status: TaskStatus,
}

/// Why processing failed, as the customer sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub code: u32,
    pub error: String,
}

/// Where the media bytes come from.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaSource {
    /// Uploaded in the request and already in the blob store.
    Upload {
        file_name: Option<String>,
        content_type: Option<String>,
        size_bytes: u64,
    },
    /// To be fetched by a worker.
    Url(String),
}

/// A media item as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaRecord {
    pub id: MediaId,
    pub account_id: AccountId,
    pub status: MediaStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub media_url: Option<String>,
    pub size_bytes: Option<u64>,
    /// Duration in milliseconds, known once probed.
    pub length_ms: Option<u64>,
    /// The normalised configuration (sealscribe's own JSON form).
    pub configuration: Value,
    /// The v3 metadata object, if any.
    pub metadata: Option<Value>,
    /// The v3 transcript (recognised, or aligned to a customer's text).
    pub transcript: Option<Value>,
    /// The transcript as recognised, kept so alignment can be redone.
    pub recognised: Option<Value>,
    pub tasks: Vec<Task>,
    pub failure: Option<Failure>,
    /// Whether the media may enter the search index.
    pub searchable: bool,
    /// Present when the media is encrypted to a customer's key.
    pub encryption: Option<Encryption>,
    /// v3 `prediction` (`{detectors:[…]}`) when detectors ran; never for encrypted media.
    pub prediction: Option<Value>,
    /// v3 conversation `metrics[]` when `configuration.metrics` asked for them; never for
    /// encrypted media.
    pub metrics: Option<Value>,
    /// The v3 call-analytics sections (`spotting`, `categories`, `knowledge`) as one JSON
    /// object whose members go at the top level of the media document; never for encrypted
    /// media.
    pub analytics: Option<Value>,
    /// The delivery state of each configured callback (loaded for single media only).
    pub deliveries: Vec<Delivery>,
}

/// A stored part of a media record that this version of sealscribe cannot
/// read (written by a newer version during an upgrade, or damaged).
///
/// The record keeps the raw JSON so that one such row does not break a
/// listing; whoever needs the typed value gets this error instead of a
/// default, and must stop: a configuration read as the default would be
/// processed without its detectors, and its transcript stored unredacted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "the stored {part} of media {media} cannot be read by this version of sealscribe: {reason}"
)]
pub struct Unreadable {
    pub media: MediaId,
    /// Which part: `configuration`, `transcript`, `recognised transcript`.
    pub part: &'static str,
    /// The parser's message. serde's messages may quote a short piece of the
    /// stored value (`invalid type: string "…"`), so this goes to the log and
    /// to the media's own failure reason, never to another account.
    pub reason: String,
}

impl MediaRecord {
    /// The normalised configuration, or why it cannot be read.
    pub fn config(&self) -> Result<crate::configuration::MediaConfig, Unreadable> {
        self.parse("configuration", &self.configuration)
    }

    /// Whether a redacted audio stream is produced for this media.
    pub fn redacts_audio(&self) -> Result<bool, Unreadable> {
        Ok(self.config()?.detectors.iter().any(|d| d.audio.is_some()))
    }

    /// The stored v3 transcript, if there is one.
    pub fn read_transcript(&self) -> Result<Option<Transcript>, Unreadable> {
        self.transcript
            .as_ref()
            .map(|v| self.parse("transcript", v))
            .transpose()
    }

    /// The transcript as recognised (before alignment), if kept.
    pub fn read_recognised(&self) -> Result<Option<Transcript>, Unreadable> {
        self.recognised
            .as_ref()
            .map(|v| self.parse("recognised transcript", v))
            .transpose()
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        part: &'static str,
        value: &Value,
    ) -> Result<T, Unreadable> {
        T::deserialize(value).map_err(|e| Unreadable {
            media: self.id,
            part,
            reason: e.to_string(),
        })
    }
}

/// Where a callback's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// One try at delivering a callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why the try failed, when it did (no URL, no body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The delivery state of `callbacks[index]` of the media's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub index: u32,
    pub status: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
}

/// Client Supplied Encryption state of a media item.
#[derive(Clone, Debug, PartialEq)]
pub struct Encryption {
    /// What the customer sees (`encryption` in the media document).
    pub info: EncryptionInfo,
    /// The customer's key as it was at acceptance.
    pub pinned_key: Vec<u8>,
    /// Key of the sealed working copy, wrapped under the key-encryption key
    /// (`sealscribe_seal::kek`, text `sskw1:…`); `None` once processing has
    /// ended. The database never holds the key itself.
    pub wrapped_seal_key: Option<String>,
    /// Metadata and file name sealed under the seal key (JSON inside), until processed.
    pub sealed_input: Option<Vec<u8>>,
}

/// What is sealed with an encrypted upload (`Encryption::sealed_input`): the
/// customer's metadata and file name, which the database never holds in clear.
/// The API writes it at acceptance; the worker opens it to build the
/// customer's encrypted copy of the results.
///
/// Stored as JSON `{"fileName": …, "metadata": …}` (either may be `null`);
/// [`SealedInput::to_json`] writes exactly the bytes earlier versions wrote,
/// and [`SealedInput::from_json`] reads what they stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedInput {
    #[serde(default)]
    pub metadata: Option<crate::configuration::Metadata>,
    #[serde(default)]
    pub file_name: Option<String>,
}

impl SealedInput {
    /// The plaintext to seal.
    ///
    /// # Errors
    ///
    /// Only if the metadata cannot be represented as JSON (it always can).
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        // Through a `Value`, as the untyped header was written: the same key
        // order whatever serde_json's `preserve_order` feature says.
        serde_json::to_vec(&serde_json::to_value(self)?)
    }

    /// Reads an opened header.
    ///
    /// # Errors
    ///
    /// The bytes are not such a header.
    pub fn from_json(plaintext: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(plaintext)
    }
}

/// The `encryption` block of the v3 media document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInfo {
    pub public_key_id: crate::PublicKeyId,
    pub fingerprint: String,
    /// Lower-case hex SHA-256 of the key as uploaded.
    pub public_key_hash: String,
}

/// What the search index holds for a media item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndexEntry {
    pub title: String,
    pub description: String,
    pub transcript: String,
    /// What each speaker said, for terms restricted to a speaker (`Caller:refund`): one entry
    /// per [`speaker_key`], in order of first turn. Empty for a transcript without turn tokens
    /// (mono media have no speaker).
    pub speakers: Vec<SpeakerWords>,
    /// The values of the account's searchable `metadata.extended` fields
    /// ([`crate::extended`]), for `extendedFilter`. Empty when none is searchable.
    pub extended: Vec<crate::extended::ExtendedValue>,
}

/// The words one speaker said, as the search index keeps them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpeakerWords {
    /// [`speaker_key`] of the speaker's name.
    pub speaker: String,
    /// The speaker's words (not punctuation), separated by spaces, turn after turn.
    pub words: String,
}

/// How a speaker is named in the search index and in a query: the name in lower case, so
/// `caller:refund` finds what the speaker `Caller` said, without control characters (which
/// no database text column need hold: PostgreSQL refuses NUL). The one place this is
/// decided, so both database backends compare speakers alike.
pub fn speaker_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

impl IndexEntry {
    /// The entry for a media item with this metadata and transcript: the metadata's `title`
    /// and `description` (empty when absent or not strings) and the transcript's plain text,
    /// the rendition `GET …/transcript/text` serves. The one place an entry is built, so the
    /// pipeline (after processing) and the API (after a metadata change) index alike.
    pub fn new(metadata: Option<&Value>, transcript: &Transcript) -> Self {
        let field = |name: &str| {
            metadata
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut speakers: Vec<SpeakerWords> = Vec::new();
        for (speaker, word) in transcript.spoken() {
            let Some(speaker) = speaker else { continue };
            if word.is_punctuation() {
                continue;
            }
            let key = speaker_key(speaker);
            let at = match speakers.iter().position(|s| s.speaker == key) {
                Some(at) => at,
                None => {
                    speakers.push(SpeakerWords {
                        speaker: key,
                        words: String::new(),
                    });
                    speakers.len() - 1
                }
            };
            let words = &mut speakers[at].words;
            if !words.is_empty() {
                words.push(' ');
            }
            words.push_str(&word.w);
        }
        IndexEntry {
            title: field("title"),
            description: field("description"),
            transcript: transcript.text(),
            speakers,
            extended: Vec::new(),
        }
    }

    /// This entry with the values of `metadata.extended` for the account's searchable
    /// `fields` ([`crate::extended::extended_values`]), read when the media is indexed: a
    /// field made searchable later does not reach media indexed before.
    #[must_use]
    pub fn with_extended(mut self, fields: &[String], metadata: Option<&Value>) -> Self {
        self.extended = crate::extended::extended_values(fields, metadata);
        self
    }
}

/// A part of the search index a term can be restricted to (`title:frost`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SearchField {
    Title,
    Description,
    Transcript,
}

impl SearchField {
    /// The name used in a v3 `query` and as the index column name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Description => "description",
            Self::Transcript => "transcript",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "title" => Self::Title,
            "description" => Self::Description,
            "transcript" => Self::Transcript,
            _ => return None,
        })
    }
}

/// One term of a full-text query. The query is backend-neutral: each database
/// translates it to its own index's syntax, so no query syntax ever comes from
/// user input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerm {
    /// Restricts the term to one field; `None` matches any field.
    pub field: Option<SearchField>,
    /// Restricts the term to what one speaker said: the [`speaker_key`] of the speaker's
    /// name (then `field` is `None`). Mono media have no speakers, so such a term never
    /// matches them.
    pub speaker: Option<String>,
    /// Only alphanumerics, `'` and `-`, with at least one alphanumeric. Terms
    /// are matched as the index tokenizes them (case-folded and stemmed, `'`
    /// and `-` separating words that must then appear in sequence).
    pub term: String,
}

/// Filters and paging of `GET /v3/media`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaQuery {
    /// Full-text search: media matching every term (implicit AND). An empty
    /// list matches nothing.
    pub text: Option<Vec<SearchTerm>>,
    /// `extendedFilter`: media whose index holds every one of these values (AND).
    pub extended: Vec<crate::extended::ExtendedFilter>,
    pub external_id: Option<String>,
    /// Only media created after (in sort order) this one.
    pub after: Option<MediaId>,
    /// Only media created before (in sort order) this one.
    pub before: Option<MediaId>,
    pub on_or_after: Option<DateTime<Utc>>,
    pub on_or_before: Option<DateTime<Utc>>,
    pub ascending: bool,
    pub limit: u32,
}

/// Kinds of background job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Probe, decode, recognise, detect, redact, build the transcript, index.
    Process,
    /// Deliver `callbacks[index]` of the media's configuration.
    Callback { index: u32 },
}

impl JobKind {
    /// The `kind` column; a callback's index is stored beside it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Callback { .. } => "callback",
        }
    }

    /// From the `kind` column and the stored argument.
    pub fn parse(s: &str, arg: Option<i64>) -> Option<Self> {
        match s {
            "process" => Some(Self::Process),
            "callback" => Some(Self::Callback {
                index: u32::try_from(arg?).ok()?,
            }),
            _ => None,
        }
    }
}

/// A job a worker has leased.
#[derive(Clone, Debug, PartialEq)]
pub struct JobClaim {
    pub job_id: i64,
    pub media_id: MediaId,
    pub kind: JobKind,
    /// How many times this job has been claimed, this time included.
    pub attempt: u32,
}

/// The pipeline's tasks for a media item with this configuration, all pending.
pub fn initial_tasks(config: &crate::configuration::MediaConfig) -> Vec<Task> {
    let encrypted = config.encryption.is_some();
    let detects = !config.detectors.is_empty();
    let redacts_audio = config.detectors.iter().any(|d| d.audio.is_some());
    let metrics = !config.metrics.is_empty();
    let analytics = config.call_analytics();
    [
        (true, "fetch", "Fetch media", "ingest"),
        (
            encrypted,
            "protect",
            "Encrypt the original to the customer's key",
            "ingest",
        ),
        (true, "probe", "Probe media", "ingest"),
        (true, "transcribe", "Speech recognition", "transcription"),
        (metrics, "metrics", "Conversation metrics", "analytics"),
        (true, "transcript", "Build transcript", "transcription"),
        (detects, "detect", "Detect sensitive data", "prediction"),
        (redacts_audio, "redact", "Redact audio", "prediction"),
        (analytics, "analytics", "Call analytics", "analytics"),
        (true, "index", "Search indexing", "publish"),
        (
            encrypted,
            "encrypt",
            "Encrypt results to the customer's key",
            "publish",
        ),
    ]
    .into_iter()
    .filter(|(on, ..)| *on)
    .map(|(_, id, display, phase)| Task {
        task_id: id.into(),
        display: display.into(),
        phase: phase.into(),
        status: TaskStatus::Pending,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::document;

    fn record(configuration: Value, transcript: Option<Value>) -> MediaRecord {
        MediaRecord {
            id: MediaId::new(),
            account_id: AccountId::new(),
            status: MediaStatus::Finished,
            created_at: Utc::now(),
            finished_at: Some(Utc::now()),
            content_type: None,
            file_name: None,
            media_url: None,
            size_bytes: None,
            length_ms: None,
            configuration,
            metadata: None,
            transcript: transcript.clone(),
            recognised: transcript,
            tasks: Vec::new(),
            failure: None,
            searchable: true,
            encryption: None,
            prediction: None,
            metrics: None,
            analytics: None,
            deliveries: Vec::new(),
        }
    }

    #[test]
    fn readable_records_read_as_their_types() {
        let words =
            json!({"confidence": 0.5, "words": [{"p": 0, "s": 0, "e": 9, "c": 0.5, "w": "hi"}]});
        let m = record(json!({"detectors": []}), Some(words));
        assert_eq!(m.config().unwrap().detectors, vec![]);
        assert!(!m.redacts_audio().unwrap());
        assert_eq!(m.read_transcript().unwrap().unwrap().text(), "hi\n");
        assert!(m.read_recognised().unwrap().is_some());
        assert!(document::document(&m).is_ok());
    }

    /// Stored metrics are in the document, with a warning per unavailable group; an
    /// `analytics` callback that does not include `metrics` leaves them out.
    #[test]
    fn metrics_in_the_document() {
        let mut m = record(json!({"metrics": ["overtalk", "sentiment"]}), None);
        let metrics = json!([{"metricGroupName": "overtalk", "metricValues": []}]);
        m.metrics = Some(metrics.clone());
        let doc = document::document(&m).unwrap();
        assert_eq!(doc["metrics"], metrics);
        assert_eq!(doc["warnings"][0]["code"], 16002);
        assert_eq!(doc["warnings"].as_array().unwrap().len(), 1);
        let only = vec!["transcript".to_owned()];
        assert!(
            document::include_only(doc.clone(), Some(&only))
                .get("metrics")
                .is_none()
        );
        let with = vec!["metrics".to_owned()];
        assert_eq!(document::include_only(doc, Some(&with))["metrics"], metrics);
        // Not before the media is finished.
        m.status = MediaStatus::Running;
        assert!(document::document(&m).unwrap().get("metrics").is_none());
    }

    /// What this version cannot read is an error, never the default.
    #[test]
    fn unreadable_records_fail_closed() {
        let m = record(
            json!({"detectors": {"v9": ["PCI"]}}),
            Some(json!({"words": 7})),
        );
        let e = m.config().unwrap_err();
        assert_eq!((e.media, e.part), (m.id, "configuration"));
        assert!(e.to_string().contains("cannot be read"), "{e}");
        assert!(m.redacts_audio().is_err());
        assert_eq!(m.read_transcript().unwrap_err().part, "transcript");
        assert_eq!(
            m.read_recognised().unwrap_err().part,
            "recognised transcript"
        );
        assert!(document::document(&m).is_err());
        assert!(document::full_document(&m).is_err());
        assert!(document::stream_names(&m).is_err());
        // Listings only need the summary, which does not read them.
        assert_eq!(document::summary(&m)["mediaId"], json!(m.id));
    }

    fn metadata() -> crate::configuration::Metadata {
        let extended = serde_json::json!({"agent": "Ann", "score": 3});
        crate::configuration::Metadata {
            title: Some("Call".into()),
            description: None,
            external_id: Some("x-1".into()),
            extended: extended.as_object().cloned(),
        }
    }

    #[test]
    fn sealed_input_round_trips() {
        for input in [
            SealedInput {
                metadata: Some(metadata()),
                file_name: Some("call.wav".into()),
            },
            SealedInput::default(),
        ] {
            let bytes = input.to_json().unwrap();
            assert_eq!(SealedInput::from_json(&bytes).unwrap(), input);
        }
    }

    #[test]
    fn sealed_input_is_written_as_before() {
        // The untyped header earlier versions sealed; stored items hold it.
        let (metadata, file_name) = (Some(metadata()), Some("call.wav"));
        let old =
            serde_json::to_vec(&serde_json::json!({"metadata": metadata, "fileName": file_name}))
                .unwrap();
        let new = SealedInput {
            metadata: metadata.clone(),
            file_name: file_name.map(str::to_owned),
        };
        assert_eq!(new.to_json().unwrap(), old);
        assert_eq!(SealedInput::from_json(&old).unwrap(), new);
        let old_empty =
            serde_json::to_vec(&serde_json::json!({"metadata": null, "fileName": null})).unwrap();
        assert_eq!(SealedInput::default().to_json().unwrap(), old_empty);
        assert_eq!(
            SealedInput::from_json(b"{}").unwrap(),
            SealedInput::default()
        );
    }
}
