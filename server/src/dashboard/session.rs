//! Dashboard sessions: the relay's own bearer token kept in an `HttpOnly`, `SameSite=Strict`
//! cookie, and the CSRF tokens that every form carries.
//!
//! - A login goes through [`crate::services::accounts::login`] like a phone's, so the session is an ordinary
//!   relay session: it expires, can be revoked, and shows up as a device named
//!   [`DEVICE_NAME`].
//! - Forms of a logged-in user carry a CSRF token derived from the session token (SHA-256 under
//!   a fixed label): an attacker who cannot read the `HttpOnly` cookie cannot compute it, and the
//!   relay keeps no extra state. `SameSite=Strict` is the second fence.
//! - The login form, before any session exists, uses a double-submit token: a random value in a
//!   short-lived cookie and the same value in the form.
//! - The language of the pages is resolved once per request: the viewer's setting, their
//!   tenant's, the browser's `Accept-Language`, English ([`Viewer::language`]); before a session
//!   exists, a `?lang=` link or `Accept-Language` ([`browser_language`]).

use std::cell::Cell;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldsync_core::i18n::Language;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::DashError;
use super::texts::t;
use crate::services::accounts::Caller;
use crate::state::AppState;

/// The cookie that holds the session token.
pub const SESSION_COOKIE: &str = "fieldsync_session";
/// The cookie that holds the login form's double-submit token.
pub const LOGIN_CSRF_COOKIE: &str = "fieldsync_login_csrf";
/// The device name a dashboard login registers.
pub const DEVICE_NAME: &str = "HQ dashboard (browser)";

/// The value of cookie `name` in a request, if present (parsed by the `cookie` crate that
/// `axum-extra` re-exports; malformed pairs are skipped).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .and_then(|cookie| cookie.value_raw())
        .filter(|value| !value.is_empty())
}

/// The session token of a dashboard request, from its cookie.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The CSRF token of a session: SHA-256 of a label and the session token, base64url.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::new().chain_update(b"fieldsync dashboard csrf\0").chain_update(session_token).finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// Compares two secrets in time independent of where they differ (`subtle`; only the length
/// may show, and the secrets compared here have a fixed length).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A fresh random token (login CSRF, CSP nonces).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

/// A dashboard cookie: `HttpOnly`, `SameSite=Strict`, and `Secure` when browsers reach the relay
/// over HTTPS ([`crate::config::Config::behind_https`]), so the cookie never travels in clear.
fn dashboard_cookie(name: &'static str, value: &str, path: &'static str, max_age_secs: i64, secure: bool) -> String {
    Cookie::build((name, value.to_owned()))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs.max(0)))
        .build()
        .to_string()
}

/// `Set-Cookie` value for a session that lasts `max_age_secs`.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    dashboard_cookie(SESSION_COOKIE, token, "/", max_age_secs, secure)
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    dashboard_cookie(SESSION_COOKIE, "", "/", 0, secure)
}

/// `Set-Cookie` value for the login form's double-submit token (ten minutes).
pub fn login_csrf_cookie(token: &str, secure: bool) -> String {
    dashboard_cookie(LOGIN_CSRF_COOKIE, token, "/dashboard/login", 600, secure)
}

/// A logged-in dashboard user: HQ, a manager or a supervisor. Reps are refused (they use phones).
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Who is logged in, resolved like any bearer token.
    pub caller: Caller,
    /// The CSRF token their forms carry.
    pub csrf: String,
    /// The language their pages read in: their setting, their tenant's, their browser's, English.
    pub language: Language,
}

impl Viewer {
    /// Checks a form's CSRF token against the session's: a missing or wrong one is refused
    /// (403) before the form does anything.
    pub fn check_form(&self, csrf: &str) -> Result<(), DashError> {
        check_token(csrf, &self.csrf)
    }
}

/// Refuses (403) a form whose token is missing or is not `expected`.
pub fn check_token(sent: &str, expected: &str) -> Result<(), DashError> {
    if sent.is_empty() || !same_secret(sent, expected) {
        return Err(DashError::Forbidden(t!(page_language(), "error-csrf")));
    }
    Ok(())
}

tokio::task_local! {
    /// The language of the request being answered, for what is rendered without a [`Viewer`] at
    /// hand (an error page): the browser's until the viewer's own is known.
    static PAGE_LANGUAGE: Cell<Language>;
}

/// The language to answer a request in before (or without) a session: a `lang=` query
/// parameter (the login page's language links), then `Accept-Language`, then English.
pub fn browser_language(headers: &HeaderMap, query: Option<&str>) -> Language {
    let asked = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Language::from_tag);
    asked
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Language::from_accept_language)
        })
        .unwrap_or_default()
}

/// Middleware of the dashboard's routes: answers the request with its [`browser_language`] known
/// to [`page_language`], which a [`Viewer`] then refines to the viewer's own.
pub async fn with_page_language(request: Request, next: Next) -> Response {
    let language = browser_language(request.headers(), request.uri().query());
    PAGE_LANGUAGE.scope(Cell::new(language), next.run(request)).await
}

/// The language of the request being answered (English outside a dashboard request).
pub fn page_language() -> Language {
    PAGE_LANGUAGE.try_with(Cell::get).unwrap_or_default()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = DashError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers).ok_or(DashError::LoginRequired)?;
        let caller = match crate::services::accounts::authenticate(state.storage.as_ref(), token).await {
            Ok(caller) => caller,
            Err(crate::Error::Unauthenticated(_)) => return Err(DashError::LoginRequired),
            Err(other) => return Err(other.into()),
        };
        let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
        let language = crate::services::accounts::viewer_language(state.storage.as_ref(), &caller, accept).await?;
        // Ignored outside the middleware's scope (a handler called directly in a test).
        let _ = PAGE_LANGUAGE.try_with(|current| current.set(language));
        if caller.role == fieldsync_core::Role::Rep {
            return Err(DashError::Forbidden(t!(language, "error-rep")));
        }
        Ok(Viewer { csrf: csrf_token(token), caller, language })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; fieldsync_session_x=2; fieldsync_session=tok"));
        assert_eq!(session_token(&headers), Some("tok"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn before_a_session_the_lang_link_wins_over_accept_language() {
        let mut headers = HeaderMap::new();
        assert_eq!(browser_language(&headers, None), Language::English);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9"));
        assert_eq!(browser_language(&headers, None), Language::Chinese);
        assert_eq!(browser_language(&headers, Some("x=1&lang=en")), Language::English);
        // A language that is not spoken is no choice: the browser's applies.
        assert_eq!(browser_language(&headers, Some("lang=fr")), Language::Chinese);
        assert_eq!(page_language(), Language::English);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_compare_exactly() {
        let (a, b) = (csrf_token("one"), csrf_token("two"));
        assert_ne!(a, b);
        assert!(same_secret(&a, &csrf_token("one")));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, ""));
    }

    #[test]
    fn dashboard_cookies_are_http_only_strict_and_secure_behind_https() {
        let cookie = session_cookie("tok", 3600, true);
        for part in ["fieldsync_session=tok", "HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=3600"] {
            assert!(cookie.contains(part), "{part} missing from {cookie}");
        }
        assert!(!session_cookie("tok", 3600, false).contains("Secure"));
        let cleared = clear_session_cookie(false);
        assert!(cleared.starts_with("fieldsync_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
        let login = login_csrf_cookie("x", false);
        assert!(login.contains("Path=/dashboard/login") && login.contains("Max-Age=600"), "{login}");
    }
}
