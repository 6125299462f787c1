//! Hand-built calls whose overtalk, talk time, silences and streaks are known exactly (the
//! arithmetic is in the comments), plus the edges: mono, role picking, unavailable groups,
//! hostile timings.

use proptest::prelude::*;
use sealscribe_transcript::{Transcript, Word};

use super::*;

/// `n` words of `speaker` from `start`, one every `step` ms, each `len` ms long.
fn run(speaker: &str, start: u64, n: u64, step: u64, len: u64) -> Vec<(String, u64, u64)> {
    (0..n)
        .map(|i| (speaker.to_owned(), start + i * step, start + i * step + len))
        .collect()
}

/// A multi-speaker transcript (turn token at each change of speaker) from timed words, or a
/// mono one (no turn tokens) when `turns` is false. A full stop follows every tenth word, to
/// show punctuation is not a word.
fn transcript(mut words: Vec<(String, u64, u64)>, turns: bool) -> Transcript {
    words.sort_by_key(|w| w.1);
    let mut out: Vec<Word> = Vec::new();
    let mut current: Option<String> = None;
    let tok = |p: usize, s, e, w: &str, m: Option<&str>| Word {
        p: p as u32,
        s,
        e,
        c: 0.9,
        w: w.to_owned(),
        m: m.map(str::to_owned),
    };
    for (i, (speaker, s, e)) in words.into_iter().enumerate() {
        if turns && current.as_deref() != Some(&speaker) {
            out.push(tok(out.len(), s, s, &speaker, Some("turn")));
            current = Some(speaker);
        }
        out.push(tok(out.len(), s, e, "word", None));
        if i % 10 == 9 {
            out.push(tok(out.len(), e, e, ".", Some("punc")));
        }
    }
    Transcript {
        confidence: 0.9,
        words: out,
        ..Default::default()
    }
}

fn speaker(name: &str, role: Option<&str>) -> Speaker {
    Speaker {
        name: name.to_owned(),
        role: role.map(str::to_owned),
    }
}

/// The two-party call of the exact tests (50 s). Agent words are 400 ms every 500 ms, caller
/// words 600 ms every 700 ms (gaps of 100 ms, so each run is one talk segment):
///
/// | run | speaker | words | talk |
/// | --- | --- | --- | --- |
/// | A1 | agent | 10 | 1000–5900 |
/// | C1 | caller | 6 | 5500–9600 (starts while A1 talks: caller overtalk 5500–5900, 400 ms) |
/// | A2 | agent | 8 | 14000–17900 (after 4.4 s of silence: an incident) |
/// | C2 | caller | 10 | 18500–25400 |
/// | A3 | agent | 4 | 22000–23900 (inside C2: agent overtalk, 1900 ms) |
/// | A4 | agent | 2 | 25300–26200 (overlaps C2 by 100 ms: under 250 ms, not overtalk) |
///
/// then silence to 50 s (23.8 s: an incident).
fn call(a: &str, c: &str) -> Vec<(String, u64, u64)> {
    [
        run(a, 1000, 10, 500, 400),
        run(c, 5500, 6, 700, 600),
        run(a, 14000, 8, 500, 400),
        run(c, 18500, 10, 700, 600),
        run(a, 22000, 4, 500, 400),
        run(a, 25300, 2, 500, 400),
    ]
    .concat()
}

const CALL_MS: u64 = 50_000;

fn values(results: &[MetricGroupResult]) -> Vec<(String, f64)> {
    results
        .iter()
        .flat_map(|g| &g.metric_values)
        .map(|v| (v.metric_name.clone(), v.metric_value.as_f64().unwrap()))
        .collect()
}

fn assert_metrics(results: &[MetricGroupResult], expected: &[(&str, f64)]) {
    for (name, want) in expected {
        let got = value_of(results, name).unwrap_or_else(|| panic!("{name} missing"));
        assert!((got - want).abs() < 1e-9, "{name}: got {got}, want {want}");
    }
}

