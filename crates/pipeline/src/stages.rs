//! The steps plain and encrypted jobs share once the media is a local file:
//! probe and recognise, detect, redact the audio.

use std::sync::Arc;
use std::time::Duration;

use sealscribe_asr::{MediaInfo, RecognitionOptions, SpeechEngine};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::conversation_metrics::for_media;
use sealscribe_domain::media::JobClaim;
use sealscribe_store::{Db, Finished};
use sealscribe_transcript::Transcript;
use sealscribe_transcript::phrases::Phrase;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::analytics;
use crate::ctx::Ctx;
use crate::redaction::{self, Analysis, AudioPlan};
use crate::speakers;
use crate::step::{Progress, StepError, step};

/// The `detect` step (when detectors are configured): the transcript as it
/// will be stored, with what the detectors found replaced.
pub async fn detect(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    transcript: Transcript,
    config: &MediaConfig,
) -> Result<Analysis, StepError> {
    if config.detectors.is_empty() {
        return Ok(redaction::analyse(transcript, &[]));
    }
    step(db, claim, progress, lost, "detect", async {
        Ok(redaction::analyse(transcript, &config.detectors))
    })
    .await
}

/// The `metrics` step (when `configuration.metrics` asks for groups): the v3 conversation
/// metrics of the transcript as recognised, before redaction replaces any words, as the
/// media document's `metrics[]`.
pub async fn conversation_metrics(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    transcript: &Transcript,
    duration_ms: u64,
    config: &MediaConfig,
) -> Result<Option<Value>, StepError> {
    if config.metrics.is_empty() {
        return Ok(None);
    }
    step(db, claim, progress, lost, "metrics", async {
        let (t, c) = (transcript.clone(), config.clone());
        // Linear in the words, but a long call has many: off the executor.
        let metrics = tokio::task::spawn_blocking(move || for_media(&t, duration_ms, &c)).await?;
        serde_json::to_value(metrics)
            .map(Some)
            .map_err(|e| StepError::transient(e.to_string()))
    })
    .await
}

/// The `analytics` step (when `spotting`, `categories` or `knowledge` ask for a section): the
/// sections of the transcript as it will be stored, i.e. after redaction, so nothing a
/// detector replaced is spotted or quoted in an `exact`.
pub async fn call_analytics(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    transcript: &Transcript,
    config: &MediaConfig,
    metadata: Option<&Value>,
) -> Result<Option<Value>, StepError> {
    if !config.call_analytics() {
        return Ok(None);
    }
    step(db, claim, progress, lost, "analytics", async {
        let (t, c, m) = (transcript.clone(), config.clone(), metadata.cloned());
        let sections =
            tokio::task::spawn_blocking(move || analytics::sections(&t, &c, m.as_ref())).await?;
        Ok(Some(Value::Object(sections)))
    })
    .await
}

/// Writes the redacted audio of `input` to `out` (a WAV file), off the executor.
pub async fn redact_audio(
    input: &std::path::Path,
    info: &MediaInfo,
    plan: &AudioPlan,
    out: &std::path::Path,
) -> Result<(), StepError> {
    let (input, info, out) = (input.to_owned(), info.clone(), out.to_owned());
    let (ranges, tone) = (plan.ranges.clone(), plan.tone);
    tokio::task::spawn_blocking(move || {
        sealscribe_asr::redact_audio(&input, &info, &ranges, tone.tone, tone.gain, &out)
    })
    .await??;
    Ok(())
}

/// The recognition options of a media's configuration: its language as Whisper's code. A
/// stored tag this version does not know fails the job (guessing English would transcribe
/// another language as gibberish).
fn recognition_options(config: &MediaConfig) -> Result<RecognitionOptions, StepError> {
    match sealscribe_domain::language::whisper_code(&config.language) {
        Some(code) => Ok(RecognitionOptions {
            language: code.into(),
            vocabulary: sealscribe_domain::vocabulary::prompt_entries(&config.vocabularies),
            ..RecognitionOptions::default()
        }),
        None => Err(StepError::permanent(
            codes::LANGUAGE_NOT_SUPPORTED,
            format!(
                "this media was not processed: its language `{}` is not one this version of \
                 sealscribe recognises. Reprocess it with one of {}.",
                config.language,
                sealscribe_domain::language::accepted()
            ),
        )),
    }
}

/// The custom vocabulary's rewrites (`soundsLike` → term, and each term as written), for
/// every speaker's transcript before they are merged; see
/// [`sealscribe_transcript::Transcript::rewrite_phrases`].
fn sounds_like_rules(config: &MediaConfig) -> Vec<(Phrase, String)> {
    sealscribe_domain::vocabulary::sounds_like(&config.vocabularies)
        .into_iter()
        .filter_map(|(phrase, term)| Phrase::parse(&phrase).map(|p| (p, term)))
        .collect()
}

