//! VoiceBase v3 conversation metrics (`configuration.metrics[]`, analytics reference §5): the
//! groups a customer asks for, and their values computed from the timed words of each speaker.
//!
//! The request is `{"metrics":[{"metricGroupName":"overtalk"}, …]}` with any of the four v3
//! groups ([`MetricGroup`]); the result is the media document's top-level
//! `metrics: [{metricGroupName, metricValues:[{metricName, metricValue}]}]`
//! ([`MetricGroupResult`]) with **every** metric of each requested group, in the order of the
//! reference's catalogue.
//!
//! * `overtalk` and `talk-time-and-rate` are computed by [`compute`] from word timings alone.
//! * `sentiment` and `talk-style-tone-and-volume` need a sentiment model and voice features
//!   (pitch, volume) that sealscribe does not have. They are returned in the documented "not
//!   available" shape: every metric present with value 0 (what v3 returns for unsupported
//!   cases, §5.2/§5.3), and the media document carries a v3 `warnings[]` entry with code
//!   [`METRIC_GROUP_NOT_AVAILABLE`] naming the group ([`warnings`]), so a program can tell "not
//!   computed" from "measured 0" without v3 clients seeing an unknown shape.
//!
//! Agent- and caller-specific metrics are 0 unless the transcript has at least two speakers
//! (turn tokens); agent and caller are picked by [`roles`] as §5.3 describes.
//!
//! Every definition choice where the reference is vague (what counts as talking, how overlap is
//! measured, what a third of a call is …) is written down in `docs/metrics.md`; the constants
//! below are those choices. Everything here is pure: no I/O, no panic on any timings.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value, json};

use crate::codes::METRIC_GROUP_NOT_AVAILABLE;
pub use crate::configuration::MetricGroup;
use crate::configuration::{Ingest, Speaker};
use sealscribe_transcript::Transcript;

/// A pause between two words of the same speaker shorter than this is part of talking (the
/// 250 ms threshold is the usual boundary between articulatory gaps and silent pauses).
pub const TALK_BRIDGE_MS: u64 = 250;
/// Overlaps shorter than this are not overtalk: word timings are only accurate to about a
/// tenth of a second, and turn changes often touch.
pub const MIN_OVERTALK_MS: u64 = 250;
/// A pause of at least this long ends a streak (§5.2).
pub const STREAK_PAUSE_MS: u64 = 3_000;
/// A silence longer than this is a silence incident (§5.2).
pub const SILENCE_INCIDENT_MS: u64 = 4_000;

/// The metrics of `overtalk`, in catalogue order.
pub const OVERTALK: &[&str] = &[
    "overtalk-incidents",
    "agent-overtalk-incidents",
    "caller-overtalk-incidents",
    "overtalk-ratio",
    "agent-overtalk-ratio",
    "caller-overtalk-ratio",
];

/// The metrics of `talk-time-and-rate`, in catalogue order.
pub const TALK_TIME_AND_RATE: &[&str] = &[
    "agent-talk-ratio",
    "caller-talk-ratio",
    "silence-ratio",
    "silence-incidents",
    "agent-talk-rate",
    "caller-talk-rate",
    "agent-to-caller-talk-rate-ratio",
    "agent-intra-call-change-in-talk-rate",
    "caller-intra-call-change-in-talk-rate",
    "agent-average-streak",
    "agent-longest-streak",
    "agent-median-streak",
    "caller-average-streak",
    "caller-longest-streak",
    "caller-median-streak",
    "average-streak",
    "longest-streak",
    "median-streak",
];

/// The metrics of `sentiment`, in catalogue order (not available in sealscribe: all 0).
pub const SENTIMENT: &[&str] = &[
    "call-sentiment",
    "agent-sentiment",
    "caller-sentiment",
    "start-sentiment",
    "agent-start-sentiment",
    "caller-start-sentiment",
    "end-sentiment",
    "agent-end-sentiment",
    "caller-end-sentiment",
    "call-change-in-sentiment",
    "agent-intra-call-change-in-sentiment",
    "caller-intra-call-change-in-sentiment",
];

