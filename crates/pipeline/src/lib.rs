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

pub mod callbacks;
mod encrypted;
mod fetch;
pub mod metrics;
mod process;
mod redaction;
pub mod sniff;
mod worker;

pub use callbacks::CallbackSettings;
pub use fetch::{UrlPolicy, check_reachable, check_url, client as http_client};
pub use worker::{Settings, Workers};
