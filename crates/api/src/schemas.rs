//! The shapes of request and response bodies: built by the handlers, described by the
//! OpenAPI document. At the bottom of the crate, so that both can use it.
//!
//! Two kinds of types live here:
//! - **typed responses** (`Serialize + ToSchema`): the handlers of this crate
//!   build their bodies from them, so the schema cannot drift from what is sent;
//! - **descriptions** (`ToSchema` only): shapes built elsewhere as JSON (the
//!   media document and summary in `sealscribe_domain::document`, stored
//!   metadata and transcripts, the error envelope of [`crate::error`]). They
//!   are never constructed; the schemathesis contract run
//!   (`scripts/contract.sh`) validates real responses against them, so drift
//!   is caught there.

// Descriptions are never constructed: they exist for their `ToSchema` impls.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
pub use sealscribe_domain::conversation_metrics::{MetricGroup, MetricGroupResult, MetricValue};
pub use sealscribe_domain::detectors::DetectorName;
pub use sealscribe_domain::media::{MediaStatus, Task, TaskStatus};
pub use sealscribe_domain::spotting::KeywordGroup;
pub use sealscribe_transcript::{AlternateFormat, Transcript, Word};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

// -------------------------------------------------------------------------------------------
// Links and errors
// -------------------------------------------------------------------------------------------

/// A HAL-style link.
#[derive(Serialize, ToSchema)]
pub struct Link {
    /// A path on this server.
    pub href: String,
}

impl Link {
    pub fn to(href: impl Into<String>) -> Self {
        Self { href: href.into() }
    }
}

/// `_links` with only `self`.
#[derive(Serialize, ToSchema)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

impl SelfLinks {
    pub fn to(href: impl Into<String>) -> Self {
        Self {
            self_: Link::to(href),
        }
    }
}

/// The VoiceBase v3 error envelope: every error response has this shape.
/// `reference` is logged server-side with the cause; quote it when reporting.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// Exactly one error today.
    #[schema(min_items = 1)]
    pub errors: Vec<ErrorItem>,
    /// Always empty on errors (kept for v3 compatibility).
    #[schema(max_items = 0)]
    pub warnings: Vec<Value>,
    pub reference: Uuid,
}

/// One error: a v3 code (e.g. 10205 not found, 10002 missing token, 95003
/// not available on encrypted media; CONTRACT §2.4) and a sentence for people.
#[derive(Serialize, ToSchema)]
pub struct ErrorItem {
    pub code: u32,
    pub error: String,
}

// -------------------------------------------------------------------------------------------
// Public keys and the callback secret
// -------------------------------------------------------------------------------------------

/// A warning about an accepted key (95007: it expires soon).
#[derive(Serialize, ToSchema)]
pub struct KeyWarning {
    pub code: u32,
    pub message: String,
}

/// An accepted OpenPGP public key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyDocument {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub public_key_id: Uuid,
    /// Upper-case hex fingerprint of the primary key.
    pub fingerprint: String,
    /// Lower-case hex SHA-256 of the key as uploaded.
    pub public_key_hash: String,
    /// Algorithm of the primary key, e.g. `RSA` or `EdDSA`.
    pub algorithm: String,
    pub bits: u32,
    /// Creation time of the primary key.
    pub created: DateTime<Utc>,
    #[schema(required)]
    pub expires: Option<DateTime<Utc>>,
    pub user_ids: Vec<String>,
    pub warnings: Vec<KeyWarning>,
}

/// The caller's keys, as links.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyList {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub public_keys: Vec<PublicKeyLink>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicKeyLink {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
}

/// The secret callbacks are signed with (docs/callbacks.md).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSecret {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub secret: String,
    /// Always `HMAC-SHA256`.
    pub algorithm: String,
    /// Always `X-Sealscribe-Signature`.
    pub header: String,
    /// Always `v2:<t>.<mediaId>.<callbackType>.<body>`: what the header's `v2=` MAC
    /// covers (`t` from the header, the media id and callback type from the
    /// `X-Sealscribe-Media-Id` and `X-Sealscribe-Callback-Type` headers, the raw body).
    /// The deprecated `v1=` MAC, sent for one more release, covers `<t>.<body>`.
    pub signed_payload: String,
}

