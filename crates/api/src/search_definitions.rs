//! The read-only and search `/v3/definition/*` operations: the account's searchable
//! extended-metadata fields (`/v3/definition/media/search`, GET and PUT) and the prediction
//! models (`/v3/definition/prediction/detectors[/{id}]`, `…/classifiers[/{id}]`).
//!
//! The searchable fields are stored per account as a saved definition
//! (`DefinitionKind::SearchableFields`); their validation and what is indexed for them
//! live in [`sealscribe_domain::extended`]. Replacing them prunes the values of dropped
//! fields from the account's index, so a field made searchable again later finds only media
//! indexed after that, as v3 documents for a newly searchable field.
//!
//! The detectors are sealscribe's built-in `PCI`, `SSN` and `Number`
//! ([`DetectorName`]), the same for every account; sealscribe has no classifiers.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealscribe_domain::codes;
use sealscribe_domain::detectors::DetectorName;
use sealscribe_domain::extended::{SearchableFields, parse_fields};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::ErrorEnvelope;
use crate::{ApiError, AppState, Result};

/// Largest `PUT /v3/definition/media/search` body: 100 fields of 128 characters fit many
/// times over.
const MAX_FIELDS_BODY: usize = 64 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_searchable, put_searchable))
        .routes(routes!(list_detectors))
        .routes(routes!(get_detector))
        .routes(routes!(list_classifiers))
        .routes(routes!(get_classifier))
}

pub fn router() -> axum::Router<AppState> {
    routes().into()
}

/// v3 `VbSearchableFields`.
#[derive(Serialize, ToSchema)]
pub struct SearchableFieldsDocument {
    /// `extended.<path>` fields whose values `extendedFilter` can select by.
    #[schema(example = json!(["extended.customerId"]))]
    pub fields: Vec<String>,
}

/// v3 `VbClass`: one class a model reports.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelClass {
    pub class_label: String,
    pub class_value: i32,
}

/// v3 `VbParameterDefinition`: a parameter a model takes in a configuration.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDefinition {
    pub name: String,
    pub optional: bool,
    /// `String`, `Integer`, `Float` or `Boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The accepted values, when there are finitely many.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub value_set: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

/// v3 `VbDetectorModel`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetectorModel {
    /// Fixed for ever; usable as `prediction.detectors[].detectorId`.
    pub detector_id: String,
    /// `PCI`, `SSN` or `Number`; usable as `prediction.detectors[].detectorName`.
    pub detector_name: String,
    /// The sealscribe version (the detectors change with it; `version` in a configuration
    /// is accepted and not compared).
    pub detector_version: String,
    pub detector_description: String,
    /// Always `binary`: only positive cases are reported.
    pub detector_type: String,
    pub classes: Vec<ModelClass>,
    pub parameters: Vec<ParameterDefinition>,
}

/// v3 `VbDetectorModelsResponse`.
#[derive(Serialize, ToSchema)]
pub struct DetectorList {
    pub detectors: Vec<DetectorModel>,
}

/// v3 `VbClassifierModel` (sealscribe has none; described for v3 clients).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassifierModel {
    pub classifier_id: String,
    pub classifier_name: String,
    pub classifier_version: String,
    pub classifier_description: String,
    /// `binary` or `multiclass`.
    pub classifier_type: String,
    pub classes: Vec<ModelClass>,
    pub parameters: Vec<ParameterDefinition>,
}

/// v3 `VbClassifierModelsResponse`: always empty.
#[derive(Serialize, ToSchema)]
pub struct ClassifierList {
    pub classifiers: Vec<ClassifierModel>,
}

