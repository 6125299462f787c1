//! Bearer tokens.
//!
//! A token is 256 random bits, hex-encoded behind a recognisable `sst_` prefix
//! (so secret scanners and people can tell what it is). Only its SHA-256 is
//! stored: with 256 bits of entropy a fast hash is enough (a slow password hash
//! buys nothing against brute force of a random key), and it lets every request
//! be authenticated with one indexed lookup. The first [`PREFIX_LEN`] characters
//! are kept in clear to list and revoke tokens; they carry 32 of the 256 bits.
//! The last six (`VbKey.lastSix` in `/v3/profile/keys`) carry 24 more: 200
//! unknown bits remain, far beyond guessing.

use std::fmt;
use zeroize::{Zeroize, Zeroizing};

use sha2::{Digest, Sha256};

/// What every token starts with.
pub const TOKEN_MARK: &str = "sst_";
/// Characters of a token kept in clear (mark included).
pub const PREFIX_LEN: usize = TOKEN_MARK.len() + 8;
const SECRET_BYTES: usize = 32;

/// A freshly generated bearer token. Shown once, never stored.
pub struct Token(String);

impl Token {
    /// Generates a new random token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        getrandom::fill(secret.as_mut()).expect("the operating system's random source failed");
        let hex = Zeroizing::new(hex::encode(secret.as_ref()));
        Token(format!("{TOKEN_MARK}{}", hex.as_str()))
    }

    /// The token text, to show to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The part kept in clear for listing and revocation.
    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX_LEN]
    }

    /// The last six characters (`VbKey.lastSix`), so that a person can tell
    /// their keys apart after the token was shown.
    pub fn last_six(&self) -> &str {
        &self.0[self.0.len() - 6..]
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

/// The token is wiped from memory once it has been shown and hashed.
impl Drop for Token {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}…)", self.prefix())
    }
}

/// A new secret for signing an account's callbacks: `whsec_` and 256 random
/// bits in hex. Unlike tokens it is stored as is (signing needs it).
pub fn new_signing_secret() -> String {
    let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
    getrandom::fill(secret.as_mut()).expect("the operating system's random source failed");
    let hex = Zeroizing::new(hex::encode(secret.as_ref()));
    format!("whsec_{}", hex.as_str())
}

/// SHA-256 of a token, hex-encoded: what the database stores and looks up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(pub String);

impl TokenHash {
    /// Hashes a presented token. Anything may be presented; an unknown token
    /// simply hashes to a value no row has.
    pub fn of(presented: &str) -> Self {
        TokenHash(hex::encode(Sha256::digest(presented.as_bytes())))
    }
}

/// Whether `text` has the shape of a token sealscribe issued. Cheap pre-check
/// so that obviously foreign credentials never reach the database.
pub fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_MARK.len() + 2 * SECRET_BYTES
        && text.starts_with(TOKEN_MARK)
        && text[TOKEN_MARK.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_well_formed_and_hash_stably() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(looks_like_token(a.expose()));
        assert_eq!(a.prefix().len(), PREFIX_LEN);
        assert!(a.expose().starts_with(a.prefix()));
        assert!(a.expose().ends_with(a.last_six()) && a.last_six().len() == 6);
        assert_eq!(a.hash(), TokenHash::of(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(&a.expose()[PREFIX_LEN..]));
    }

    #[test]
    fn foreign_credentials_are_not_tokens() {
        assert!(!looks_like_token(""));
        assert!(!looks_like_token("sst_xyz"));
        assert!(!looks_like_token(&format!("sst_{}", "g".repeat(64))));
        assert!(!looks_like_token(&format!("abc_{}", "a".repeat(64))));
    }
}
