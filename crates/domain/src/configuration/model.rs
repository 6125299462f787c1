//! The normalised configuration: what sealscribe stores for a media item and the pipeline reads
//! (see "Stored form" in [`crate::configuration`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// v3 `priority`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

/// Client Supplied Encryption: the customer's key the results are encrypted to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EncryptionConfig {
    /// The `publicKeyId` from `POST /v3/security/public-keys` (existence checked by the caller).
    #[serde(rename = "publicKeyId")]
    pub public_key_id: Uuid,
}

/// What sealscribe will do for one media item: the accepted configuration, normalised (see
/// "Stored form" in [`crate::configuration`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaConfig {
    /// Normalised language tag (see [`crate::language`]): `en-US` by default.
    pub language: String,
    pub priority: Priority,
    /// Whether the media is indexed for `GET /v3/media?query=`; never true with `encryption`.
    pub searchable: bool,
    pub encryption: Option<EncryptionConfig>,
    /// `transcript.formatting.enableNumberFormatting` (v3 default true).
    pub number_formatting: bool,
    /// `prediction.detectors[]`, validated (see [`crate::detectors`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<crate::detectors::Detector>,
    /// `publish.callbacks[]`, validated (see [`crate::callbacks`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<crate::callbacks::Callback>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            language: "en-US".to_string(),
            priority: Priority::Normal,
            searchable: true,
            encryption: None,
            number_formatting: true,
            detectors: Vec::new(),
            callbacks: Vec::new(),
        }
    }
}
