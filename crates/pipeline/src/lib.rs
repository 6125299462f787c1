//! sealscribe's processing pipeline.
//!
//! Workers lease jobs from the database ([`sealscribe_store::JobQueue`]) and run
//! them: fetch (for `mediaUrl`), probe, decode and recognise, build the v3
//! transcript, detect and redact sensitive data, index, and deliver callbacks. Everything a job needs is in the database and the blob
//! store, so any worker — in `serve` or in a `worker` process on another
//! machine — can run any job, and a job whose worker died is taken up again
//! when its lease expires.
//!
//! CPU-bound steps (ffmpeg decoding, recognition) run on the blocking pool,
//! never on the async executor.
//!
//! # Layout
//! Modules use only the ones listed below them (no `use crate::` cycles):
//! * `worker` — the scheduler ([`Workers`]): leases jobs, renews leases while they run,
//!   retries with backoff or fails them, hands them back at shutdown.
//! * `process` — one processing job of plain media; hands encrypted media to `encrypted`.
//! * `encrypted` — the Client Supplied Encryption job: sealed copy in, ciphertext out.
//! * [`callbacks`] — callback deliveries (bodies, signatures, rounds).
//! * `stages` — the steps both jobs share: probe and recognise, detect, redact the audio, finish.
//! * `fetch` — downloading a `mediaUrl` into the blob store.
//! * `analytics` — the call-analytics sections of the media document (`spotting`,
//!   `categories`, `knowledge`), computed from the stored transcript.
//! * `redaction` — what the detectors found, applied to the transcript and the audio plan.
//! * `speakers` — the recognitions `ingest` asks for (checked against the probe, v3 15004)
//!   and their merge into one multi-speaker transcript.
//! * `armor` — armored OpenPGP messages for results and callback bodies.
//! * `step` — the step vocabulary: `StepError`, `Progress`, the `step` wrapper, scratch files.
//! * `ctx` — what every job needs (`Ctx`) and the [`Settings`] it carries.
//! * [`metrics`] — what the pipeline records.

mod analytics;
mod armor;
pub mod callbacks;
mod ctx;
mod encrypted;
mod fetch;
pub mod metrics;
mod process;
mod redaction;
mod speakers;
mod spotting;
mod stages;
mod step;
#[cfg(test)]
mod testing;
mod worker;

pub use ctx::{CallbackSettings, Settings};
pub use sealscribe_ingress::UrlPolicy;
pub use worker::Workers;
