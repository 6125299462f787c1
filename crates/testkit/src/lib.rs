//! Test support shared by sealscribe's tests and benches, so that each helper
//! exists once instead of a copy per test file: deterministic pseudo-random
//! inputs, memory readings from `/proc`, and WAV files. It has no
//! dependencies and is only ever a dev-dependency; nothing here is fit for
//! production use (the generator is not cryptographic, the readers panic).
//!
//! # Layout
//! - [`rng`]: [`Rng`], a seeded SplitMix64 generator for property tests and filler bytes.
//! - [`flac`]: FLAC files of silence of any declared length (a 100-hour one is under 3 MB).
//! - [`proc`]: `/proc/<pid>/status` readers: resident and peak memory of a process.
//! - [`wav`]: 16 kHz mono 16-bit PCM WAV: the header, and files of samples, silence or noise.
//! - [`text`]: checks on recognised text, such as [`assert_no_repeated_ngrams`] (decoder loops).

pub mod flac;
pub mod proc;
pub mod rng;
pub mod text;
pub mod wav;

pub use rng::Rng;
pub use text::assert_no_repeated_ngrams;