#[test]
fn two_party_call_overtalk_is_exact() {
    let t = transcript(call("Agent", "Caller"), true);
    let speakers = [speaker("Agent", None), speaker("Caller", None)];
    let r = compute(&t, CALL_MS, &speakers, &[MetricGroup::Overtalk]);
    assert_metrics(
        &r,
        &[
            ("overtalk-incidents", 2.0),
            ("agent-overtalk-incidents", 1.0),
            ("caller-overtalk-incidents", 1.0),
            // (400 + 1900) / 50000 = 0.046
            ("overtalk-ratio", 0.05),
            // 1900 / 50000 = 0.038
            ("agent-overtalk-ratio", 0.04),
            // 400 / 50000 = 0.008
            ("caller-overtalk-ratio", 0.01),
        ],
    );
    // Counts are JSON integers.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json[0]["metricGroupName"], "overtalk");
    assert_eq!(
        json[0]["metricValues"][0]["metricName"],
        "overtalk-incidents"
    );
    assert_eq!(json[0]["metricValues"][0]["metricValue"].to_string(), "2");
}

#[test]
fn two_party_call_talk_time_and_rate_is_exact() {
    let t = transcript(call("Agent", "Caller"), true);
    let speakers = [speaker("Agent", None), speaker("Caller", None)];
    let r = compute(&t, CALL_MS, &speakers, &[MetricGroup::TalkTimeAndRate]);
    assert_metrics(
        &r,
        &[
            // Talk: agent 4900 + 3900 + 1900 + 900 = 11600, caller 4100 + 6900 = 11000;
            // anyone talking: 1000–9600, 14000–17900, 18500–26200 = 20200.
            ("agent-talk-ratio", 0.57),  // 11600 / 20200 = 0.574
            ("caller-talk-ratio", 0.54), // 11000 / 20200 = 0.545
            ("silence-ratio", 0.6),      // 29800 / 50000 = 0.596
            // 9600–14000 (4.4 s) and 26200–50000; 0–1000 and 17900–18500 are short.
            ("silence-incidents", 2.0),
            // Agent: 24 words over its streaks (1000–5900, 14000–17900, 22000–26200) less the
            // caller-only 23900–25300: 11600 ms → 124.14 wpm.
            ("agent-talk-rate", 124.0),
            // Caller: 16 words over 5500–9600 and 18500–25400 (the agent talks only inside
            // them): 11000 ms → 87.27 wpm.
            ("caller-talk-rate", 87.0),
            ("agent-to-caller-talk-rate-ratio", 1.42), // 124.14 / 87.27
            // Agent thirds (8 words): 8 words in 3900 ms (1000–4900), then 8 in
            // 900 + 1900 + 900 ms (17000–17900, 22000–23900, 25300–26200): 129.7 / 123.1.
            ("agent-intra-call-change-in-talk-rate", 1.05),
            // Caller thirds (5 words): 3400 ms each.
            ("caller-intra-call-change-in-talk-rate", 1.0),
            // Agent streaks 4.9, 3.9 and 4.2 s (A3 and A4 are 1.4 s apart: one streak).
            ("agent-average-streak", 4.33),
            ("agent-longest-streak", 4.9),
            ("agent-median-streak", 4.2),
            // Caller streaks 4.1 and 6.9 s.
            ("caller-average-streak", 5.5),
            ("caller-longest-streak", 6.9),
            ("caller-median-streak", 5.5),
            // All five: 3.9, 4.1, 4.2, 4.9, 6.9.
            ("average-streak", 4.8),
            ("longest-streak", 6.9),
            ("median-streak", 4.2),
        ],
    );
}

#[test]
fn agent_and_caller_follow_names_not_order() {
    // The caller on the first channel: agent and caller metrics are the same as above.
    let t = transcript(call("Representative", "Customer"), true);
    let speakers = [speaker("Customer", None), speaker("Representative", None)];
    let r = compute(
        &t,
        CALL_MS,
        &speakers,
        &[MetricGroup::Overtalk, MetricGroup::TalkTimeAndRate],
    );
    assert_metrics(
        &r,
        &[
            ("agent-overtalk-ratio", 0.04),
            ("caller-overtalk-ratio", 0.01),
            ("agent-talk-rate", 124.0),
            ("caller-talk-rate", 87.0),
        ],
    );
}

