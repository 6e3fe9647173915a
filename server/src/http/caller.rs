//! Who is calling, at the HTTP edge: the [`Caller`] extractor reads `Authorization: Bearer
//! <token>`, resolves it through the accounts service ([`accounts::authenticate`]) and refuses
//! the request with a 401 JSON error naming the reason when the token is missing, malformed,
//! unknown, expired or revoked. `GET` and `HEAD` requests without the header may present the HQ
//! dashboard's session cookie instead ([`crate::dashboard::session`]), so its pages can show
//! photos; those routes only read.
//!
//! A cookie alone never changes anything: every other method needs the header, and so does a
//! WebSocket upgrade (an ordinary `GET` that opens the live channel, which admits pushes): a page
//! on another site could otherwise open it with the browser's cookie. The dashboard's own live
//! updates are a read-only event stream ([`crate::dashboard::live`]).

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, UPGRADE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};

use crate::error::Error;
use crate::http::error::ApiError;
use crate::services::accounts::{self, Caller};
use crate::state::AppState;

/// The bearer token of a request: `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Error> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| Error::Unauthenticated("missing bearer token: send Authorization: Bearer <token>".into()))?;
    let value = value
        .to_str()
        .map_err(|_| Error::Unauthenticated("malformed Authorization header: not visible ASCII".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(Error::Unauthenticated("malformed Authorization header: expected Bearer <token>".into())),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // A handler may extract the caller twice (or a middleware before it): resolve once.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        // Reads (photos in the HQ dashboard) may also present the dashboard's session cookie;
        // writes always need the header, so a cookie alone can never change anything.
        let upgrading = parts.headers.contains_key(UPGRADE);
        let reading = (parts.method == Method::GET || parts.method == Method::HEAD) && !upgrading;
        let token = match (bearer_token(&parts.headers), crate::dashboard::session::session_token(&parts.headers)) {
            (Ok(token), _) => token,
            (Err(_), Some(token)) if reading => token,
            (Err(_), Some(_)) if upgrading => {
                return Err(Error::Unauthenticated(
                    "the live channel needs Authorization: Bearer <token>; the dashboard session cookie cannot open it"
                        .into(),
                )
                .into());
            }
            (Err(error), _) => return Err(error.into()),
        };
        let caller = accounts::authenticate(state.storage.as_ref(), token).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
