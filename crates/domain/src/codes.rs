//! VoiceBase v3 error codes used by sealscribe (the `code` of an error in the
//! v3 envelope), plus the 95xxx codes sealscribe adds for Client Supplied
//! Encryption (contract §2.4).
//!
//! The one registry: every code sealscribe sends is defined here, once, and used
//! by this name wherever it is raised, so a code cannot drift between the places
//! that report it. Sorted by number.

/// Unknown API path.
pub const UNKNOWN_PATH: u32 = 10000;
/// Malformed request (e.g. invalid multipart, method not allowed on a path).
pub const INVALID_REQUEST: u32 = 10001;
/// No `Authorization` header.
pub const MISSING_AUTHORIZATION: u32 = 10002;
/// Invalid `Authorization` header or token.
pub const INVALID_AUTHORIZATION: u32 = 10003;
/// The token's scope does not allow this method on this resource (403; see
/// docs/api-keys.md for the scope grammar).
pub const SCOPE_NOT_ALLOWED: u32 = 10006;
/// The `configuration` part is not JSON.
pub const CONFIGURATION_NOT_JSON: u32 = 10007;
/// Unknown property, or a value of the wrong type, in the configuration (or an
/// unknown top-level property in the metadata).
pub const UNKNOWN_PROPERTY: u32 = 10008;
/// Invalid `priority`.
pub const INVALID_PRIORITY: u32 = 10009;
/// A property appears twice in the configuration.
pub const DUPLICATE_PROPERTY: u32 = 10010;
/// `/v3/profile/keys` called with a key whose scope does not include the
/// `profile` method asked for (v3: "needs a user token"); 403.
pub const KEYS_NEED_USER_TOKEN: u32 = 10012;
/// A key asked to create a key with a scope wider than its own; 403.
pub const KEY_SCOPE_EXCEEDS_CALLER: u32 = 10013;

/// The `metadata` part is not parseable (or a value has the wrong type or length).
pub const METADATA_NOT_PARSEABLE: u32 = 10107;
/// `externalId` is empty.
pub const EXTERNAL_ID_EMPTY: u32 = 10108;
/// `externalId` is too long.
pub const EXTERNAL_ID_TOO_LONG: u32 = 10109;
/// A property appears twice in the metadata.
pub const DUPLICATE_METADATA_FIELD: u32 = 10110;

/// The media file is unreadable or has no audio.
pub const MEDIA_UNREADABLE: u32 = 10201;
/// Neither `media` nor `mediaUrl` (or both) supplied.
pub const MEDIA_MISSING: u32 = 10202;
/// `mediaUrl` could not be reached.
pub const MEDIA_URL_UNREACHABLE: u32 = 10203;
/// `mediaUrl` is malformed or not allowed.
pub const MEDIA_URL_MALFORMED: u32 = 10204;
/// Requested resource not found.
pub const NOT_FOUND: u32 = 10205;
/// More than one part with the same name.
pub const DUPLICATE_PART: u32 = 10206;
/// Fetching `mediaUrl` returned an HTTP error. No longer sent: an HTTP error
/// is answered like any other fetch failure ([`MEDIA_URL_UNREACHABLE`]), so
/// that a `mediaUrl` cannot tell a 404 from a closed port. Kept registered so
/// the number is never reused.
pub const MEDIA_URL_HTTP_ERROR: u32 = 10207;
/// The media lasts longer than the operator's maximum (`--max-media-duration-secs`), as read
/// from its headers before any decoding; the media fails with this code.
pub const MEDIA_TOO_LONG: u32 = 10208;

/// Transcript requested before processing finished.
pub const TRANSCRIPT_NOT_READY: u32 = 10301;

/// The requested language is not supported.
pub const LANGUAGE_NOT_SUPPORTED: u32 = 10401;

/// A known v3 feature sealscribe does not support.
pub const UNSUPPORTED_FEATURE: u32 = 10601;

/// `metrics[].metricGroupName` is not one of the four v3 metric groups (sealscribe's code:
/// v3 documents no code for it).
pub const UNKNOWN_METRIC_GROUP: u32 = 16001;
/// Warning (in the media document's `warnings[]`, never an error): a requested metric group
/// needs features sealscribe does not have (sentiment, voice features); its metrics are all 0.
pub const METRIC_GROUP_NOT_AVAILABLE: u32 = 16002;

/// `categories[]` names a category the account has not defined (sealscribe's code: v3 documents
/// none; define it with `PUT /v3/definition/categories/{name}` first).
pub const CATEGORY_NOT_DEFINED: u32 = 16101;
/// A `categories[]` item that is neither `{"allCategories": true}` nor `{"categoryName": …}`,
/// or both forms in one array (sealscribe's code).
pub const CATEGORY_SELECTION_INVALID: u32 = 16102;

