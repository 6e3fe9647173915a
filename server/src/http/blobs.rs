//! `PUT`, `HEAD`, `GET /v1/blobs/{sha256}`: photo upload (resumable), existence check and
//! download.
//!
//! - `PUT` without `Content-Range` carries the whole photo; with `Content-Range: bytes
//!   START-END/TOTAL` one part of it, where START must equal the bytes the relay holds (else 409
//!   with `Upload-Offset`). Answers: 201 stored (last byte arrived and the photo verified), 202 a
//!   part was kept (`Upload-Offset` says how many bytes are held), 200 already stored, 507
//!   `upload-quota` when beginning it would take the user's unfinished uploads over their quota
//!   (`Config::max_unfinished_upload_bytes`). Unfinished uploads that receive nothing for
//!   `Config::unfinished_upload_ttl` are deleted. A part's body is stored as it arrives: when
//!   the connection drops mid-part, the bytes that arrived are kept (`HEAD` tells how many) and
//!   the next part starts there. A whole-photo `PUT` is read completely before anything is kept.
//! - `HEAD` answers 200 with `Content-Length` for a stored photo, else 404 with `Upload-Offset`:
//!   how many bytes of a partial upload the relay holds (0 if none). Callers who may not upload
//!   learn only about photos they may read.
//! - `GET` (`?thumb=1` for a thumbnail) serves a photo only to callers whose scope holds a
//!   document referencing it that its uploader (or an HQ user) wrote; everyone else gets 404, so
//!   existence is never revealed, and citing a photo's hash in one's own document grants nothing.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::blobs::{self, PartRange, UploadContext, UploadOutcome, UploadRange, may_upload, validate_sha256};
use crate::error::Error;
use crate::http::error::ErrorBody;
use crate::http::error::{ApiError, body_error};
use crate::http::openapi::{Binary, UploadAnswer};
use crate::services::accounts::Caller;
use crate::state::AppState;

/// The header that tells a client where to resume an upload.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");

fn sha_from(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(sha256) =
        path.map_err(|e| Error::bad_request("invalid-id", format!("invalid blob id in the path: {}", e.body_text())))?;
    validate_sha256(&sha256)?;
    Ok(sha256)
}

fn context(state: &AppState) -> UploadContext<'_> {
    UploadContext {
        storage: state.storage.as_ref(),
        folder: &state.blobs,
        metrics: &state.metrics,
        max_bytes: state.config.max_blob_bytes,
        max_unfinished_bytes: state.config.max_unfinished_upload_bytes,
    }
}

fn with_offset(mut response: Response, offset: u64) -> Response {
    response.headers_mut().insert(UPLOAD_OFFSET, HeaderValue::from(offset));
    response
}

