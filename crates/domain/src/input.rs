//! A rejected client input part ([`InputError`]) and the rule for quoting client input in its
//! message (`excerpt`).
//!
//! Why a module of its own, at the bottom of the crate: the configuration parser and the
//! detector and callback validators it calls all report [`InputError`]s and quote input through
//! `excerpt`. Kept here, they share both without importing each other.

/// A rejected `configuration` or `metadata` part: the v3 error `code` and a message for people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The v3 error code (the HTTP status follows from it: 10800 → 413, everything else 400).
    pub code: u32,
    /// What was wrong and what to do.
    pub message: String,
}

impl InputError {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> Self {
        InputError {
            code,
            message: message.into(),
        }
    }
}

/// At most `max` characters of untrusted text, control characters escaped, `…` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