// -------------------------------------------------------------------------------------------
// Health
// -------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    Ok,
    Unavailable,
}

/// Readiness: `ok` when both the database and the blob store answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: Availability,
    pub database: Availability,
    pub blob_store: Availability,
}

// -------------------------------------------------------------------------------------------
// Media
// -------------------------------------------------------------------------------------------

/// The `multipart/form-data` body of `POST /v3/media`: `media` **or** `mediaUrl`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaUpload {
    /// The recording (audio or video). Streamed to storage.
    #[schema(nullable = false, value_type = Option<String>, format = Binary, content_media_type = "application/octet-stream")]
    pub media: Option<Vec<u8>>,
    /// Where a worker fetches the recording (http or https; private addresses are refused).
    #[schema(nullable = false)]
    pub media_url: Option<String>,
    #[schema(nullable = false)]
    pub configuration: Option<Configuration>,
    #[schema(nullable = false)]
    pub metadata: Option<Metadata>,
}

/// The `multipart/form-data` body of `POST /v3/media/{id}`: a new
/// `configuration` to reprocess with, or a `transcript` (plain text) to align.
#[derive(Serialize, ToSchema)]
pub struct Reprocess {
    #[schema(nullable = false)]
    pub configuration: Option<Configuration>,
    /// Corrected plain text to align to the recognised audio.
    #[schema(nullable = false)]
    pub transcript: Option<String>,
}

/// The processing configuration (v3 `VbConfiguration`). Validation is strict:
/// an unknown property is 400 / 10008, a v3 feature sealscribe does not
/// implement is 400 / 10601 naming it (so they are not described here), and
/// `null` counts as absent. Only what sealscribe does is described.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Configuration {
    pub speech_model: Option<SpeechModel>,
    pub priority: Option<Priority>,
    pub transcript: Option<TranscriptConfig>,
    pub prediction: Option<PredictionConfig>,
    pub publish: Option<PublishConfig>,
    /// Conversation metrics (docs/metrics.md): each group once; an unknown name is 400 / 16001.
    pub metrics: Option<Vec<MetricConfig>>,
    /// Categories to evaluate (docs/categories.md): `[{"allCategories": true}]` or items naming
    /// saved categories; an unknown name is 400 / 16101, a malformed or mixed array 400 / 16102.
    pub categories: Option<Vec<CategoryConfig>>,
    /// Client Supplied Encryption (CONTRACT §2.3).
    pub encryption: Option<EncryptionConfig>,
    pub searchability: Option<Searchability>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeechModel {
    /// English or Spanish, any case: `en-US` (default), `en-UK`, `en-GB`, `en-AU`, `en-IN`,
    /// `en-CA`, `en-NZ`, `en-IE`, `en-ZA`, `en`; `es-US`, `es-ES`, `es-MX`, `es-LA`, `es-419`,
    /// `es-AR`, `es-CO`, `es-CL`, `es-PE`, `es`. Spanish needs the server's multilingual model,
    /// and no number detectors (they read English only).
    #[schema(
        pattern = "^([eE][nN](-([uU][sS]|[uU][kK]|[gG][bB]|[aA][uU]|[iI][nN]|[cC][aA]|[nN][zZ]|[iI][eE]|[zZ][aA]))?|[eE][sS](-([uU][sS]|[eE][sS]|[mM][xX]|[lL][aA]|419|[aA][rR]|[cC][oO]|[cC][lL]|[pP][eE]))?)$"
    )]
    pub language: Option<String>,
    /// Accepted and ignored: sealscribe has one model.
    pub model: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptConfig {
    pub formatting: Option<Formatting>,
    #[serde(rename = "contentFiltering")]
    pub content_filtering: Option<ContentFiltering>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Formatting {
    /// Default true (numbers as the recogniser writes them: digits and symbols). False writes
    /// them as English words in `words[]` and every rendition (docs/knowledge.md); Spanish
    /// media keeps digits.
    pub enable_number_formatting: Option<bool>,
}

/// `transcript.contentFiltering` (docs/knowledge.md).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContentFiltering {
    /// Default false. True replaces the words of sealscribe's English profanity list by `...`
    /// in `words[]`, so every rendition and the search index lack them. English media only
    /// (else 400 / 55000).
    pub enable_profanity_filtering: Option<bool>,
}