/// `GET /v3/definition/media/search`.
#[utoipa::path(
    get,
    path = "/v3/definition/media/search",
    tag = "definitions",
    operation_id = "getSearchableFields",
    responses(
        (status = 200, description = "The account's searchable extended-metadata fields (none until set).", body = SearchableFieldsDocument),
    ),
)]
async fn get_searchable(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<SearchableFieldsDocument>> {
    let fields = sealscribe_store::searchable_fields(state.db(), caller.account).await?;
    Ok(Json(SearchableFieldsDocument { fields }))
}

/// `PUT /v3/definition/media/search`: replaces the account's searchable fields.
#[utoipa::path(
    put,
    path = "/v3/definition/media/search",
    tag = "definitions",
    operation_id = "setSearchableFields",
    request_body(description = "`{\"fields\":[\"extended.customerId\"]}`: every field `extended.` and a dot-separated path of \
        letters, digits, `_` and `-` (at most 128 characters), each once, at most 100. Replaces the list: media processed, or \
        whose metadata is replaced, from now on are indexed for these fields; values of fields left out are dropped from the index.",
        content = SearchableFieldsDocument, content_type = "application/json"),
    responses(
        (status = 200, description = "The searchable fields now.", body = SearchableFieldsDocument),
        (status = 400, description = "Not `{\"fields\":[…]}`, a field not `extended.<path>` or listed twice (80301), \
            or more than 100 fields (80302).", body = ErrorEnvelope),
        (status = 413, description = "A body over 64 KiB (10800).", body = ErrorEnvelope),
    ),
)]
async fn put_searchable(
    caller: Caller,
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<SearchableFieldsDocument>> {
    let bytes = axum::body::to_bytes(body, MAX_FIELDS_BODY)
        .await
        .map_err(|e| {
            if let Some(limit) = crate::limits::BodyError::find(&e) {
                return limit.to_api_error();
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The searchable fields are larger than 64 KiB.",
            )
        })?;
    let SearchableFields { fields } = parse_fields(&bytes)?;
    state
        .db()
        .set_searchable_fields(caller.account, &fields)
        .await?;
    Ok(Json(SearchableFieldsDocument { fields }))
}

fn detector_model(d: DetectorName) -> DetectorModel {
    let parameters = match d {
        DetectorName::Pci => vec![ParameterDefinition {
            name: "detectionLevel".into(),
            optional: true,
            kind: "String".into(),
            value_set: ["entireRegion", "probableNumbers", "numbersOnly"]
                .map(String::from)
                .to_vec(),
            default_value: Some("entireRegion".into()),
        }],
        DetectorName::Ssn | DetectorName::Number => Vec::new(),
    };
    DetectorModel {
        detector_id: d.id().into(),
        detector_name: d.as_str().into(),
        detector_version: env!("CARGO_PKG_VERSION").into(),
        detector_description: d.description().into(),
        detector_type: "binary".into(),
        classes: vec![ModelClass {
            class_label: d.label().into(),
            class_value: d.class(),
        }],
        parameters,
    }
}

/// `GET /v3/definition/prediction/detectors`.
#[utoipa::path(
    get,
    path = "/v3/definition/prediction/detectors",
    tag = "definitions",
    operation_id = "getDetectors",
    responses(
        (status = 200, description = "The built-in detectors: PCI, SSN and Number.", body = DetectorList),
    ),
)]
async fn list_detectors(_caller: Caller) -> Json<DetectorList> {
    Json(DetectorList {
        detectors: DetectorName::ALL.into_iter().map(detector_model).collect(),
    })
}

/// `GET /v3/definition/prediction/detectors/{detectorId}`.
#[utoipa::path(
    get,
    path = "/v3/definition/prediction/detectors/{detectorId}",
    tag = "definitions",
    operation_id = "getDetector",
    params(("detectorId" = String, Path, description = "The detector's `detectorId` (or, as a convenience, its name: `PCI`, `SSN`, `Number`; case-insensitive).")),
    responses(
        (status = 200, description = "The detector.", body = DetectorModel),
        (status = 404, description = "No such detector (10205).", body = ErrorEnvelope),
    ),
)]
async fn get_detector(_caller: Caller, Path(id): Path<String>) -> Result<Json<DetectorModel>> {
    DetectorName::from_id(&id)
        .or_else(|| {
            DetectorName::ALL
                .into_iter()
                .find(|d| d.as_str().eq_ignore_ascii_case(&id))
        })
        .map(|d| Json(detector_model(d)))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No detector {id:?}; GET /v3/definition/prediction/detectors lists PCI, SSN and Number."
            ))
        })
}

/// `GET /v3/definition/prediction/classifiers`.
#[utoipa::path(
    get,
    path = "/v3/definition/prediction/classifiers",
    tag = "definitions",
    operation_id = "getClassifiers",
    responses(
        (status = 200, description = "Always empty: sealscribe has no classifiers.", body = ClassifierList),
    ),
)]
async fn list_classifiers(_caller: Caller) -> Json<ClassifierList> {
    Json(ClassifierList {
        classifiers: Vec::new(),
    })
}

/// `GET /v3/definition/prediction/classifiers/{classifierId}`.
#[utoipa::path(
    get,
    path = "/v3/definition/prediction/classifiers/{classifierId}",
    tag = "definitions",
    operation_id = "getClassifier",
    params(("classifierId" = String, Path, description = "A classifier id.")),
    responses(
        (status = 404, description = "Always: sealscribe has no classifiers (10205).", body = ErrorEnvelope),
    ),
)]
async fn get_classifier(_caller: Caller, Path(id): Path<String>) -> Result<Json<ClassifierModel>> {
    Err(ApiError::not_found(format!(
        "No classifier {id:?}: sealscribe has no classifiers (GET /v3/definition/prediction/classifiers \
         lists none)."
    )))
}