/// The `probe` and `transcribe` steps on a local media file, for plain and
/// encrypted media alike, in the configured language. Returns what the probe
/// found and the transcript.
///
/// The probe also checks `ingest` against the media's channels (v3 15004, see
/// [`crate::speakers`]). Each configured speaker's channel is then recognised on its
/// own, all at once: the engine runs as many as its concurrency allows
/// (`--asr-concurrency`) and queues the rest; their words are merged into one
/// timeline with turn tokens.
pub async fn probe_and_recognise(
    ctx: &Arc<Ctx>,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    path: &std::path::Path,
    config: &MediaConfig,
) -> Result<(MediaInfo, Transcript), StepError> {
    let opts = recognition_options(config)?;
    let rules = Arc::new(sounds_like_rules(config));
    let db = ctx.db.as_ref();
    let (info, sources) = step(db, claim, progress, lost, "probe", async {
        let p = path.to_owned();
        let info = tokio::task::spawn_blocking(move || sealscribe_asr::probe(p)).await??;
        db.set_probed(claim.media_id, info.duration_ms, None, None)
            .await?;
        let sources = speakers::sources(&config.ingest, &info)?;
        Ok((info, sources))
    })
    .await?;
    let transcript = step(db, claim, progress, lost, "transcribe", async {
        let started = std::time::Instant::now();
        let running: Vec<_> = sources
            .iter()
            .map(|source| {
                let engine: Arc<dyn SpeechEngine> = ctx.engine.clone();
                let (p, info) = (path.to_owned(), info.clone());
                let opts = RecognitionOptions {
                    audio: source.audio,
                    ..opts.clone()
                };
                let rules = rules.clone();
                tokio::task::spawn_blocking(move || {
                    let mut t = engine.transcribe(&p, &info, &opts)?;
                    t.rewrite_phrases(&rules);
                    Ok::<_, sealscribe_asr::AsrError>(t)
                })
            })
            .collect();
        let mut parts = Vec::with_capacity(running.len());
        for (source, task) in sources.into_iter().zip(running) {
            parts.push((source, task.await??));
        }
        let audio =
            Duration::from_millis(info.duration_ms) * u32::try_from(parts.len()).unwrap_or(1);
        crate::metrics::recognised(audio, started.elapsed());
        let combined = speakers::combine(parts);
        let c = config.clone();
        Ok(tokio::task::spawn_blocking(move || transcript_options(combined, &c)).await?)
    })
    .await?;
    Ok((info, transcript))
}

/// The configuration's `transcript` options applied to the words as recognised, before
/// anything reads them (metrics, detectors, analytics, renditions, the index):
/// `formatting.enableNumberFormatting: false` writes numerals as words (English media only;
/// Spanish keeps digits, like v3's engines that cannot turn formatting off), then
/// `contentFiltering.enableProfanityFiltering` masks listed words as `...` (docs/knowledge.md).
pub fn transcript_options(mut transcript: Transcript, config: &MediaConfig) -> Transcript {
    if !config.number_formatting && sealscribe_domain::language::is_english(&config.language) {
        transcript = sealscribe_transcript::numbers::spell_numbers(&transcript);
    }
    if config.profanity_filtering {
        transcript = sealscribe_transcript::profanity::mask_profanity(&transcript);
    }
    transcript
}

/// Ends the job with what it produced: the media is `finished` (atomically
/// with its transcript, index entry and callbacks) unless the job stopped
/// being this worker's.
pub async fn finish(
    ctx: &Ctx,
    claim: &JobClaim,
    lost: &CancellationToken,
    done: &Finished<'_>,
) -> Result<(), StepError> {
    let worker = &ctx.settings.worker_id;
    if lost.is_cancelled()
        || !ctx
            .db
            .finish_job(claim.job_id, worker, claim.media_id, done)
            .await?
    {
        return Err(StepError::abandoned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_transcript::Word;

    fn words(t: &Transcript) -> Vec<&str> {
        t.words.iter().map(|w| w.w.as_str()).collect()
    }

    #[test]
    fn transcript_options_follow_the_configuration_and_language() {
        let t = Transcript {
            confidence: 0.9,
            words: ["it", "costs", "$42", "damn"]
                .iter()
                .enumerate()
                .map(|(p, w)| Word {
                    p: p as u32,
                    s: 1000 * p as u64,
                    e: 1000 * p as u64 + 900,
                    c: 0.9,
                    w: (*w).to_owned(),
                    m: None,
                })
                .collect(),
            ..Transcript::default()
        };
        let same = transcript_options(t.clone(), &MediaConfig::default());
        assert_eq!(same, t);
        let both = MediaConfig {
            number_formatting: false,
            profanity_filtering: true,
            ..MediaConfig::default()
        };
        assert_eq!(
            words(&transcript_options(t.clone(), &both)),
            ["it", "costs", "forty", "two", "dollars", "..."]
        );
        // Spanish keeps its digits (the number words are English).
        let spanish = MediaConfig {
            number_formatting: false,
            language: "es-MX".into(),
            ..MediaConfig::default()
        };
        assert_eq!(transcript_options(t.clone(), &spanish), t);
    }
}