/// Payload too large.
pub const PAYLOAD_TOO_LARGE: u32 = 10800;
/// The request body is larger than the largest upload plus multipart overhead
/// (`--max-upload-bytes` + `--max-request-overhead-bytes`).
pub const REQUEST_BODY_TOO_LARGE: u32 = 10801;
/// Bytes before the first multipart boundary over `--max-multipart-preamble-bytes`
/// (or a body that never contains its declared boundary).
pub const MULTIPART_PREAMBLE_TOO_LARGE: u32 = 10802;
/// A multipart part's header block over `--max-part-header-bytes`.
pub const PART_HEADER_TOO_LARGE: u32 = 10803;
/// More multipart parts than `--max-parts`.
pub const TOO_MANY_PARTS: u32 = 10804;
/// The client sent no body bytes for `--body-idle-timeout-secs` (answered 408).
pub const REQUEST_BODY_TIMEOUT: u32 = 10805;
/// More than `--max-search-terms` terms in a `query`.
pub const TOO_MANY_SEARCH_TERMS: u32 = 10806;
/// A search term longer than `--max-search-term-chars`.
pub const SEARCH_TERM_TOO_LONG: u32 = 10807;
/// `limit` over what `--max-list-bytes` allows for media with metadata.
pub const PAGE_TOO_LARGE: u32 = 10808;

/// `ingest`: give exactly one of `speakerName`, `stereo`, `channels` and `tracks` (and, inside a
/// track, `speakerName` or `channels`, not both; each `trackIndex` once).
pub const INGEST_EXCLUSIVE: u32 = 15000;
/// `ingest.channels` (or `ingest.tracks`, or a track's `channels`) is empty.
pub const INGEST_CHANNELS_EMPTY: u32 = 15001;
/// A channel or track that is not ignored has no `speakerName` (or an empty or unusable one),
/// or a track has no `trackIndex`.
pub const INGEST_SPEAKER_MISSING: u32 = 15002;
/// `ingest.stereo` describes one side only.
pub const INGEST_STEREO_ONE_SIDE: u32 = 15003;
/// The configured channels (or tracks) do not match the media's, as the probe found them
/// (e.g. `stereo` on a mono file); the media fails with this code.
pub const INGEST_CHANNEL_COUNT: u32 = 15004;
/// Every configured channel is ignored.
pub const INGEST_ALL_IGNORED: u32 = 15005;

/// A `vocabularies[]` element with neither `vocabularyName`, `terms` nor `scripts`.
pub const VOCABULARY_ELEMENT_EMPTY: u32 = 20006;
/// A `vocabularies[]` element with more than one of `vocabularyName`, `terms` and `scripts`.
pub const VOCABULARY_ELEMENT_MIXED: u32 = 20007;
/// A `vocabularies[].vocabularyName` that is not saved in the account.
pub const VOCABULARY_NOT_FOUND: u32 = 20008;
/// A saved vocabulary with no terms and no scripts.
pub const VOCABULARY_EMPTY: u32 = 20009;
/// More custom-vocabulary terms in one media's configuration than allowed (1000).
pub const TOO_MANY_VOCABULARY_TERMS: u32 = 20010;
/// More words in a media's vocabulary scripts than allowed.
pub const TOO_MANY_SCRIPT_WORDS: u32 = 20013;
/// An empty or invalid vocabulary term (or `soundsLike` entry) in the configuration.
pub const INVALID_VOCABULARY_TERM: u32 = 20014;
/// A vocabulary term's `weight` that is not an integer from 0 to 5.
pub const INVALID_VOCABULARY_WEIGHT: u32 = 20015;
/// A term given twice across a media's saved and ad hoc vocabularies.
pub const DUPLICATE_VOCABULARY_TERM: u32 = 20017;
/// More vocabulary scripts than allowed.
pub const TOO_MANY_SCRIPTS: u32 = 20101;
/// `spotting.groups[]` names a keyword group the account has not defined (or names none).
pub const SPOTTING_GROUP_NOT_DEFINED: u32 = 40005;
/// `spotting.groups[]` names a keyword group that has no keywords.
pub const SPOTTING_GROUP_EMPTY: u32 = 40006;

/// A detector name or parameter v3 does not know, or a detector id.
pub const INVALID_DETECTOR: u32 = 50001;
/// A detector `redactor` that redacts nothing.
pub const EMPTY_REDACTOR: u32 = 50007;

/// `transcript.contentFiltering.enableProfanityFiltering` on a language other than English
/// (v3: "content filtering not supported for language/region").
pub const CONTENT_FILTERING_LANGUAGE: u32 = 55000;

/// A `PUT /v3/definition/media/search` body that is not `{"fields":[…]}` with each field
/// `extended.<path>`, or that lists a field twice.
pub const INVALID_SEARCHABLE_FIELDS: u32 = 80301;
/// More searchable fields than one account may have.
pub const TOO_MANY_SEARCHABLE_FIELDS: u32 = 80302;
/// An `extendedFilter` on a field the account has not made searchable.
pub const FIELD_NOT_SEARCHABLE: u32 = 80303;