/// The metrics of `talk-style-tone-and-volume`, in catalogue order (not available in
/// sealscribe: all 0).
pub const TALK_STYLE_TONE_AND_VOLUME: &[&str] = &[
    "agent-intra-call-change-in-pitch",
    "caller-intra-call-change-in-pitch",
    "agent-intra-call-change-in-relative-voice-volume-energy",
    "caller-intra-call-change-in-relative-voice-volume-energy",
    "agent-relative-voice-volume-energy",
    "caller-relative-voice-volume-energy",
    "agent-voice-dynamism-std-dev-score",
    "caller-voice-dynamism-std-dev-score",
];

impl MetricGroup {
    /// Every metric of the group, in catalogue order.
    pub fn metric_names(self) -> &'static [&'static str] {
        match self {
            Self::Overtalk => OVERTALK,
            Self::TalkTimeAndRate => TALK_TIME_AND_RATE,
            Self::Sentiment => SENTIMENT,
            Self::TalkStyleToneAndVolume => TALK_STYLE_TONE_AND_VOLUME,
        }
    }

    /// Whether sealscribe computes the group (from word timings); the others come back as zeros
    /// with a warning.
    pub fn is_available(self) -> bool {
        matches!(self, Self::Overtalk | Self::TalkTimeAndRate)
    }

    /// Why an unavailable group is not computed, for its warning.
    fn unavailable_reason(self) -> &'static str {
        match self {
            Self::Sentiment => "sealscribe has no sentiment model",
            Self::TalkStyleToneAndVolume => {
                "sealscribe does not measure voice features (pitch and volume)"
            }
            Self::Overtalk | Self::TalkTimeAndRate => "",
        }
    }
}

/// One entry of `metricValues`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    pub metric_name: String,
    /// A JSON number: counts and talk rates are integers, ratios and streak lengths (seconds)
    /// have at most two decimals.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub metric_value: Number,
}

/// One entry of the media document's `metrics[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricGroupResult {
    /// One of `overtalk`, `talk-time-and-rate`, `sentiment`, `talk-style-tone-and-volume`.
    pub metric_group_name: String,
    pub metric_values: Vec<MetricValue>,
}

impl MetricGroupResult {
    /// The value of `metric`, if the group has it.
    pub fn value(&self, metric: &str) -> Option<f64> {
        self.metric_values
            .iter()
            .find(|v| v.metric_name == metric)
            .and_then(|v| v.metric_value.as_f64())
    }
}

/// The value of `metric` in any group of `results`.
pub fn value_of(results: &[MetricGroupResult], metric: &str) -> Option<f64> {
    results.iter().find_map(|g| g.value(metric))
}

/// The configured speakers, in channel order: `ingest.speakerName`, the channels of
/// `stereo`/`channels[]` that are not ignored, and for `tracks[]` each track's speaker or its
/// channels' speakers.
pub fn configured_speakers(ingest: &Ingest) -> Vec<Speaker> {
    match ingest {
        Ingest::Mono => Vec::new(),
        Ingest::NamedMono { speaker } => vec![speaker.clone()],
        Ingest::Channels { channels } => channels
            .iter()
            .filter(|c| !c.ignore)
            .map(|c| c.speaker.clone())
            .collect(),
        Ingest::Tracks { tracks } => tracks
            .iter()
            .flat_map(|t| match &t.speaker {
                Some(s) => vec![s.clone()],
                None => t
                    .channels
                    .iter()
                    .filter(|c| !c.ignore)
                    .map(|c| c.speaker.clone())
                    .collect(),
            })
            .collect(),
    }
}

