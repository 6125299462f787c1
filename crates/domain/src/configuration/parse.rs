//! `parse_configuration`: the checks of [`crate::configuration`], in the order documented there.

use uuid::Uuid;

use super::json::{JsonProblem, is_blank, parse_json};
use super::model::{EncryptionConfig, MediaConfig, MetricGroup, Priority};
use super::objects_only::typed;
use super::paths::{Part, VALUE_CHARS, shape_error};
use super::tree::{RawConfig, RawGroup, RawMetric};
use crate::codes::{
    CONFIGURATION_NOT_JSON, CONTENT_FILTERING_LANGUAGE, DUPLICATE_PROPERTY, INVALID_PRIORITY,
    LANGUAGE_NOT_SUPPORTED, SEARCHABLE_WITH_ENCRYPTION, SPOTTING_GROUP_NOT_DEFINED,
    UNKNOWN_METRIC_GROUP, UNKNOWN_PROPERTY, UNKNOWN_PUBLIC_KEY, UNSUPPORTED_FEATURE,
};
use crate::input::{InputError, excerpt};
use crate::spotting::{KeywordGroup, MAX_GROUPS_PER_MEDIA, valid_group_name};

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
    if let Some(p) = &c.prediction {
        check(non_empty(&p.classifiers), "prediction.classifiers");
    }
    if let Some(p) = &c.publish {
        check(
            p.enable_analytic_indexing == Some(true),
            "publish.enableAnalyticIndexing",
        );
        check(p.audio_transcode.is_some(), "publish.audioTranscode");
    }
    check(c.speaker_sentiments == Some(true), "speakerSentiments");
    if let Some(cv) = &c.conversation {
        check(cv.verb_noun_pairs_enabled == Some(true), "conversation");
    }
    if let Some(e) = &c.entity {
        check(e.enable_entity_extraction == Some(true), "entity");
    }
    out
}

/// `metrics[]`: each item's `metricGroupName` must be one of the four v3 groups;
/// a group asked for twice is computed once.
fn metric_groups(items: &[RawMetric]) -> Result<Vec<MetricGroup>, InputError> {
    let mut out = Vec::new();
    for (i, m) in items.iter().enumerate() {
        let name = m.metric_group_name.as_deref().unwrap_or("");
        let group = MetricGroup::parse(name).ok_or_else(|| {
            let what = if name.trim().is_empty() {
                "has no `metricGroupName`".to_owned()
            } else {
                format!(
                    "names `{}`, which is not a metric group",
                    excerpt(name, VALUE_CHARS)
                )
            };
            InputError::new(
                UNKNOWN_METRIC_GROUP,
                format!(
                    "`metrics[{i}]` {what}. Use one of {} as \
                     {{\"metricGroupName\": \"overtalk\"}}.",
                    MetricGroup::accepted()
                ),
            )
        })?;
        if !out.contains(&group) {
            out.push(group);
        }
    }
    Ok(out)
}

/// `spotting.groups[]`: the names, each once (v3: at most 100, all unique); whether each group
/// exists is the caller's check (40005/40006), as it needs the account's definitions.
fn spotting_groups(items: &[RawGroup]) -> Result<Vec<KeywordGroup>, InputError> {
    if items.len() > MAX_GROUPS_PER_MEDIA {
        return Err(InputError::new(
            UNKNOWN_PROPERTY,
            format!(
                "`spotting.groups` names {} groups; at most {MAX_GROUPS_PER_MEDIA} are allowed.",
                items.len()
            ),
        ));
    }
    let mut out: Vec<KeywordGroup> = Vec::with_capacity(items.len());
    for (i, g) in items.iter().enumerate() {
        let name = g.group_name.as_deref().unwrap_or("");
        if !valid_group_name(name) {
            return Err(InputError::new(
                SPOTTING_GROUP_NOT_DEFINED,
                format!(
                    "`spotting.groups[{i}]` names no keyword group: give the name of a group \
                     saved with PUT /v3/definition/spotting/groups/{{name}}, as \
                     {{\"groupName\": \"complaints\"}}."
                ),
            ));
        }
        if out.iter().any(|o| o.group_name == name) {
            return Err(InputError::new(
                UNKNOWN_PROPERTY,
                format!(
                    "`spotting.groups[{i}]` names `{}` a second time: name each group once.",
                    excerpt(name, VALUE_CHARS)
                ),
            ));
        }
        out.push(KeywordGroup {
            group_name: name.to_owned(),
            keywords: Vec::new(),
        });
    }
    Ok(out)
}