/// Uploads a photo or one part of it.
#[utoipa::path(
    put, path = "/v1/blobs/{sha256}", tag = "sync",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "the photo's SHA-256, lowercase hex")),
    request_body(content = Binary, content_type = "image/jpeg", description = "the photo, or one part of it (Content-Range)"),
    responses(
        (status = 200, description = "already stored", body = UploadAnswer),
        (status = 201, description = "stored", body = UploadAnswer),
        (status = 202, description = "part received; Upload-Offset says how far", body = UploadAnswer),
        (status = 400, description = "invalid hash, range or image", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "this role uploads no photos", body = ErrorBody),
        (status = 409, description = "the part must resume elsewhere: see Upload-Offset", body = ErrorBody),
        (status = 413, description = "body above 15 MiB", body = ErrorBody),
        (status = 507, description = "unfinished uploads over the quota", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put_blob(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let sha256 = sha_from(path)?;
    let headers = request.headers().clone();
    let range = match headers.get(header::CONTENT_RANGE) {
        None => UploadRange::Whole,
        Some(value) => blobs::parse_content_range(value.to_str().map_err(|_| {
            Error::bad_request("invalid-range", "invalid Content-Range: not visible ASCII".to_owned())
        })?)?,
    };
    let outcome = match range {
        UploadRange::Whole => {
            let body = Bytes::from_request(request, &state)
                .await
                .map_err(|rejection| body_error(&rejection, &headers, crate::http::BLOB_BODY_LIMIT))?;
            blobs::upload(context(&state), &caller, &sha256, range, &body).await?
        }
        UploadRange::Part { start, end, total } => {
            let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            let body = request.into_body().into_data_stream();
            let range = PartRange { start, end, total };
            blobs::upload_part(context(&state), &caller, &sha256, range, length, body).await?
        }
    };
    if let UploadOutcome::Stored { .. } = outcome {
        crate::services::inspections::scoring::on_photo_stored(
            state.storage.as_ref(),
            &state.jobs,
            caller.tenant_id,
            &sha256,
        )
        .await;
    }
    Ok(match outcome {
        UploadOutcome::AlreadyComplete { size } => {
            (StatusCode::OK, Json(json!({ "sha256": sha256, "size": size, "complete": true }))).into_response()
        }
        UploadOutcome::Stored { size, width, height } => (
            StatusCode::CREATED,
            Json(json!({ "sha256": sha256, "size": size, "width": width, "height": height, "complete": true })),
        )
            .into_response(),
        UploadOutcome::Partial { received, total } => with_offset(
            (
                StatusCode::ACCEPTED,
                Json(json!({ "sha256": sha256, "received": received, "total": total, "complete": false })),
            )
                .into_response(),
            received,
        ),
        UploadOutcome::WrongOffset { held, start } => with_offset(
            ApiError(Error::Conflict(format!(
                "upload of blob {sha256} must resume at byte {held}, not {start}: see Upload-Offset"
            )))
            .into_response(),
            held,
        ),
    })
}

/// Whether the photo is stored, or how much of it is.
#[utoipa::path(
    head, path = "/v1/blobs/{sha256}", tag = "sync",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "the photo's SHA-256, lowercase hex")),
    responses(
        (status = 200, description = "stored; Content-Length is its size"),
        (status = 404, description = "not stored; Upload-Offset says how much of an upload arrived"),
        (status = 400, description = "invalid hash"),
        (status = 401, description = "no valid session"),
    ),
    security(("bearer" = []))
)]
pub async fn head_blob(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let sha256 = sha_from(path)?;
    let tenant_id = caller.tenant_id;
    let complete = blobs::complete_size(context(&state), tenant_id, &sha256).await?;
    let uploader = may_upload(caller.role);
    let size = match complete {
        // A stored photo exists, for a caller, only if a document they may read references it;
        // an uploader who may not read it re-sends it and gets "already stored" from the PUT.
        Some(size) if state.storage.blob_visible(tenant_id, &caller.scope(), &sha256).await? => Some(size),
        _ => None,
    };
    let response = match size {
        Some(size) => {
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            response
        }
        None => {
            let held = if uploader { state.blobs.held(tenant_id, &sha256).await? } else { 0 };
            with_offset(StatusCode::NOT_FOUND.into_response(), held)
        }
    };
    Ok(response)
}

fn wants_thumbnail(query: Option<&str>) -> Result<bool, Error> {
    let mut thumb = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "thumb" {
            thumb = match value {
                "1" | "true" => true,
                "0" | "false" => false,
                other => {
                    return Err(Error::bad_request(
                        "invalid-input",
                        format!("invalid thumb {other:?}: expected 1 or 0"),
                    ));
                }
            };
        }
    }
    Ok(thumb)
}

fn content_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

/// Downloads a photo (or its thumbnail) the caller may read.
#[utoipa::path(
    get, path = "/v1/blobs/{sha256}", tag = "sync",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "the photo's SHA-256, lowercase hex"), ("thumb" = Option<String>, Query, description = "1 for a thumbnail")),
    responses(
        (status = 200, description = "the photo (or its thumbnail)", content_type = "image/jpeg", body = Binary),
        (status = 400, description = "invalid hash or thumb value", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 404, description = "no such photo for the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_blob(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let sha256 = sha_from(path)?;
    let thumb = wants_thumbnail(query.as_deref())?;
    let tenant_id = caller.tenant_id;
    let not_found = || Error::not_found(format!("blob {sha256}"));
    if !state.storage.blob_visible(tenant_id, &caller.scope(), &sha256).await?
        || blobs::complete_size(context(&state), tenant_id, &sha256).await?.is_none()
    {
        return Err(not_found().into());
    }
    let bytes = if thumb {
        state.blobs.thumbnail(tenant_id, &sha256).await?
    } else {
        state.blobs.read(tenant_id, &sha256).await?
    };
    let bytes = bytes.ok_or_else(not_found)?;
    let etag = if thumb { format!("\"{sha256}-thumb\"") } else { format!("\"{sha256}\"") };
    let kind = content_type(&bytes);
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_thumb_query_is_a_flag_and_nonsense_is_refused() {
        assert!(!wants_thumbnail(None).unwrap());
        assert!(wants_thumbnail(Some("thumb=1")).unwrap());
        assert!(wants_thumbnail(Some("x=2&thumb=true")).unwrap());
        assert!(!wants_thumbnail(Some("thumb=0")).unwrap());
        assert!(wants_thumbnail(Some("thumb=yes")).is_err());
    }
}
