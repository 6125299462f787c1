//! The spoken languages sealscribe accepts in `speechModel.language`, and the language code the
//! recogniser is given for each.
//!
//! Why a table: VoiceBase v3 names languages by a two-letter code and a region of its own
//! (`en-UK`, not only `en-GB`; `es-LA` for Latin America), while Whisper wants a bare ISO 639-1
//! code. Whisper does not distinguish regional variants, so every English tag maps to `en` and
//! every Spanish tag to `es`; the tag itself is kept (normalised to the casing below) so that
//! the customer reads back what they asked for.
//!
//! English: `en-US` (the default), `en-UK`, `en-GB`, `en-AU`, `en-IN`, `en-CA`, `en-NZ`,
//! `en-IE`, `en-ZA`, and a bare `en` (stored as `en-US`). Spanish: `es-US`, `es-ES`, `es-MX`,
//! `es-LA`, `es-419`, `es-AR`, `es-CO`, `es-CL`, `es-PE`, and a bare `es` (stored as `es-US`).
//! Case does not matter. Anything else is refused with **10401** by the configuration parser.
//!
//! Spanish needs a multilingual model (`--asr-model base`); an English-only model fails the
//! media with a reason that says so (the API cannot know which model the workers run).

/// Every accepted tag, in its stored casing, with Whisper's code for it.
const TAGS: &[(&str, &str)] = &[
    ("en-US", "en"),
    ("en-UK", "en"),
    ("en-GB", "en"),
    ("en-AU", "en"),
    ("en-IN", "en"),
    ("en-CA", "en"),
    ("en-NZ", "en"),
    ("en-IE", "en"),
    ("en-ZA", "en"),
    ("es-US", "es"),
    ("es-ES", "es"),
    ("es-MX", "es"),
    ("es-LA", "es"),
    ("es-419", "es"),
    ("es-AR", "es"),
    ("es-CO", "es"),
    ("es-CL", "es"),
    ("es-PE", "es"),
];

/// The stored form of an accepted language tag (`"en-gb"` → `"en-GB"`, `"en"` → `"en-US"`,
/// `"es"` → `"es-US"`), or `None` when sealscribe does not recognise that language.
pub fn normalise(tag: &str) -> Option<&'static str> {
    let tag = tag.trim();
    let bare = match tag.to_ascii_lowercase().as_str() {
        "en" => Some("en-US"),
        "es" => Some("es-US"),
        _ => None,
    };
    bare.or_else(|| {
        TAGS.iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(tag))
            .map(|(t, _)| *t)
    })
}

/// Whisper's language code for a stored tag: `"en"` or `"es"`. A tag this version does not
/// know (never stored by it) is `None`: the caller must fail rather than guess.
pub fn whisper_code(tag: &str) -> Option<&'static str> {
    normalise(tag).and_then(|t| TAGS.iter().find(|(x, _)| *x == t).map(|(_, w)| *w))
}

/// Whether a stored tag is an English variant (the number detectors read English only).
pub fn is_english(tag: &str) -> bool {
    whisper_code(tag) == Some("en")
}

/// The accepted tags, for messages: `en-US, en-UK, …`.
pub fn accepted() -> String {
    TAGS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_normalise_and_map() {
        for (tag, stored, code) in [
            ("en-US", "en-US", "en"),
            ("en", "en-US", "en"),
            ("EN-uk", "en-UK", "en"),
            ("en-gb", "en-GB", "en"),
            ("en-AU", "en-AU", "en"),
            ("en-IN", "en-IN", "en"),
            ("es", "es-US", "es"),
            ("es-mx", "es-MX", "es"),
            ("es-419", "es-419", "es"),
            ("es-LA", "es-LA", "es"),
            (" es-ES ", "es-ES", "es"),
        ] {
            assert_eq!(normalise(tag), Some(stored), "{tag}");
            assert_eq!(whisper_code(stored), Some(code), "{tag}");
            assert_eq!(is_english(stored), code == "en", "{tag}");
        }
        for tag in [
            "fr-FR", "de-DE", "pt-BR", "", "e", "en-", "english", "es-XX",
        ] {
            assert_eq!(normalise(tag), None, "{tag}");
            assert_eq!(whisper_code(tag), None, "{tag}");
        }
        assert!(accepted().starts_with("en-US, en-UK"));
    }
}
