//! What the pipeline records through the [`metrics`] facade.
//!
//! Recording is a no-op unless the binary installed a recorder
//! (`--metrics-listen`). Labels come from fixed sets (task names, job kinds,
//! outcomes): never a media id, URL or anything a customer chose.

use std::time::Duration;

pub const STAGE_DURATION: &str = "sealscribe_pipeline_stage_duration_seconds";
pub const REAL_TIME_FACTOR: &str = "sealscribe_recognition_real_time_factor";
pub const ENCRYPTED_BYTES: &str = "sealscribe_encrypted_bytes_total";
pub const JOBS_ENDED: &str = "sealscribe_jobs_ended_total";
pub const CALLBACK_ATTEMPTS: &str = "sealscribe_callback_attempts_total";

/// Registers the help texts (called by the binary's recorder set-up).
pub fn describe() {
    metrics::describe_histogram!(
        STAGE_DURATION,
        metrics::Unit::Seconds,
        "Duration of each pipeline task (fetch, probe, transcribe, detect, redact, encrypt, …) by outcome."
    );
    metrics::describe_histogram!(
        REAL_TIME_FACTOR,
        "Recognition (decoding + speech recognition) time divided by the audio's duration; below 1 is faster than real time."
    );
    metrics::describe_counter!(
        ENCRYPTED_BYTES,
        metrics::Unit::Bytes,
        "Plaintext bytes encrypted to customers' OpenPGP keys, by what they were (original, redacted, results)."
    );
    metrics::describe_counter!(
        JOBS_ENDED,
        "Job runs that ended, by kind and outcome (finished, failed, retried, released at shutdown, abandoned; \
         for callbacks: delivered, failed, rescheduled)."
    );
    metrics::describe_counter!(
        CALLBACK_ATTEMPTS,
        "Callback HTTP tries by result (2xx, 3xx, 4xx, 5xx, error: no answer)."
    );
}

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
