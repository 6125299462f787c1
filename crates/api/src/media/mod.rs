//! `/v3/media`: upload, the media document, transcripts, progress, streams,
//! metadata, listing and search, deletion, reprocessing and alignment.

mod list;
mod read;
mod update;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use sealscribe_domain::MediaId;
use sealscribe_domain::media::MediaRecord;

use crate::auth::Caller;
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v3/media",
            // Uploads stream to the blob store; their size is checked as they arrive.
            get(list::list)
                .post(upload::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v3/media/{id}",
            get(read::document)
                .post(update::reprocess)
                .delete(update::delete)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/v3/media/{id}/progress", get(read::progress))
        .route("/v3/media/{id}/transcript", get(read::transcript))
        .route(
            "/v3/media/{id}/transcript/{format}",
            get(read::transcript_as),
        )
        .route("/v3/media/{id}/streams", get(read::streams))
        .route("/v3/media/{id}/streams/{name}", get(read::stream))
        .route(
            "/v3/media/{id}/metadata",
            get(read::metadata).put(update::put_metadata),
        )
}

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
