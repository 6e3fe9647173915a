//! Login and logout of the dashboard: the form, the double-submit CSRF check, the session cookie.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::{ExtensionRejection, FormRejection};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;

use serde::Deserialize;

use super::super::DashError;
use super::super::html::{Markup, html, page};
use super::super::session::{self, Viewer};
use super::super::texts::t;
use crate::services::accounts::{self, LoginRequest};
use crate::state::AppState;
use fieldsync_core::i18n::Language;

// Login and logout

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Double-submit token (equal to the login CSRF cookie).
    pub csrf: String,
}

/// The sign-in form in `lang`, with `error` above it and the company and username typed before.
/// The form comes back in the same language (`?lang=`).
fn login_body(lang: Language, token: &str, error: Option<&str>, tenant: &str, username: &str) -> Markup {
    html! {
        form.login method="post" action={ "/dashboard/login?lang=" (lang.tag()) } {
            h1 { (t!(lang, "login-sign-in")) }
            @if let Some(error) = error {
                p.error #login-error { (error) }
            }
            p.note { (t!(lang, "login-note")) }
            input type="hidden" name="csrf" value=(token);
            label for="tenant" { (t!(lang, "login-company")) }
            input #tenant name="tenant" value=(tenant) required autocomplete="organization";
            label for="username" { (t!(lang, "login-username")) }
            input #username name="username" value=(username) required autocomplete="username";
            label for="password" { (t!(lang, "login-password")) }
            input #password name="password" type="password" required autocomplete="current-password";
            p { button.primary type="submit" #sign-in { (t!(lang, "login-sign-in")) } }
        }
    }
}

fn login_page(secure: bool, status: StatusCode, error: Option<&str>, tenant: &str, username: &str) -> Response {
    let token = session::random_token();
    let lang = session::page_language();
    let body = login_body(lang, &token, error, tenant, username);
    let mut response = page(lang, &t!(lang, "login-sign-in"), &[], "", None, body);
    *response.status_mut() = status;
    if let Ok(cookie) = HeaderValue::from_str(&session::login_csrf_cookie(&token, secure)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /dashboard/login`: the form (or the overview, for a logged-in user).
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session::session_token(&headers)
        && accounts::authenticate(state.storage.as_ref(), token).await.is_ok_and(|c| c.role != Role::Rep)
    {
        return Redirect::to("/").into_response();
    }
    login_page(state.config.behind_https, StatusCode::OK, None, "", "")
}

/// `POST /dashboard/login`: checks the double-submit token and the credentials, refuses reps,
/// and sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    connect: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, DashError> {
    let lang = session::page_language();
    let Ok(Form(form)) = form else {
        return Ok(login_page(
            state.config.behind_https,
            StatusCode::BAD_REQUEST,
            Some(&t!(lang, "login-incomplete")),
            "",
            "",
        ));
    };
    let cookie = session::cookie(&headers, session::LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie.is_empty() || !session::same_secret(cookie, &form.csrf) {
        return Ok(login_page(
            state.config.behind_https,
            StatusCode::FORBIDDEN,
            Some(&t!(lang, "login-expired")),
            &form.tenant,
            &form.username,
        ));
    }
    let request = LoginRequest {
        tenant: form.tenant.trim().to_owned(),
        username: form.username.trim().to_owned(),
        password: form.password,
        device_name: session::DEVICE_NAME.to_owned(),
    };
    let peer = connect.ok().map(|ConnectInfo(address)| address);
    let client = crate::http::client_address::client_address(peer, &headers, &state.config.trusted_proxies);
    let result = accounts::login(state.storage.as_ref(), &state.login_limiter, &state.config, &request, client).await;
    state.metrics.login(result.is_ok());
    let answer = match result {
        Ok(answer) => answer,
        Err(crate::Error::BadCredentials) => {
            return Ok(login_page(
                state.config.behind_https,
                StatusCode::UNAUTHORIZED,
                Some(&t!(lang, "login-wrong")),
                &request.tenant,
                &request.username,
            ));
        }
        Err(crate::Error::RateLimited { retry_after_secs }) => {
            return Ok(login_page(
                state.config.behind_https,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&t!(lang, "login-rate-limited", seconds = retry_after_secs)),
                &request.tenant,
                &request.username,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    if answer.role == Role::Rep.as_str() {
        // A rep's session has no use here: end it at once.
        accounts::logout(state.storage.as_ref(), &answer.token).await?;
        return Err(DashError::Forbidden(t!(lang, "error-rep")));
    }
    let max_age = answer.expires_at.saturating_sub(now_ms()) / 1000;
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    if let Ok(value) =
        HeaderValue::from_str(&session::session_cookie(&answer.token, max_age, state.config.behind_https))
    {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    pub csrf: String,
}

/// `POST /dashboard/logout`: revokes the session (CSRF-checked) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, DashError> {
    viewer.check_form(&form.map(|Form(f)| f.csrf).unwrap_or_default())?;
    if let Some(token) = session::session_token(&headers) {
        accounts::logout(state.storage.as_ref(), token).await?;
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::clear_session_cookie(state.config.behind_https)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
