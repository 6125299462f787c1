//! The `detect` and `redact` steps: run the configured detectors over the
//! recognised words, replace what they found in the transcript, and say which
//! time ranges of the audio must be overwritten by a tone.
//!
//! Each detection names the speaker whose words held it (`detectedSegments[].speakerName`,
//! `"unknown"` without speakers, analytics reference §1.4); the audio plan's ranges are toned
//! on every channel, whichever channel held the words.
//!
//! The transcript that leaves this module is the only one stored, indexed or
//! encrypted for the customer: with a transcript redactor the detected digits
//! never reach the database or the search index.

use sealscribe_domain::detectors::{AudioRedaction, Detector};
use sealscribe_transcript::Transcript;
use serde_json::{Value, json};

/// What detection produced.
pub struct Analysis {
    /// v3 `prediction` (`{detectors:[{detectorName, detections[…]}]}`), when detectors ran.
    pub prediction: Option<Value>,
    /// The transcript with every redacted span replaced.
    pub transcript: Transcript,
    /// Time ranges (ms) to overwrite with a tone, when a detector redacts audio.
    pub audio: Option<AudioPlan>,
}

/// The ranges of the redacted stream and the tone that fills them.
pub struct AudioPlan {
    pub ranges: Vec<(u64, u64)>,
    /// The first audio redactor's tone; detectors rarely disagree, and one
    /// stream can only have one sound for "redacted".
    pub tone: AudioRedaction,
}

/// `detectedSegments[].speakerName` in a transcript without speakers (mono without
/// `ingest.speakerName`), as in v3's own mono results.
pub(crate) const UNKNOWN_SPEAKER: &str = "unknown";

/// For each entry of `transcript.words`, the speaker whose turn it is in (`None` before any
/// turn token, and for every word of a transcript without speakers). A detection belongs to
/// the speaker of its first word: detections never cross a turn (a turn ends a digit run).
fn speaker_of_each_word(transcript: &Transcript) -> Vec<Option<&str>> {
    let mut current = None;
    transcript
        .words
        .iter()
        .map(|w| {
            if w.is_turn() {
                current = Some(w.w.as_str());
            }
            current
        })
        .collect()
}

