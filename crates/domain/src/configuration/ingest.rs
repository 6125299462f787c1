//! `configuration.ingest` (analytics reference §1.1): which speaker is on which channel, checked
//! at upload with the v3 codes 15000–15003 and 15005 (15004 needs the media's channel count and
//! is the pipeline's check, after the probe).
//!
//! | given | result |
//! | --- | --- |
//! | nothing, or `{}` | [`Ingest::Mono`]: channels mixed, no speakers |
//! | `speakerName` (+ `speakerRole`) | [`Ingest::NamedMono`]: channels mixed, one named speaker |
//! | `stereo.left` + `stereo.right` | [`Ingest::Channels`] with channel 0 = left, 1 = right |
//! | `channels[]` | [`Ingest::Channels`], array index = channel index |
//! | `tracks[]` | [`Ingest::Tracks`]: `trackIndex` = the n-th audio stream, from 0 |
//!
//! Rules, in order: more than one of `speakerName`, `stereo`, `channels`, `tracks` (or a
//! `speakerRole` beside anything but `speakerName`) → **15000**; `channels: []`, `tracks: []`
//! or a track's `channels: []` → **15001**; `stereo` without both sides → **15003**; a channel
//! that is not ignored without a `speakerName`, a name or role that is empty, longer than
//! [`MAX_SPEAKER_NAME_CHARS`] or holds control characters, a `speakerRole` without a
//! `speakerName`, a track without `trackIndex` or without either `speakerName` or `channels`
//! → **15002**; a track with both, or the same `trackIndex` twice → **15000**; every channel
//! ignored → **15005**; more than [`MAX_INGEST_CHANNELS`] channels to recognise → **10601**
//! (each is a recognition of its own). An ignored channel may go without a name; it is called
//! `SpeakerN` (N its index), v3's default, though it never appears in a transcript.

use super::model::{Channel, Ingest, Speaker, Track};
use super::paths::VALUE_CHARS;
use super::tree::{RawChannel, RawIngest, RawTrack};
use crate::codes::{
    INGEST_ALL_IGNORED, INGEST_CHANNELS_EMPTY, INGEST_EXCLUSIVE, INGEST_SPEAKER_MISSING,
    INGEST_STEREO_ONE_SIDE, UNSUPPORTED_FEATURE,
};
use crate::input::{InputError, excerpt};

/// The longest `speakerName` / `speakerRole`, in characters: a label, printed before every
/// turn of the text and caption renditions.
pub const MAX_SPEAKER_NAME_CHARS: usize = 100;

/// The most channels one media item may have recognised separately (each is a recognition of
/// its own, so this bounds the work one upload can ask for).
pub const MAX_INGEST_CHANNELS: usize = 32;

