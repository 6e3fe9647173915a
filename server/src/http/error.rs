//! The one place where relay errors become HTTP responses: `{"error": {"code", "message"}}` with
//! the right status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, RefusalKind};

/// The relay's one error shape: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code (`unauthenticated`, `forbidden`, `not-found`, `invalid-import`, …).
    pub code: String,
    /// What is wrong, in English, naming the value.
    pub message: String,
}

/// An error as an HTTP response. Handlers return `Result<_, ApiError>` and use `?`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl ApiError {
    /// The status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match &self.0 {
            Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            // Its own code: the phone erases its local data on it (docs/protocol.md).
            Error::Revoked(_) => (StatusCode::UNAUTHORIZED, "revoked"),
            Error::BadCredentials => (StatusCode::UNAUTHORIZED, "bad-credentials"),
            Error::RateLimited { .. } | Error::KeyRateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found"),
            Error::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            // The same status and code as the variants above said before refusals were messages.
            Error::Refused(refusal) => match refusal.kind {
                RefusalKind::Invalid => (StatusCode::BAD_REQUEST, refusal.code),
                RefusalKind::Conflict => (StatusCode::CONFLICT, "conflict"),
                RefusalKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            },
            Error::InvalidImport(_) => (StatusCode::BAD_REQUEST, "invalid-import"),
            Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            // 507, as WebDAV answers a quota: a 5xx tells the phone to try again later, which
            // succeeds once earlier uploads finish or expire.
            Error::UploadQuota { .. } => (StatusCode::INSUFFICIENT_STORAGE, "upload-quota"),
            Error::Delivery(_) => (StatusCode::BAD_GATEWAY, "delivery-failed"),
            Error::Core(fieldsync_core::Error::InvalidId { .. }) => (StatusCode::BAD_REQUEST, "invalid-id"),
            Error::Core(fieldsync_core::Error::InvalidInput { .. }) => (StatusCode::BAD_REQUEST, "invalid-input"),
            Error::Core(fieldsync_core::Error::Photo(_)) => (StatusCode::BAD_REQUEST, "invalid-image"),
            Error::Core(fieldsync_core::Error::NotFound { .. }) => (StatusCode::NOT_FOUND, "not-found"),
            Error::CorruptDocument { .. }
            | Error::Storage(_)
            | Error::Io(_)
            | Error::Core(_)
            | Error::JobTimedOut { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self.0, "request failed");
            "internal error".to_owned()
        } else {
            self.0.to_string()
        };
        let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
        let mut response = (status, Json(body)).into_response();
        if let Error::RateLimited { retry_after_secs } | Error::KeyRateLimited { retry_after_secs, .. } = self.0
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A body that could not be read, as a relay error: too large (413, naming the limit) or
/// unreadable (400).
pub fn body_error(
    rejection: &axum::extract::rejection::BytesRejection,
    headers: &axum::http::HeaderMap,
    limit: usize,
) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let size =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
        Error::TooLarge { size, limit: limit as u64 }
    } else {
        Error::bad_request("unreadable-body", format!("cannot read the request body: {}", rejection.body_text()))
    }
}
