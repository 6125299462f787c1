//! `configuration.prediction.detectors[]`: which sensitive data to find in the
//! recognised speech, and how to redact it (reference §3 "prediction").
//!
//! The v3 item (`{detectorName, parameters[], redactor{transcript, audio}}`) is
//! checked here and normalised into a [`Detector`], the form stored in the
//! media's configuration and read by the pipeline. Detection itself lives in
//! the `sealscribe-detect` crate, which takes these types as they are: there is
//! one detector vocabulary ([`DetectorName`], [`DetectionLevel`], [`Detector`]).
//!
//! Each detector has a fixed `detectorId` ([`DetectorName::id`]), listed by
//! `GET /v3/definition/prediction/detectors`; a configuration may name a detector by
//! either.
//!
//! Codes: an unknown `detectorName` or `detectorId`, an id and a name that disagree,
//! an unknown parameter or value → **50001**;
//! a `redactor` with neither `transcript` nor `audio` → **50007** (as in v3);
//! the Spanish variants → **10601**.

use serde::{Deserialize, Serialize};

use crate::codes::{EMPTY_REDACTOR, INVALID_DETECTOR, UNSUPPORTED_FEATURE};
use crate::input::{InputError, excerpt};

/// Default redaction tone (Hz) and gain, the values of v3's documentation example.
pub const DEFAULT_TONE_HZ: u32 = 170;
pub const DEFAULT_GAIN: f64 = 0.25;
/// Default transcript replacement.
pub const DEFAULT_REPLACEMENT: &str = "[redacted]";

/// Which detector.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DetectorName {
    #[serde(rename = "PCI")]
    Pci,
    #[serde(rename = "SSN")]
    Ssn,
    #[serde(rename = "Number")]
    Number,
}

impl DetectorName {
    /// Every detector, in the order `GET /v3/definition/prediction/detectors` lists them.
    pub const ALL: [DetectorName; 3] = [Self::Pci, Self::Ssn, Self::Number];

    /// The v3 `detectorId`: a UUID fixed for ever (version 5, of the URL
    /// `urn:sealscribe:detector:<name>`), so clients may keep it in their configurations.
    pub fn id(self) -> &'static str {
        match self {
            Self::Pci => "126c5d96-dad3-5d46-8b34-01806f51a690",
            Self::Ssn => "e8d57a18-24b9-54c9-9a02-3acd3ef72ad9",
            Self::Number => "c6b8ef0e-a069-5c27-8ca9-9ebb66fe3dab",
        }
    }

    /// The detector whose [`id`](Self::id) this is (case-insensitive, as UUIDs are).
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.id().eq_ignore_ascii_case(id.trim()))
    }

    /// What the detector finds, for `detectorDescription`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Pci => {
                "Payment card numbers (13 to 19 digits passing the Luhn check, spoken as digits \
                 or words) and, with detectionLevel entireRegion (the default), any run of 13 or \
                 more digits and the expiry date and security code spoken right after it. \
                 English only."
            }
            Self::Ssn => "US social security numbers (nine digits, 3-2-4). English only.",
            Self::Number => "Every spoken number of three or more digits. English only.",
        }
    }

    /// The v3 `detectorName`: `PCI`, `SSN` or `Number`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pci => "PCI",
            Self::Ssn => "SSN",
            Self::Number => "Number",
        }
    }

    /// The v3 `detectorClass` of its detections: an integer (`VbDetection.detectorClass` is
    /// `int32` in the v3 Swagger spec). Every sealscribe detector is *binary* in v3's terms
    /// (`VbDetectorModel.detectorType`: "binary detectors only report positive cases"), so each
    /// detection is of the positive class, `1` — the value VoiceBase's own sample media
    /// document gives a PCI detection (`"detectorClass": 1, "detectorClassLabel": "pci"`).
    /// Which detector found it is the enclosing `detectorName`.
    pub const fn class(self) -> i32 {
        match self {
            Self::Pci | Self::Ssn | Self::Number => 1,
        }
    }

    /// A human-readable label (the v3 `detectorClassLabel` of its detections).
    pub fn label(self) -> &'static str {
        match self {
            Self::Pci => "Credit card number",
            Self::Ssn => "Social security number",
            Self::Number => "Number",
        }
    }
}

