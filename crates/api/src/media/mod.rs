//! `/v3/media`: upload, the media document, transcripts, progress, streams,
//! metadata, listing and search, deletion, reprocessing and alignment.
//!
//! - [`multipart`]: the multipart/form-data reader, linear and capped before
//!   it buffers anything.
//! - `encrypting`: the customer's ciphertext of an upload (`original-encrypted`), made
//!   on the blocking pool while the upload streams in.
//! - `intake`: reading multipart requests (small parts, the media part sealed
//!   while it streams), shared by `upload` and `update`.
//! - `upload`: `POST /v3/media`.
//! - `read`: the media document, progress, transcripts, streams, metadata.
//! - `list`: listing and search.
//! - `update`: metadata, deletion, reprocessing and alignment.

mod encrypting;
mod intake;
mod list;
pub mod multipart;
mod read;
mod update;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use sealscribe_domain::MediaId;
use sealscribe_domain::media::MediaRecord;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

pub use multipart::MultipartLimits;

use crate::auth::Caller;
use crate::{ApiError, AppState, Result};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Uploads stream to the blob store; their size is checked as they arrive.
        .routes(body_limit(
            routes!(list::list, upload::upload),
            DefaultBodyLimit::disable(),
        ))
        .routes(body_limit(
            routes!(read::document, update::reprocess, update::delete),
            DefaultBodyLimit::max(16 * 1024 * 1024),
        ))
        .routes(routes!(read::progress))
        .routes(routes!(read::transcript))
        .routes(routes!(read::transcript_as))
        .routes(routes!(read::streams))
        .routes(routes!(read::stream))
        .routes(routes!(read::metadata, update::put_metadata))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

fn body_limit(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
    limit: DefaultBodyLimit,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(limit))
}

/// The `{id}` path parameter of every media route.
pub(crate) const ID_DESCRIPTION: &str = "The `mediaId`.";

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No media with id {id:?} exists in this account."))
}

/// Loads the caller's media item; anything else (including a malformed id or
/// another account's media) is the same 404.
async fn load(state: &AppState, caller: &Caller, id: &str) -> Result<MediaRecord> {
    let media_id: MediaId = id.parse().map_err(|_| not_found(id))?;
    state
        .db()
        .get_media(caller.account, media_id)
        .await?
        .ok_or_else(|| not_found(id))
}