/// One `categories[]` item.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CategoryConfig {
    All(AllCategories),
    Named(NamedCategory),
}

/// Every category of the account (alone in the array).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllCategories {
    /// Must be `true`.
    pub all_categories: bool,
}

/// A category saved with `PUT /v3/definition/categories/{categoryName}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedCategory {
    pub category_name: String,
}

/// One `metrics[]` item. `sentiment` and `talk-style-tone-and-volume` are accepted but not
/// available: their metrics are all 0, with a `warnings[]` entry (code 16002) in the document.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricConfig {
    pub metric_group_name: MetricGroup,
}

/// Sensitive-data detection and redaction (docs/redaction.md).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictionConfig {
    pub detectors: Option<Vec<DetectorConfig>>,
}

/// One detector (codes 50001, 50007 when refused).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetectorConfig {
    pub detector_name: DetectorName,
    /// `{parameter, value}` pairs, e.g. PCI's `detectionLevel`.
    pub parameters: Option<Vec<DetectorParameter>>,
    pub redactor: Option<Redactor>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorParameter {
    pub parameter: String,
    pub value: String,
}

/// At least one of `transcript` and `audio` (else 50007). (Not stated as
/// `minProperties`: utoipa 5.5 renders `min_properties` as `maxProperties`.)
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redactor {
    pub transcript: Option<TranscriptRedactor>,
    pub audio: Option<AudioRedactor>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRedactor {
    /// Replaces detected words (default `[redacted]`).
    pub replacement: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioRedactor {
    /// Tone, Hz (default 170).
    #[schema(minimum = 20, maximum = 8000)]
    pub tone: Option<u32>,
    /// Fraction of full scale (default 0.25).
    #[schema(minimum = 0, maximum = 1)]
    pub gain: Option<f64>,
}

/// Where results are delivered (docs/callbacks.md).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    pub callbacks: Option<Vec<CallbackConfig>>,
}

/// One callback (codes 60001–60011 when refused).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackConfig {
    /// http(s); private addresses are refused unless the operator allows them.
    #[schema(format = "uri")]
    pub url: String,
    #[schema(pattern = "^([pP][oO][sS][tT]|[pP][uU][tT])$")]
    pub method: Option<String>,
    /// `analytics` (default), `transcript` or `media`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(analytics|transcript|media)$")]
    pub kind: Option<String>,
    /// For `analytics`: the document sections to send.
    pub include: Option<Vec<String>>,
    /// For `transcript`: `json`, `text`, `srt`, `dfxp` or `webvtt`.
    #[schema(pattern = "^(json|text|srt|dfxp|webvtt)$")]
    pub format: Option<String>,
    /// For `media`: `original` or `redacted-audio`.
    #[schema(pattern = "^(original|redacted-audio)$")]
    pub stream: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EncryptionConfig {
    /// A `publicKeyId` from `POST /v3/security/public-keys`.
    pub public_key_id: Uuid,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Searchability {
    /// Must not be `true` with `encryption`.
    pub searchable: Option<bool>,
}

/// v3 `VbMetadata`. At most 64 KiB; unknown top-level properties are refused.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    #[schema(nullable = false, max_length = 1024)]
    pub title: Option<String>,
    #[schema(nullable = false, max_length = 1024)]
    pub description: Option<String>,
    #[schema(nullable = false, min_length = 1, max_length = 256)]
    pub external_id: Option<String>,
    /// Anything the customer wants to keep with the media.
    #[schema(nullable = false)]
    pub extended: Option<BTreeMap<String, Value>>,
}

/// The metadata as `GET /v3/media/{id}/metadata` serves it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetadataDocument {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    #[schema(nullable = false)]
    pub title: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub external_id: Option<String>,
    #[schema(nullable = false)]
    pub extended: Option<BTreeMap<String, Value>>,
}