/// The media document's `warnings[]` entries for the requested groups sealscribe cannot
/// compute: `{"code": 16002, "message": "…"}` (v3 `VbMessage`), one per group.
pub fn warnings(groups: &[MetricGroup]) -> Vec<Value> {
    groups
        .iter()
        .filter(|g| !g.is_available())
        .map(|g| {
            json!({
                "code": METRIC_GROUP_NOT_AVAILABLE,
                "message": format!(
                    "metric group `{}` is not available: {}. Its metrics are all 0.",
                    g.name(),
                    g.unavailable_reason()
                ),
            })
        })
        .collect()
}

/// Agent or caller, by name or role (§5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Agent,
    Caller,
    Other,
}

const AGENT_WORDS: &[&str] = &[
    "agent",
    "service",
    "representative",
    "operator",
    "salesperson",
    "callcenter",
    "contactcenter",
];
const CALLER_WORDS: &[&str] = &["caller", "client", "customer", "prospect"];

/// The class one label (a name or a role) says: compared case-insensitively, ignoring spaces,
/// `-` and `_` (so `Contact Center` and `call-center` count).
fn class_of_label(label: &str) -> Class {
    let norm: String = label
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    if AGENT_WORDS.contains(&norm.as_str()) {
        Class::Agent
    } else if CALLER_WORDS.contains(&norm.as_str()) {
        Class::Caller
    } else {
        Class::Other
    }
}

/// A speaker's class: its name decides when the name is one of the words, else its role.
fn class_of(name: &str, role: Option<&str>) -> Class {
    match class_of_label(name) {
        Class::Other => role.map_or(Class::Other, class_of_label),
        c => c,
    }
}

/// Which of `parties` (in order) are the agent and the caller (§5.3): the first whose name
/// (else role) is an agent word / a caller word; failing that, the first remaining party is
/// the agent and the next the caller. `None` with fewer than two parties.
pub fn roles(parties: &[(&str, Option<&str>)]) -> Option<(usize, usize)> {
    if parties.len() < 2 {
        return None;
    }
    let classes: Vec<Class> = parties.iter().map(|(n, r)| class_of(n, *r)).collect();
    let mut agent = classes.iter().position(|c| *c == Class::Agent);
    let mut caller = classes
        .iter()
        .enumerate()
        .position(|(i, c)| *c == Class::Caller && Some(i) != agent);
    if agent.is_none() {
        agent = (0..parties.len()).find(|i| Some(*i) != caller);
    }
    if caller.is_none() {
        caller = (0..parties.len()).find(|i| Some(*i) != agent);
    }
    Some((agent?, caller?))
}

// ------------------------------------------------------------------------------------------
// Intervals: sorted, disjoint half-open [s, e) ranges in milliseconds.
// ------------------------------------------------------------------------------------------

type Iv = (u64, u64);