/// PCI `detectionLevel`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum DetectionLevel {
    /// The card number and the card data spoken right after it (expiry, code).
    #[default]
    EntireRegion,
    /// Card-length digit runs even when the check digit fails.
    ProbableNumbers,
    /// Only the words of a valid card number.
    NumbersOnly,
}

impl DetectionLevel {
    /// Parses a v3 `detectionLevel` value (`entireRegion`, `probableNumbers`, `numbersOnly`).
    pub fn from_v3(value: &str) -> Option<Self> {
        match value {
            "entireRegion" => Some(Self::EntireRegion),
            "probableNumbers" => Some(Self::ProbableNumbers),
            "numbersOnly" => Some(Self::NumbersOnly),
            _ => None,
        }
    }
}

/// `redactor.audio`, with defaults applied.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct AudioRedaction {
    /// Tone frequency, Hz (20 ..= 8000).
    pub tone: u32,
    /// Tone amplitude as a fraction of full scale (0 ..= 1).
    pub gain: f64,
}

/// One validated detector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Detector {
    pub name: DetectorName,
    /// Meaningful for PCI only.
    #[serde(default)]
    pub detection_level: DetectionLevel,
    /// `redactor.transcript.replacement`: detected words are replaced by this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// `redactor.audio`: detected time ranges are overwritten by a tone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioRedaction>,
}

/// One `prediction.detectors[]` item (v3 `VbDetectorConfiguration`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redactor: Option<RedactorConfig>,
}

/// A `{parameter, value}` pair of a detector or classifier.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ParameterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `redactor` of a detector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<TranscriptRedactorConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioRedactorConfig>,
}

/// `redactor.transcript`: the text that replaces detected words.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// `redactor.audio`: the tone (Hz) and gain that overwrite detected audio.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AudioRedactorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<f64>,
}

fn bad(code: u32, message: String) -> InputError {
    InputError::new(code, message)
}

/// Checks and normalises `prediction.detectors[]`.
///
/// # Errors
///
/// An [`InputError`] naming the offending item.
pub fn validate(items: &[DetectorConfig]) -> Result<Vec<Detector>, InputError> {
    items
        .iter()
        .enumerate()
        .map(|(i, d)| validate_one(i, d))
        .collect()
}

/// The detector a v3 `detectorName` names.
fn validate_name(at: &str, name: Option<&str>) -> Result<DetectorName, InputError> {
    Ok(match name {
        None | Some("") => {
            return Err(bad(
                INVALID_DETECTOR,
                format!("`{at}` needs a `detectorName`: PCI, SSN or Number."),
            ));
        }
        Some(n) if n.eq_ignore_ascii_case("pci") => DetectorName::Pci,
        Some(n) if n.eq_ignore_ascii_case("ssn") => DetectorName::Ssn,
        Some(n) if n.eq_ignore_ascii_case("number") => DetectorName::Number,
        Some(n) if n.to_ascii_lowercase().ends_with("-spanish") => {
            return Err(bad(
                UNSUPPORTED_FEATURE,
                format!(
                    "`{at}.detectorName` `{}`: sealscribe recognises English only; use PCI, \
                     SSN or Number.",
                    short(n)
                ),
            ));
        }
        Some(n) => {
            return Err(bad(
                INVALID_DETECTOR,
                format!(
                    "`{at}.detectorName` `{}` is not a detector; use PCI, SSN or Number.",
                    short(n)
                ),
            ));
        }
    })
}