/// The stored metadata inside a media document or summary.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredMetadata {
    #[schema(nullable = false)]
    pub title: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub external_id: Option<String>,
    #[schema(nullable = false)]
    pub extended: Option<BTreeMap<String, Value>>,
}

/// One stream of a media item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stream {
    /// `original`, `redacted`, `original-encrypted` or `redacted-encrypted`.
    pub stream_name: String,
    pub stream_location: String,
}

/// `GET /v3/media/{id}/streams`.
#[derive(Serialize, ToSchema)]
pub struct StreamList {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    #[schema(value_type = Vec<Stream>)]
    pub streams: Vec<Value>,
}

/// The `encryption` block of an encrypted media item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInfo {
    pub public_key_id: Uuid,
    pub fingerprint: String,
    /// Lower-case hex SHA-256 of the key as uploaded.
    pub public_key_hash: String,
}

/// `_links` of a media document: `metadata` and the transcript links only for
/// media that are not encrypted.
#[derive(Serialize, ToSchema)]
pub struct MediaLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub progress: Link,
    pub streams: Link,
    #[schema(nullable = false)]
    pub metadata: Option<Link>,
    #[schema(nullable = false)]
    pub transcript: Option<Link>,
    #[schema(nullable = false)]
    pub text: Option<Link>,
    #[schema(nullable = false)]
    pub srt: Option<Link>,
    #[schema(nullable = false)]
    pub webvtt: Option<Link>,
    #[schema(nullable = false)]
    pub dfxp: Option<Link>,
}

/// Why processing failed.
#[derive(Serialize, ToSchema)]
pub struct Failure {
    pub code: u32,
    pub error: String,
}

/// The delivery state of one configured callback.
#[derive(Serialize, ToSchema)]
pub struct CallbackState {
    /// The URL without credentials, query or fragment.
    pub url: String,
    #[schema(pattern = "^(POST|PUT)$")]
    pub method: String,
    #[serde(rename = "type")]
    #[schema(pattern = "^(analytics|transcript|media)$")]
    pub kind: String,
    #[schema(pattern = "^(pending|delivered|failed|skipped)$")]
    pub status: String,
    pub attempts: Vec<DeliveryAttempt>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    #[schema(nullable = false)]
    pub http_status: Option<u16>,
    #[schema(nullable = false)]
    pub error: Option<String>,
}

/// v3 `prediction`: what each detector found.
#[derive(Serialize, ToSchema)]
pub struct Prediction {
    pub detectors: Vec<DetectorResult>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetectorResult {
    pub detector_name: String,
    pub detections: Vec<Detection>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// v3 `detectorClass` (`int32` in the v3 spec): the class of the detected segment. Every
    /// sealscribe detector is binary and reports only its positive class, `1`.
    #[schema(example = 1)]
    pub detector_class: i32,
    /// v3 `detectorClassLabel`: a readable name of what was detected, e.g. `Credit card number`.
    pub detector_class_label: String,
    pub detected_segments: Vec<DetectedSegment>,
}

#[derive(Serialize, ToSchema)]
pub struct DetectedSegment {
    /// The speaker whose words held the detection (`ingest`), `unknown` in mono without
    /// `ingest.speakerName`.
    #[serde(rename = "speakerName")]
    pub speaker_name: String,
    pub occurrences: Vec<Occurrence>,
}

#[derive(Serialize, ToSchema)]
pub struct Occurrence {
    pub s: u64,
    pub e: u64,
}

/// v3 `spotting` in the media document: one entry per configured group, in configuration
/// order (docs/spotting.md).
#[derive(Serialize, ToSchema)]
pub struct SpottingResult {
    pub groups: Vec<SpottedGroup>,
}

/// v3 `VbGroup`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpottedGroup {
    pub group_name: String,
    /// Whether any keyword of the group was said.
    pub spotted: bool,
    /// The share of the group's keywords said at least once, 0 to 1.
    pub score: f64,
    /// The keywords said at least once, in the group's order.
    pub spotted_keywords: Vec<SpottedKeyword>,
}