/// Checks `ingest` and turns it into [`Ingest`] (rules in the module documentation).
pub(super) fn ingest(raw: Option<&RawIngest>) -> Result<Ingest, InputError> {
    let Some(raw) = raw else {
        return Ok(Ingest::Mono);
    };
    let given: Vec<&str> = [
        (raw.speaker_name.is_some(), "speakerName"),
        (raw.stereo.is_some(), "stereo"),
        (raw.channels.is_some(), "channels"),
        (raw.tracks.is_some(), "tracks"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if given.len() > 1 {
        return Err(InputError::new(
            INGEST_EXCLUSIVE,
            format!(
                "`ingest` gives {}: give exactly one of `speakerName` (mono, one speaker), \
                 `stereo` (left and right), `channels` or `tracks`.",
                given
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    if raw.speaker_role.is_some() && raw.speaker_name.is_none() {
        if let Some(other) = given.first() {
            return Err(InputError::new(
                INGEST_EXCLUSIVE,
                format!(
                    "`ingest.speakerRole` belongs to the mono `ingest.speakerName` and cannot \
                     go with `ingest.{other}`: give each channel its own `speakerRole` there."
                ),
            ));
        }
        return Err(InputError::new(
            INGEST_SPEAKER_MISSING,
            "`ingest.speakerRole` needs an `ingest.speakerName`: add the speaker's name, e.g. \
             {\"ingest\":{\"speakerName\":\"Agent\",\"speakerRole\":\"agent\"}}.",
        ));
    }
    let ingest = if let Some(name) = &raw.speaker_name {
        Ingest::NamedMono {
            speaker: speaker("ingest", Some(name), raw.speaker_role.as_deref())?,
        }
    } else if let Some(stereo) = &raw.stereo {
        let (Some(left), Some(right)) = (&stereo.left, &stereo.right) else {
            let missing = if stereo.left.is_none() && stereo.right.is_none() {
                "both sides"
            } else if stereo.left.is_none() {
                "`left`"
            } else {
                "`right`"
            };
            return Err(InputError::new(
                INGEST_STEREO_ONE_SIDE,
                format!(
                    "`ingest.stereo` lacks {missing}: describe both channels, e.g. \
                     {{\"stereo\":{{\"left\":{{\"speakerName\":\"Agent\"}},\
                     \"right\":{{\"speakerName\":\"Caller\"}}}}}}; set `\"ignore\": true` on a \
                     side that should not be transcribed."
                ),
            ));
        };
        Ingest::Channels {
            channels: vec![
                channel("ingest.stereo.left", 0, left)?,
                channel("ingest.stereo.right", 1, right)?,
            ],
        }
    } else if let Some(list) = &raw.channels {
        Ingest::Channels {
            channels: channels("ingest.channels", list)?,
        }
    } else if let Some(list) = &raw.tracks {
        Ingest::Tracks {
            tracks: tracks(list)?,
        }
    } else {
        Ingest::Mono
    };
    let (used, all) = match &ingest {
        Ingest::Mono | Ingest::NamedMono { .. } => return Ok(ingest),
        Ingest::Channels { channels } => (channels.iter().filter(|c| !c.ignore).count(), "channel"),
        Ingest::Tracks { tracks } => (
            tracks
                .iter()
                .map(|t| {
                    if t.channels.is_empty() {
                        1
                    } else {
                        t.channels.iter().filter(|c| !c.ignore).count()
                    }
                })
                .sum(),
            "channel of every track",
        ),
    };
    if used == 0 {
        return Err(InputError::new(
            INGEST_ALL_IGNORED,
            format!(
                "every {all} in `ingest` is ignored, which leaves nothing to transcribe: \
                 remove `\"ignore\": true` from at least one."
            ),
        ));
    }
    if used > MAX_INGEST_CHANNELS {
        return Err(InputError::new(
            UNSUPPORTED_FEATURE,
            format!(
                "`ingest` asks for {used} channels to be transcribed separately; sealscribe \
                 transcribes at most {MAX_INGEST_CHANNELS} per media. Ignore the channels \
                 nobody speaks on, or mix them (`speakerName`)."
            ),
        ));
    }
    Ok(ingest)
}

fn channels(path: &str, list: &[RawChannel]) -> Result<Vec<Channel>, InputError> {
    if list.is_empty() {
        return Err(InputError::new(
            INGEST_CHANNELS_EMPTY,
            format!(
                "`{path}` is empty: describe every channel of the media, in order, e.g. \
                 [{{\"speakerName\":\"Agent\"}},{{\"speakerName\":\"Caller\"}}], or leave \
                 `{path}` out."
            ),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, c)| channel(&format!("{path}[{i}]"), i, c))
        .collect()
}

fn channel(path: &str, index: usize, raw: &RawChannel) -> Result<Channel, InputError> {
    let ignore = raw.ignore == Some(true);
    if ignore && raw.speaker_name.is_none() {
        return Ok(Channel {
            speaker: Speaker {
                name: format!("Speaker{index}"),
                role: None,
            },
            ignore,
        });
    }
    Ok(Channel {
        speaker: speaker(path, raw.speaker_name.as_ref(), raw.speaker_role.as_deref())?,
        ignore,
    })
}

fn tracks(list: &[RawTrack]) -> Result<Vec<Track>, InputError> {
    if list.is_empty() {
        return Err(InputError::new(
            INGEST_CHANNELS_EMPTY,
            "`ingest.tracks` is empty: describe each audio stream to transcribe, e.g. \
             [{\"trackIndex\":0,\"speakerName\":\"Agent\"},{\"trackIndex\":1,\"speakerName\":\"Caller\"}], \
             or leave `ingest.tracks` out.",
        ));
    }
    let mut out: Vec<Track> = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let path = format!("ingest.tracks[{i}]");
        let Some(index) = t.track_index else {
            return Err(InputError::new(
                INGEST_SPEAKER_MISSING,
                format!(
                    "`{path}` has no `trackIndex`: give the audio stream it describes, counted \
                     from 0 among the media's audio streams."
                ),
            ));
        };
        if out.iter().any(|o| o.index == index) {
            return Err(InputError::new(
                INGEST_EXCLUSIVE,
                format!(
                    "`trackIndex` {index} appears twice in `ingest.tracks`: describe each track once."
                ),
            ));
        }
        let track = match (&t.speaker_name, &t.channels) {
            (Some(_), Some(_)) => {
                return Err(InputError::new(
                    INGEST_EXCLUSIVE,
                    format!(
                        "`{path}` gives both `speakerName` and `channels`: give `speakerName` \
                         to mix the track's channels for one speaker, or `channels` to \
                         transcribe each channel on its own."
                    ),
                ));
            }
            (None, None) => {
                return Err(InputError::new(
                    INGEST_SPEAKER_MISSING,
                    format!(
                        "`{path}` names no speaker: give it a `speakerName`, or `channels` \
                         with a `speakerName` each."
                    ),
                ));
            }
            (Some(name), None) => Track {
                index,
                speaker: Some(speaker(&path, Some(name), t.speaker_role.as_deref())?),
                channels: Vec::new(),
            },
            (None, Some(list)) => {
                if t.speaker_role.is_some() {
                    return Err(InputError::new(
                        INGEST_EXCLUSIVE,
                        format!(
                            "`{path}.speakerRole` goes with the track's `speakerName`; with \
                             `channels`, give each channel its own `speakerRole`."
                        ),
                    ));
                }
                Track {
                    index,
                    speaker: None,
                    channels: channels(&format!("{path}.channels"), list)?,
                }
            }
        };
        out.push(track);
    }
    Ok(out)
}

/// A checked speaker: a name is required; name and role are trimmed, 1 to
/// [`MAX_SPEAKER_NAME_CHARS`] characters, without control characters (they would break the
/// `Name: ` lines of the text and caption renditions).
fn speaker(path: &str, name: Option<&String>, role: Option<&str>) -> Result<Speaker, InputError> {
    let Some(name) = name else {
        return Err(InputError::new(
            INGEST_SPEAKER_MISSING,
            format!(
                "`{path}` has no `speakerName`: name the speaker on this channel (e.g. \
                 \"Agent\"), or set `\"ignore\": true` to leave the channel out."
            ),
        ));
    };
    let label = |what: &str, value: &str| -> Result<String, InputError> {
        let v = value.trim();
        let chars = v.chars().count();
        if chars == 0 || chars > MAX_SPEAKER_NAME_CHARS || v.chars().any(char::is_control) {
            return Err(InputError::new(
                INGEST_SPEAKER_MISSING,
                format!(
                    "`{path}.{what}` `{}` cannot be used: give 1 to {MAX_SPEAKER_NAME_CHARS} \
                     characters without line breaks or other control characters.",
                    excerpt(value, VALUE_CHARS)
                ),
            ));
        }
        Ok(v.to_owned())
    };
    Ok(Speaker {
        name: label("speakerName", name)?,
        role: role.map(|r| label("speakerRole", r)).transpose()?,
    })
}
