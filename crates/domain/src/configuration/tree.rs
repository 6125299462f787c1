//! The v3 configuration property tree (reference §3), modelled in full with
//! `deny_unknown_fields`, so nothing a client sends is silently ignored: a typo is a 10008 and a
//! known feature sealscribe does not implement can be named (see [`super::parse`]).
//!
//! The detector and callback items live next to their validation, in [`crate::detectors`] and
//! [`crate::callbacks`].

use serde::Deserialize;

use crate::callbacks::CallbackConfig;
use crate::detectors::{DetectorConfig, ParameterConfig};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawConfig {
    pub(super) speech_model: Option<RawSpeechModel>,
    pub(super) additional_speech_models: Option<Vec<RawSpeechModel>>,
    pub(super) priority: Option<String>,
    pub(super) ingest: Option<RawIngest>,
    pub(super) prediction: Option<RawPrediction>,
    pub(super) spotting: Option<RawSpotting>,
    pub(super) knowledge: Option<RawKnowledge>,
    pub(super) transcript: Option<RawTranscript>,
    pub(super) vocabularies: Option<Vec<RawVocabulary>>,
    pub(super) publish: Option<RawPublish>,
    pub(super) categories: Option<Vec<RawCategory>>,
    pub(super) metrics: Option<Vec<RawMetric>>,
    pub(super) speaker_sentiments: Option<bool>,
    pub(super) conversation: Option<RawConversation>,
    pub(super) entity: Option<RawEntity>,
    pub(super) encryption: Option<RawEncryption>,
    pub(super) searchability: Option<RawSearchability>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSpeechModel {
    pub(super) language: Option<String>,
    /// v3 engine name (`Titan`, …): accepted and ignored, sealscribe has one model.
    #[serde(rename = "model")]
    pub(super) _model: Option<String>,
    pub(super) features: Option<Vec<String>>,
    pub(super) extensions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawIngest {
    pub(super) speaker_name: Option<String>,
    pub(super) speaker_role: Option<String>,
    pub(super) stereo: Option<RawStereo>,
    pub(super) channels: Option<Vec<RawChannel>>,
    pub(super) tracks: Option<Vec<RawTrack>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStereo {
    pub(super) left: Option<RawChannel>,
    pub(super) right: Option<RawChannel>,
}

/// `VbChannelConfiguration`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawChannel {
    pub(super) speaker_name: Option<String>,
    pub(super) speaker_role: Option<String>,
    pub(super) ignore: Option<bool>,
}

/// `VbTrackConfiguration`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTrack {
    pub(super) track_index: Option<u32>,
    pub(super) speaker_name: Option<String>,
    pub(super) speaker_role: Option<String>,
    pub(super) channels: Option<Vec<RawChannel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrediction {
    pub(super) classifiers: Option<Vec<RawClassifier>>,
    pub(super) detectors: Option<Vec<DetectorConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClassifier {
    #[serde(rename = "classifierId")]
    pub(super) _classifier_id: Option<String>,
    #[serde(rename = "classifierName")]
    pub(super) _classifier_name: Option<String>,
    #[serde(rename = "version")]
    pub(super) _version: Option<String>,
    #[serde(rename = "parameters")]
    pub(super) _parameters: Option<Vec<ParameterConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpotting {
    pub(super) groups: Option<Vec<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    #[serde(rename = "groupName")]
    pub(super) _group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawKnowledge {
    pub(super) enable_discovery: Option<bool>,
    #[serde(rename = "enableExternalDataSources")]
    pub(super) _enable_external_data_sources: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTranscript {
    pub(super) formatting: Option<RawFormatting>,
    pub(super) content_filtering: Option<RawContentFiltering>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawFormatting {
    pub(super) enable_number_formatting: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawContentFiltering {
    pub(super) enable_profanity_filtering: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVocabulary {
    #[serde(rename = "vocabularyName")]
    pub(super) _vocabulary_name: Option<String>,
    #[serde(rename = "terms")]
    pub(super) _terms: Option<Vec<RawTerm>>,
    #[serde(rename = "scripts")]
    pub(super) _scripts: Option<Vec<RawScript>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerm {
    #[serde(rename = "term")]
    pub(super) _term: Option<String>,
    #[serde(rename = "soundsLike")]
    pub(super) _sounds_like: Option<Vec<String>>,
    #[serde(rename = "weight")]
    pub(super) _weight: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScript {
    #[serde(rename = "script")]
    pub(super) _script: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPublish {
    pub(super) callbacks: Option<Vec<CallbackConfig>>,
    pub(super) enable_analytic_indexing: Option<bool>,
    pub(super) audio_transcode: Option<RawAudioTranscode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudioTranscode {
    #[serde(rename = "onlyIfRedacted")]
    pub(super) _only_if_redacted: Option<bool>,
    #[serde(rename = "fileFormat")]
    pub(super) _file_format: Option<String>,
    #[serde(rename = "codec")]
    pub(super) _codec: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCategory {
    #[serde(rename = "allCategories")]
    pub(super) all_categories: Option<bool>,
    #[serde(rename = "categoryName")]
    pub(super) category_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    #[serde(rename = "metricGroupName")]
    pub(super) metric_group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawConversation {
    pub(super) verb_noun_pairs_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawEntity {
    pub(super) enable_entity_extraction: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawEncryption {
    pub(super) public_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSearchability {
    pub(super) searchable: Option<bool>,
}
