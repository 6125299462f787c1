//! The normalised configuration: what sealscribe stores for a media item and the pipeline reads
//! (see "Stored form" in [`crate::configuration`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
/// "Stored form" in [`crate::configuration`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaConfig {
    /// Normalised language tag (see [`crate::language`]): `en-US` by default.
    pub language: String,
    pub priority: Priority,
    /// Whether the media is indexed for `GET /v3/media?query=`; never true with `encryption`.
    pub searchable: bool,
    pub encryption: Option<EncryptionConfig>,
    /// `transcript.formatting.enableNumberFormatting` (v3 default true). `false` writes the
    /// recogniser's numerals as English words (docs/knowledge.md).
    pub number_formatting: bool,
    /// `transcript.contentFiltering.enableProfanityFiltering` (default false): words of the
    /// built-in list become `...` in `words[]` (docs/knowledge.md).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub profanity_filtering: bool,
    /// `knowledge.enableDiscovery` (default false): the `knowledge` section with key phrases
    /// (docs/knowledge.md). `enableExternalDataSources` is accepted and not stored: no
    /// external data is ever used.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub knowledge: bool,
    /// `prediction.detectors[]`, validated (see [`crate::detectors`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<crate::detectors::Detector>,
    /// `publish.callbacks[]`, validated (see [`crate::callbacks`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<crate::callbacks::Callback>,
    /// `metrics[]`: the conversation-metric groups asked for, each once, in request order (see
    /// [`crate::conversation_metrics`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricGroup>,
    /// `ingest`: who speaks on which channel (mono unless configured).
    #[serde(skip_serializing_if = "Ingest::is_default")]
    pub ingest: Ingest,
    /// `categories[]` as asked; never stored: the API resolves it into [`Self::categories`]
    /// when it accepts the media (see [`crate::categories`]).
    #[serde(skip)]
    pub category_selection: Option<crate::categories::CategorySelection>,
    /// The categories to evaluate, copied from the account's definitions at upload (`Some`
    /// and empty: all categories were asked for and the account has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<crate::categories::SavedCategory>>,
    /// `spotting.groups[]`: the keyword groups to spot, in request order, each once. As
    /// [`crate::configuration::parse_configuration`] returns them they carry only their names;
    /// the API copies each group's keywords from the account's saved definitions before the
    /// configuration is stored (see [`crate::spotting`]), so a later change to a group does not
    /// change a media already accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spotting: Vec<crate::spotting::KeywordGroup>,
    /// `vocabularies[]`: ad hoc terms and scripts, and saved vocabularies by name with a copy
    /// of their content once resolved at upload (see [`crate::vocabulary`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vocabularies: Vec<crate::vocabulary::MediaVocabulary>,
}

/// `configuration.ingest` (analytics reference §1.1), validated: how the media's channels map
/// to speakers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum Ingest {
    /// All channels mixed to one before recognition (the default). `speaker` comes from
    /// `ingest.speakerName` / `speakerRole`; without it the transcript has no turn tokens and
    /// analytics name the speaker `"unknown"`.
    #[default]
    Mono,
    /// Mono with a named speaker (`ingest.speakerName`).
    NamedMono { speaker: Speaker },
    /// `ingest.stereo` (left = channel 0, right = channel 1) or `ingest.channels[]` (array
    /// index = channel index): one entry per channel of the first audio stream, each
    /// recognised on its own.
    Channels { channels: Vec<Channel> },
    /// `ingest.tracks[]`: one entry per configured audio stream of a multi-track container.
    Tracks { tracks: Vec<Track> },
}

impl Ingest {
    pub fn is_default(&self) -> bool {
        *self == Ingest::Mono
    }
}

/// A speaker as configured: `speakerName` and the optional `speakerRole` ("only used as
/// metadata" in v3; sealscribe also reads it to tell agent from caller in metrics).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Speaker {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One channel of `ingest.stereo` / `ingest.channels[]` (`VbChannelConfiguration`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub speaker: Speaker,
    /// `ignore: true` drops the channel from all processing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore: bool,
}

/// One entry of `ingest.tracks[]` (`VbTrackConfiguration`): the audio stream at `index`,
/// either mixed to one speaker or split into channels.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Track {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<Speaker>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
}

impl MediaConfig {
    /// Whether any call-analytics section (`spotting`, `categories`, `knowledge`) is asked
    /// for: the pipeline's `analytics` step runs only then.
    pub fn call_analytics(&self) -> bool {
        self.knowledge || self.categories.is_some() || !self.spotting.is_empty()
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            language: "en-US".to_string(),
            priority: Priority::Normal,
            searchable: true,
            encryption: None,
            number_formatting: true,
            profanity_filtering: false,
            knowledge: false,
            detectors: Vec::new(),
            callbacks: Vec::new(),
            metrics: Vec::new(),
            ingest: Ingest::Mono,
            category_selection: None,
            categories: None,
            spotting: Vec::new(),
            vocabularies: Vec::new(),
        }
    }
}

/// One of the four v3 metric groups.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum MetricGroup {
    Overtalk,
    TalkTimeAndRate,
    Sentiment,
    TalkStyleToneAndVolume,
}

impl MetricGroup {
    /// The four groups, in the reference's order.
    pub const ALL: [MetricGroup; 4] = [
        MetricGroup::Overtalk,
        MetricGroup::TalkTimeAndRate,
        MetricGroup::Sentiment,
        MetricGroup::TalkStyleToneAndVolume,
    ];

    /// The v3 `metricGroupName`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Overtalk => "overtalk",
            Self::TalkTimeAndRate => "talk-time-and-rate",
            Self::Sentiment => "sentiment",
            Self::TalkStyleToneAndVolume => "talk-style-tone-and-volume",
        }
    }

    /// The group named exactly `name` (v3's names are lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.name() == name)
    }

    /// `"overtalk", "talk-time-and-rate", …` for messages.
    pub fn accepted() -> String {
        Self::ALL
            .iter()
            .map(|g| format!("`{}`", g.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
