//! `configuration.ingest`: speakers per channel, and every upload-time v3 code of 15000–15005
//! (15004 needs the media and is tested end to end in the integration suite).

use sealscribe_domain::configuration::{
    Channel, Ingest, InputError, MAX_INGEST_CHANNELS, MAX_SPEAKER_NAME_CHARS, MediaConfig, Speaker,
    Track, parse_configuration,
};

fn ok(json: &str) -> MediaConfig {
    parse_configuration(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e:?}"))
}

fn err(json: &str) -> InputError {
    match parse_configuration(json.as_bytes()) {
        Ok(c) => panic!("{json} was accepted: {c:?}"),
        Err(e) => e,
    }
}

fn speaker(name: &str, role: Option<&str>) -> Speaker {
    Speaker {
        name: name.into(),
        role: role.map(Into::into),
    }
}

fn ch(name: &str, ignore: bool) -> Channel {
    Channel {
        speaker: speaker(name, None),
        ignore,
    }
}

#[test]
fn stereo_channels_tracks_and_named_mono_are_accepted() {
    let c = ok(r#"{"ingest":{"stereo":{
        "left":{"speakerName":" Agent ","speakerRole":"agent"},
        "right":{"speakerName":"Caller"}}}}"#);
    assert_eq!(
        c.ingest,
        Ingest::Channels {
            channels: vec![
                Channel {
                    speaker: speaker("Agent", Some("agent")),
                    ignore: false
                },
                ch("Caller", false),
            ]
        }
    );
    let c =
        ok(r#"{"ingest":{"stereo":{"left":{"ignore":true},"right":{"speakerName":"Caller"}}}}"#);
    assert_eq!(
        c.ingest,
        Ingest::Channels {
            channels: vec![ch("Speaker0", true), ch("Caller", false)]
        }
    );
    let c = ok(
        r#"{"ingest":{"channels":[{"speakerName":"A"},{"speakerName":"B","ignore":false},{"ignore":true}]}}"#,
    );
    assert_eq!(
        c.ingest,
        Ingest::Channels {
            channels: vec![ch("A", false), ch("B", false), ch("Speaker2", true)]
        }
    );
    let c = ok(r#"{"ingest":{"tracks":[
        {"trackIndex":1,"speakerName":"Agent"},
        {"trackIndex":0,"channels":[{"speakerName":"X"},{"ignore":true}]}]}}"#);
    assert_eq!(
        c.ingest,
        Ingest::Tracks {
            tracks: vec![
                Track {
                    index: 1,
                    speaker: Some(speaker("Agent", None)),
                    channels: vec![]
                },
                Track {
                    index: 0,
                    speaker: None,
                    channels: vec![ch("X", false), ch("Speaker1", true)]
                },
            ]
        }
    );
    let c = ok(r#"{"ingest":{"speakerName":"Caller","speakerRole":"customer"}}"#);
    assert_eq!(
        c.ingest,
        Ingest::NamedMono {
            speaker: speaker("Caller", Some("customer"))
        }
    );
    // Nothing, `{}` and nulls are mono, stored as before (no `ingest` key).
    for json in ["{}", r#"{"ingest":{}}"#, r#"{"ingest":{"stereo":null}}"#] {
        let c = ok(json);
        assert_eq!(c.ingest, Ingest::Mono, "{json}");
        assert!(serde_json::to_value(&c).unwrap().get("ingest").is_none());
    }
    // The stored form reads back.
    let c = ok(r#"{"ingest":{"stereo":{"left":{"speakerName":"A"},"right":{"speakerName":"B"}}}}"#);
    let back: MediaConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

/// `(configuration, code, words the message must contain)`.
const REFUSED: &[(&str, u32, &str)] = &[
    // 15000: exactly one mode.
    (
        r#"{"ingest":{"speakerName":"A","stereo":{"left":{"speakerName":"A"},"right":{"speakerName":"B"}}}}"#,
        15000,
        "`speakerName` and `stereo`",
    ),
    (
        r#"{"ingest":{"channels":[{"speakerName":"A"}],"tracks":[{"trackIndex":0,"speakerName":"A"}]}}"#,
        15000,
        "exactly one",
    ),
    (
        r#"{"ingest":{"channels":[],"tracks":[]}}"#,
        15000,
        "exactly one",
    ),
    (
        r#"{"ingest":{"speakerRole":"agent","channels":[{"speakerName":"A"}]}}"#,
        15000,
        "speakerRole",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":0,"speakerName":"A","channels":[{"speakerName":"B"}]}]}}"#,
        15000,
        "both `speakerName` and `channels`",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":0,"speakerName":"A"},{"trackIndex":0,"speakerName":"B"}]}}"#,
        15000,
        "appears twice",
    ),
    // 15001: empty lists.
    (
        r#"{"ingest":{"channels":[]}}"#,
        15001,
        "`ingest.channels` is empty",
    ),
    (
        r#"{"ingest":{"tracks":[]}}"#,
        15001,
        "`ingest.tracks` is empty",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":0,"channels":[]}]}}"#,
        15001,
        "`ingest.tracks[0].channels` is empty",
    ),
    // 15002: a channel without a speaker.
    (
        r#"{"ingest":{"channels":[{"speakerName":"A"},{"speakerRole":"caller"}]}}"#,
        15002,
        "`ingest.channels[1]` has no `speakerName`",
    ),
    (
        r#"{"ingest":{"stereo":{"left":{"speakerName":"A"},"right":{}}}}"#,
        15002,
        "`ingest.stereo.right` has no `speakerName`",
    ),
    (
        r#"{"ingest":{"stereo":{"left":{"speakerName":"  "},"right":{"speakerName":"B"}}}}"#,
        15002,
        "cannot be used",
    ),
    (
        r#"{"ingest":{"speakerName":"Agent\nCaller"}}"#,
        15002,
        "control characters",
    ),
    (
        r#"{"ingest":{"speakerRole":"agent"}}"#,
        15002,
        "needs an `ingest.speakerName`",
    ),
    (
        r#"{"ingest":{"tracks":[{"speakerName":"A"}]}}"#,
        15002,
        "no `trackIndex`",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":2}]}}"#,
        15002,
        "names no speaker",
    ),
    // 15003: both sides.
    (
        r#"{"ingest":{"stereo":{"left":{"speakerName":"Agent"}}}}"#,
        15003,
        "lacks `right`",
    ),
    (
        r#"{"ingest":{"stereo":{"right":{"speakerName":"Caller"}}}}"#,
        15003,
        "lacks `left`",
    ),
    (r#"{"ingest":{"stereo":{}}}"#, 15003, "lacks both sides"),
    // 15005: nothing left to transcribe.
    (
        r#"{"ingest":{"stereo":{"left":{"ignore":true},"right":{"speakerName":"B","ignore":true}}}}"#,
        15005,
        "ignored",
    ),
    (
        r#"{"ingest":{"channels":[{"ignore":true}]}}"#,
        15005,
        "ignored",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":0,"channels":[{"ignore":true},{"ignore":true}]}]}}"#,
        15005,
        "ignored",
    ),
    // Shape errors stay 10008.
    (r#"{"ingest":{"stereo":{"centre":{}}}}"#, 10008, "centre"),
    (
        r#"{"ingest":{"channels":[{"speaker":"A"}]}}"#,
        10008,
        "speaker",
    ),
    (
        r#"{"ingest":{"tracks":[{"trackIndex":-1,"speakerName":"A"}]}}"#,
        10008,
        "trackIndex",
    ),
];

#[test]
fn every_ingest_error_has_its_code_and_says_what_to_do() {
    for (json, code, words) in REFUSED {
        let e = err(json);
        assert_eq!(e.code, *code, "{json}: {}", e.message);
        assert!(e.message.contains(words), "{json}: {}", e.message);
        assert!(e.message.chars().count() < 600, "{}", e.message);
    }
}

#[test]
fn limits_on_names_and_channels() {
    let long = "x".repeat(MAX_SPEAKER_NAME_CHARS);
    ok(&format!(r#"{{"ingest":{{"speakerName":"{long}"}}}}"#));
    let e = err(&format!(r#"{{"ingest":{{"speakerName":"{long}x"}}}}"#));
    assert_eq!(e.code, 15002);
    // The message quotes only an excerpt of the name.
    assert!(e.message.len() < 400, "{}", e.message);
    let many = |n: usize| {
        let list: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"speakerName":"S{i}"}}"#))
            .collect();
        format!(r#"{{"ingest":{{"channels":[{}]}}}}"#, list.join(","))
    };
    ok(&many(MAX_INGEST_CHANNELS));
    let e = err(&many(MAX_INGEST_CHANNELS + 1));
    assert_eq!(e.code, 10601, "{}", e.message);
    // Ignored channels do not count: they are never recognised.
    let mut list: Vec<String> = (0..MAX_INGEST_CHANNELS)
        .map(|i| format!(r#"{{"speakerName":"S{i}"}}"#))
        .collect();
    list.push(r#"{"ignore":true}"#.into());
    ok(&format!(
        r#"{{"ingest":{{"channels":[{}]}}}}"#,
        list.join(",")
    ));
}
