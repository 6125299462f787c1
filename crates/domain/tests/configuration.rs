//! The `configuration` and `metadata` parts of `POST /v3/media`: every rule of
//! `sealscribe_domain::configuration`, seen from the outside.

use sealscribe_domain::callbacks::{Callback, MediaStream, Method, Payload, TranscriptFormat};
use sealscribe_domain::configuration::{
    CallbackConfig, DetectorConfig, EncryptionConfig, InputError, MediaConfig, Metadata, Priority,
    parse_configuration, parse_metadata,
};
use sealscribe_domain::detectors::{AudioRedaction, DetectionLevel, Detector, DetectorName};
use sealscribe_testkit::Rng;
use serde_json::json;
use uuid::Uuid;

const KEY: &str = "6f1c2d7e-8b3a-4c5d-9e0f-112233445566";

fn ok(json: &str) -> MediaConfig {
    parse_configuration(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e:?}"))
}

fn err(json: &str) -> InputError {
    match parse_configuration(json.as_bytes()) {
        Ok(c) => panic!("{json} was accepted: {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn categories_are_a_selection_the_api_resolves() {
    use sealscribe_domain::categories::CategorySelection;
    use sealscribe_domain::codes::CATEGORY_SELECTION_INVALID;
    let c = ok(r#"{"categories":[{"allCategories":true}]}"#);
    assert_eq!(c.category_selection, Some(CategorySelection::All));
    // Not stored as sent: the API copies the definitions into `categories`.
    assert!(!serde_json::to_string(&c).unwrap().contains("category"));
    let c = ok(r#"{"categories":[{"categoryName":"a"},{"categoryName":"b"}]}"#);
    assert_eq!(
        c.category_selection,
        Some(CategorySelection::Names(vec!["a".into(), "b".into()]))
    );
    assert_eq!(ok(r#"{"categories":[]}"#).category_selection, None);
    let e = err(r#"{"categories":[{"allCategories":true},{"categoryName":"a"}]}"#);
    assert_eq!(e.code, CATEGORY_SELECTION_INVALID);
    assert_eq!(
        err(r#"{"categories":[{}]}"#).code,
        CATEGORY_SELECTION_INVALID
    );
}

fn meta_err(json: &str) -> InputError {
    match parse_metadata(json.as_bytes()) {
        Ok(m) => panic!("{json} was accepted: {m:?}"),
        Err(e) => e,
    }
}

/// Every message is bounded, so no payload is echoed back at length.
fn assert_short(e: &InputError) {
    assert!(e.message.chars().count() < 600, "{}", e.message);
    assert!(!e.message.is_empty());
}

// ------------------------------------------------------------------------------------------
// configuration: defaults and the supported parts
// ------------------------------------------------------------------------------------------

#[test]
fn empty_part_and_empty_object_mean_defaults() {
    let d = MediaConfig::default();
    assert_eq!(d.language, "en-US");
    assert_eq!(d.priority, Priority::Normal);
    assert!(d.searchable);
    assert!(d.encryption.is_none());
    assert!(d.number_formatting);
    assert!(d.detectors.is_empty() && d.callbacks.is_empty());
    for body in ["", "  \r\n\t", "{}", " { } ", "\u{FEFF}{}", "\u{FEFF}"] {
        assert_eq!(ok(body), d, "{body:?}");
    }
}

#[test]
fn seed_encryption_configuration() {
    let json = format!(
        r#"{{"encryption":{{"publicKeyId":"{KEY}"}},"searchability":{{"searchable":false}}}}"#
    );
    let c = ok(&json);
    assert_eq!(
        c.encryption,
        Some(EncryptionConfig {
            public_key_id: Uuid::parse_str(KEY).unwrap()
        })
    );
    assert!(!c.searchable);
    assert_eq!(c.language, "en-US");
    // The normalised stored form, exactly.
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        format!(
            r#"{{"language":"en-US","priority":"normal","searchable":false,"encryption":{{"publicKeyId":"{KEY}"}},"numberFormatting":true}}"#
        )
    );
}

#[test]
fn encryption_without_searchability_is_not_searchable() {
    let c = ok(&format!(r#"{{"encryption":{{"publicKeyId":"{KEY}"}}}}"#));
    assert!(!c.searchable);
    assert!(c.encryption.is_some());
    // Upper-case UUIDs are the same key, normalised to lower case.
    let c = ok(&format!(
        r#"{{"encryption":{{"publicKeyId":"{}"}}}}"#,
        KEY.to_uppercase()
    ));
    assert_eq!(c.encryption.unwrap().public_key_id.to_string(), KEY);
}

#[test]
fn searchable_true_with_encryption_is_95005() {
    let e = err(&format!(
        r#"{{"encryption":{{"publicKeyId":"{KEY}"}},"searchability":{{"searchable":true}}}}"#
    ));
    assert_eq!(e.code, 95005);
    assert!(e.message.contains("never searchable"), "{}", e.message);
    assert!(e.message.contains("searchable\": false"), "{}", e.message);
}

#[test]
fn searchability_alone() {
    assert!(!ok(r#"{"searchability":{"searchable":false}}"#).searchable);
    assert!(ok(r#"{"searchability":{"searchable":true}}"#).searchable);
    assert!(ok(r#"{"searchability":{}}"#).searchable);
}

#[test]
fn bad_public_key_id_is_95001() {
    let e = err(r#"{"encryption":{"publicKeyId":"not-a-uuid"}}"#);
    assert_eq!(e.code, 95001);
    assert!(
        e.message
            .contains("`not-a-uuid` is not a valid publicKeyId"),
        "{}",
        e.message
    );
    assert!(e.message.contains("POST /v3/security/public-keys"));
    let e = err(r#"{"encryption":{}}"#);
    assert_eq!(e.code, 95001);
    assert!(e.message.contains("needs a `publicKeyId`"), "{}", e.message);
    let e = err(r#"{"encryption":{"publicKeyId":""}}"#);
    assert_eq!(e.code, 95001);
    // Not a string at all: a type error.
    let e = err(r#"{"encryption":{"publicKeyId":42}}"#);
    assert_eq!(e.code, 10008);
    assert!(
        e.message.contains("`encryption.publicKeyId`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("must be a string"), "{}", e.message);
    // A huge value is not echoed in full.
    let long = "z".repeat(10_000);
    let e = err(&format!(r#"{{"encryption":{{"publicKeyId":"{long}"}}}}"#));
    assert_eq!(e.code, 95001);
    assert_short(&e);
}

#[test]
fn language_english_and_spanish_variants() {
    for (l, stored) in [
        ("en-US", "en-US"),
        ("en", "en-US"),
        ("EN-us", "en-US"),
        ("En", "en-US"),
        ("en-UK", "en-UK"),
        ("en-gb", "en-GB"),
        ("en-AU", "en-AU"),
        ("en-IN", "en-IN"),
        ("es-US", "es-US"),
        ("es-ES", "es-ES"),
        ("es-mx", "es-MX"),
        ("es-LA", "es-LA"),
        ("es-419", "es-419"),
        ("es", "es-US"),
    ] {
        assert_eq!(
            ok(&format!(r#"{{"speechModel":{{"language":"{l}"}}}}"#)).language,
            stored,
            "{l}"
        );
    }
    for l in ["fr-FR", "de-DE", "pt-BR", "", "xx", "es-XX"] {
        let e = err(&format!(r#"{{"speechModel":{{"language":"{l}"}}}}"#));
        assert_eq!(e.code, 10401, "{l}");
        assert!(e.message.contains("not supported"), "{}", e.message);
        assert!(e.message.contains("English and Spanish"), "{}", e.message);
        assert!(e.message.contains("es-MX"), "{}", e.message);
        assert!(e.message.contains(&format!("`{l}`")));
    }
}

#[test]
fn number_detectors_are_english_only() {
    for name in ["PCI", "SSN", "Number"] {
        let e = err(&format!(
            r#"{{"speechModel":{{"language":"es-MX"}},"prediction":{{"detectors":[{{"detectorName":"{name}"}}]}}}}"#
        ));
        assert_eq!(e.code, 10601, "{name}");
        assert!(e.message.contains(name), "{}", e.message);
        assert!(e.message.contains("English only"), "{}", e.message);
        assert!(e.message.contains("es-MX"), "{}", e.message);
        // The same detector on English media is fine.
        let c = ok(&format!(
            r#"{{"speechModel":{{"language":"en-AU"}},"prediction":{{"detectors":[{{"detectorName":"{name}"}}]}}}}"#
        ));
        assert_eq!((c.language.as_str(), c.detectors.len()), ("en-AU", 1));
    }
    // The Spanish detectors keep their own error, whatever the language.
    let e = err(
        r#"{"speechModel":{"language":"es-US"},"prediction":{"detectors":[{"detectorName":"PCI-Spanish"}]}}"#,
    );
    assert_eq!(e.code, 10601);
    assert!(e.message.contains("PCI-Spanish"), "{}", e.message);
}

#[test]
fn model_name_is_accepted_but_must_be_a_string() {
    assert_eq!(
        ok(r#"{"speechModel":{"model":"Titan"}}"#),
        MediaConfig::default()
    );
    let e = err(r#"{"speechModel":{"model":7}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`speechModel.model`"), "{}", e.message);
}

#[test]
fn priority_values() {
    assert_eq!(ok(r#"{"priority":"low"}"#).priority, Priority::Low);
    assert_eq!(ok(r#"{"priority":"normal"}"#).priority, Priority::Normal);
    assert_eq!(ok(r#"{"priority":"high"}"#).priority, Priority::High);
    for p in ["urgent", "HIGH", ""] {
        let e = err(&format!(r#"{{"priority":"{p}"}}"#));
        assert_eq!(e.code, 10009);
        assert!(
            e.message.contains("`low`, `normal` or `high`"),
            "{}",
            e.message
        );
    }
    assert_eq!(err(r#"{"priority":1}"#).code, 10008);
}

#[test]
fn number_formatting_is_stored() {
    let c = ok(r#"{"transcript":{"formatting":{"enableNumberFormatting":false}}}"#);
    assert!(!c.number_formatting);
    let c = ok(r#"{"transcript":{"formatting":{"enableNumberFormatting":true}}}"#);
    assert!(c.number_formatting);
    let e = err(r#"{"transcript":{"formatting":{"enableNumberFormatting":"no"}}}"#);
    assert_eq!(e.code, 10008);
    assert!(
        e.message
            .contains("`transcript.formatting.enableNumberFormatting`")
    );
    assert!(e.message.contains("true or false"), "{}", e.message);
}

#[test]
fn realistic_voicebase_configuration_with_supported_parts() {
    // Shaped like the configurations in the VoiceBase how-tos, keeping to what sealscribe does
    // (and explicit "off" values for the features it does not have).
    let json = r#"
    {
      "speechModel": { "language": "en-US", "model": "Titan", "features": [], "extensions": [] },
      "priority": "high",
      "knowledge": { "enableDiscovery": false, "enableExternalDataSources": true },
      "spotting": { "groups": [] },
      "vocabularies": [],
      "prediction": { "classifiers": [], "detectors": [] },
      "transcript": {
        "formatting": { "enableNumberFormatting": false },
        "contentFiltering": { "enableProfanityFiltering": false }
      },
      "publish": { "callbacks": [], "enableAnalyticIndexing": false },
      "speakerSentiments": false,
      "conversation": { "verbNounPairsEnabled": false },
      "entity": { "enableEntityExtraction": false },
      "categories": [],
      "metrics": [],
      "searchability": { "searchable": true }
    }"#;
    let c = ok(json);
    assert_eq!(
        c,
        MediaConfig {
            language: "en-US".into(),
            priority: Priority::High,
            searchable: true,
            encryption: None,
            number_formatting: false,
            profanity_filtering: false,
            knowledge: false,
            detectors: vec![],
            callbacks: vec![],
            metrics: vec![],
            ingest: Default::default(),
            category_selection: None,
            categories: None,
            spotting: vec![],
            vocabularies: Vec::new(),
        }
    );
}

#[test]
fn media_config_round_trips_and_tolerates_missing_fields() {
    let c = ok(&format!(
        r#"{{"priority":"low","encryption":{{"publicKeyId":"{KEY}"}},"transcript":{{"formatting":{{"enableNumberFormatting":false}}}}}}"#
    ));
    let json = serde_json::to_string(&c).unwrap();
    let back: MediaConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    // Unencrypted default: `encryption` is null, detectors/callbacks are left out.
    assert_eq!(
        serde_json::to_string(&MediaConfig::default()).unwrap(),
        r#"{"language":"en-US","priority":"normal","searchable":true,"encryption":null,"numberFormatting":true}"#
    );
    let partial: MediaConfig = serde_json::from_str(r#"{"priority":"high"}"#).unwrap();
    assert_eq!(
        partial,
        MediaConfig {
            priority: Priority::High,
            ..MediaConfig::default()
        }
    );
}

// ------------------------------------------------------------------------------------------
// configuration: strictness
// ------------------------------------------------------------------------------------------

#[test]
fn unknown_property_names_its_path_and_the_allowed_ones() {
    let e = err(r#"{"speechModel":{"language":"en-US","colour":"blue"}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`speechModel.colour`"), "{}", e.message);
    assert!(
        e.message.contains("allowed in `speechModel`"),
        "{}",
        e.message
    );
    for f in ["`language`", "`model`", "`features`", "`extensions`"] {
        assert!(e.message.contains(f), "{}", e.message);
    }

    let e = err(r#"{"prority":"high"}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`prority`"), "{}", e.message);
    assert!(e.message.contains("at the top level"), "{}", e.message);
    assert!(e.message.contains("`priority`"), "{}", e.message);

    let e = err(
        r#"{"prediction":{"detectors":[{"detectorName":"PCI","redactor":{"audio":{"tone":170,"volume":1}}}]}}"#,
    );
    assert_eq!(e.code, 10008);
    assert!(
        e.message
            .contains("`prediction.detectors[0].redactor.audio.volume`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("`tone`") && e.message.contains("`gain`"));

    let e = err(r#"{"publish":{"callbacks":[{"url":"https://x"},{"uri":"https://x"}]}}"#);
    assert_eq!(e.code, 10008);
    assert!(
        e.message.contains("`publish.callbacks[1].uri`"),
        "{}",
        e.message
    );

    // The v2 wrapping object is not v3.
    let e = err(r#"{"configuration":{}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`configuration`"));
}

#[test]
fn unknown_property_inside_an_unsupported_feature_is_still_10008() {
    let e = err(r#"{"knowledge":{"enableDiscovery":false,"discover":true}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`knowledge.discover`"), "{}", e.message);
}

#[test]
fn long_or_hostile_keys_are_not_echoed_in_full() {
    let key = "k".repeat(5_000);
    let e = err(&format!(r#"{{"speechModel":{{"{key}":1}}}}"#));
    assert_eq!(e.code, 10008);
    assert_short(&e);
    assert!(e.message.contains('…'));
    let e = err(r#"{"bad\u0007\nkey":1}"#);
    assert!(
        !e.message.contains('\u{7}') && !e.message.contains('\n'),
        "{}",
        e.message
    );
    let e = err(&format!(r#"{{"priority":"{}"}}"#, "p".repeat(5_000)));
    assert_eq!(e.code, 10009);
    assert_short(&e);
    let e = err(&format!(
        r#"{{"speechModel":{{"language":"{}"}}}}"#,
        "l".repeat(5_000)
    ));
    assert_eq!(e.code, 10401);
    assert_short(&e);
}

#[test]
fn wrong_types_name_path_and_expected_type() {
    let cases = [
        (
            r#"{"speechModel":"en-US"}"#,
            "`speechModel`",
            "a JSON object",
        ),
        (
            r#"{"speechModel":["en-US"]}"#,
            "`speechModel`",
            "a JSON object",
        ),
        (
            r#"{"searchability":{"searchable":"no"}}"#,
            "`searchability.searchable`",
            "true or false",
        ),
        (
            r#"{"vocabularies":{"terms":[]}}"#,
            "`vocabularies`",
            "an array",
        ),
        (
            r#"{"speechModel":{"features":"voiceFeatures"}}"#,
            "`speechModel.features`",
            "an array",
        ),
        (
            r#"{"prediction":{"detectors":[{"redactor":{"audio":{"tone":-170}}}]}}"#,
            "`prediction.detectors[0].redactor.audio.tone`",
            "whole number",
        ),
        (
            r#"{"prediction":{"detectors":[{"redactor":{"audio":{"gain":"loud"}}}]}}"#,
            "`prediction.detectors[0].redactor.audio.gain`",
            "a number",
        ),
        (
            r#"{"speakerSentiments":1}"#,
            "`speakerSentiments`",
            "true or false",
        ),
    ];
    for (json, path, expected) in cases {
        let e = err(json);
        assert_eq!(e.code, 10008, "{json}");
        assert!(e.message.contains(path), "{json}: {}", e.message);
        assert!(e.message.contains(expected), "{json}: {}", e.message);
    }
    for json in ["[]", "5", "\"x\"", "null", "true"] {
        let e = err(json);
        assert_eq!(e.code, 10008, "{json}");
        assert!(e.message.contains("must be a JSON object"), "{}", e.message);
    }
}

#[test]
fn null_counts_as_absent() {
    assert_eq!(
        ok(r#"{"speechModel":null,"priority":null,"knowledge":null,"encryption":null}"#),
        MediaConfig::default()
    );
}

#[test]
fn unparseable_json_is_10007_with_position() {
    let e = err(r#"{"priority": }"#);
    assert_eq!(e.code, 10007);
    assert!(e.message.contains("line 1, column 14"), "{}", e.message);
    let e = err("{\n  \"priority\": \"low\",\n}");
    assert_eq!(e.code, 10007);
    assert!(e.message.contains("line 3"), "{}", e.message);
    let e = err(r#"{"priority":"low"} {"priority":"high"}"#);
    assert_eq!(e.code, 10007);
    assert!(e.message.contains("trailing characters"), "{}", e.message);
    // The broken JSON of the first VoiceBase CSE draft (missing colon).
    let e = err(r#"{"encryption" {"publicKeyId":"x"}}"#);
    assert_eq!(e.code, 10007);
    let e = parse_configuration(b"{\"priority\":\"\xff\"}").unwrap_err();
    assert_eq!(e.code, 10007);
    let e = err(&"[".repeat(10_000));
    assert_eq!(e.code, 10007);
    assert_short(&e);
}

#[test]
fn duplicate_property_is_10010_naming_it() {
    let e = err(r#"{"priority":"low","priority":"high"}"#);
    assert_eq!(e.code, 10010);
    assert!(e.message.contains("`priority`"), "{}", e.message);
    let e = err(r#"{"searchability":{"searchable":false,"searchable":true}}"#);
    assert_eq!(e.code, 10010);
    assert!(
        e.message.contains("`searchability.searchable`"),
        "{}",
        e.message
    );
    let e = err(r#"{"publish":{"callbacks":[{"url":"a"},{"url":"a","url":"b"}]}}"#);
    assert_eq!(e.code, 10010);
    assert!(
        e.message.contains("`publish.callbacks[1].url`"),
        "{}",
        e.message
    );
    // Duplicates inside an otherwise unknown subtree are reported as duplicates first.
    assert_eq!(err(r#"{"x":{"a":1,"a":1}}"#).code, 10010);
}

/// `(configuration, path named in the message)` for every unsupported v3 feature.
const UNSUPPORTED: &[(&str, &str)] = &[
    (r#"{"speakerSentiments":true}"#, "speakerSentiments"),
    (
        r#"{"conversation":{"verbNounPairsEnabled":true}}"#,
        "conversation",
    ),
    (r#"{"entity":{"enableEntityExtraction":true}}"#, "entity"),
    (
        r#"{"additionalSpeechModels":[{"language":"es-US"}]}"#,
        "additionalSpeechModels",
    ),
    (
        r#"{"prediction":{"classifiers":[{"classifierName":"sentiment","version":"latest"}]}}"#,
        "prediction.classifiers",
    ),
    (
        r#"{"speechModel":{"features":["voiceFeatures"]}}"#,
        "speechModel.features",
    ),
    (
        r#"{"speechModel":{"extensions":["voicemail"]}}"#,
        "speechModel.extensions",
    ),
    (
        r#"{"publish":{"enableAnalyticIndexing":true}}"#,
        "publish.enableAnalyticIndexing",
    ),
    (
        r#"{"publish":{"audioTranscode":{"onlyIfRedacted":true,"fileFormat":"mp3"}}}"#,
        "publish.audioTranscode",
    ),
    (
        r#"{"publish":{"audioTranscode":{}}}"#,
        "publish.audioTranscode",
    ),
];

#[test]
fn unsupported_features_are_10601_naming_them() {
    for (json, path) in UNSUPPORTED {
        let e = err(json);
        assert_eq!(e.code, 10601, "{json}: {}", e.message);
        assert!(
            e.message.contains(&format!("`{path}`")),
            "{json}: {}",
            e.message
        );
        assert!(
            e.message
                .contains("is a VoiceBase v3 feature that sealscribe does not support"),
            "{}",
            e.message
        );
        assert!(e.message.contains("remove it from the configuration"));
    }
    let e = err(r#"{"speakerSentiments":true}"#);
    assert_eq!(
        e.message,
        "`speakerSentiments` is a VoiceBase v3 feature that sealscribe does not support; remove it from the configuration."
    );
}

#[test]
fn knowledge_and_content_filtering_are_stored() {
    let c = ok(r#"{"knowledge":{"enableDiscovery":true,"enableExternalDataSources":true}}"#);
    assert!(c.knowledge && c.call_analytics() && !c.profanity_filtering);
    let c = ok(r#"{"knowledge":{"enableDiscovery":true,"enableExternalDataSources":false}}"#);
    assert!(c.knowledge);
    let c = ok(r#"{"transcript":{"contentFiltering":{"enableProfanityFiltering":true}}}"#);
    assert!(c.profanity_filtering && !c.knowledge && !c.call_analytics());
    // Both survive the stored form.
    let c = ok(
        r#"{"knowledge":{"enableDiscovery":true},"transcript":{"contentFiltering":{"enableProfanityFiltering":true},"formatting":{"enableNumberFormatting":false}}}"#,
    );
    let stored: MediaConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(stored, c);
    assert!(stored.knowledge && stored.profanity_filtering && !stored.number_formatting);
    // Knowledge works in Spanish; the profanity list is English only (v3 55000).
    assert!(
        ok(r#"{"knowledge":{"enableDiscovery":true},"speechModel":{"language":"es-MX"}}"#)
            .knowledge
    );
    let e = err(
        r#"{"transcript":{"contentFiltering":{"enableProfanityFiltering":true}},"speechModel":{"language":"es-US"}}"#,
    );
    assert_eq!(e.code, 55000, "{}", e.message);
    assert!(e.message.contains("English"), "{}", e.message);
    assert!(
        ok(r#"{"transcript":{"contentFiltering":{"enableProfanityFiltering":false}},"speechModel":{"language":"es-US"}}"#)
            .language
            .starts_with("es")
    );
}

#[test]
fn several_unsupported_features_are_all_named() {
    let e = err(r#"{"entity":{"enableEntityExtraction":true},"speakerSentiments":true}"#);
    assert_eq!(e.code, 10601);
    assert!(e.message.contains("`entity`") && e.message.contains("`speakerSentiments`"));
    assert!(e.message.contains("remove them"));
}

#[test]
fn explicit_off_values_of_unsupported_features_are_accepted() {
    for json in [
        r#"{"knowledge":{}}"#,
        r#"{"knowledge":{"enableDiscovery":false}}"#,
        r#"{"knowledge":{"enableExternalDataSources":false}}"#,
        r#"{"spotting":{}}"#,
        r#"{"spotting":{"groups":[]}}"#,
        r#"{"vocabularies":[]}"#,
        r#"{"categories":[],"metrics":[],"additionalSpeechModels":[]}"#,
        r#"{"speakerSentiments":false}"#,
        r#"{"conversation":{"verbNounPairsEnabled":false}}"#,
        r#"{"entity":{}}"#,
        r#"{"ingest":{}}"#,
        r#"{"prediction":{"classifiers":[],"detectors":[]}}"#,
        r#"{"speechModel":{"features":[],"extensions":[]}}"#,
        r#"{"publish":{"enableAnalyticIndexing":false,"callbacks":[]}}"#,
        r#"{"transcript":{"contentFiltering":{"enableProfanityFiltering":false}}}"#,
        r#"{"transcript":{"contentFiltering":{}}}"#,
    ] {
        assert_eq!(ok(json), MediaConfig::default(), "{json}");
    }
}

#[test]
fn detectors_are_validated_and_normalised() {
    let c = ok(r#"{"prediction":{"detectors":[
        {"detectorName":"PCI","parameters":[{"parameter":"detectionLevel","value":"probableNumbers"}],
         "redactor":{"transcript":{"replacement":"[card]"},"audio":{"tone":440,"gain":0.5}}},
        {"detectorName":"ssn","redactor":{"transcript":{}}},
        {"detectorName":"Number"}
    ]}}"#);
    assert_eq!(
        c.detectors,
        vec![
            Detector {
                name: DetectorName::Pci,
                detection_level: DetectionLevel::ProbableNumbers,
                replacement: Some("[card]".into()),
                audio: Some(AudioRedaction {
                    tone: 440,
                    gain: 0.5
                }),
            },
            Detector {
                name: DetectorName::Ssn,
                detection_level: DetectionLevel::EntireRegion,
                replacement: Some("[redacted]".into()),
                audio: None,
            },
            Detector {
                name: DetectorName::Number,
                detection_level: DetectionLevel::EntireRegion,
                replacement: None,
                audio: None,
            },
        ]
    );
    // Defaults of an empty audio redactor: v3's example values.
    let c = ok(r#"{"prediction":{"detectors":[{"detectorName":"PCI","redactor":{"audio":{}}}]}}"#);
    assert_eq!(
        c.detectors[0].audio,
        Some(AudioRedaction {
            tone: 170,
            gain: 0.25
        })
    );
    // The stored form reads back.
    let stored = serde_json::to_value(&c).unwrap();
    assert_eq!(serde_json::from_value::<MediaConfig>(stored).unwrap(), c);
    // A detector named by the id GET /v3/definition/prediction/detectors lists (with or
    // without its name) is that detector.
    let c = ok(
        r#"{"prediction":{"detectors":[{"detectorId":"E8D57A18-24B9-54C9-9A02-3ACD3EF72AD9"},
            {"detectorId":"c6b8ef0e-a069-5c27-8ca9-9ebb66fe3dab","detectorName":"number"}]}}"#,
    );
    assert_eq!(
        c.detectors.iter().map(|d| d.name).collect::<Vec<_>>(),
        [DetectorName::Ssn, DetectorName::Number]
    );

    for (json, code, words) in [
        (
            r#"{"prediction":{"detectors":[{"detectorName":"Passport"}]}}"#,
            50001,
            "`prediction.detectors[0].detectorName` `Passport` is not a detector",
        ),
        (
            r#"{"prediction":{"detectors":[{}]}}"#,
            50001,
            "needs a `detectorName`",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorId":"0b3c1d2e-1111-2222-3333-444455556666"}]}}"#,
            50001,
            "is not a detector id",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorId":"126c5d96-dad3-5d46-8b34-01806f51a690","detectorName":"SSN"}]}}"#,
            50001,
            "is the PCI detector but `detectorName` is `SSN`",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"PCI-Spanish"}]}}"#,
            10601,
            "English only",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"SSN","parameters":[{"parameter":"detectionLevel","value":"numbersOnly"}]}]}}"#,
            50001,
            "takes no parameters",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"PCI","parameters":[{"parameter":"detectionLevel","value":"all"}]}]}}"#,
            50001,
            "use entireRegion",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"PCI","redactor":{}}]}}"#,
            50007,
            "redacts nothing",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"PCI","redactor":{"audio":{"tone":5}}}]}}"#,
            50001,
            "between 20 and 8000 Hz",
        ),
        (
            r#"{"prediction":{"detectors":[{"detectorName":"PCI","redactor":{"audio":{"gain":3.5}}}]}}"#,
            50001,
            "between 0 and 1",
        ),
    ] {
        let e = err(json);
        assert_eq!(
            (e.code, e.message.contains(words)),
            (code, true),
            "{json}: {e:?}"
        );
    }
    // Strict shape: a typo is reported as such.
    let e = err(r#"{"prediction":{"detectors":[{"detectorNmae":"PCI"}]}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`prediction.detectors[0].detectorNmae`"));
    let d: DetectorConfig = serde_json::from_str(
        r#"{"detectorName":"PCI","redactor":{"audio":{"tone":170,"gain":0.25}}}"#,
    )
    .unwrap();
    assert_eq!(d.redactor.unwrap().audio.unwrap().tone, Some(170));
}

#[test]
fn callbacks_are_validated_and_normalised() {
    let c = ok(r#"{"publish":{"callbacks":[
        {"url":"https://example.org/cb","type":"analytics","include":["transcript","metadata"]},
        {"url":"https://example.org/t","method":"put","type":"transcript","format":"webvtt"},
        {"url":"http://example.org/m?sig=1","method":"PUT","type":"media","stream":"redacted-audio"},
        {"url":"https://example.org/d"}
    ]},"prediction":{"detectors":[{"detectorName":"SSN","redactor":{"audio":{}}}]}}"#);
    assert_eq!(
        c.callbacks,
        vec![
            Callback {
                url: "https://example.org/cb".into(),
                method: Method::Post,
                payload: Payload::Analytics {
                    include: Some(vec!["transcript".into(), "metadata".into()])
                },
            },
            Callback {
                url: "https://example.org/t".into(),
                method: Method::Put,
                payload: Payload::Transcript {
                    format: TranscriptFormat::Webvtt
                },
            },
            Callback {
                url: "http://example.org/m?sig=1".into(),
                method: Method::Put,
                payload: Payload::Media {
                    stream: MediaStream::Redacted
                },
            },
            Callback {
                url: "https://example.org/d".into(),
                method: Method::Post,
                payload: Payload::Analytics { include: None },
            },
        ]
    );
    let stored = serde_json::to_value(&c).unwrap();
    assert_eq!(stored["callbacks"][1]["type"], "transcript");
    // DFXP (TTML) is a transcript format too, in any case.
    let d = ok(
        r#"{"publish":{"callbacks":[{"url":"https://x.org","type":"transcript","format":"DFXP"}]}}"#,
    );
    assert_eq!(
        d.callbacks[0].payload,
        Payload::Transcript {
            format: TranscriptFormat::Dfxp
        }
    );
    assert_eq!(
        TranscriptFormat::Dfxp.content_type(),
        "application/ttaf+xml"
    );
    assert_eq!(serde_json::from_value::<MediaConfig>(stored).unwrap(), c);
    assert_eq!(
        c.callbacks[2].display_url(),
        "http://example.org/m",
        "no query in logs"
    );
    assert_eq!(
        sealscribe_domain::callbacks::display_url("https://u:secret@example.org/x?token=t#f"),
        "https://example.org/x"
    );

    for (json, code, words) in [
        (
            r#"{"publish":{"callbacks":[{"method":"POST"}]}}"#,
            60001,
            "needs a `url`",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"ftp://example.org/x"}]}}"#,
            60002,
            "must be an https",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"not a url"}]}}"#,
            60002,
            "not a valid URL",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","method":"GET"}]}}"#,
            60011,
            "use POST or PUT",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","type":"email"}]}}"#,
            60003,
            "not a callback type",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","type":"transcript","format":"docx"}]}}"#,
            60003,
            "srt, dfxp or webvtt",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","type":"media","stream":"redacted-audio"}]}}"#,
            60003,
            "no detector has a `redactor.audio`",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","include":["everything"]}]}}"#,
            60003,
            "not a section",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://x.org","format":"srt"}]}}"#,
            60003,
            "only applies to `type` transcript",
        ),
        (
            r#"{"publish":{"callbacks":[{"url":"https://b.s3.amazonaws.com/x","role":"arn:aws:iam::1:role/r"}]}}"#,
            10601,
            "S3 buckets",
        ),
    ] {
        let e = err(json);
        assert_eq!(
            (e.code, e.message.contains(words)),
            (code, true),
            "{json}: {e:?}"
        );
    }
    let e = err(r#"{"publish":{"callbacks":[{"url":"https://x","headers":{}}]}}"#);
    assert_eq!(e.code, 10008);
    let cfg: CallbackConfig =
        serde_json::from_str(r#"{"url":"https://x","type":"media","stream":"original"}"#).unwrap();
    assert_eq!(cfg.kind.as_deref(), Some("media"));
}

#[test]
fn mutated_inputs_never_panic_and_give_known_codes() {
    let seeds: Vec<String> = std::iter::once(format!(
        r#"{{"encryption":{{"publicKeyId":"{KEY}"}},"searchability":{{"searchable":false}},"speechModel":{{"language":"en-US"}},"priority":"low"}}"#
    ))
    .chain(UNSUPPORTED.iter().map(|(j, _)| j.to_string()))
    .collect();
    let alphabet = b"{}[]\":,. 0123456789truefalsnl\\-abcxyz\xc3\xa9\xff";
    let mut rng = Rng(99);
    let known = [
        10007, 10008, 10009, 10010, 10401, 10601, 95001, 95005, 10107, 10108, 10109, 10110, 10800,
    ];
    for _ in 0..3_000 {
        let mut bytes = seeds[rng.index(seeds.len())].clone().into_bytes();
        for _ in 0..1 + rng.index(4) {
            let at = rng.index(bytes.len() + 1);
            match rng.index(3) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, alphabet[rng.index(alphabet.len())]),
                _ if at < bytes.len() => bytes[at] = alphabet[rng.index(alphabet.len())],
                _ => {}
            }
        }
        for result in [
            parse_configuration(&bytes).map(|_| ()),
            parse_metadata(&bytes).map(|_| ()),
        ] {
            if let Err(e) = result {
                assert!(known.contains(&e.code), "{e:?}");
                assert_short(&e);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// metadata
// ------------------------------------------------------------------------------------------

#[test]
fn metadata_full_sample() {
    let m = parse_metadata(
        br#"{"title":"Call 42","description":"Billing question","externalId":"CRM-1001",
            "extended":{"agent":"Ana","queue":7,"tags":["billing"],"nested":{"a":null}}}"#,
    )
    .unwrap();
    assert_eq!(m.title.as_deref(), Some("Call 42"));
    assert_eq!(m.description.as_deref(), Some("Billing question"));
    assert_eq!(m.external_id.as_deref(), Some("CRM-1001"));
    let ext = m.extended.as_ref().unwrap();
    assert_eq!(ext["queue"], 7);
    // v3 names on output, round trip.
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains(r#""externalId":"CRM-1001""#), "{json}");
    let back: Metadata = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn metadata_empty_and_partial() {
    assert_eq!(parse_metadata(b"").unwrap(), Metadata::default());
    assert_eq!(parse_metadata(b" {} ").unwrap(), Metadata::default());
    let m = parse_metadata(br#"{"title":"only","extended":null}"#).unwrap();
    assert_eq!(m.title.as_deref(), Some("only"));
    assert!(m.extended.is_none());
    // None fields are skipped on output.
    assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"title":"only"}"#);
    assert_eq!(serde_json::to_string(&Metadata::default()).unwrap(), "{}");
}

#[test]
fn metadata_unknown_top_level_property_is_10008() {
    let e = meta_err(r#"{"title":"x","owner":"me"}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`owner`"), "{}", e.message);
    assert!(e.message.contains("`extended`"), "{}", e.message);
    // Anything goes inside `extended`.
    parse_metadata(br#"{"extended":{"owner":"me","x":{"y":[1,2]}}}"#).unwrap();
}

#[test]
fn metadata_unparseable_is_10107() {
    let e = meta_err(r#"{"title":"x""#);
    assert_eq!(e.code, 10107);
    assert!(e.message.contains("line 1"), "{}", e.message);
    let e = meta_err(r#"{"title":5}"#);
    assert_eq!(e.code, 10107);
    assert!(e.message.contains("`title`") && e.message.contains("a string"));
    assert_eq!(meta_err("[]").code, 10107);
}

#[test]
fn metadata_duplicates_are_10110() {
    let e = meta_err(r#"{"title":"a","title":"b"}"#);
    assert_eq!(e.code, 10110);
    assert!(e.message.contains("`title`"));
    let e = meta_err(r#"{"extended":{"k":1,"k":2}}"#);
    assert_eq!(e.code, 10110);
    assert!(e.message.contains("`extended.k`"), "{}", e.message);
}

#[test]
fn metadata_external_id_limits() {
    assert_eq!(meta_err(r#"{"externalId":""}"#).code, 10108);
    assert_eq!(meta_err(r#"{"externalId":"   "}"#).code, 10108);
    let id = "é".repeat(256);
    assert_eq!(
        parse_metadata(format!(r#"{{"externalId":"{id}"}}"#).as_bytes())
            .unwrap()
            .external_id
            .unwrap()
            .chars()
            .count(),
        256
    );
    let e = meta_err(&format!(r#"{{"externalId":"{}"}}"#, "x".repeat(257)));
    assert_eq!(e.code, 10109);
    assert!(
        e.message.contains("257") && e.message.contains("256"),
        "{}",
        e.message
    );
    assert_short(&e);
}

#[test]
fn metadata_extended_must_be_an_object() {
    for v in ["[1,2]", "\"text\"", "3", "true"] {
        let e = meta_err(&format!(r#"{{"extended":{v}}}"#));
        assert_eq!(e.code, 10107, "{v}");
        assert!(
            e.message.contains("`extended` must be a JSON object"),
            "{}",
            e.message
        );
    }
}

#[test]
fn metadata_text_limits() {
    parse_metadata(format!(r#"{{"title":"{}"}}"#, "t".repeat(1024)).as_bytes()).unwrap();
    let e = meta_err(&format!(r#"{{"title":"{}"}}"#, "t".repeat(1025)));
    assert_eq!(e.code, 10107);
    assert!(
        e.message.contains("`title`") && e.message.contains("1024"),
        "{}",
        e.message
    );
    assert_short(&e);
    let e = meta_err(&format!(r#"{{"description":"{}"}}"#, "d".repeat(2000)));
    assert_eq!(e.code, 10107);
    assert!(e.message.contains("`description`"));
}

#[test]
fn metadata_size_limit_is_10800() {
    // Exactly 64 KiB is accepted; one byte more is not.
    let mut body = br#"{"extended":{"blob":""#.to_vec();
    let tail = br#""}}"#;
    body.resize(64 * 1024 - tail.len(), b'a');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), 64 * 1024);
    parse_metadata(&body).unwrap();
    body.insert(5, b' ');
    let e = parse_metadata(&body).unwrap_err();
    assert_eq!(e.code, 10800);
    assert!(e.message.contains("64 KiB"), "{}", e.message);
}

#[test]
fn metric_groups_are_parsed_deduplicated_and_stored() {
    use sealscribe_domain::conversation_metrics::MetricGroup;
    let c = ok(
        r#"{"metrics":[{"metricGroupName":"talk-time-and-rate"},{"metricGroupName":"overtalk"},
        {"metricGroupName":"overtalk"},{"metricGroupName":"sentiment"},
        {"metricGroupName":"talk-style-tone-and-volume"}]}"#,
    );
    assert_eq!(
        c.metrics,
        [
            MetricGroup::TalkTimeAndRate,
            MetricGroup::Overtalk,
            MetricGroup::Sentiment,
            MetricGroup::TalkStyleToneAndVolume
        ]
    );
    let stored = serde_json::to_value(&c).unwrap();
    assert_eq!(
        stored["metrics"],
        serde_json::json!([
            "talk-time-and-rate",
            "overtalk",
            "sentiment",
            "talk-style-tone-and-volume"
        ])
    );
    // Stored configurations without the field (older rows) read back without metrics.
    assert!(ok("{}").metrics.is_empty());
    assert!(ok(r#"{"metrics":[]}"#).metrics.is_empty());
    let old: MediaConfig = serde_json::from_str(r#"{"language":"en-US"}"#).unwrap();
    assert!(old.metrics.is_empty());
    assert!(serde_json::to_value(&old).unwrap().get("metrics").is_none());
}

#[test]
fn unknown_metric_groups_are_refused_naming_the_four() {
    for (json, what) in [
        (
            r#"{"metrics":[{"metricGroupName":"overtalk"},{"metricGroupName":"talk-time"}]}"#,
            "`metrics[1]` names `talk-time`",
        ),
        (
            r#"{"metrics":[{}]}"#,
            "`metrics[0]` has no `metricGroupName`",
        ),
        (
            r#"{"metrics":[{"metricGroupName":""}]}"#,
            "`metrics[0]` has no `metricGroupName`",
        ),
        (
            r#"{"metrics":[{"metricGroupName":"Overtalk"}]}"#,
            "`metrics[0]` names `Overtalk`",
        ),
    ] {
        let e = err(json);
        assert_eq!(e.code, 16001, "{json}");
        assert!(e.message.contains(what), "{}", e.message);
        for name in [
            "`overtalk`",
            "`talk-time-and-rate`",
            "`sentiment`",
            "`talk-style-tone-and-volume`",
        ] {
            assert!(e.message.contains(name), "{}", e.message);
        }
    }
    // The item shape stays strict.
    let e = err(r#"{"metrics":[{"metricGroupName":"overtalk","weight":2}]}"#);
    assert_eq!(e.code, 10008);
    let e = err(r#"{"metrics":[{"metricGroupName":7}]}"#);
    assert_eq!(e.code, 10008);
}

/// `spotting.groups[]`: names only, each once, at most 100; the keywords come from the
/// account's definitions, which the API looks up (40005/40006 there).
#[test]
fn spotting_groups_are_names_in_order() {
    let c = parse_configuration(
        br#"{"spotting":{"groups":[{"groupName":"competitors"},{"groupName":"complaints"}]}}"#,
    )
    .unwrap();
    let names: Vec<_> = c.spotting.iter().map(|g| g.group_name.as_str()).collect();
    assert_eq!(names, ["competitors", "complaints"]);
    assert!(c.spotting.iter().all(|g| g.keywords.is_empty()));
    assert!(c.call_analytics());
    assert!(
        !parse_configuration(br#"{"spotting":{"groups":[]}}"#)
            .unwrap()
            .call_analytics()
    );
    assert_eq!(err(r#"{"spotting":{"groups":[{}]}}"#).code, 40005);
    assert_eq!(
        err(r#"{"spotting":{"groups":[{"groupName":" "}]}}"#).code,
        40005
    );
    assert_eq!(
        err(r#"{"spotting":{"groups":[{"groupName":"a","x":1}]}}"#).code,
        10008
    );
    let e = err(r#"{"spotting":{"groups":[{"groupName":"a"},{"groupName":"a"}]}}"#);
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("`spotting.groups[1]`"), "{}", e.message);
    let many: Vec<_> = (0..101)
        .map(|i| json!({"groupName": format!("g{i}")}))
        .collect();
    let e = err(&json!({"spotting": {"groups": many}}).to_string());
    assert_eq!(e.code, 10008);
    assert!(e.message.contains("at most 100"), "{}", e.message);
}

/// `vocabularies[]` is accepted: ad hoc terms are kept as sent, a saved name waits for the
/// caller to resolve it, and the stored form has both.
#[test]
fn vocabularies_are_parsed_into_the_stored_form() {
    let c = parse_configuration(
        br#"{"vocabularies":[{"vocabularyName":"products"},
            {"terms":[{"term":"VoiceBase","soundsLike":["voice base"],"weight":3}]}]}"#,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&c.vocabularies).unwrap(),
        serde_json::json!([{"vocabularyName":"products"},
            {"terms":[{"term":"VoiceBase","soundsLike":["voice base"],"weight":3}]}])
    );
    assert_eq!(
        parse_configuration(br#"{"vocabularies":[{"terms":[{"term":"a","weight":9}]}]}"#)
            .unwrap_err()
            .code,
        20015
    );
    assert!(
        parse_configuration(br#"{"vocabularies":[]}"#)
            .unwrap()
            .vocabularies
            .is_empty()
    );
}
