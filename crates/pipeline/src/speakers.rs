//! Which recognitions a media item needs: `configuration.ingest` checked against what the probe
//! found (v3 15004 when they disagree), and the words of several recognitions merged into one
//! multi-speaker transcript.
//!
//! Why here and not at upload: the channel count of the media is known only once ffprobe has
//! read it, so a stereo configuration on a mono file is caught by the `probe` step and fails
//! the media with 15004 and a message saying what the file has.

use sealscribe_asr::{AudioSelection, MediaInfo};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::{Channel, Ingest};
use sealscribe_transcript::Transcript;

use crate::step::StepError;

/// One recognition to run: whose words they are (none for plain mono) and which audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Source {
    pub speaker: Option<String>,
    pub audio: AudioSelection,
}

fn mismatch(message: String) -> StepError {
    StepError::permanent(codes::INGEST_CHANNEL_COUNT, message)
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The channels of one stream to recognise, after checking that the configuration describes
/// exactly the `present` channels the stream has.
fn channel_sources(
    configured: &[Channel],
    stream: u32,
    present: u32,
    what: &str,
    fix: &str,
) -> Result<Vec<Source>, StepError> {
    if usize::try_from(present).ok() != Some(configured.len()) {
        return Err(mismatch(format!(
            "this media was not processed: `ingest` describes {} but {what} has {}. \
             Describe every channel of the media ({fix}), or leave `ingest` out to have the \
             channels mixed into one.",
            plural(configured.len(), "channel"),
            plural(usize::try_from(present).unwrap_or(usize::MAX), "channel"),
        )));
    }
    Ok(configured
        .iter()
        .zip(0u32..)
        .filter(|(c, _)| !c.ignore)
        .map(|(c, channel)| Source {
            speaker: Some(c.speaker.name.clone()),
            audio: AudioSelection::Channel { stream, channel },
        })
        .collect())
}

/// The recognitions `ingest` asks for on media probed as `info`, in channel order.
///
/// # Errors
/// A permanent [`StepError`] with v3 code 15004 when the configured channels or tracks do not
/// match the media's (`stereo` on a mono file, a `trackIndex` past the last audio stream, …).
pub(crate) fn sources(ingest: &Ingest, info: &MediaInfo) -> Result<Vec<Source>, StepError> {
    match ingest {
        Ingest::Mono => Ok(vec![Source {
            speaker: None,
            audio: AudioSelection::Mixed,
        }]),
        Ingest::NamedMono { speaker } => Ok(vec![Source {
            speaker: Some(speaker.name.clone()),
            audio: AudioSelection::Mixed,
        }]),
        Ingest::Channels { channels } => channel_sources(
            channels,
            0,
            info.channels,
            "the media's audio",
            "`ingest.stereo` for exactly 2 channels, `ingest.channels` with one entry per channel",
        ),
        Ingest::Tracks { tracks } => {
            let mut out = Vec::new();
            for t in tracks {
                let Some(&present) = usize::try_from(t.index)
                    .ok()
                    .and_then(|i| info.stream_channels.get(i))
                else {
                    return Err(mismatch(format!(
                        "this media was not processed: `ingest.tracks` describes track {} but \
                         the media has {}, counted from 0. Give each `trackIndex` of an audio \
                         stream the media has.",
                        t.index,
                        plural(info.stream_channels.len(), "audio stream")
                    )));
                };
                match &t.speaker {
                    Some(s) => out.push(Source {
                        speaker: Some(s.name.clone()),
                        audio: AudioSelection::Stream { stream: t.index },
                    }),
                    None => out.extend(channel_sources(
                        &t.channels,
                        t.index,
                        present,
                        &format!("its track {}", t.index),
                        "a `channels` entry per channel of the track, or a `speakerName` to mix it",
                    )?),
                }
            }
            Ok(out)
        }
    }
}

/// The transcript of a media item from the transcripts of its [`sources`], in the same order:
/// plain mono as recognised; otherwise merged into one timeline with a turn token per turn
/// (see [`sealscribe_transcript::speakers`]).
pub(crate) fn combine(parts: Vec<(Source, Transcript)>) -> Transcript {
    if let [(Source { speaker: None, .. }, _)] = parts.as_slice() {
        return parts.into_iter().next().map(|(_, t)| t).unwrap_or_default();
    }
    sealscribe_transcript::merge_speakers(
        parts
            .into_iter()
            .map(|(s, t)| (s.speaker.unwrap_or_else(|| "unknown".into()), t))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_domain::configuration::{Speaker, Track};
    use sealscribe_transcript::Word;

    fn info(streams: &[u32]) -> MediaInfo {
        MediaInfo {
            duration_ms: 1000,
            channels: streams[0],
            codec: "pcm_s16le".into(),
            sample_rate: 16_000,
            has_video: false,
            audio_streams: streams.len() as u32,
            stream_channels: streams.to_vec(),
            format: "wav".into(),
        }
    }

    fn ch(name: &str, ignore: bool) -> Channel {
        Channel {
            speaker: Speaker {
                name: name.into(),
                role: None,
            },
            ignore,
        }
    }

    fn src(name: &str, audio: AudioSelection) -> Source {
        Source {
            speaker: Some(name.into()),
            audio,
        }
    }

    #[test]
    fn stereo_gives_one_recognition_per_used_channel() {
        let stereo = Ingest::Channels {
            channels: vec![ch("Agent", false), ch("Caller", false)],
        };
        assert_eq!(
            sources(&stereo, &info(&[2])).unwrap(),
            [
                src(
                    "Agent",
                    AudioSelection::Channel {
                        stream: 0,
                        channel: 0
                    }
                ),
                src(
                    "Caller",
                    AudioSelection::Channel {
                        stream: 0,
                        channel: 1
                    }
                ),
            ]
        );
        let one_ignored = Ingest::Channels {
            channels: vec![ch("Speaker0", true), ch("Caller", false)],
        };
        assert_eq!(
            sources(&one_ignored, &info(&[2])).unwrap(),
            [src(
                "Caller",
                AudioSelection::Channel {
                    stream: 0,
                    channel: 1
                }
            )]
        );
    }

    #[test]
    fn mismatches_are_15004_saying_what_the_media_has() {
        let stereo = Ingest::Channels {
            channels: vec![ch("Agent", false), ch("Caller", false)],
        };
        let e = sources(&stereo, &info(&[1])).unwrap_err();
        assert!(e.permanent);
        assert_eq!(e.failure.code, 15004);
        assert!(
            e.failure.error.contains("describes 2 channels")
                && e.failure.error.contains("has 1 channel."),
            "{}",
            e.failure.error
        );
        let tracks = Ingest::Tracks {
            tracks: vec![Track {
                index: 2,
                speaker: Some(Speaker {
                    name: "A".into(),
                    role: None,
                }),
                channels: vec![],
            }],
        };
        let e = sources(&tracks, &info(&[1, 2])).unwrap_err();
        assert_eq!(e.failure.code, 15004);
        assert!(
            e.failure.error.contains("2 audio streams"),
            "{}",
            e.failure.error
        );
        let tracks = Ingest::Tracks {
            tracks: vec![Track {
                index: 1,
                speaker: None,
                channels: vec![ch("A", false)],
            }],
        };
        let e = sources(&tracks, &info(&[1, 2])).unwrap_err();
        assert!(
            e.failure.error.contains("its track 1 has 2 channels"),
            "{}",
            e.failure.error
        );
    }

    #[test]
    fn tracks_mix_or_split() {
        let tracks = Ingest::Tracks {
            tracks: vec![
                Track {
                    index: 1,
                    speaker: None,
                    channels: vec![ch("B", false), ch("C", false)],
                },
                Track {
                    index: 0,
                    speaker: Some(Speaker {
                        name: "A".into(),
                        role: None,
                    }),
                    channels: vec![],
                },
            ],
        };
        assert_eq!(
            sources(&tracks, &info(&[1, 2])).unwrap(),
            [
                src(
                    "B",
                    AudioSelection::Channel {
                        stream: 1,
                        channel: 0
                    }
                ),
                src(
                    "C",
                    AudioSelection::Channel {
                        stream: 1,
                        channel: 1
                    }
                ),
                src("A", AudioSelection::Stream { stream: 0 }),
            ]
        );
    }

    #[test]
    fn mono_stays_plain_and_a_named_speaker_gets_a_turn() {
        let word = Word {
            p: 0,
            s: 10,
            e: 20,
            c: 0.9,
            w: "hi".into(),
            m: None,
        };
        let t = Transcript {
            confidence: 0.9,
            words: vec![word],
            ..Transcript::default()
        };
        let plain = sources(&Ingest::Mono, &info(&[2])).unwrap();
        let out = combine(plain.into_iter().map(|s| (s, t.clone())).collect());
        assert_eq!(out, t);
        let named = Ingest::NamedMono {
            speaker: Speaker {
                name: "Solo".into(),
                role: None,
            },
        };
        let out = combine(
            sources(&named, &info(&[2]))
                .unwrap()
                .into_iter()
                .map(|s| (s, t.clone()))
                .collect(),
        );
        assert!(out.words[0].is_turn() && out.words[0].w == "Solo");
        assert_eq!(out.turns.len(), 1);
    }
}
