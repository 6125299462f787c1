//! The call-analytics sections of the media document — `spotting`, `categories` and
//! `knowledge` (analytics reference §2, §4, §6.3) — computed from the transcript as stored
//! (after redaction) and kept as one JSON object whose members the document puts at its top
//! level. For encrypted media they exist only inside the encrypted document.
//!
//! Each feature adds its section here; words and phrases are found with the one matching
//! rule of [`sealscribe_transcript::phrases`].

use sealscribe_domain::configuration::MediaConfig;
use sealscribe_transcript::Transcript;
use sealscribe_transcript::phrases::Tokens;
use serde_json::{Map, Value};

/// The sections `config` asks for, by name.
pub fn sections(transcript: &Transcript, config: &MediaConfig) -> Map<String, Value> {
    let tokens = Tokens::new(transcript);
    let mut out = Map::new();
    if !config.spotting.is_empty() {
        out.insert(
            "spotting".to_owned(),
            crate::spotting::section(&tokens, &config.spotting),
        );
    }
    out
}
