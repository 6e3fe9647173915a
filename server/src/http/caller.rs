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
//!
//! An integration's API key comes in the same header (`Authorization: Bearer fsk_…`, told apart
//! from a session token by its prefix). It reaches only the routes of a scope: those take a
//! [`Scoped`] caller, which accepts the key holding the route's scope or an HQ session. Every
//! other route takes a plain [`Caller`], which refuses API keys with 403.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, UPGRADE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};

use crate::error::Error;
use crate::http::error::ApiError;
use crate::services::accounts::{self, Caller, KeyScope};
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

/// The caller of a request, API keys included: resolved once per request and kept in its
/// extensions.
async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
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
    let caller = if accounts::is_api_key(token) {
        accounts::authenticate_key(state.storage.as_ref(), &state.key_limiter, token).await?
    } else {
        accounts::authenticate(state.storage.as_ref(), token).await?
    };
    parts.extensions.insert(caller.clone());
    Ok(caller)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = resolve(parts, state).await?;
        if let Some(grant) = &caller.key {
            return Err(Error::Forbidden(format!(
                "api key {:?} may only call the routes of its scopes ({}); this one needs a person's session",
                grant.name,
                grant.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
        Ok(caller)
    }
}

/// The scope a [`Scoped`] route needs.
pub trait RouteScope {
    /// The scope.
    const SCOPE: KeyScope;
}

/// Routes that read the event feed.
#[derive(Debug)]
pub struct EventsRead;

impl RouteScope for EventsRead {
    const SCOPE: KeyScope = KeyScope::EventsRead;
}

/// Routes that send import batches.
#[derive(Debug)]
pub struct ImportsWrite;

impl RouteScope for ImportsWrite {
    const SCOPE: KeyScope = KeyScope::ImportsWrite;
}

/// The caller of a route that integrations may call: an API key holding `S::SCOPE`, or an HQ
/// session; anyone else gets 403 naming the scope.
#[derive(Debug)]
pub struct Scoped<S: RouteScope>(pub Caller, pub std::marker::PhantomData<S>);

impl<S: RouteScope + Send + Sync> FromRequestParts<AppState> for Scoped<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = resolve(parts, state).await?;
        caller.require(S::SCOPE)?;
        Ok(Scoped(caller, std::marker::PhantomData))
    }
}
