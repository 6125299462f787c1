//! The names and help texts of what the pipeline records.
//!
//! They are here, below both, because the API's recorder set-up needs them
//! (histogram buckets, help texts) and the pipeline records under them; the
//! recording itself is `sealscribe_pipeline::metrics`. Labels come from fixed
//! sets (task names, job kinds, outcomes): never a media id, URL or anything
//! a customer chose.

/// Duration of each pipeline task, by stage and outcome.
pub const STAGE_DURATION: &str = "sealscribe_pipeline_stage_duration_seconds";
/// Recognition time over audio duration.
pub const REAL_TIME_FACTOR: &str = "sealscribe_recognition_real_time_factor";
/// Plaintext bytes encrypted to customers' keys.
pub const ENCRYPTED_BYTES: &str = "sealscribe_encrypted_bytes_total";
/// Job runs that ended, by kind and outcome.
pub const JOBS_ENDED: &str = "sealscribe_jobs_ended_total";
/// Callback HTTP tries, by result.
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