fn validate_one(i: usize, d: &DetectorConfig) -> Result<Detector, InputError> {
    let at = format!("prediction.detectors[{i}]");
    let by_id = match d.detector_id.as_deref() {
        None => None,
        Some(id) => Some(DetectorName::from_id(id).ok_or_else(|| {
            bad(
                INVALID_DETECTOR,
                format!(
                    "`{at}.detectorId` `{}` is not a detector id; GET \
                     /v3/definition/prediction/detectors lists them, or name the detector \
                     instead, e.g. \"detectorName\": \"PCI\" (or SSN, Number).",
                    short(id)
                ),
            )
        })?),
    };
    let name = match (by_id, d.detector_name.as_deref().map(str::trim)) {
        (Some(id), None | Some("")) => id,
        (Some(id), Some(n)) if n.eq_ignore_ascii_case(id.as_str()) => id,
        (Some(id), Some(n)) => {
            return Err(bad(
                INVALID_DETECTOR,
                format!(
                    "`{at}`: `detectorId` is the {} detector but `detectorName` is `{}`; give \
                     one of them.",
                    id.as_str(),
                    short(n)
                ),
            ));
        }
        (None, name) => validate_name(&at, name)?,
    };
    let mut detection_level = DetectionLevel::default();
    for (j, p) in d.parameters.iter().flatten().enumerate() {
        let pat = format!("{at}.parameters[{j}]");
        let param = p.parameter.as_deref().unwrap_or_default();
        let value = p.value.as_deref().unwrap_or_default();
        if name != DetectorName::Pci || param != "detectionLevel" {
            return Err(bad(
                INVALID_DETECTOR,
                format!(
                    "`{pat}`: the {} detector has no parameter `{}`{}.",
                    name.as_str(),
                    short(param),
                    if name == DetectorName::Pci {
                        "; its only parameter is `detectionLevel`"
                    } else {
                        "; it takes no parameters"
                    }
                ),
            ));
        }
        detection_level = DetectionLevel::from_v3(value).ok_or_else(|| {
            bad(
                INVALID_DETECTOR,
                format!(
                    "`{pat}`: `detectionLevel` `{}` is not valid; use entireRegion (the \
                     default), probableNumbers or numbersOnly.",
                    short(value)
                ),
            )
        })?;
    }
    let (mut replacement, mut audio) = (None, None);
    if let Some(r) = &d.redactor {
        if r.transcript.is_none() && r.audio.is_none() {
            return Err(bad(
                EMPTY_REDACTOR,
                format!(
                    "`{at}.redactor` redacts nothing: give it `transcript` \
                     ({{\"replacement\":\"[redacted]\"}}) and/or `audio` \
                     ({{\"tone\":170,\"gain\":0.25}}), or leave it out."
                ),
            ));
        }
        if let Some(t) = &r.transcript {
            let text = t.replacement.as_deref().unwrap_or(DEFAULT_REPLACEMENT);
            if text.chars().count() > 64 || text.chars().any(char::is_control) {
                return Err(bad(
                    INVALID_DETECTOR,
                    format!(
                        "`{at}.redactor.transcript.replacement` must be at most 64 printable \
                         characters, e.g. \"[redacted]\"."
                    ),
                ));
            }
            replacement = Some(text.to_owned());
        }
        if let Some(a) = &r.audio {
            let tone = a.tone.unwrap_or(DEFAULT_TONE_HZ);
            let gain = a.gain.unwrap_or(DEFAULT_GAIN);
            if !(20..=8000).contains(&tone) {
                return Err(bad(
                    INVALID_DETECTOR,
                    format!(
                        "`{at}.redactor.audio.tone` is {tone} Hz; use an audible tone between \
                         20 and 8000 Hz (e.g. 170)."
                    ),
                ));
            }
            if !(0.0..=1.0).contains(&gain) {
                return Err(bad(
                    INVALID_DETECTOR,
                    format!(
                        "`{at}.redactor.audio.gain` is {gain}; use a fraction of full scale \
                         between 0 and 1 (e.g. 0.25)."
                    ),
                ));
            }
            audio = Some(AudioRedaction { tone, gain });
        }
    }
    Ok(Detector {
        name,
        detection_level,
        replacement,
        audio,
    })
}

fn short(s: &str) -> String {
    excerpt(s, 32)
}