#[test]
fn roles_by_name_role_or_order() {
    assert_eq!(roles(&[("Agent", None), ("Caller", None)]), Some((0, 1)));
    assert_eq!(roles(&[("caller", None), ("AGENT", None)]), Some((1, 0)));
    assert_eq!(
        roles(&[("Client", None), ("Contact Center", None)]),
        Some((1, 0))
    );
    assert_eq!(roles(&[("call-center", None), ("x", None)]), Some((0, 1)));
    // Roles count when the names say nothing.
    assert_eq!(
        roles(&[("Alice", Some("customer")), ("Bob", Some("Operator"))]),
        Some((1, 0))
    );
    // Only one side named: the other is the first remaining party.
    assert_eq!(roles(&[("Bob", None), ("Customer", None)]), Some((0, 1)));
    assert_eq!(
        roles(&[("Bob", None), ("Sam", None), ("Agent", None)]),
        Some((2, 0))
    );
    // Neither: first channel agent, second caller.
    assert_eq!(roles(&[("Left", None), ("Right", None)]), Some((0, 1)));
    assert_eq!(roles(&[("Solo", None)]), None);
}

#[test]
fn mono_has_no_agent_or_caller_metrics() {
    let t = transcript(call("Agent", "Caller"), false);
    let r = compute(
        &t,
        CALL_MS,
        &[speaker("Agent", None)],
        &[MetricGroup::Overtalk, MetricGroup::TalkTimeAndRate],
    );
    for (name, v) in values(&r) {
        let party = name.starts_with("agent-") || name.starts_with("caller-");
        if party || name.starts_with("overtalk") {
            assert_eq!(v, 0.0, "{name} must be 0 on mono");
        }
    }
    // One party: its words join into one timeline (1000–9600, 14000–17900, 18500–26200).
    assert_metrics(
        &r,
        &[
            ("silence-ratio", 0.6),
            ("silence-incidents", 2.0),
            // Streaks 1000–9600 and 14000–26200 (the 600 ms pause does not end one).
            ("average-streak", 10.4),
            ("longest-streak", 12.2),
            ("median-streak", 10.4),
        ],
    );
}

#[test]
fn every_metric_of_each_group_once() {
    let t = transcript(call("Agent", "Caller"), true);
    let groups = [
        MetricGroup::TalkStyleToneAndVolume,
        MetricGroup::Overtalk,
        MetricGroup::Sentiment,
        MetricGroup::Overtalk,
        MetricGroup::TalkTimeAndRate,
    ];
    let r = compute(&t, CALL_MS, &[], &groups);
    let names: Vec<&str> = r.iter().map(|g| g.metric_group_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "talk-style-tone-and-volume",
            "overtalk",
            "sentiment",
            "talk-time-and-rate"
        ]
    );
    let counts: Vec<usize> = r.iter().map(|g| g.metric_values.len()).collect();
    assert_eq!(counts, [8, 6, 12, 18]);
    assert_eq!(counts.iter().sum::<usize>(), 44);
    for g in &r {
        let group = MetricGroup::parse(&g.metric_group_name).unwrap();
        let got: Vec<&str> = g
            .metric_values
            .iter()
            .map(|v| v.metric_name.as_str())
            .collect();
        assert_eq!(got, group.metric_names());
        if !group.is_available() {
            assert!(
                g.metric_values
                    .iter()
                    .all(|v| v.metric_value.as_f64() == Some(0.0))
            );
        }
    }
    // Without configured speakers the turn tokens' speakers are the parties, in order.
    assert_eq!(value_of(&r, "agent-overtalk-ratio"), Some(0.04));
    // The warnings name exactly the unavailable groups.
    let w = warnings(&groups);
    assert_eq!(w.len(), 2);
    assert_eq!(w[0]["code"], 16002);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("`talk-style-tone-and-volume`")
    );
    assert!(w[1]["message"].as_str().unwrap().contains("`sentiment`"));
    assert!(warnings(&[MetricGroup::Overtalk]).is_empty());
}