/// Merges `ivs` into sorted disjoint intervals, joining two when the gap between them is
/// shorter than `bridge` (touching ones always join). Empty intervals are kept only as
/// anchors when `keep_points` (a one-instant word still starts or ends a streak).
fn merge(mut ivs: Vec<Iv>, bridge: u64, keep_points: bool) -> Vec<Iv> {
    ivs.retain(|(s, e)| e > s || (keep_points && e == s));
    ivs.sort_unstable();
    let mut out: Vec<Iv> = Vec::with_capacity(ivs.len());
    for (s, e) in ivs {
        match out.last_mut() {
            Some(last) if s <= last.1 || s - last.1 < bridge => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn total(ivs: &[Iv]) -> u64 {
    ivs.iter().map(|(s, e)| e - s).sum()
}

fn intersect(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s < e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn subtract(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(s, e) in a {
        let mut cur = s;
        while j < b.len() && b[j].1 <= cur {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < e {
            if b[k].0 > cur {
                out.push((cur, b[k].0));
            }
            cur = cur.max(b[k].1);
            k += 1;
        }
        if cur < e {
            out.push((cur, e));
        }
    }
    out
}

// ------------------------------------------------------------------------------------------
// Parties and the computation.
// ------------------------------------------------------------------------------------------

/// One speaker of the call and what they said.
struct Party {
    /// Word spans, clamped to the call, in time order (one-instant words included).
    words: Vec<Iv>,
    /// When the party was talking: words joined over pauses under [`TALK_BRIDGE_MS`].
    talk: Vec<Iv>,
    /// Streaks: words joined over pauses under [`STREAK_PAUSE_MS`].
    streaks: Vec<Iv>,
}

impl Party {
    fn new(mut words: Vec<Iv>) -> Self {
        words.sort_unstable();
        Party {
            talk: merge(words.clone(), TALK_BRIDGE_MS, false),
            streaks: merge(words.clone(), STREAK_PAUSE_MS, true),
            words,
        }
    }
}

fn round2(x: f64) -> f64 {
    if x.is_finite() {
        (x * 100.0).round() / 100.0
    } else {
        0.0
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round2((part as f64 / whole as f64).clamp(0.0, 1.0))
    }
}

fn seconds(ms: u64) -> f64 {
    round2(ms as f64 / 1000.0)
}

/// Mean, maximum and median of the streak lengths, in milliseconds (0 when there are none).
fn streak_stats(lengths: &mut [u64]) -> (f64, u64, f64) {
    if lengths.is_empty() {
        return (0.0, 0, 0.0);
    }
    lengths.sort_unstable();
    let n = lengths.len();
    let mean = lengths.iter().sum::<u64>() as f64 / n as f64;
    let median = if n % 2 == 1 {
        lengths[n / 2] as f64
    } else {
        (lengths[n / 2 - 1] + lengths[n / 2]) as f64 / 2.0
    };
    (mean, lengths[n - 1], median)
}

/// Talk-rate figures of one party: words per minute over its rate time, and the change
/// between its first and last third of words.
struct Rate {
    per_minute: f64,
    change: f64,
}

/// A party's talk rate (§5.2 "excluding the other party's talk and long pauses"): its words ÷
/// its *rate time*, the time inside its streaks (so pauses of 3 s and more are left out)
/// minus the time another party talks while it does not.
fn rate(party: &Party, others_talk: &[Iv]) -> Rate {
    let rate_time = subtract(&party.streaks, &subtract(others_talk, &party.talk));
    let per = |n: usize, ms: u64| {
        if ms == 0 {
            0.0
        } else {
            n as f64 * 60_000.0 / ms as f64
        }
    };
    let per_minute = per(party.words.len(), total(&rate_time));
    let n = party.words.len();
    let k = n / 3;
    let change = if k == 0 {
        0.0
    } else {
        let third = |ws: &[Iv]| {
            let window = [(ws[0].0, ws.iter().map(|w| w.1).max().unwrap_or(ws[0].1))];
            per(ws.len(), total(&intersect(&rate_time, &window)))
        };
        let (first, last) = (third(&party.words[..k]), third(&party.words[n - k..]));
        if first > 0.0 && last > 0.0 {
            round2(last / first)
        } else {
            0.0
        }
    };
    Rate { per_minute, change }
}

/// Overlaps of at least [`MIN_OVERTALK_MS`] between two talk timelines.
fn overlaps(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let mut v = intersect(a, b);
    v.retain(|(s, e)| e - s >= MIN_OVERTALK_MS);
    v
}

/// The start of the talk segment of `talk` that contains instant `t`.
fn segment_start(talk: &[Iv], t: u64) -> Option<u64> {
    talk.iter()
        .find(|(s, e)| *s <= t && t < *e)
        .map(|(s, _)| *s)
}

/// The `metrics[]` of a media item: every metric of each group in `groups` (in that order,
/// duplicates once), computed from `transcript`'s word timings.
///
/// * `duration_ms` — the media's length; ratios are shares of it (when 0, the end of the last
///   word is used). Word times are clamped to it.
/// * `speakers` — the configured speakers in channel order ([`configured_speakers`]); with the
///   turn tokens' speakers they make the parties of the call. Agent and caller are picked from
///   them by [`roles`]; a transcript without turn tokens is one party (mono), and every agent-
///   and caller-specific metric is then 0.
pub fn compute(
    transcript: &Transcript,
    duration_ms: u64,
    speakers: &[Speaker],
    groups: &[MetricGroup],
) -> Vec<MetricGroupResult> {
    let end_of_words = transcript.words.iter().map(|w| w.e).max().unwrap_or(0);
    let call = if duration_ms > 0 {
        duration_ms
    } else {
        end_of_words
    };
    let clamp = |t: u64| t.min(call);

    // Parties: configured speakers first, then speakers only the transcript names, then the
    // words before any turn token.
    let turns = !transcript.speakers().is_empty();
    let mut names: Vec<(String, Option<String>)> = Vec::new();
    let mut words: Vec<Vec<Iv>> = Vec::new();
    let index = |names: &mut Vec<(String, Option<String>)>,
                 words: &mut Vec<Vec<Iv>>,
                 name: &str|
     -> usize {
        if let Some(i) = names.iter().position(|(n, _)| n == name) {
            return i;
        }
        names.push((name.to_owned(), None));
        words.push(Vec::new());
        names.len() - 1
    };
    if turns {
        for s in speakers {
            if !names.iter().any(|(n, _)| *n == s.name) {
                names.push((s.name.clone(), s.role.clone()));
                words.push(Vec::new());
            }
        }
    }
    for (speaker, w) in transcript.spoken() {
        if w.is_punctuation() || w.w.trim().is_empty() {
            continue;
        }
        let i = match (turns, speaker) {
            (true, Some(name)) => index(&mut names, &mut words, name),
            // Mono, or words before the first turn token: one unnamed party.
            _ => index(&mut names, &mut words, ""),
        };
        let (s, e) = (clamp(w.s), clamp(w.e));
        words[i].push((s, e.max(s)));
    }
    let parties: Vec<Party> = words.into_iter().map(Party::new).collect();
    let labels: Vec<(&str, Option<&str>)> = names
        .iter()
        .map(|(n, r)| (n.as_str(), r.as_deref()))
        .collect();
    let roles = if turns { roles(&labels) } else { None };

    let all_talk = merge(
        parties
            .iter()
            .flat_map(|p| p.talk.iter().copied())
            .collect(),
        0,
        false,
    );
    let talk_total = total(&all_talk);

    let mut seen: Vec<MetricGroup> = Vec::new();
    for g in groups {
        if !seen.contains(g) {
            seen.push(*g);
        }
    }
    seen.into_iter()
        .map(|g| {
            let mut values: Vec<(&'static str, f64)> =
                g.metric_names().iter().map(|n| (*n, 0.0)).collect();
            let mut set = |name: &str, v: f64| {
                if let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) {
                    slot.1 = if v.is_finite() { v } else { 0.0 };
                }
            };
            match g {
                MetricGroup::Overtalk => {
                    // Any two parties talking at once.
                    let mut pairs = Vec::new();
                    for i in 0..parties.len() {
                        for j in i + 1..parties.len() {
                            pairs.extend(overlaps(&parties[i].talk, &parties[j].talk));
                        }
                    }
                    let all = merge(pairs, 0, false);
                    set("overtalk-incidents", all.len() as f64);
                    set("overtalk-ratio", ratio(total(&all), call));
                    if let Some((a, c)) = roles {
                        let (at, ct) = (&parties[a].talk, &parties[c].talk);
                        let (mut agent, mut caller) = (Vec::new(), Vec::new());
                        for o in overlaps(at, ct) {
                            match (segment_start(at, o.0), segment_start(ct, o.0)) {
                                (Some(sa), Some(sc)) if sa > sc => agent.push(o),
                                (Some(sa), Some(sc)) if sc > sa => caller.push(o),
                                _ => {}
                            }
                        }
                        set("agent-overtalk-incidents", agent.len() as f64);
                        set("caller-overtalk-incidents", caller.len() as f64);
                        set("agent-overtalk-ratio", ratio(total(&agent), call));
                        set("caller-overtalk-ratio", ratio(total(&caller), call));
                    }
                }
                MetricGroup::TalkTimeAndRate => {
                    set(
                        "silence-ratio",
                        ratio(call.saturating_sub(talk_total), call),
                    );
                    let mut edges = vec![(0, 0)];
                    edges.extend(all_talk.iter().copied());
                    edges.push((call, call));
                    let silences = edges
                        .windows(2)
                        .filter(|w| w[1].0.saturating_sub(w[0].1) > SILENCE_INCIDENT_MS)
                        .count();
                    set("silence-incidents", silences as f64);
                    let mut pooled: Vec<u64> = parties
                        .iter()
                        .flat_map(|p| p.streaks.iter().map(|(s, e)| e - s))
                        .collect();
                    let (mean, max, median) = streak_stats(&mut pooled);
                    set("average-streak", seconds(mean.round() as u64));
                    set("longest-streak", seconds(max));
                    set("median-streak", seconds(median.round() as u64));
                    if let Some((a, c)) = roles {
                        let others = |i: usize| {
                            merge(
                                parties
                                    .iter()
                                    .enumerate()
                                    .filter(|(j, _)| *j != i)
                                    .flat_map(|(_, p)| p.talk.iter().copied())
                                    .collect(),
                                0,
                                false,
                            )
                        };
                        let (ra, rc) =
                            (rate(&parties[a], &others(a)), rate(&parties[c], &others(c)));
                        for (who, i, r) in [("agent", a, &ra), ("caller", c, &rc)] {
                            let p = &parties[i];
                            set(
                                &format!("{who}-talk-ratio"),
                                ratio(total(&p.talk), talk_total),
                            );
                            set(&format!("{who}-talk-rate"), r.per_minute.round());
                            set(&format!("{who}-intra-call-change-in-talk-rate"), r.change);
                            let mut lengths: Vec<u64> =
                                p.streaks.iter().map(|(s, e)| e - s).collect();
                            let (mean, max, median) = streak_stats(&mut lengths);
                            set(
                                &format!("{who}-average-streak"),
                                seconds(mean.round() as u64),
                            );
                            set(&format!("{who}-longest-streak"), seconds(max));
                            set(
                                &format!("{who}-median-streak"),
                                seconds(median.round() as u64),
                            );
                        }
                        if rc.per_minute > 0.0 {
                            set(
                                "agent-to-caller-talk-rate-ratio",
                                round2(ra.per_minute / rc.per_minute),
                            );
                        }
                    }
                }
                MetricGroup::Sentiment | MetricGroup::TalkStyleToneAndVolume => {}
            }
            MetricGroupResult {
                metric_group_name: g.name().to_owned(),
                metric_values: values
                    .into_iter()
                    .map(|(n, v)| MetricValue {
                        metric_name: n.to_owned(),
                        metric_value: number(v),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// A JSON number: an integer when `v` is whole (`2`, not `2.0`), else the float.
fn number(v: f64) -> Number {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Number::from(v as i64)
    } else {
        Number::from_f64(v).unwrap_or_else(|| Number::from(0))
    }
}

/// The `metrics[]` of a media item with this configuration, or `None` when no metrics were
/// requested: [`compute`] with the configured speakers of `ingest`.
pub fn for_media(
    transcript: &Transcript,
    duration_ms: u64,
    config: &crate::configuration::MediaConfig,
) -> Option<Vec<MetricGroupResult>> {
    if config.metrics.is_empty() {
        return None;
    }
    Some(compute(
        transcript,
        duration_ms,
        &configured_speakers(&config.ingest),
        &config.metrics,
    ))
}

#[cfg(test)]
mod tests;
