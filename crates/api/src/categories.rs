//! `/v3/definition/categories`: an account's categories (analytics reference §4.1), kept in
//! the shared definitions store, and their resolution when a media's configuration selects
//! them (`configuration.categories[]`).
//!
//! A `PUT` is validated completely — the VBQL query parsed, every limit checked — before
//! anything is stored, so a stored category always parses. Names are per account: another
//! account's names answer 404 like names never defined. v3 documents neither the single
//! `GET`/`DELETE` nor the `PUT` answer; they mirror the spotting-group endpoints (200 with the
//! definition, 204, 404).

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealscribe_domain::AccountId;
use sealscribe_domain::categories::{self, CategoryDefinition};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::definitions::DefinitionKind;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::{ErrorEnvelope, SelfLinks};
use crate::{ApiError, AppState, Result};

const COLLECTION: &str = "/v3/definition/categories";

/// Bytes of a `PUT` body besides the query (notes, tags, description, JSON syntax).
const BODY_OVERHEAD_BYTES: usize = 64 << 10;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, put, remove))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

/// A category as `GET` and `PUT` answer it: the definition as stored, with its link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryDocument {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub category_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub category_description: Option<String>,
    /// The VBQL query (grammar: docs/categories.md).
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<String>,
}

/// `GET /v3/definition/categories`.
#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    /// The account's categories, by name.
    pub categories: Vec<CategoryDocument>,
}

fn href(name: &str) -> String {
    format!("{COLLECTION}/{name}")
}

fn document(d: CategoryDefinition) -> CategoryDocument {
    CategoryDocument {
        links: SelfLinks::to(href(&d.category_name)),
        category_name: d.category_name,
        category_description: d.category_description,
        query: d.query,
        notes: d.notes,
        tags: d.tags,
        version: d.version,
    }
}

/// A stored body as a definition (it was validated when saved).
fn stored(name: String, body: serde_json::Value) -> Result<CategoryDefinition> {
    let mut d: CategoryDefinition = serde_json::from_value(body)
        .map_err(|e| ApiError::internal(format!("stored category {name:?}: {e}")))?;
    d.category_name = name;
    Ok(d)
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No category named {name:?} exists in this account: list them with GET {COLLECTION}."
    ))
}

/// `GET`: every category of the account, in full, by name.
#[utoipa::path(
    get,
    path = "/v3/definition/categories",
    tag = "definitions",
    operation_id = "listCategories",
    responses((status = 200, description = "The account's categories, in full, by name.", body = CategoryList)),
)]
async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<CategoryList>> {
    let all = state
        .db()
        .list_definitions(caller.account, DefinitionKind::Category)
        .await?;
    let categories = all
        .into_iter()
        .map(|(name, body)| stored(name, body).map(document))
        .collect::<Result<_>>()?;
    Ok(Json(CategoryList {
        links: SelfLinks::to(COLLECTION),
        categories,
    }))
}

/// `GET …/{categoryName}`.
#[utoipa::path(
    get,
    path = "/v3/definition/categories/{categoryName}",
    tag = "definitions",
    operation_id = "getCategory",
    params(("categoryName" = String, Path, description = "The category's name.")),
    responses(
        (status = 200, description = "The category.", body = CategoryDocument),
        (status = 404, description = "No such category in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<CategoryDocument>> {
    let body = state
        .db()
        .get_definition(caller.account, DefinitionKind::Category, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(document(stored(name, body)?)))
}

/// `PUT …/{categoryName}`: creates or replaces the category. Media already accepted keep the
/// query they were accepted with.
#[utoipa::path(
    put,
    path = "/v3/definition/categories/{categoryName}",
    tag = "definitions",
    operation_id = "putCategory",
    params(("categoryName" = String, Path, description = "The category's name: 1 to 128 characters, no spaces, `/` or control characters.")),
    request_body(content = CategoryDefinition, content_type = "application/json",
        description = "`query` (VBQL, see docs/categories.md) is required; `categoryName`, if given, must equal the path's."),
    responses(
        (status = 200, description = "Created or replaced; the category as stored.", body = CategoryDocument),
        (status = 400, description = "Not a category: body not JSON or unknown fields (80400), `categoryName` differs from \
            the path (80401), invalid name (80402), query missing or not VBQL, with the character offset of the error \
            (80403), a field over its limit (80404).", body = ErrorEnvelope),
    ),
)]
async fn put(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<CategoryDocument>> {
    let max_query = state.limits().max_category_query_chars;
    let cap = BODY_OVERHEAD_BYTES + 4 * max_query;
    let bytes = axum::body::to_bytes(body, cap).await.map_err(|e| {
        if let Some(limit) = crate::limits::BodyError::find(&e) {
            return limit.to_api_error();
        }
        ApiError::bad_request(
            codes::CATEGORY_FIELD_TOO_LONG,
            format!("The category is larger than {cap} bytes; shorten its query, notes or tags."),
        )
    })?;
    let definition = categories::parse_definition(&name, &bytes, max_query)?;
    let body = serde_json::to_value(&definition)?;
    let created = state
        .db()
        .put_definition(caller.account, DefinitionKind::Category, &name, &body)
        .await?;
    tracing::info!(created, "category saved");
    Ok(Json(document(definition)))
}

/// `DELETE …/{categoryName}`.
#[utoipa::path(
    delete,
    path = "/v3/definition/categories/{categoryName}",
    tag = "definitions",
    operation_id = "deleteCategory",
    params(("categoryName" = String, Path, description = "The category's name.")),
    responses(
        (status = 204, description = "Deleted; media already accepted keep the query they were accepted with."),
        (status = 404, description = "No such category in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    if state
        .db()
        .delete_definition(caller.account, DefinitionKind::Category, &name)
        .await?
    {
        tracing::info!("category deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Copies the categories `config` selects from the account's definitions into it (rule of
/// [`sealscribe_domain::categories`]): unknown names are a 400 (16101).
pub(crate) async fn resolve(
    state: &AppState,
    account: AccountId,
    mut config: MediaConfig,
) -> Result<MediaConfig> {
    if let Some(selection) = config.category_selection.take() {
        let defined = state
            .db()
            .list_definitions(account, DefinitionKind::Category)
            .await?;
        config.categories = Some(categories::resolve(&selection, &defined)?);
    }
    Ok(config)
}
