//! Strict parsing of the `configuration` and `metadata` parts of `POST /v3/media`
//! (CONTRACT §2.2, §2.3; reference §2.1, §2.7, §3).
//!
//! VoiceBase v3 rejects a configuration with an unknown property (10008) instead of ignoring
//! it, and the contract adds that a known feature sealscribe does not implement is a 400 that
//! names it: a customer who asks for keyword spotting must learn at upload time that they will
//! not get it, not discover an empty result hours later. So the whole documented v3 property
//! tree is modelled here with `deny_unknown_fields` structs, and nothing is silently ignored.
//!
//! # Configuration: the order of the checks
//!
//! 1. Empty (or whitespace-only) part → the defaults, like `{}`. A UTF-8 byte-order mark is
//!    skipped.
//! 2. Not JSON → **10007**, with line and column. A property that appears twice in one object
//!    (anywhere in the tree) → **10010**, naming it: JSON parsers disagree on which copy wins,
//!    so the request is ambiguous.
//! 3. Shape: an unknown property → **10008** naming its full path (e.g. `speechModel.colour`)
//!    and the properties allowed there; a value of the wrong JSON type → **10008** naming the
//!    path and the expected type. A JSON `null` counts as "absent".
//! 4. Features sealscribe does not implement → **10601** naming every offending path. A feature
//!    counts as *requested* when it is present with a value that turns it on; a value that
//!    equals v3's "off" is accepted, because it asks for exactly what sealscribe does:
//!
//!    | property | accepted "off" values |
//!    | --- | --- |
//!    | `knowledge` | `{}`, `enableDiscovery: false` (`enableExternalDataSources` only matters with discovery) |
//!    | `spotting` | `{}`, `groups: []` |
//!    | `vocabularies`, `categories`, `metrics`, `additionalSpeechModels` | `[]` |
//!    | `speakerSentiments` | `false` |
//!    | `conversation` / `entity` | `{}`, `verbNounPairsEnabled: false` / `enableEntityExtraction: false` |
//!    | `speechModel.features`, `speechModel.extensions` | `[]` |
//!    | `ingest.channels`, `ingest.tracks`, `prediction.classifiers` | `[]` |
//!    | `transcript.contentFiltering` | `{}`, `enableProfanityFiltering: false` |
//!    | `publish.enableAnalyticIndexing` | `false` |
//!    | `ingest.stereo`, `ingest.speakerName`, `ingest.speakerRole`, `publish.audioTranscode` | none: any presence is a request |
//!
//!    `prediction.detectors[]` and `publish.callbacks[]` are parsed strictly into
//!    [`DetectorConfig`] / [`CallbackConfig`] (so a typo is still a 10008) and then checked
//!    and normalised by [`crate::detectors::validate`] and [`crate::callbacks::validate`]
//!    (codes 50001/50007 and 60001–60011, see there).
//! 5. Values: `speechModel.language` must be `en-US` or `en` (any case) → else **10401**;
//!    `priority` must be `low`, `normal` or `high` → else **10009**; `encryption.publicKeyId`
//!    must be present and a UUID → else **95001** (whether the key exists is the caller's
//!    check); `encryption` with `searchability.searchable: true` → **95005**, and `encryption`
//!    without `searchability` makes the media unsearchable. `speechModel.model` is accepted and
//!    ignored (sealscribe has one model), `transcript.formatting.enableNumberFormatting` is stored.
//!
//! # Metadata
//!
//! `{title, description, externalId, extended}`, all optional. Over 64 KiB → **10800**; not JSON
//! or a value of the wrong type (including an `extended` that is not an object) → **10107**; a
//! duplicated property anywhere → **10110**; an unknown top-level property → **10008**;
//! `externalId` empty → **10108**, longer than 256 characters → **10109**; `title` or
//! `description` over 1,024 characters → **10107**. Lengths count Unicode characters.
//!
//! # Messages
//!
//! Every [`InputError`] message says what is wrong and what to do about it. Input is echoed
//! only in short excerpts (property names and values are cut to a few dozen characters, control
//! characters escaped), so an error never reflects a large or hostile payload back.
//!
//! # Stored form
//!
//! [`MediaConfig`] is sealscribe's own normalised form, not the v3 tree: a flat camelCase
//! object with every field present, e.g.
//! `{"language":"en-US","priority":"normal","searchable":false,
//! "encryption":{"publicKeyId":"…"},"numberFormatting":true}` (`detectors`/`callbacks` appear
//! only when non-empty). Missing fields read back as their defaults, so rows written by an
//! older sealscribe stay readable.

