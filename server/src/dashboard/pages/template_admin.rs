//! The checklist templates admin pages (HQ only): `/dashboard/admin/templates` lists the
//! tenant's templates; `/dashboard/admin/templates/new` and `/dashboard/admin/templates/{id}`
//! create and edit one through [`templates::create_template_as`] and
//! [`templates::edit_template_as`]. The items are one per line, `weight | photo | question`
//! (`photo` when the item needs one, empty otherwise). Forms are CSRF-checked; a refused form is
//! shown again with what was typed and the reason, and changes nothing.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::Template;
use maud::html;
use serde::Deserialize;

use super::super::html::url_param;
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::error::Error;
use crate::services::templates::{self, ItemForm, TemplateForm};
use crate::state::AppState;

use super::*;

/// Largest template form, in bytes (100 items of 300 characters, percent-encoded).
pub const TEMPLATE_FORM_LIMIT: usize = 256 * 1024;

/// `GET /dashboard/admin/templates`.
pub async fn admin_templates(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    template_list(&state, &viewer, None, StatusCode::OK).await
}

async fn template_list(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let list = templates::list_as(state.storage.as_ref(), &viewer.caller).await?;
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "templates-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #admin-error { (text) },
            }
        }
        p { a.button href="/dashboard/admin/templates/new" #template-new { (t!(lang, "templates-new")) } }
        table #template-list {
            thead { tr {
                th { (t!(lang, "templates-col-name")) } th.n { (t!(lang, "templates-col-items")) }
                th.n { (t!(lang, "templates-col-version")) }
            } }
            tbody {
                @if list.is_empty() { tr { td.muted colspan="3" { (t!(lang, "templates-none")) } } }
                @for (id, template) in &list {
                    tr data-id=(id.as_str()) {
                        td { a href=(format!("/dashboard/admin/templates/{}", url_param(id.as_str()))) { (template.name) } }
                        td.n { (template.items.len()) }
                        td.n { (template.version) }
                    }
                }
            }
        }
    };
    let mut response = frame(viewer, &t!(lang, "templates-title"), "/dashboard/admin/templates", body);
    *response.status_mut() = status;
    Ok(response)
}

/// The template form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct TemplateFields {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The items, one per line: `weight | photo | question`.
    #[serde(default)]
    pub items: String,
}

impl TemplateFields {
    /// The template these fields describe; a line that does not read is refused, naming it.
    pub fn form(&self) -> crate::error::Result<TemplateForm> {
        let mut items = Vec::new();
        for (n, line) in self.items.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
            let refused = |reason: &str| {
                let message =
                    Message::new("refusal-item-line").arg("line", n + 1).arg("text", format!("{:?}", line.trim()));
                Error::invalid("invalid-input", message.part("reason", Message::new(reason)))
            };
            let mut parts = line.splitn(3, '|').map(str::trim);
            let (Some(weight), Some(photo), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(refused("refusal-item-line-parts"));
            };
            let weight = weight.parse::<f64>().map_err(|_| refused("refusal-item-line-weight"))?;
            let requires_photo = match photo {
                "photo" => true,
                "" => false,
                _ => return Err(refused("refusal-item-line-photo")),
            };
            items.push(ItemForm { text: text.to_owned(), weight, requires_photo });
        }
        Ok(TemplateForm { name: self.name.clone(), items })
    }

    fn of(template: &Template) -> TemplateFields {
        let lines: Vec<String> = template
            .items_in_order()
            .into_iter()
            .map(|(_, item)| {
                format!("{} | {} | {}", item.weight, if item.requires_photo { "photo" } else { "" }, item.text)
            })
            .collect();
        TemplateFields { csrf: String::new(), name: template.name.clone(), items: lines.join("\n") }
    }
}

async fn template_form_page(
    viewer: &Viewer,
    id: Option<&str>,
    fields: &TemplateFields,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let lang = viewer.language;
    let (title, action) = match id {
        Some(id) => (t!(lang, "templates-edit"), format!("/dashboard/admin/templates/{}", url_param(id))),
        None => (t!(lang, "templates-new"), "/dashboard/admin/templates".to_owned()),
    };
    let body = html! {
        h1 { (title) }
        @if let Some(error) = &error { p.error #admin-error { (error) } }
        form.admin method="post" action=(action) #template-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label { (t!(lang, "templates-name")) input #template-name type="text" name="name" value=(fields.name) required; }
            label.wide { (t!(lang, "templates-items"))
                textarea #template-items name="items" rows="10" spellcheck="false"
                    placeholder=(t!(lang, "templates-items-placeholder")) { (fields.items) }
            }
            button.primary type="submit" #template-save { @if id.is_some() { (t!(lang, "templates-save")) } @else { (t!(lang, "templates-create")) } }
            " " a href="/dashboard/admin/templates" { (t!(lang, "templates-cancel")) }
        }
        p.note { (t!(lang, "templates-note")) }
    };
    let mut response = frame(viewer, &title, "/dashboard/admin/templates", body);
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /dashboard/admin/templates/new`.
pub async fn new_template(viewer: Viewer) -> Result<Response, DashError> {
    template_form_page(&viewer, None, &TemplateFields::default(), None, StatusCode::OK).await
}

/// `GET /dashboard/admin/templates/{id}`.
pub async fn edit_template(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let doc_id: DocumentId = id.parse().map_err(|_| Error::not_found(format!("template {id}")))?;
    let template = templates::template_as(state.storage.as_ref(), &viewer.caller, &doc_id).await?;
    template_form_page(&viewer, Some(&id), &TemplateFields::of(&template), None, StatusCode::OK).await
}

/// `POST /dashboard/admin/templates`: creates a template.
pub async fn create_template(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<TemplateFields>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let fields = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&fields.csrf)?;
    let outcome = match fields.form() {
        Ok(form) => templates::create_template_as(state.storage.as_ref(), &viewer.caller, &form).await.map(|_| form),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(form) => {
            let done = t!(viewer.language, "templates-done-created", name = form.name.trim(), count = form.items.len());
            template_list(&state, &viewer, Some(Notice::Done(done)), StatusCode::CREATED).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => template_form_page(&viewer, None, &fields, Some(reason), StatusCode::BAD_REQUEST).await,
            None => Err(error.into()),
        },
    }
}

/// `POST /dashboard/admin/templates/{id}`: saves a template.
pub async fn save_template(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<TemplateFields>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let fields = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&fields.csrf)?;
    let doc_id: DocumentId = id.parse().map_err(|_| Error::not_found(format!("template {id}")))?;
    let outcome = match fields.form() {
        Ok(form) => templates::edit_template_as(state.storage.as_ref(), &viewer.caller, &doc_id, &form)
            .await
            .map(|changed| (changed, form)),
        Err(error) => Err(error),
    };
    match outcome {
        Ok((changed, form)) => {
            let done = if changed {
                t!(viewer.language, "templates-done-saved", name = form.name.trim())
            } else {
                t!(viewer.language, "templates-done-unchanged", name = form.name.trim())
            };
            template_list(&state, &viewer, Some(Notice::Done(done)), StatusCode::OK).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                template_form_page(&viewer, Some(&id), &fields, Some(reason), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}
