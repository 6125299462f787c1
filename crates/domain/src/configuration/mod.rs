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
//!    | `additionalSpeechModels` | `[]` |
//!    | `speakerSentiments` | `false` |
//!    | `conversation` / `entity` | `{}`, `verbNounPairsEnabled: false` / `enableEntityExtraction: false` |
//!    | `speechModel.features`, `speechModel.extensions` | `[]` |
//!    | `prediction.classifiers` | `[]` |
//!    | `publish.enableAnalyticIndexing` | `false` |
//!    | `publish.audioTranscode` | none: any presence is a request |
//!
//!    `vocabularies[]` is parsed by [`crate::vocabulary::parse_items`] (20006–20017, 20101;
//!    saved names are resolved by the caller, which holds the store).
//!    `prediction.detectors[]` and `publish.callbacks[]` are parsed strictly into
//!    [`DetectorConfig`] / [`CallbackConfig`] (so a typo is still a 10008) and then checked
//!    and normalised by [`crate::detectors::validate`] and [`crate::callbacks::validate`]
//!    (codes 50001/50007 and 60001–60011, see there).
//! 5. Values: `speechModel.language` must be an English or Spanish tag of [`crate::language`]
//!    (`en-US`, `en-UK`, `en-AU`, `es-US`, `es-MX`, `es-419` …, any case; stored normalised)
//!    → else **10401**; a Spanish language with any `prediction.detectors` (they read English
//!    numbers only) → **10601**;
//!    `ingest` (speakers per channel) is checked by [`mod@ingest`] with the v3
//!    codes **15000–15003** and **15005** (see there; **15004**, channels that do not match
//!    the media, is known only after the probe and fails the media);
//!    `metrics[].metricGroupName` must be `overtalk`, `talk-time-and-rate`, `sentiment` or
//!    `talk-style-tone-and-volume` (exactly, as v3 spells them) → else **16001** naming the four; a group asked
//!    for twice is computed once (see [`crate::conversation_metrics`]);
//!    `categories[]` is `[{"allCategories": true}]` or `{"categoryName"}` items, else **16102**
//!    (see [`crate::categories::selection`]); the API resolves the names against the
//!    account's definitions (**16101** for an unknown one) and stores the definitions' queries;
//!    `spotting.groups[]` (keyword spotting, [`crate::spotting`]): each item's `groupName`
//!    must be a possible group name → else **40005**; more than 100 items or a name given twice
//!    → **10008**; whether the groups exist and have keywords (**40005** / **40006**) is the
//!    caller's check, which then copies their keywords into the configuration;
//!    `priority` must be `low`, `normal` or `high` → else **10009**; `encryption.publicKeyId`
//!    must be present and a UUID → else **95001** (whether the key exists is the caller's
//!    check); `encryption` with `searchability.searchable: true` → **95005**, and `encryption`
//!    without `searchability` makes the media unsearchable. `speechModel.model` is accepted and
//!    ignored (sealscribe has one model), `transcript.formatting.enableNumberFormatting` is stored;
//!    `knowledge.enableDiscovery` and `transcript.contentFiltering.enableProfanityFiltering`
//!    are stored (`knowledge.enableExternalDataSources` is accepted: sealscribe never uses
//!    external data); profanity filtering on a non-English language → **55000** (its word
//!    list is English).
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
//! "encryption":{"publicKeyId":"…"},"numberFormatting":true}` (`detectors`/`callbacks`/`metrics`
//! appear only when non-empty). Missing fields read back as their defaults, so rows written by an
//! older sealscribe stay readable.
//!
//! # Layout
//!
//! * `model` — the normalised result, [`MediaConfig`], as stored and read by the pipeline.
//! * `tree` — the v3 property tree the configuration is parsed into (`deny_unknown_fields`).
//! * `json` — step 1: bytes to JSON, rejecting repeated keys.
//! * `objects_only` — step 2: typed deserialisation where a struct must be an object.
//! * `paths` — property paths, excerpts and the wording of shape errors.
//! * `parse` — [`parse_configuration`]: the checks above in order; rules 4 and 5 live here.
//! * `metadata` — [`Metadata`] and [`parse_metadata`].
//! * [`mod@ingest`] — `configuration.ingest`: speakers per channel or track.
//! * `keys` — [`parse_key_configuration`]: the body of `POST /v3/profile/keys`, strict the
//!   same way (it reuses `json`).
//!
//! The detector and callback items ([`DetectorConfig`], [`CallbackConfig`]) and the error type
//! ([`InputError`]) live below this module, in [`crate::detectors`], [`crate::callbacks`] and
//! [`crate::input`], and are re-exported here; so those modules never import from this one.

pub mod ingest;
mod json;
mod keys;
mod metadata;
mod model;
mod objects_only;
mod parse;
mod paths;
mod tree;

pub use crate::callbacks::CallbackConfig;
pub use crate::detectors::{
    AudioRedactorConfig, DetectorConfig, ParameterConfig, RedactorConfig, TranscriptRedactorConfig,
};
pub use crate::input::InputError;
pub use ingest::{MAX_INGEST_CHANNELS, MAX_SPEAKER_NAME_CHARS};
pub use keys::{KeyRequest, parse_key_configuration};
pub use metadata::{
    MAX_EXTERNAL_ID_CHARS, MAX_METADATA_BYTES, MAX_TEXT_CHARS, Metadata, parse_metadata,
};
pub use model::{
    Channel, EncryptionConfig, Ingest, MediaConfig, MetricGroup, Priority, Speaker, Track,
};
pub use parse::parse_configuration;
