//! The language picker's form (`POST /dashboard/language`): stores the viewer's language and
//! goes back to the page it was sent from.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::DashError;
use super::super::session::Viewer;
use crate::services::accounts;
use crate::state::AppState;

/// The language picker's fields.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    /// The session's CSRF token.
    pub csrf: String,
    /// The chosen language's tag (`en`, `zh-CN`).
    pub language: String,
}

/// `POST /dashboard/language`: checks the CSRF token, stores the viewer's language (a tag that
/// is not spoken is refused with 400 and changes nothing) and goes back to the page the form was
/// on (the overview when that is unknown).
pub async fn set_language(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<LanguageForm>, FormRejection>,
) -> Result<Response, DashError> {
    let Ok(Form(form)) = form else {
        viewer.check_form("")?;
        return Err(crate::Error::bad_request("invalid-input", "the language form was incomplete").into());
    };
    viewer.check_form(&form.csrf)?;
    // A tag that is not spoken is the refusal page, said in the viewer's (unchanged) language.
    accounts::set_own_language(state.storage.as_ref(), &viewer.caller, &form.language).await?;
    Ok(Redirect::to(&back_to(&headers)).into_response())
}

/// The path (and query) of the dashboard page a form was sent from, from its `Referer`: only a
/// path on this relay (`/…`, never `//host`), else the overview.
fn back_to(headers: &HeaderMap) -> String {
    let referer = headers.get(header::REFERER).and_then(|value| value.to_str().ok()).unwrap_or("");
    let path = match referer.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => "/",
    };
    let on_dashboard = path == "/" || path.starts_with("/dashboard/") || path.starts_with("/stores");
    if on_dashboard && !path.starts_with("//") && !path.starts_with("/dashboard/language") {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_picker_goes_back_to_the_dashboard_page_it_was_on_and_nowhere_else() {
        let back = |referer: &str| {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(referer) {
                headers.insert(header::REFERER, value);
            }
            back_to(&headers)
        };
        assert_eq!(back("https://relay.example/dashboard/orders?status=approved"), "/dashboard/orders?status=approved");
        assert_eq!(back("http://127.0.0.1:8080/"), "/");
        assert_eq!(back("https://relay.example//evil.example/x"), "/");
        assert_eq!(back("https://relay.example/v1/orders"), "/");
        assert_eq!(back("https://relay.example"), "/");
        assert_eq!(back(""), "/");
    }
}
