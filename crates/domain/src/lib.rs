//! sealscribe's domain model: the vocabulary every other crate shares.
//!
//! This crate knows nothing about HTTP, SQL or OpenPGP. It holds the identifiers,
//! the records the storage layer persists, the bearer-token scheme, and the
//! VoiceBase v3 error codes — so that the HTTP layer, the storage layer and the
//! pipeline agree on them without depending on each other.
//!
//! # Layout
//! - [`ids`], [`records`], [`token`]: identifiers, accounts/tokens/keys as
//!   stored, and the bearer-token scheme.
//! - [`codes`]: the v3 error codes.
//! - [`configuration`], [`detectors`], [`callbacks`]: strict parsing of the v3
//!   `configuration` and `metadata` parts into their normalised, stored form.
//! - [`media`]: media records, their status, progress tasks and queries; the
//!   typed readers of their stored JSON fail with [`media::Unreadable`]
//!   rather than fall back to defaults.
//! - [`document`]: the v3 media document and summary rendered from a record.

pub mod callbacks;
pub mod codes;
pub mod configuration;
pub mod detectors;
pub mod document;
pub mod ids;
pub mod media;
pub mod records;
pub mod token;

pub use ids::{AccountId, MediaId, PublicKeyId};
pub use records::{Account, PublicKeyRecord, TokenRecord};
pub use token::{Token, TokenHash};
