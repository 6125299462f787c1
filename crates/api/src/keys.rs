//! `/v3/security/public-keys`: the OpenPGP public keys results are encrypted to.
//!
//! An upload is validated completely (OpenPGP parsing and policy checks in
//! `sealscribe-openpgp`, on the blocking pool) before anything is stored; a
//! rejected upload leaves no trace. Accepted keys are kept byte-for-byte, so
//! `GET …/{id}` returns exactly what was sent.

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sealscribe_domain::{PublicKeyId, PublicKeyRecord, codes};
use sealscribe_openpgp::{KeyError, KeyErrorKind};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::{
    ErrorEnvelope, KeyWarning, PublicKeyDocument, PublicKeyLink, PublicKeyList, SelfLinks,
};
use crate::{ApiError, AppState, Result};

/// Largest accepted key upload. Real public keys are a few KiB; 1 MiB leaves
/// room for keys with many signatures and photo ids.
pub const MAX_KEY_BYTES: usize = 1024 * 1024;

const COLLECTION: &str = "/v3/security/public-keys";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .routes(routes!(download, remove))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

fn href(id: PublicKeyId) -> String {
    format!("{COLLECTION}/{id}")
}

/// `POST /v3/security/public-keys`: the body is the key, armored or binary,
/// whatever the Content-Type (the v3 docs use `application/octet-stream`).
#[utoipa::path(
    post,
    path = "/v3/security/public-keys",
    tag = "public keys",
    operation_id = "uploadPublicKey",
    request_body(
        description = "An OpenPGP public key (certificate), ASCII-armored or binary, at most 1 MiB; any Content-Type.",
        content(
            (Vec<u8> = "application/octet-stream"),
            (Vec<u8> = "application/pgp-keys"),
        ),
    ),
    responses(
        (status = 200, description = "The key was accepted and stored.", body = PublicKeyDocument),
        (status = 400, description = "Not a usable OpenPGP public key and nothing was stored: not OpenPGP (95002), \
            a secret key (95006), expired or revoked (95004), no encryption-capable key, RSA below 2048 bits, \
            several certificates, empty, or over 1 MiB (10800).", body = ErrorEnvelope),
    ),
)]
async fn upload(
    caller: Caller,
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<PublicKeyDocument>> {
    let bytes = read_key_body(body).await?;
    let now = Utc::now();
    let inspected = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || sealscribe_openpgp::inspect(&bytes, now)).await?
    };
    let info = inspected.map_err(key_rejection)?;

    let record = PublicKeyRecord {
        id: PublicKeyId::new(),
        account_id: caller.account,
        fingerprint: info.fingerprint,
        algorithm: info.algorithm,
        bits: info.bits,
        created: info.created,
        expires: info.expires,
        user_ids: info.user_ids,
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes: bytes.to_vec(),
        uploaded_at: now,
    };
    state.db().insert_public_key(&record).await?;
    tracing::info!(public_key_id = %record.id, fingerprint = %record.fingerprint, "public key stored");

    let warnings = info
        .warnings
        .iter()
        .map(|w| KeyWarning {
            code: codes::KEY_EXPIRES_SOON,
            message: w.clone(),
        })
        .collect();
    Ok(Json(PublicKeyDocument {
        links: SelfLinks::to(href(record.id)),
        public_key_id: record.id.0,
        fingerprint: record.fingerprint,
        public_key_hash: record.sha256,
        algorithm: record.algorithm,
        bits: record.bits,
        created: record.created,
        expires: record.expires,
        user_ids: record.user_ids,
        warnings,
    }))
}

/// Reads at most [`MAX_KEY_BYTES`], refusing (not truncating) anything larger.
async fn read_key_body(body: Body) -> Result<Bytes> {
    let bytes = axum::body::to_bytes(body, MAX_KEY_BYTES)
        .await
        .map_err(|e| {
            // Over the server's body cap, or stalled: their own envelopes.
            if let Some(limit) = crate::limits::BodyError::find(&e) {
                return limit.to_api_error();
            }
            ApiError::bad_request(
                codes::PAYLOAD_TOO_LARGE,
                "The key is larger than 1 MiB. An OpenPGP public key is a few KiB: export only the \
             public key with `gpg --armor --export KEYID`.",
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            codes::UNUSABLE_PUBLIC_KEY,
            "The request body is empty: send the OpenPGP public key as the body, e.g. \
             `curl --data-binary @my-public-key.asc` (made with `gpg --armor --export KEYID`).",
        ));
    }
    Ok(bytes)
}

/// The v3 code for a key the OpenPGP policy refused, at upload or at use.
pub(crate) fn key_error_code(kind: KeyErrorKind) -> u32 {
    match kind {
        KeyErrorKind::SecretKey => codes::SECRET_KEY_UPLOADED,
        KeyErrorKind::ExpiredOrRevoked => codes::KEY_EXPIRED_OR_REVOKED,
        _ => codes::UNUSABLE_PUBLIC_KEY,
    }
}

fn key_rejection(e: KeyError) -> ApiError {
    ApiError::bad_request(key_error_code(e.kind()), e.to_string())
}

/// `GET /v3/security/public-keys`: links to the caller's keys, oldest first.
#[utoipa::path(
    get,
    path = "/v3/security/public-keys",
    tag = "public keys",
    operation_id = "listPublicKeys",
    responses((status = 200, description = "Links to the account's keys, oldest first.", body = PublicKeyList)),
)]
async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<PublicKeyList>> {
    let ids = state.db().list_public_keys(caller.account).await?;
    Ok(Json(PublicKeyList {
        links: SelfLinks::to(COLLECTION),
        public_keys: ids
            .into_iter()
            .map(|id| PublicKeyLink {
                links: SelfLinks::to(href(id)),
            })
            .collect(),
    }))
}

fn parse_key_id(id: &str) -> Result<PublicKeyId> {
    id.parse().map_err(|_| key_not_found(id))
}

fn key_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "No public key with id {id:?} exists in this account."
    ))
}

/// `GET /v3/security/public-keys/{id}`: the key exactly as uploaded.
#[utoipa::path(
    get,
    path = "/v3/security/public-keys/{id}",
    tag = "public keys",
    operation_id = "getPublicKey",
    params(("id" = String, Path, description = "The `publicKeyId`.")),
    responses(
        (status = 200, description = "The key, byte-for-byte as uploaded.", content_type = "application/pgp-keys", body = Vec<u8>),
        (status = 404, description = "No such key in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn download(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let key_id = parse_key_id(&id)?;
    let key = state.db().get_public_key(caller.account, key_id).await?;
    let key = key.ok_or_else(|| key_not_found(&id))?;
    Ok(([(header::CONTENT_TYPE, "application/pgp-keys")], key.bytes).into_response())
}

/// `DELETE /v3/security/public-keys/{id}`: media already accepted with this key
/// keep their pinned copy and stay encrypted to it.
#[utoipa::path(
    delete,
    path = "/v3/security/public-keys/{id}",
    tag = "public keys",
    operation_id = "deletePublicKey",
    params(("id" = String, Path, description = "The `publicKeyId`.")),
    responses(
        (status = 204, description = "Deleted; media accepted with it stay encrypted to their pinned copy."),
        (status = 404, description = "No such key in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let key_id = parse_key_id(&id)?;
    if state.db().delete_public_key(caller.account, key_id).await? {
        tracing::info!(public_key_id = %key_id, "public key deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(key_not_found(&id))
    }
}