/// v3 `VbKeyword`.
#[derive(Serialize, ToSchema)]
pub struct SpottedKeyword {
    pub keyword: String,
    /// One entry per speaker who said it, in the order they first did.
    pub mentions: Vec<KeywordMention>,
}

#[derive(Serialize, ToSchema)]
pub struct KeywordMention {
    /// The turn's speaker (`ingest`), `unknown` in mono without `ingest.speakerName`.
    #[serde(rename = "speakerName")]
    pub speaker_name: String,
    pub occurrences: Vec<ExactOccurrence>,
}

/// Where a phrase was said: `s`/`e` in ms, `exact` the words as transcribed.
#[derive(Serialize, ToSchema)]
pub struct ExactOccurrence {
    pub s: u64,
    pub e: u64,
    pub exact: String,
}

/// `GET /v3/definition/spotting/groups`.
#[derive(Serialize, ToSchema)]
pub struct KeywordGroupList {
    pub groups: Vec<KeywordGroup>,
}

/// A value of `includeAlternateFormat` (a comma-separated list of them is accepted too).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlternateFormatName {
    Text,
    Srt,
    Dfxp,
    Webvtt,
}

/// A transcript as served in JSON: with `alternateFormats[]` when `includeAlternateFormat`
/// asked for renditions (v3 `VbTranscript`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptWithAlternates {
    #[serde(flatten)]
    pub transcript: Transcript,
    /// The renditions `includeAlternateFormat` asked for, in that order.
    #[schema(nullable = false)]
    pub alternate_formats: Option<Vec<AlternateFormat>>,
}

/// The v3 media document. For encrypted media only the bookkeeping (status,
/// dates, length, content type, streams, `encryption`); the content
/// (metadata, transcript, prediction) exists only encrypted to the
/// customer's key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaDocument {
    #[serde(rename = "_links")]
    pub links: MediaLinks,
    /// `3.0.7`.
    pub format_version: String,
    pub media_id: Uuid,
    pub status: MediaStatus,
    pub date_created: DateTime<Utc>,
    #[schema(required)]
    pub date_finished: Option<DateTime<Utc>>,
    #[schema(required)]
    pub media_content_type: Option<String>,
    /// Duration in milliseconds, once known.
    #[schema(required)]
    pub length: Option<u64>,
    pub streams: Vec<Stream>,
    #[schema(nullable = false)]
    pub encryption: Option<EncryptionInfo>,
    #[schema(nullable = false)]
    pub file_name: Option<String>,
    #[schema(nullable = false)]
    pub metadata: Option<StoredMetadata>,
    /// Once finished.
    #[schema(nullable = false)]
    pub transcript: Option<TranscriptWithAlternates>,
    /// When detectors ran.
    #[schema(nullable = false)]
    pub prediction: Option<Prediction>,
    /// Keyword spotting, when `configuration.spotting` named groups (docs/spotting.md).
    #[schema(nullable = false)]
    pub spotting: Option<SpottingResult>,
    /// Conversation metrics, when `configuration.metrics` asked for them: every metric of each
    /// requested group (docs/metrics.md).
    #[schema(nullable = false)]
    pub metrics: Option<Vec<MetricGroupResult>>,
    /// Categories, when `configuration.categories` asked for them: one item per selected
    /// category (docs/categories.md).
    #[schema(nullable = false)]
    pub categories: Option<Vec<CategoryResult>>,
    /// v3 `warnings[]` (`VbMessage`): with `metrics`, one per requested group sealscribe
    /// cannot compute (code 16002).
    #[schema(nullable = false)]
    pub warnings: Option<Vec<Message>>,
    /// Key phrases, when `configuration.knowledge.enableDiscovery` asked for them
    /// (docs/knowledge.md). For encrypted media only inside the encrypted document.
    #[schema(nullable = false)]
    pub knowledge: Option<Knowledge>,
    /// When processing failed.
    #[schema(nullable = false)]
    pub errors: Option<Vec<Failure>>,
    /// When callbacks are configured.
    #[schema(nullable = false)]
    pub callbacks: Option<Vec<CallbackState>>,
}

