//! `GET /v3/openapi.json`: the OpenAPI 3.1 document of this API, generated
//! from the code.
//!
//! Every route is registered through utoipa-axum's `routes!`, which takes the
//! path and methods from the handler's `#[utoipa::path]` annotation: a route
//! cannot be added without its documentation (and `tests::no_undocumented_routes`
//! fails on any plain `.route(` call). Response bodies this crate builds are
//! typed (see [`crate::schemas`]); the ones built as JSON elsewhere are described
//! there and checked against real responses by `scripts/contract.sh`.
//!
//! The document is committed as `docs/openapi.json`; `tests::snapshot` fails
//! when it is stale and `SEALSCRIBE_UPDATE_OPENAPI=1 cargo test -p
//! sealscribe-api openapi` rewrites it.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder, content::ContentBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::schemas;

const SECURITY_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sealscribe",
        description = "A self-hosted, VoiceBase v3 compatible speech-analytics API with Client \
            Supplied Encryption. Every `/v3` call takes `Authorization: Bearer <token>` (tokens \
            come from `sealscribe accounts create` / `tokens create`). Errors always use the v3 \
            envelope (`ErrorEnvelope`).",
    ),
    tags(
        (name = "public keys", description = "Customers' OpenPGP public keys, for Client Supplied Encryption."),
        (name = "callbacks", description = "The secret callbacks are signed with."),
        (name = "definitions", description = "An account's saved definitions: categories (VBQL queries)."),
        (name = "api keys", description = "The account's API keys: scoped, optionally expiring bearer tokens (docs/api-keys.md)."),
        (name = "media", description = "Upload, processing, documents, transcripts, streams, search."),
        (name = "definitions", description = "An account's definitions: searchable extended-metadata fields; the built-in prediction models."),
        (name = "operations", description = "Health and this document."),
    ),
    // Types used only in parameters are not collected from the handlers: list them here.
    components(schemas(schemas::ErrorEnvelope, schemas::AlternateFormatName)),
)]
struct ApiDoc;

/// The routes of this module: the document itself.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The `/v3/openapi.json` route, to merge into the application.
pub fn router() -> axum::Router<AppState> {
    routes().into()
}

/// Every documented route of the application, with the OpenAPI document.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::keys::routes())
        .merge(crate::categories::routes())
        .merge(crate::signing::routes())
        .merge(crate::profile_keys::routes())
        .merge(crate::media::routes())
        .merge(crate::search_definitions::routes())
        .merge(crate::health::routes())
        .merge(routes())
}

/// The OpenAPI document of the whole API.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = documented().split_for_parts();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SECURITY_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An account token from `sealscribe accounts create NAME` or `sealscribe tokens create ACCOUNT` \
                     (scope `user`), or an API key from `POST /v3/profile/keys` (scoped, see docs/api-keys.md).",
                ))
                .build(),
        ),
    );
    for (name, description) in COMMON_ERRORS {
        let body = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
            .build();
        components.responses.insert(
            (*name).to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(*description)
                    .content("application/json", body)
                    .build(),
            ),
        );
    }
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        SECURITY_SCHEME,
        Vec::<String>::new(),
    )]);
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in operations(item) {
            add_common_errors(path, op);
        }
    }
    doc
}

/// Reusable error responses, referenced from every authenticated operation.
const COMMON_ERRORS: &[(&str, &str)] = &[
    (
        "Unauthorized",
        "Missing token (10002) or invalid/revoked token (10003). `WWW-Authenticate: Bearer`.",
    ),
    (
        "Forbidden",
        "The token's scope does not allow this method on this resource (10006; 10012 on \
         `/v3/profile/keys`). See docs/api-keys.md.",
    ),
    (
        "InternalError",
        "Internal error (90000); the cause is logged with the `reference`.",
    ),
    (
        "Unavailable",
        "The database or the blob store is unavailable (90001); retry shortly.",
    ),
];

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Every authenticated operation can answer 401, and any operation that
/// reaches storage 500 / 503.
fn add_common_errors(path: &str, op: &mut Operation) {
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(is_empty_requirement));
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, name: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    if !public {
        add("401", "Unauthorized");
        add("403", "Forbidden");
    }
    if path != "/v3/openapi.json" {
        add("500", "InternalError");
        if path != "/health" {
            add("503", "Unavailable");
        }
    }
}

fn is_empty_requirement(r: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// The document as served and committed: pretty-printed, newline-terminated.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// `GET /v3/openapi.json`: the OpenAPI 3.1 document of this API.
///
/// Served **without authentication**: it describes the public API surface,
/// the same as `docs/openapi.json` in the repository, and holds nothing of any
/// account. Clients and contract testers fetch it before they have a token.
#[utoipa::path(
    get,
    path = "/v3/openapi.json",
    tag = "operations",
    operation_id = "getOpenApi",
    security(()),
    responses(
        (status = 200, description = "This document.", content_type = "application/json", body = Object),
    ),
)]
async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(document_json);
    ([(header::CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

#[cfg(test)]
mod tests;
