//! What the pipeline records through the [`metrics`] facade.
//!
//! Recording is a no-op unless the binary installed a recorder
//! (`--metrics-listen`). The names and help texts are
//! [`sealscribe_ingress::metrics`], where the API's recorder set-up finds them.
//! Labels come from fixed sets (task names, job kinds, outcomes): never a
//! media id, URL or anything a customer chose.

use std::time::Duration;

use sealscribe_ingress::metrics::{
    CALLBACK_ATTEMPTS, ENCRYPTED_BYTES, JOBS_ENDED, REAL_TIME_FACTOR, STAGE_DURATION,
};

/// One pipeline task took `elapsed`.
pub(crate) fn stage(task: &str, ok: bool, elapsed: Duration) {
    metrics::histogram!(
        STAGE_DURATION,
        "stage" => task.to_owned(),
        "outcome" => if ok { "ok" } else { "error" }
    )
    .record(elapsed.as_secs_f64());
}

/// Recognising `audio` took `elapsed`.
pub(crate) fn recognised(audio: Duration, elapsed: Duration) {
    if audio.is_zero() {
        return;
    }
    metrics::histogram!(REAL_TIME_FACTOR).record(elapsed.as_secs_f64() / audio.as_secs_f64());
}

/// `bytes` of plaintext were encrypted to a customer's key.
pub(crate) fn encrypted(what: &'static str, bytes: u64) {
    metrics::counter!(ENCRYPTED_BYTES, "what" => what).increment(bytes);
}

/// A job run ended.
pub(crate) fn job_ended(kind: &'static str, outcome: &'static str) {
    metrics::counter!(JOBS_ENDED, "kind" => kind, "outcome" => outcome).increment(1);
}

/// One callback try ended with `status`, or without an answer.
pub(crate) fn callback_attempt(status: Option<u16>) {
    let result = match status {
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(_) => "5xx",
        None => "error",
    };
    metrics::counter!(CALLBACK_ATTEMPTS, "result" => result).increment(1);
}
