//! VoiceBase v3 error codes used by sealscribe (the `code` of an error in the
//! v3 envelope), plus the 95xxx codes sealscribe adds for Client Supplied
//! Encryption (contract §2.4).

/// Unknown API path.
pub const UNKNOWN_PATH: u32 = 10000;
/// Malformed request (e.g. invalid multipart, method not allowed on a path).
pub const INVALID_REQUEST: u32 = 10001;
/// No `Authorization` header.
pub const MISSING_AUTHORIZATION: u32 = 10002;
/// Invalid `Authorization` header or token.
pub const INVALID_AUTHORIZATION: u32 = 10003;
/// The `configuration` part is not JSON.
pub const CONFIGURATION_NOT_JSON: u32 = 10007;
/// Unknown property in the configuration.
pub const UNKNOWN_PROPERTY: u32 = 10008;
/// The media file is unreadable or has no audio.
pub const MEDIA_UNREADABLE: u32 = 10201;
/// Neither `media` nor `mediaUrl` (or both) supplied.
pub const MEDIA_MISSING: u32 = 10202;
/// `mediaUrl` could not be reached.
pub const MEDIA_URL_UNREACHABLE: u32 = 10203;
/// `mediaUrl` is malformed or not allowed.
pub const MEDIA_URL_MALFORMED: u32 = 10204;
/// More than one part with the same name.
pub const DUPLICATE_PART: u32 = 10206;
/// Fetching `mediaUrl` returned an HTTP error.
pub const MEDIA_URL_HTTP_ERROR: u32 = 10207;
/// Transcript requested before processing finished.
pub const TRANSCRIPT_NOT_READY: u32 = 10301;
/// Requested resource not found.
pub const NOT_FOUND: u32 = 10205;
/// A known v3 feature sealscribe does not support.
pub const UNSUPPORTED_FEATURE: u32 = 10601;
/// Payload too large.
pub const PAYLOAD_TOO_LARGE: u32 = 10800;
/// Internal error (details only in the server log, under the reference).
pub const INTERNAL: u32 = 90000;
/// A dependency (database, blob store) is unavailable.
pub const UNAVAILABLE: u32 = 90001;

/// Unknown `publicKeyId`.
pub const UNKNOWN_PUBLIC_KEY: u32 = 95001;
/// Not a usable OpenPGP public key.
pub const UNUSABLE_PUBLIC_KEY: u32 = 95002;
/// Not available on encrypted media.
pub const ENCRYPTED_MEDIA: u32 = 95003;
/// Key expired or revoked.
pub const KEY_EXPIRED_OR_REVOKED: u32 = 95004;
/// `searchable: true` together with `encryption`.
pub const SEARCHABLE_WITH_ENCRYPTION: u32 = 95005;
/// A secret key was uploaded; it was not stored.
pub const SECRET_KEY_UPLOADED: u32 = 95006;
/// Warning: the uploaded key expires soon.
pub const KEY_EXPIRES_SOON: u32 = 95007;