/// Runs `detectors` over `transcript` (pure and quick: a pass over the words).
pub fn analyse(transcript: Transcript, detectors: &[Detector]) -> Analysis {
    if detectors.is_empty() {
        return Analysis {
            prediction: None,
            transcript,
            audio: None,
        };
    }
    let mut results = Vec::new();
    // (first, last, replacement) of every span to replace in the transcript.
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
    let mut audio: Option<AudioPlan> = None;
    let speakers = speaker_of_each_word(&transcript);
    for d in detectors {
        let found = sealscribe_detect::detect(&transcript.words, d);
        let detections: Vec<Value> = found
            .iter()
            .map(|f| {
                let speaker = speakers.get(f.first).copied().flatten();
                json!({
                    "detectorClass": f.class,
                    "detectorClassLabel": f.label,
                    "detectedSegments": [{
                        "speakerName": speaker.unwrap_or(UNKNOWN_SPEAKER),
                        "occurrences": [{"s": f.s, "e": f.e}],
                    }],
                })
            })
            .collect();
        results.push(json!({
            "detectorName": d.name.as_str(),
            "detections": detections,
        }));
        if let Some(r) = &d.replacement {
            spans.extend(found.iter().map(|f| (f.first, f.last, r.as_str())));
        }
        if let Some(tone) = d.audio {
            let plan = audio.get_or_insert(AudioPlan {
                ranges: Vec::new(),
                tone,
            });
            plan.ranges.extend(found.iter().map(|f| (f.s, f.e)));
        }
    }
    // Replace from the end so earlier word indexes stay valid; where
    // detectors overlap, the span starting first (then the longer) wins.
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut merged: Vec<(usize, usize, &str)> = Vec::new();
    for (first, last, r) in spans {
        match merged.last_mut() {
            Some(m) if first <= m.1 => m.1 = m.1.max(last),
            _ => merged.push((first, last, r)),
        }
    }
    let mut redacted = transcript;
    for (first, last, r) in merged.into_iter().rev() {
        redacted = sealscribe_detect::redact(&redacted, &[(first, last)], r);
    }
    if let Some(plan) = &mut audio {
        plan.ranges.sort_unstable();
    }
    Analysis {
        prediction: Some(json!({ "detectors": results })),
        transcript: redacted,
        audio,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_domain::detectors::{DetectionLevel, DetectorName};
    use sealscribe_transcript::Word;

    fn words(text: &str) -> Transcript {
        let words = text
            .split(' ')
            .enumerate()
            .map(|(i, w)| Word {
                p: i as u32,
                s: i as u64 * 500,
                e: i as u64 * 500 + 400,
                c: 0.9,
                w: w.to_owned(),
                m: (w == "," || w == ".").then(|| "punc".to_owned()),
            })
            .collect();
        Transcript {
            confidence: 0.9,
            words,
            ..Default::default()
        }
    }

    fn detector(name: DetectorName, replacement: Option<&str>, audio: bool) -> Detector {
        Detector {
            name,
            detection_level: DetectionLevel::EntireRegion,
            replacement: replacement.map(str::to_owned),
            audio: audio.then_some(AudioRedaction {
                tone: 440,
                gain: 0.5,
            }),
        }
    }

    #[test]
    fn card_and_ssn_are_replaced_and_ranged() {
        let t = words("my card is 4532 , 0151 , 1283 , 0366 . my social is 536-22-4187 . thanks");
        let a = analyse(
            t,
            &[
                detector(DetectorName::Pci, Some("[card]"), true),
                detector(DetectorName::Ssn, Some("[ssn]"), false),
            ],
        );
        let text = a.transcript.text();
        assert_eq!(text, "my card is [card].\nmy social is [ssn].\nthanks\n");
        assert!(!text.chars().any(|c| c.is_ascii_digit()));
        let p = a.prediction.unwrap();
        assert_eq!(p["detectors"][0]["detectorName"], "PCI");
        // v3: an integer class (binary detectors report the positive class, 1) and a label.
        let detection = &p["detectors"][0]["detections"][0];
        assert_eq!(detection["detectorClass"], json!(1));
        assert_eq!(detection["detectorClassLabel"], "Credit card number");
        assert_eq!(
            p["detectors"][1]["detections"][0]["detectorClass"],
            json!(1)
        );
        assert_eq!(
            p["detectors"][0]["detections"][0]["detectedSegments"][0]["occurrences"][0],
            json!({"s": 1500, "e": 4900})
        );
        assert_eq!(p["detectors"][1]["detections"].as_array().unwrap().len(), 1);
        // Only the PCI detector redacts audio.
        let plan = a.audio.unwrap();
        assert_eq!(plan.ranges, vec![(1500, 4900)]);
        assert_eq!(plan.tone.tone, 440);
    }

    #[test]
    fn detections_name_the_speaker_whose_words_held_them() {
        let agent = words("what is your card number ?");
        let mut caller = words("it is 4532 , 0151 , 1283 , 0366 .");
        for w in &mut caller.words {
            w.s += 3000;
            w.e += 3000;
        }
        let t = sealscribe_transcript::merge_speakers(vec![
            ("Agent".into(), agent),
            ("Caller".into(), caller),
        ]);
        let a = analyse(t, &[detector(DetectorName::Pci, Some("[card]"), true)]);
        let p = a.prediction.unwrap();
        let segment = &p["detectors"][0]["detections"][0]["detectedSegments"][0];
        assert_eq!(segment["speakerName"], "Caller");
        assert_eq!(segment["occurrences"][0], json!({"s": 4000, "e": 7400}));
        // The turn text is redacted too, not only the words.
        let caller_turn = &a.transcript.turns[1];
        assert_eq!(caller_turn.speaker, "Caller");
        assert_eq!(caller_turn.text, "it is [card].");
        assert_eq!(a.audio.unwrap().ranges, vec![(4000, 7400)]);
        // Without speakers: "unknown", as v3 reports mono.
        let a = analyse(
            words("card 4532 , 0151 , 1283 , 0366 ."),
            &[detector(DetectorName::Pci, None, false)],
        );
        let p = a.prediction.unwrap();
        assert_eq!(
            p["detectors"][0]["detections"][0]["detectedSegments"][0]["speakerName"],
            "unknown"
        );
    }

    #[test]
    fn overlapping_detectors_replace_once() {
        let t = words("call 4532 , 0151 , 1283 , 0366 now");
        let a = analyse(
            t,
            &[
                detector(DetectorName::Number, Some("[n]"), false),
                detector(DetectorName::Pci, Some("[card]"), false),
            ],
        );
        assert_eq!(a.transcript.text(), "call [n] now\n");
        assert!(a.audio.is_none());
    }

    #[test]
    fn without_replacement_the_transcript_is_unchanged() {
        let t = words("my social is 536-22-4187 .");
        let a = analyse(t.clone(), &[detector(DetectorName::Ssn, None, false)]);
        assert_eq!(a.transcript, t);
        assert_eq!(
            a.prediction.unwrap()["detectors"][0]["detections"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