#[test]
fn group_names_parse_exactly() {
    for g in MetricGroup::ALL {
        assert_eq!(MetricGroup::parse(g.name()), Some(g));
        assert_eq!(MetricGroup::parse(&g.name().to_uppercase()), None);
        assert_eq!(serde_json::to_value(g).unwrap(), g.name());
    }
    assert_eq!(MetricGroup::parse("talk-time"), None);
}

#[test]
fn an_empty_or_silent_call() {
    let r = compute(
        &Transcript::default(),
        10_000,
        &[speaker("Agent", None), speaker("Caller", None)],
        &MetricGroup::ALL,
    );
    assert_metrics(
        &r,
        &[
            ("silence-ratio", 1.0),
            ("silence-incidents", 1.0),
            ("longest-streak", 0.0),
        ],
    );
    let r = compute(&Transcript::default(), 0, &[], &MetricGroup::ALL);
    assert!(values(&r).iter().all(|(_, v)| *v == 0.0));
}

#[test]
fn configured_speakers_follow_channel_order() {
    use crate::configuration::{Channel, Track};
    let ch = |n: &str, ignore| Channel {
        speaker: speaker(n, None),
        ignore,
    };
    let names = |i: &Ingest| -> Vec<String> {
        configured_speakers(i).into_iter().map(|s| s.name).collect()
    };
    assert!(names(&Ingest::Mono).is_empty());
    assert_eq!(
        names(&Ingest::Channels {
            channels: vec![ch("L", false), ch("M", true), ch("R", false)]
        }),
        ["L", "R"]
    );
    assert_eq!(
        names(&Ingest::Tracks {
            tracks: vec![
                Track {
                    index: 1,
                    speaker: Some(speaker("T", None)),
                    channels: vec![]
                },
                Track {
                    index: 0,
                    speaker: None,
                    channels: vec![ch("A", false), ch("B", false)]
                },
            ]
        }),
        ["T", "A", "B"]
    );
}

#[test]
fn interval_arithmetic() {
    assert_eq!(
        merge(vec![(5, 9), (0, 2), (2, 3), (10, 12)], 0, false),
        [(0, 3), (5, 9), (10, 12)]
    );
    assert_eq!(
        merge(vec![(5, 9), (0, 3), (10, 12)], 2, false),
        [(0, 3), (5, 12)]
    );
    assert_eq!(merge(vec![(4, 4), (0, 0)], 0, false), []);
    assert_eq!(merge(vec![(4, 4), (0, 1)], 5, true), [(0, 4)]);
    assert_eq!(intersect(&[(0, 5), (8, 12)], &[(3, 10)]), [(3, 5), (8, 10)]);
    assert_eq!(
        subtract(&[(0, 10), (20, 30)], &[(2, 3), (5, 22), (25, 26), (29, 40)]),
        [(0, 2), (3, 5), (22, 25), (26, 29)]
    );
    assert_eq!(subtract(&[(0, 10)], &[]), [(0, 10)]);
}

proptest! {
    /// Any timings (reversed, past the end, zero duration, unknown speakers): no panic, every
    /// metric present, ratios within 0–1 and nothing negative.
    #[test]
    fn any_timings_give_sane_values(
        words in prop::collection::vec((0usize..4, 0u64..100_000, 0u64..100_000), 0..60),
        duration in prop_oneof![Just(0u64), 0u64..120_000],
        turns in any::<bool>(),
    ) {
        let names = ["Agent", "Caller", "Other", "Customer"];
        let t = transcript(
            words.into_iter().map(|(i, s, e)| (names[i].to_owned(), s, e)).collect(),
            turns,
        );
        let r = compute(&t, duration, &[speaker("Agent", None), speaker("Bob", None)], &MetricGroup::ALL);
        let v = values(&r);
        prop_assert_eq!(v.len(), 44);
        for (name, x) in v {
            prop_assert!(x.is_finite() && x >= 0.0, "{} = {}", name, x);
            if name.ends_with("-ratio") && !name.contains("rate") {
                prop_assert!(x <= 1.0, "{} = {}", name, x);
            }
        }
    }
}
