//! sealscribe's domain model: the vocabulary every other crate shares.
//!
//! This crate knows nothing about HTTP, SQL or OpenPGP. It holds the identifiers,
//! the records the storage layer persists, the bearer-token scheme, and the
//! VoiceBase v3 error codes — so that the HTTP layer, the storage layer and the
//! pipeline agree on them without depending on each other.
//!
//! # Layout
//! * [`codes`] — the one registry of VoiceBase v3 error codes.
//! * [`input`] — [`InputError`](input::InputError), a rejected client input part, and the
//!   rule for quoting client input in messages.
//! * [`configuration`] — strict parsing of the `configuration` and `metadata` parts into the
//!   normalised, stored [`MediaConfig`](configuration::MediaConfig).
//! * [`definitions`] — the kinds of an account's saved definitions (spotting groups,
//!   vocabularies, categories), stored by name.
//! * [`extended`] — extended-metadata search: the searchable fields of an account, the
//!   values indexed for them and the `extendedFilter` conditions of a listing.
//! * [`detectors`] and [`callbacks`] — the v3 `prediction.detectors[]` and
//!   `publish.callbacks[]` items: their shape, validation and stored form.
//! * [`conversation_metrics`] — `configuration.metrics[]` groups and the v3 conversation
//!   metrics computed from the timed words of each speaker.
//! * [`language`] — the accepted `speechModel.language` tags (English and Spanish variants)
//!   and the recogniser's code for each.
//! * [`media`] — media records, their status, progress tasks and queries, the search-index
//!   entry; the typed readers of their stored JSON fail with [`media::Unreadable`] rather
//!   than fall back to defaults.
//! * [`document`] — the v3 media document and summary rendered from a record.
//! * [`categories`] — category definitions, the `categories[]` selection and what a media keeps.
//! * [`vbql`] — the query language of categories: parser and evaluation over a transcript.
//! * [`ids`], [`records`], [`token`] — identifiers, accounts/tokens/keys as stored, and the
//!   bearer-token scheme.
//! * [`scope`] — what a token may do: the scope grammar of API keys and its check.

pub mod callbacks;
pub mod categories;
pub mod codes;
pub mod configuration;
pub mod conversation_metrics;
pub mod definitions;
pub mod detectors;
pub mod document;
pub mod extended;
pub mod ids;
pub mod input;
pub mod language;
pub mod media;
pub mod records;
pub mod scope;
pub mod token;
pub mod vbql;

pub use ids::{AccountId, KeyId, MediaId, PublicKeyId};
pub use records::{Account, PublicKeyRecord, TokenRecord};
pub use token::{Token, TokenHash};
