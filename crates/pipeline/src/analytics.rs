//! The call-analytics sections of the media document — `spotting`, `categories` and
//! `knowledge` (analytics reference §2, §4, §6.3) — computed from the transcript as stored
//! (after redaction) and kept as one JSON object whose members the document puts at its top
//! level. For encrypted media they exist only inside the encrypted document.
//!
//! Each feature adds its section here; words and phrases are found with the one matching
//! rule of [`sealscribe_transcript::phrases`].

use sealscribe_domain::configuration::MediaConfig;
use sealscribe_transcript::Transcript;
use serde_json::{Map, Value};

/// The sections `config` asks for, by name.
pub fn sections(transcript: &Transcript, config: &MediaConfig) -> Map<String, Value> {
    let _ = (transcript, config);
    Map::new()
}