/// v3 `VbKnowledge`: key phrases of the call; `topics` is always empty (no taxonomy).
#[derive(Serialize, ToSchema)]
pub struct Knowledge {
    /// Most relevant first, at most 20.
    pub keywords: Vec<KnowledgeKeyword>,
    /// Always `[]`.
    pub topics: Vec<Value>,
}

/// v3 `VbKeyword`: one key phrase.
#[derive(Serialize, ToSchema)]
pub struct KnowledgeKeyword {
    /// The phrase, lower case, as normalised words.
    pub keyword: String,
    /// 0..1: the phrase's score over the best phrase's score.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub relevance: f64,
    pub mentions: Vec<KnowledgeMention>,
}

/// The places one speaker said a key phrase (`"unknown"` without speakers).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeMention {
    pub speaker_name: String,
    pub occurrences: Vec<KeywordOccurrence>,
}

/// One mention: its start (ms) and the words as said.
#[derive(Serialize, ToSchema)]
pub struct KeywordOccurrence {
    pub s: u64,
    pub exact: String,
}

/// One category's result (analytics reference §4.3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryResult {
    pub category_name: String,
    /// 1 when the category's query matched, else 0.
    #[schema(minimum = 0, maximum = 1)]
    pub category_value: u8,
    /// Only for a match: per speaker, the phrases that made it match (absent when it matched
    /// without one, e.g. through NOT or metadata alone).
    #[schema(nullable = false)]
    pub category_matches: Option<Vec<CategoryMatch>>,
}

/// The occurrences of one speaker that made a category match.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryMatch {
    /// The speaker of the turn (`unknown` in a transcript without speakers).
    pub speaker_name: String,
    pub occurrences: Vec<CategoryOccurrence>,
}

/// Where a phrase of a category's query was said.
#[derive(Serialize, ToSchema)]
pub struct CategoryOccurrence {
    /// Start of its first word, ms.
    pub s: u64,
    /// End of its last word, ms.
    pub e: u64,
    /// The words as the transcript has them.
    pub exact: String,
}

/// v3 `VbMessage`: a warning in a media document.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub code: u32,
    pub message: String,
}

/// A media item in a listing (v3 `VbMediaSummary`): no metadata for encrypted media.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaSummary {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub format_version: String,
    pub media_id: Uuid,
    pub status: MediaStatus,
    pub date_created: DateTime<Utc>,
    #[schema(nullable = false)]
    pub metadata: Option<StoredMetadata>,
}

/// `GET /v3/media`.
#[derive(Serialize, ToSchema)]
pub struct MediaList {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    #[schema(value_type = Vec<MediaSummary>)]
    pub media: Vec<Value>,
}

/// `progress` of `GET /v3/media/{id}/progress`.
#[derive(Serialize, ToSchema)]
pub struct ProgressDetail {
    #[schema(value_type = MediaStatus)]
    pub status: &'static str,
    #[schema(value_type = Vec<Task>)]
    pub tasks: Vec<sealscribe_domain::media::Task>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Vec<Failure>>)]
    pub errors: Option<Vec<sealscribe_domain::media::Failure>>,
}

/// `GET /v3/media/{id}/progress`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    #[schema(value_type = Uuid)]
    pub media_id: sealscribe_domain::MediaId,
    #[schema(value_type = MediaStatus)]
    pub status: &'static str,
    pub progress: ProgressDetail,
}