fn backticked(paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the `configuration` part of `POST /v3/media` (see [`crate::configuration`] for every
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
                UNSUPPORTED_FEATURE,
                format!(
                    "`{one}` is a VoiceBase v3 feature that sealscribe does not support; \
                     remove it from the configuration."
                ),
            ));
        }
        many => {
            return Err(InputError::new(
                UNSUPPORTED_FEATURE,
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
        ingest: super::ingest::ingest(raw.ingest.as_ref())?,
        ..MediaConfig::default()
    };
    config.metrics = metric_groups(raw.metrics.as_deref().unwrap_or_default())?;
    let categories: Vec<_> = (raw.categories.iter().flatten())
        .map(|c| (c.all_categories, c.category_name.clone()))
        .collect();
    config.category_selection = crate::categories::selection(&categories)?;
    if let Some(groups) = raw.spotting.as_ref().and_then(|s| s.groups.as_deref()) {
        config.spotting = spotting_groups(groups)?;
    }
    config.vocabularies =
        crate::vocabulary::parse_items(raw.vocabularies.as_deref().unwrap_or_default())?;
    let redacts_audio = config.detectors.iter().any(|d| d.audio.is_some());
    config.callbacks = crate::callbacks::validate(&callbacks, redacts_audio)?;
    if let Some(lang) = raw
        .speech_model
        .as_ref()
        .and_then(|s| s.language.as_deref())
    {
        match crate::language::normalise(lang) {
            Some(tag) => config.language = tag.into(),
            None => {
                return Err(InputError::new(
                    LANGUAGE_NOT_SUPPORTED,
                    format!(
                        "language `{}` is not supported; sealscribe recognises English and \
                         Spanish. Use one of {} (or leave out `speechModel.language` for \
                         `en-US`).",
                        excerpt(lang, VALUE_CHARS),
                        crate::language::accepted()
                    ),
                ));
            }
        }
    }
    if !crate::language::is_english(&config.language)
        && let Some(d) = config.detectors.first()
    {
        return Err(InputError::new(
            UNSUPPORTED_FEATURE,
            format!(
                "the {} detector reads numbers spoken in English only, and this media is in \
                 `{}`: remove `prediction.detectors`, or send English media (PCI-Spanish and \
                 SSN-Spanish are not supported either).",
                d.name.as_str(),
                config.language
            ),
        ));
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
    config.knowledge = raw
        .knowledge
        .as_ref()
        .and_then(|k| k.enable_discovery)
        .unwrap_or(false);
    config.profanity_filtering = raw
        .transcript
        .as_ref()
        .and_then(|t| t.content_filtering.as_ref())
        .and_then(|f| f.enable_profanity_filtering)
        .unwrap_or(false);
    if config.profanity_filtering && !crate::language::is_english(&config.language) {
        return Err(InputError::new(
            CONTENT_FILTERING_LANGUAGE,
            format!(
                "`transcript.contentFiltering.enableProfanityFiltering` works on English only \
                 (its word list is English), and this media is in `{}`: remove it, or set it \
                 to false.",
                config.language
            ),
        ));
    }
    let searchable = raw.searchability.as_ref().and_then(|s| s.searchable);
    match &raw.encryption {
        None => config.searchable = searchable.unwrap_or(true),
        Some(enc) => {
            let id = match enc.public_key_id.as_deref() {
                None => {
                    return Err(InputError::new(
                        UNKNOWN_PUBLIC_KEY,
                        "`encryption` needs a `publicKeyId`: upload your OpenPGP public key \
                         with POST /v3/security/public-keys and send the returned id as \
                         {\"encryption\":{\"publicKeyId\":\"<id>\"}}.",
                    ));
                }
                Some(s) => Uuid::try_parse(s.trim()).map_err(|_| {
                    InputError::new(
                        UNKNOWN_PUBLIC_KEY,
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