use std::fmt::Write as _;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The `configuration` part is not parseable JSON.
pub const CONFIGURATION_NOT_JSON: u32 = 10007;
/// Unknown property, or a value of the wrong type, in the configuration.
pub const UNKNOWN_PROPERTY: u32 = 10008;
/// Invalid `priority`.
pub const INVALID_PRIORITY: u32 = 10009;
/// A property appears twice in the configuration.
pub const DUPLICATE_PROPERTY: u32 = 10010;
/// The `metadata` part is not parseable (or a value has the wrong type or length).
pub const METADATA_NOT_PARSEABLE: u32 = 10107;
/// `externalId` is empty.
pub const EXTERNAL_ID_EMPTY: u32 = 10108;
/// `externalId` is too long.
pub const EXTERNAL_ID_TOO_LONG: u32 = 10109;
/// A property appears twice in the metadata.
pub const DUPLICATE_METADATA_FIELD: u32 = 10110;
/// The requested language is not supported.
pub const LANGUAGE_NOT_SUPPORTED: u32 = 10401;
/// A known v3 feature that sealscribe does not support.
pub const FEATURE_NOT_SUPPORTED: u32 = 10601;
/// Payload too large.
pub const PAYLOAD_TOO_LARGE: u32 = 10800;
/// Missing or malformed `publicKeyId`.
pub const INVALID_PUBLIC_KEY_ID: u32 = 95001;
/// `searchable: true` together with `encryption`.
pub const SEARCHABLE_WITH_ENCRYPTION: u32 = 95005;

/// Largest accepted `metadata` part, bytes.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;
/// Longest accepted `externalId`, characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 256;
/// Longest accepted `title` / `description`, characters.
pub const MAX_TEXT_CHARS: usize = 1024;

/// A rejected `configuration` or `metadata` part: the v3 error `code` and a message for people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The v3 error code (the HTTP status follows from it: 10800 → 413, everything else 400).
    pub code: u32,
    /// What was wrong and what to do.
    pub message: String,
}

impl InputError {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> Self {
        InputError {
            code,
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The normalised result
// ---------------------------------------------------------------------------------------------

/// v3 `priority`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

/// Client Supplied Encryption: the customer's key the results are encrypted to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EncryptionConfig {
    /// The `publicKeyId` from `POST /v3/security/public-keys` (existence checked by the caller).
    #[serde(rename = "publicKeyId")]
    pub public_key_id: Uuid,
}

/// What sealscribe will do for one media item: the accepted configuration, normalised (see
/// "Stored form" in the module documentation).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaConfig {
    /// Normalised language tag; always `en-US` today.
    pub language: String,
    pub priority: Priority,
    /// Whether the media is indexed for `GET /v3/media?query=`; never true with `encryption`.
    pub searchable: bool,
    pub encryption: Option<EncryptionConfig>,
    /// `transcript.formatting.enableNumberFormatting` (v3 default true).
    pub number_formatting: bool,
    /// `prediction.detectors[]`, validated (see [`crate::detectors`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<crate::detectors::Detector>,
    /// `publish.callbacks[]`, validated (see [`crate::callbacks`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<crate::callbacks::Callback>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            language: "en-US".to_string(),
            priority: Priority::Normal,
            searchable: true,
            encryption: None,
            number_formatting: true,
            detectors: Vec::new(),
            callbacks: Vec::new(),
        }
    }
}