/// A callback without `url`.
pub const CALLBACK_URL_MISSING: u32 = 60001;
/// A callback `url` that is not http(s), or one the server may not call.
pub const CALLBACK_URL_INVALID: u32 = 60002;
/// A bad callback `type`, `format`, `stream` or `include` value.
pub const CALLBACK_INVALID_VALUE: u32 = 60003;
/// A callback `method` other than POST or PUT.
pub const CALLBACK_INVALID_METHOD: u32 = 60011;
/// More callbacks in one configuration than `--max-callbacks-per-media`.
pub const TOO_MANY_CALLBACKS: u32 = 60012;

/// `POST /v3/profile/keys` with an empty body.
pub const KEY_BODY_EMPTY: u32 = 70000;
/// `expirationDate` and `ttlMillis` given together.
pub const KEY_EXPIRY_EXCLUSIVE: u32 = 70001;
/// `expirationDate` is not in the future.
pub const KEY_EXPIRATION_PAST: u32 = 70002;
/// `expirationDate` is further ahead than an ephemeral key may live.
pub const KEY_EXPIRATION_TOO_FAR: u32 = 70003;
/// `ttlMillis` is zero or negative.
pub const KEY_TTL_NOT_POSITIVE: u32 = 70004;
/// `ttlMillis` is longer than an ephemeral key may live.
pub const KEY_TTL_TOO_LONG: u32 = 70005;
/// `ephemeral: true` without `ttlMillis` or `expirationDate`.
pub const KEY_EPHEMERAL_NEEDS_EXPIRY: u32 = 70006;
/// No such key in the caller's account (404).
pub const KEY_NOT_FOUND: u32 = 70007;
/// The `scope` is not in the accepted grammar (docs/api-keys.md).
pub const KEY_SCOPE_INVALID: u32 = 70008;
/// A keyword group body that is missing, empty, not JSON or not a `VbKeywordGroup`.
pub const KEYWORD_GROUP_BODY: u32 = 80100;
/// A keyword group without keywords.
pub const KEYWORD_GROUP_NO_KEYWORDS: u32 = 80101;
/// A keyword group whose `groupName` is not the name in the path (or not a usable name).
pub const KEYWORD_GROUP_NAME: u32 = 80102;
/// A keyword that is not a word or phrase sealscribe can spot (empty, too long, repeated, or
/// one too many).
pub const INVALID_KEYWORD: u32 = 80103;
/// A category definition body that is not a JSON object of the documented fields (sealscribe's
/// code: v3 documents none for categories).
pub const CATEGORY_BODY_INVALID: u32 = 80400;
/// The body's `categoryName` differs from the name in the path.
pub const CATEGORY_NAME_MISMATCH: u32 = 80401;
/// A category name that is empty, too long, or has spaces, `/` or control characters.
pub const CATEGORY_NAME_INVALID: u32 = 80402;
/// A category `query` that is missing or not VBQL as sealscribe accepts it (the message gives
/// the character offset of the error and what was expected there).
pub const CATEGORY_QUERY_INVALID: u32 = 80403;
/// A category field over its limit (`notes`, `tags`, `categoryDescription`, `version`, or the
/// query over `--max-category-query-chars`).
pub const CATEGORY_FIELD_TOO_LONG: u32 = 80404;

/// A saved vocabulary's body is missing or not a vocabulary object.
pub const VOCABULARY_BODY_INVALID: u32 = 80200;
/// A saved vocabulary's `vocabularyName` differs from the name in the path (or the name is
/// unusable).
pub const VOCABULARY_NAME_MISMATCH: u32 = 80202;
/// An invalid term in a saved vocabulary.
pub const VOCABULARY_TERM_INVALID: u32 = 80203;
/// A saved vocabulary with both `terms` and `scripts`.
pub const VOCABULARY_TERMS_AND_SCRIPTS: u32 = 80204;
/// A saved vocabulary with `scripts` but without `vocabularyType: "scripts"` (or `terms`
/// under that type).
pub const VOCABULARY_TYPE_MISMATCH: u32 = 80205;
/// A saved vocabulary with neither `terms` nor `scripts`.
pub const VOCABULARY_WITHOUT_CONTENT: u32 = 80206;
/// An invalid script in a saved vocabulary.
pub const VOCABULARY_SCRIPT_INVALID: u32 = 80207;
/// More terms in a saved vocabulary than allowed (1000).
pub const VOCABULARY_TOO_MANY_TERMS: u32 = 80208;
/// A term given twice in a saved vocabulary.
pub const VOCABULARY_DUPLICATE_TERMS: u32 = 80209;

/// Internal error (details only in the server log, under the reference).
pub const INTERNAL: u32 = 90000;
/// A dependency (database, blob store) is unavailable.
pub const UNAVAILABLE: u32 = 90001;
/// The server is at `--max-connections`; the connection is answered and closed.
pub const SERVER_BUSY: u32 = 90002;
/// Unknown `publicKeyId` (also: missing or not a UUID in the configuration).
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
