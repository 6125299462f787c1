//! Integration tests: the real `sealscribe` binary, started on `127.0.0.1:0`
//! with a temporary data directory, driven over HTTP the way customers drive it.
//! One test binary (faster to build and link than one per file).

mod api_keys;
mod callbacks;
mod categories;
mod client;
mod common;
mod conversations;
mod encryption;
mod extended;
mod hostile;
mod kek;
mod keys;
mod knowledge;
mod languages;
mod limits;
mod media;
mod memory;
mod metrics;
mod observability;
mod openapi;
mod outbound;
mod redaction;
mod renditions;
mod scaled;
mod server;
mod spotting;
mod vocabularies;