/// v3 `VbMetadata`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<Map<String, Value>>,
}

// ---------------------------------------------------------------------------------------------
// The v3 property tree (reference §3). Detector and callback shapes are public: their
// validation lives in `crate::detectors` and `crate::callbacks`.
// ---------------------------------------------------------------------------------------------

/// One `prediction.detectors[]` item (v3 `VbDetectorConfiguration`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redactor: Option<RedactorConfig>,
}

/// A `{parameter, value}` pair of a detector or classifier.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ParameterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `redactor` of a detector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<TranscriptRedactorConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioRedactorConfig>,
}

/// `redactor.transcript`: the text that replaces detected words.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// `redactor.audio`: the tone (Hz) and gain that overwrite detected audio.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AudioRedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<f64>,
}

/// One `publish.callbacks[]` item (reference §5) as sent; see [`crate::callbacks::validate`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallbackConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `POST` | `PUT` (either case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `analytics` | `transcript` | `media`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// For `transcript`: `json` | `text` | `srt` | `dfxp` | `webvtt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// For `media`: `original` | `redacted-audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// S3 delivery: IAM role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// S3 delivery: folder prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepend_folder: Option<String>,
    /// S3 delivery flag from the v3 prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_delivery: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    speech_model: Option<RawSpeechModel>,
    additional_speech_models: Option<Vec<RawSpeechModel>>,
    priority: Option<String>,
    ingest: Option<RawIngest>,
    prediction: Option<RawPrediction>,
    spotting: Option<RawSpotting>,
    knowledge: Option<RawKnowledge>,
    transcript: Option<RawTranscript>,
    vocabularies: Option<Vec<RawVocabulary>>,
    publish: Option<RawPublish>,
    categories: Option<Vec<RawCategory>>,
    metrics: Option<Vec<RawMetric>>,
    speaker_sentiments: Option<bool>,
    conversation: Option<RawConversation>,
    entity: Option<RawEntity>,
    encryption: Option<RawEncryption>,
    searchability: Option<RawSearchability>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpeechModel {
    language: Option<String>,
    /// v3 engine name (`Titan`, …): accepted and ignored, sealscribe has one model.
    #[serde(rename = "model")]
    _model: Option<String>,
    features: Option<Vec<String>>,
    extensions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIngest {
    speaker_name: Option<String>,
    speaker_role: Option<String>,
    stereo: Option<RawStereo>,
    channels: Option<Vec<RawChannel>>,
    tracks: Option<Vec<RawTrack>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStereo {
    #[serde(rename = "left")]
    _left: Option<RawChannel>,
    #[serde(rename = "right")]
    _right: Option<RawChannel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    #[serde(rename = "speakerName")]
    _speaker_name: Option<String>,
    #[serde(rename = "speakerRole")]
    _speaker_role: Option<String>,
    #[serde(rename = "ignore")]
    _ignore: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrack {
    #[serde(rename = "trackIndex")]
    _track_index: Option<u32>,
    #[serde(rename = "speakerName")]
    _speaker_name: Option<String>,
    #[serde(rename = "speakerRole")]
    _speaker_role: Option<String>,
    /// The item shape of `tracks[].channels[]` is not documented.
    #[serde(rename = "channels")]
    _channels: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrediction {
    classifiers: Option<Vec<RawClassifier>>,
    detectors: Option<Vec<DetectorConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassifier {
    #[serde(rename = "classifierId")]
    _classifier_id: Option<String>,
    #[serde(rename = "classifierName")]
    _classifier_name: Option<String>,
    #[serde(rename = "version")]
    _version: Option<String>,
    #[serde(rename = "parameters")]
    _parameters: Option<Vec<ParameterConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpotting {
    groups: Option<Vec<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(rename = "groupName")]
    _group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKnowledge {
    enable_discovery: Option<bool>,
    #[serde(rename = "enableExternalDataSources")]
    _enable_external_data_sources: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTranscript {
    formatting: Option<RawFormatting>,
    content_filtering: Option<RawContentFiltering>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFormatting {
    enable_number_formatting: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawContentFiltering {
    enable_profanity_filtering: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    #[serde(rename = "vocabularyName")]
    _vocabulary_name: Option<String>,
    #[serde(rename = "terms")]
    _terms: Option<Vec<RawTerm>>,
    #[serde(rename = "scripts")]
    _scripts: Option<Vec<RawScript>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    #[serde(rename = "term")]
    _term: Option<String>,
    #[serde(rename = "soundsLike")]
    _sounds_like: Option<Vec<String>>,
    #[serde(rename = "weight")]
    _weight: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    #[serde(rename = "script")]
    _script: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPublish {
    callbacks: Option<Vec<CallbackConfig>>,
    enable_analytic_indexing: Option<bool>,
    audio_transcode: Option<RawAudioTranscode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudioTranscode {
    #[serde(rename = "onlyIfRedacted")]
    _only_if_redacted: Option<bool>,
    #[serde(rename = "fileFormat")]
    _file_format: Option<String>,
    #[serde(rename = "codec")]
    _codec: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    #[serde(rename = "allCategories")]
    _all_categories: Option<bool>,
    #[serde(rename = "categoryName")]
    _category_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    #[serde(rename = "metricGroupName")]
    _metric_group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConversation {
    verb_noun_pairs_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEntity {
    enable_entity_extraction: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEncryption {
    public_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSearchability {
    searchable: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMetadata {
    title: Option<String>,
    description: Option<String>,
    external_id: Option<String>,
    extended: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Step 1: JSON with duplicate detection
// ---------------------------------------------------------------------------------------------

/// Marker at the start of the error message of a duplicated key (the key follows).
const DUPLICATE_MARKER: &str = "\u{0}duplicate:";

/// A JSON value whose objects may not repeat a key (serde_json's `Value` keeps the last copy).
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_MARKER}{key}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

enum JsonProblem {
    /// Not JSON: the message (without position), line, column.
    Syntax(String, usize, usize),
    /// A duplicated key: its path (already excerpted).
    Duplicate(String),
}

fn parse_json(bytes: &[u8]) -> Result<Value, JsonProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, StrictValue>(&mut de) {
        Ok(v) => v.0,
        Err(e) => {
            let path = format_path(e.path());
            let inner = e.into_inner();
            let text = inner.to_string();
            if let Some(rest) = text.strip_prefix(DUPLICATE_MARKER) {
                // serde_json appends " at line L column C"; the key is what precedes it.
                let key = rest
                    .rsplit_once(" at line ")
                    .map_or(rest, |(k, _)| k)
                    .to_string();
                return Err(JsonProblem::Duplicate(join_path(&path, &key)));
            }
            return Err(syntax(&inner));
        }
    };
    de.end().map_err(|e| syntax(&e))?;
    Ok(value)
}

fn syntax(e: &serde_json::Error) -> JsonProblem {
    let text = e.to_string();
    let msg = match text.rsplit_once(" at line ") {
        Some((m, _)) => m.to_string(),
        None => text,
    };
    JsonProblem::Syntax(msg, e.line(), e.column())
}

// ---------------------------------------------------------------------------------------------
// Step 2: typed deserialisation that only accepts objects for structs
// ---------------------------------------------------------------------------------------------

/// A deserializer over a parsed [`Value`] that differs from `&Value`'s in one way: a struct
/// must be a JSON object. serde's derived structs also accept an *array* of field values in
/// declaration order, so `"speechModel": ["fr-FR"]` would otherwise be read as a language.
struct ObjectsOnly<'a>(&'a Value);

type JsonError = serde_json::Error;

impl<'de> Deserializer<'de> for ObjectsOnly<'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(ObjectsOnlySeq(items.iter())),
            Value::Object(map) => visitor.visit_map(ObjectsOnlyMap {
                iter: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, JsonError> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(_) => de::Unexpected::Other("string"),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct ObjectsOnlySeq<'a>(std::slice::Iter<'a, Value>);

impl<'de> SeqAccess<'de> for ObjectsOnlySeq<'de> {
    type Error = JsonError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, JsonError> {
        self.0
            .next()
            .map(|v| seed.deserialize(ObjectsOnly(v)))
            .transpose()
    }
}

struct ObjectsOnlyMap<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for ObjectsOnlyMap<'de> {
    type Error = JsonError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, JsonError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, JsonError> {
        match self.value.take() {
            Some(v) => seed.deserialize(ObjectsOnly(v)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

/// Typed deserialisation of a parsed value, with the path of any error.
fn typed<'a, T: Deserialize<'a>>(
    value: &'a Value,
) -> Result<T, serde_path_to_error::Error<JsonError>> {
    serde_path_to_error::deserialize(ObjectsOnly(value))
}

// ---------------------------------------------------------------------------------------------
// Excerpts and paths
// ---------------------------------------------------------------------------------------------

/// At most `max` characters of untrusted text, control characters escaped, `…` when cut.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

const KEY_CHARS: usize = 32;
const PATH_CHARS: usize = 72;
const VALUE_CHARS: usize = 32;

fn format_path(path: &serde_path_to_error::Path) -> String {
    format_segments(path.iter())
}

fn format_segments<'p>(segments: impl Iterator<Item = &'p serde_path_to_error::Segment>) -> String {
    let mut out = String::new();
    for seg in segments {
        match seg {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key } => {
                out = join_path(&out, key);
            }
            serde_path_to_error::Segment::Enum { variant } => {
                out = join_path(&out, variant);
            }
            serde_path_to_error::Segment::Unknown => out = join_path(&out, "?"),
        }
    }
    excerpt(&out, PATH_CHARS)
}

/// `parent.key` (the key excerpted), or `key` at the top level.
fn join_path(parent: &str, key: &str) -> String {
    let key = excerpt(key, KEY_CHARS);
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// The value at `path` (as produced by [`format_path`]) in `root`, for describing its type.
fn value_at<'v>(root: &'v Value, path: &serde_path_to_error::Path) -> Option<&'v Value> {
    let mut v = root;
    for seg in path.iter() {
        v = match seg {
            serde_path_to_error::Segment::Seq { index } => v.get(*index)?,
            serde_path_to_error::Segment::Map { key } => v.get(key.as_str())?,
            _ => return None,
        };
    }
    Some(v)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde's "expected …" text (from our own types, never from the input) in JSON terms.
fn expected_in_json_terms(expected: &str) -> String {
    let e = expected.trim();
    if e.starts_with("struct ") || e.contains("map") {
        "a JSON object".into()
    } else if e.contains("sequence") {
        "an array".into()
    } else if e.contains("boolean") {
        "true or false".into()
    } else if e.contains("string") {
        "a string".into()
    } else if e == "u32" {
        "a whole number from 0 to 4294967295".into()
    } else if e.starts_with('u') || e.starts_with('i') || e.starts_with('f') || e.contains("number")
    {
        "a number".into()
    } else {
        excerpt(e, 60)
    }
}

/// Which part is being parsed, for the wording and codes of shape errors.
#[derive(Clone, Copy)]
enum Part {
    Configuration,
    Metadata,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Configuration => "configuration",
            Part::Metadata => "metadata",
        }
    }
}

/// Turns a typed-deserialisation error (unknown property / wrong type) into an [`InputError`].
fn shape_error(
    part: Part,
    root: &Value,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> InputError {
    let path = format_path(err.path());
    let segments: Vec<&serde_path_to_error::Segment> = err.path().iter().collect();
    let parent = format_segments(segments[..segments.len().saturating_sub(1)].iter().copied());
    let found = value_at(root, err.path()).map(json_type);
    let text = err.into_inner().to_string();
    let type_code = match part {
        Part::Configuration => UNKNOWN_PROPERTY,
        Part::Metadata => METADATA_NOT_PARSEABLE,
    };
    if let Some(rest) = text.strip_prefix("unknown field `") {
        // "unknown field `K`, expected one of `a`, `b`" / "expected `a`" / "there are no
        // fields"; the path already ends with K.
        let allowed = rest.split_once("`, expected ").map(|(_, a)| a);
        let full = path;
        let place = if parent.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{parent}`")
        };
        let allowed = allowed
            .map(|a| a.trim_start_matches("one of ").to_string())
            .unwrap_or_else(|| "none".to_string());
        return InputError::new(
            UNKNOWN_PROPERTY,
            format!(
                "unknown property `{full}` in the {}. The properties allowed {place} are: \
                 {allowed}. Remove it or correct its spelling (names are case-sensitive).",
                part.name()
            ),
        );
    }
    let expected = text
        .split_once(", expected ")
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    let expected = expected_in_json_terms(&expected);
    let what = match found {
        Some("a number") if expected.contains("number") => "but the number given is not".into(),
        Some(t) => format!("but it is {t}"),
        None => "but it has the wrong type".to_string(),
    };
    if path.is_empty() {
        return InputError::new(
            type_code,
            format!(
                "the {} part must be a JSON object (for example {}), {what}. Send an object, \
                 or leave the part out.",
                part.name(),
                match part {
                    Part::Configuration => r#"{"priority":"normal"}"#,
                    Part::Metadata => r#"{"title":"Call 42"}"#,
                }
            ),
        );
    }
    InputError::new(
        type_code,
        format!(
            "`{path}` in the {} must be {expected}, {what}. Correct the value.",
            part.name()
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// parse_configuration
// ---------------------------------------------------------------------------------------------

fn is_blank(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn non_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// The paths of requested features sealscribe does not implement (rule 4 of the module doc).
fn unsupported(c: &RawConfig) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |on: bool, path: &'static str| {
        if on {
            out.push(path);
        }
    };
    if let Some(sm) = &c.speech_model {
        check(non_empty(&sm.features), "speechModel.features");
        check(non_empty(&sm.extensions), "speechModel.extensions");
    }
    check(
        non_empty(&c.additional_speech_models),
        "additionalSpeechModels",
    );
    if let Some(i) = &c.ingest {
        check(i.speaker_name.is_some(), "ingest.speakerName");
        check(i.speaker_role.is_some(), "ingest.speakerRole");
        check(i.stereo.is_some(), "ingest.stereo");
        check(non_empty(&i.channels), "ingest.channels");
        check(non_empty(&i.tracks), "ingest.tracks");
    }
    if let Some(p) = &c.prediction {
        check(non_empty(&p.classifiers), "prediction.classifiers");
    }
    if let Some(s) = &c.spotting {
        check(non_empty(&s.groups), "spotting");
    }
    if let Some(k) = &c.knowledge {
        check(k.enable_discovery == Some(true), "knowledge");
    }
    if let Some(t) = &c.transcript
        && let Some(f) = &t.content_filtering
    {
        check(
            f.enable_profanity_filtering == Some(true),
            "transcript.contentFiltering",
        );
    }
    check(non_empty(&c.vocabularies), "vocabularies");
    if let Some(p) = &c.publish {
        check(
            p.enable_analytic_indexing == Some(true),
            "publish.enableAnalyticIndexing",
        );
        check(p.audio_transcode.is_some(), "publish.audioTranscode");
    }
    check(non_empty(&c.categories), "categories");
    check(non_empty(&c.metrics), "metrics");
    check(c.speaker_sentiments == Some(true), "speakerSentiments");
    if let Some(cv) = &c.conversation {
        check(cv.verb_noun_pairs_enabled == Some(true), "conversation");
    }
    if let Some(e) = &c.entity {
        check(e.enable_entity_extraction == Some(true), "entity");
    }
    out
}

fn backticked(paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the `configuration` part of `POST /v3/media` (see the module documentation for every
/// rule and code).
///
/// # Errors
///
/// An [`InputError`] with the v3 code and a message for the customer.
pub fn parse_configuration(bytes: &[u8]) -> Result<MediaConfig, InputError> {
    if is_blank(bytes) {
        return Ok(MediaConfig::default());
    }
    let value = parse_json(bytes).map_err(|p| match p {
        JsonProblem::Syntax(msg, line, column) => InputError::new(
            CONFIGURATION_NOT_JSON,
            format!(
                "the configuration is not valid JSON ({msg} at line {line}, column {column}). \
                 Send a JSON object such as {{\"priority\":\"normal\"}}, or omit the part."
            ),
        ),
        JsonProblem::Duplicate(path) => InputError::new(
            DUPLICATE_PROPERTY,
            format!("the configuration property `{path}` appears more than once. Keep only one."),
        ),
    })?;
    let raw: RawConfig = typed(&value).map_err(|e| shape_error(Part::Configuration, &value, e))?;

    // Rule 4: features.
    let missing = unsupported(&raw);
    match missing.as_slice() {
        [] => {}
        [one] => {
            return Err(InputError::new(
                FEATURE_NOT_SUPPORTED,
                format!(
                    "`{one}` is a VoiceBase v3 feature that sealscribe does not support; \
                     remove it from the configuration."
                ),
            ));
        }
        many => {
            return Err(InputError::new(
                FEATURE_NOT_SUPPORTED,
                format!(
                    "{} are VoiceBase v3 features that sealscribe does not support; \
                     remove them from the configuration.",
                    backticked(many)
                ),
            ));
        }
    }
    let detectors = raw
        .prediction
        .as_ref()
        .and_then(|p| p.detectors.clone())
        .unwrap_or_default();
    let callbacks = raw
        .publish
        .as_ref()
        .and_then(|p| p.callbacks.clone())
        .unwrap_or_default();
    // Rule 5: values.
    let mut config = MediaConfig {
        detectors: crate::detectors::validate(&detectors)?,
        ..MediaConfig::default()
    };
    let redacts_audio = config.detectors.iter().any(|d| d.audio.is_some());
    config.callbacks = crate::callbacks::validate(&callbacks, redacts_audio)?;
    if let Some(lang) = raw
        .speech_model
        .as_ref()
        .and_then(|s| s.language.as_deref())
    {
        if lang.eq_ignore_ascii_case("en-US") || lang.eq_ignore_ascii_case("en") {
            config.language = "en-US".into();
        } else {
            return Err(InputError::new(
                LANGUAGE_NOT_SUPPORTED,
                format!(
                    "language `{}` is not supported; sealscribe's models are English. Use \
                     `en-US` (or leave out `speechModel.language`).",
                    excerpt(lang, VALUE_CHARS)
                ),
            ));
        }
    }
    if let Some(p) = raw.priority.as_deref() {
        config.priority = match p {
            "low" => Priority::Low,
            "normal" => Priority::Normal,
            "high" => Priority::High,
            other => {
                return Err(InputError::new(
                    INVALID_PRIORITY,
                    format!(
                        "priority `{}` is not valid; use `low`, `normal` or `high`.",
                        excerpt(other, VALUE_CHARS)
                    ),
                ));
            }
        };
    }
    if let Some(n) = raw
        .transcript
        .as_ref()
        .and_then(|t| t.formatting.as_ref())
        .and_then(|f| f.enable_number_formatting)
    {
        config.number_formatting = n;
    }
    let searchable = raw.searchability.as_ref().and_then(|s| s.searchable);
    match &raw.encryption {
        None => config.searchable = searchable.unwrap_or(true),
        Some(enc) => {
            let id = match enc.public_key_id.as_deref() {
                None => {
                    return Err(InputError::new(
                        INVALID_PUBLIC_KEY_ID,
                        "`encryption` needs a `publicKeyId`: upload your OpenPGP public key \
                         with POST /v3/security/public-keys and send the returned id as \
                         {\"encryption\":{\"publicKeyId\":\"<id>\"}}.",
                    ));
                }
                Some(s) => Uuid::try_parse(s.trim()).map_err(|_| {
                    InputError::new(
                        INVALID_PUBLIC_KEY_ID,
                        format!(
                            "`{}` is not a valid publicKeyId; use the publicKeyId (a UUID) \
                             returned by POST /v3/security/public-keys.",
                            excerpt(s, VALUE_CHARS + 8)
                        ),
                    )
                })?,
            };
            if searchable == Some(true) {
                return Err(InputError::new(
                    SEARCHABLE_WITH_ENCRYPTION,
                    "encrypted media is never searchable: sealscribe cannot index what it must \
                     not be able to read. Remove `searchability` or set \
                     `\"searchable\": false`.",
                ));
            }
            config.searchable = false;
            config.encryption = Some(EncryptionConfig { public_key_id: id });
        }
    }
    Ok(config)
}

// ---------------------------------------------------------------------------------------------
// parse_metadata
// ---------------------------------------------------------------------------------------------

/// Parses the `metadata` part of `POST /v3/media` (and the body of `PUT …/metadata`).
///
/// # Errors
///
/// An [`InputError`] with the v3 code and a message for the customer.
pub fn parse_metadata(bytes: &[u8]) -> Result<Metadata, InputError> {
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(InputError::new(
            PAYLOAD_TOO_LARGE,
            format!(
                "the metadata is {} bytes; the limit is {MAX_METADATA_BYTES} bytes (64 KiB). \
                 Keep large data in your own system and reference it by `externalId`.",
                bytes.len()
            ),
        ));
    }
    if is_blank(bytes) {
        return Ok(Metadata::default());
    }
    let value = parse_json(bytes).map_err(|p| match p {
        JsonProblem::Syntax(msg, line, column) => InputError::new(
            METADATA_NOT_PARSEABLE,
            format!(
                "the metadata is not valid JSON ({msg} at line {line}, column {column}). Send \
                 a JSON object such as {{\"title\":\"Call 42\",\"externalId\":\"A-1\"}}."
            ),
        ),
        JsonProblem::Duplicate(path) => InputError::new(
            DUPLICATE_METADATA_FIELD,
            format!("the metadata property `{path}` appears more than once. Keep only one."),
        ),
    })?;
    let raw: RawMetadata = typed(&value).map_err(|e| shape_error(Part::Metadata, &value, e))?;

    for (name, v) in [("title", &raw.title), ("description", &raw.description)] {
        if let Some(s) = v {
            let n = s.chars().count();
            if n > MAX_TEXT_CHARS {
                return Err(InputError::new(
                    METADATA_NOT_PARSEABLE,
                    format!(
                        "the metadata `{name}` is {n} characters long; the limit is \
                         {MAX_TEXT_CHARS}. Shorten it, or move the text into `extended`."
                    ),
                ));
            }
        }
    }
    if let Some(id) = &raw.external_id {
        if id.trim().is_empty() {
            return Err(InputError::new(
                EXTERNAL_ID_EMPTY,
                "the metadata `externalId` is empty; give it a value (your own reference for \
                 this media) or leave it out.",
            ));
        }
        let n = id.chars().count();
        if n > MAX_EXTERNAL_ID_CHARS {
            return Err(InputError::new(
                EXTERNAL_ID_TOO_LONG,
                format!(
                    "the metadata `externalId` is {n} characters long; the limit is \
                     {MAX_EXTERNAL_ID_CHARS}. Use a shorter reference."
                ),
            ));
        }
    }
    let extended = match raw.extended {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            return Err(InputError::new(
                METADATA_NOT_PARSEABLE,
                format!(
                    "the metadata `extended` must be a JSON object (for example \
                     {{\"agent\":\"Ana\",\"queue\":7}}), but it is {}. Wrap the value in an \
                     object.",
                    json_type(&other)
                ),
            ));
        }
    };
    Ok(Metadata {
        title: raw.title,
        description: raw.description,
        external_id: raw.external_id,
        extended,
    })
}
