//! The imports page (`/dashboard/admin/imports`, HQ only): a CSV file of one of the datasets of
//! `POST /v1/import/{dataset}` is previewed first: every row is checked as the import checks it
//! and nothing is written; a file with a bad line shows each bad line with its number and reason.
//! Only a clean preview offers "Apply", whose form carries a digest of the previewed file under
//! the session's CSRF token, so a file that was not previewed (or changed since) is refused. The
//! import itself checks every row again and writes all or nothing ([`runs::apply_as`]); the page
//! shows what it did and the history of runs (who, when, dataset, rows, outcome).
//!
//! The file travels in the form as text: the page's script reads the chosen file into the form's
//! text area (the CSV can also be pasted). Files above [`FORM_LIMIT`] go through the API or the
//! command line.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::super::session::{Viewer, same_secret};
use super::super::{DashError, Section};
use crate::error::{Error, ImportRefusal};
use crate::imports::runs::{self, RunRequest};
use crate::imports::{Counted, DATASETS, Dataset, ImportReport};
use crate::services::accounts;
use crate::state::AppState;

use super::*;

/// Largest form the imports page takes (the CSV text and the fields), in bytes.
pub const FORM_LIMIT: usize = 8 * 1024 * 1024;

/// The imports page's forms.
#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The dataset.
    #[serde(default)]
    pub dataset: String,
    /// The chosen file's name.
    #[serde(default)]
    pub file_name: String,
    /// The CSV text.
    #[serde(default)]
    pub csv: String,
    /// The preview's digest (apply only).
    #[serde(default)]
    pub digest: String,
}

/// What the page shows above the form.
enum Outcome {
    /// Nothing yet.
    None,
    /// A clean preview: the rows, and the digest that lets the file be applied.
    Clean(ImportReport, String),
    /// A preview or an import with bad lines: nothing was written.
    Refused(ImportRefusal),
    /// A refusal that is not about lines (unknown dataset, changed file).
    Error(String),
    /// An applied import.
    Applied(ImportReport),
}

/// The digest an apply form carries: SHA-256 of the session's CSRF token, the dataset and the
/// file, so only a file previewed in this session is applied.
fn digest(csrf: &str, dataset: &str, csv: &str) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(csrf)
            .chain_update([0])
            .chain_update(dataset)
            .chain_update([0])
            .chain_update(csv)
            .finalize(),
    )
}

/// `GET /dashboard/admin/imports`.
pub async fn admin_imports(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    imports_page(&state, &viewer, &ImportForm::default(), Outcome::None, StatusCode::OK).await
}

async fn imports_page(
    state: &AppState,
    viewer: &Viewer,
    form: &ImportForm,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, viewer.caller.tenant_id).await?.with_language(viewer.language);
    let history = runs::history_as(storage, &viewer.caller).await?;
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "imports-title")) }
        (outcome_markup(viewer, form, &outcome))
        form.admin method="post" action="/dashboard/admin/imports/preview" #import-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label { (t!(lang, "imports-dataset")) select name="dataset" id="import-dataset" {
                @for dataset in DATASETS {
                    option value=(dataset.as_str()) selected[form.dataset == dataset.as_str()] { (dataset.as_str()) }
                }
            } }
            label { (t!(lang, "imports-file")) input type="file" id="import-file" accept=".csv,text/csv" data-into="import-csv" data-name="import-file-name"; }
            input type="hidden" name="file_name" id="import-file-name" value=(form.file_name);
            label.wide { (t!(lang, "imports-paste"))
                textarea name="csv" id="import-csv" rows="8" spellcheck="false" { (form.csv) }
            }
            p.note { (t!(lang, "imports-note")) }
            button.primary type="submit" #import-preview { (t!(lang, "imports-preview")) }
        }
        h2 { (t!(lang, "imports-history")) }
        div.scroll {
            table.stack #import-history {
                thead { tr {
                    th { (t!(lang, "imports-col-when")) } th { (t!(lang, "imports-col-who")) }
                    th { (t!(lang, "imports-col-dataset")) } th { (t!(lang, "imports-col-file")) }
                    th.n { (t!(lang, "imports-col-rows")) } th { (t!(lang, "imports-col-outcome")) }
                    th { (t!(lang, "imports-col-detail")) }
                } }
                tbody {
                    @if history.is_empty() { tr { td colspan="7" .muted { (t!(lang, "imports-none")) } } }
                    @for run in &history {
                        tr {
                            td data-label=(t!(lang, "imports-col-when")) { (locale.datetime(run.at)) }
                            td data-label=(t!(lang, "imports-col-who")) { (run.actor) }
                            td data-label=(t!(lang, "imports-col-dataset")) { (run.dataset) }
                            td data-label=(t!(lang, "imports-col-file")) { @if run.file_name.is_empty() { span.muted { "—" } } @else { (run.file_name) } }
                            td.n data-label=(t!(lang, "imports-col-rows")) { (run.rows) }
                            td data-label=(t!(lang, "imports-col-outcome")) {
                                @match run.outcome.as_str() {
                                    "applied" => span."tag ok" { (t!(lang, "imports-outcome-applied")) },
                                    "refused" => span."tag bad" { (t!(lang, "imports-outcome-refused")) },
                                    "failed" => span."tag bad" { (t!(lang, "imports-outcome-failed")) },
                                    other => span."tag bad" { (other) },
                                }
                            }
                            td data-label=(t!(lang, "imports-col-detail")) { (run.detail) }
                        }
                    }
                }
            }
        }
    };
    let mut response = frame(viewer, &t!(lang, "imports-title"), "/dashboard/admin/imports", body);
    *response.status_mut() = status;
    Ok(response)
}

/// A refused line's reason without the `line N: ` its message starts with (the table shows the
/// line in its own column).
fn reason(line: usize, message: &str) -> &str {
    message.strip_prefix(&format!("line {line}: ")).unwrap_or(message)
}

/// An applied import's report in the viewer's language (the run history keeps the English
/// [`ImportReport`] text).
fn applied(lang: Language, report: &ImportReport) -> String {
    let counted = match report.dataset.counted() {
        Counted::Documents => "documents",
        Counted::Products => "products",
        Counted::Prices => "prices",
        Counted::Rows => "rows",
    };
    t!(
        lang,
        "imports-done",
        rows = report.rows,
        dataset = report.dataset.as_str(),
        created = report.created,
        counted = counted,
        updated = report.updated,
        unchanged = report.unchanged,
    )
}

fn outcome_markup(viewer: &Viewer, form: &ImportForm, outcome: &Outcome) -> Markup {
    let lang = viewer.language;
    html! {
        @match outcome {
            Outcome::None => {}
            Outcome::Clean(report, digest) => {
                section #import-preview-result {
                    p.notice #import-clean {
                        (t!(lang, "imports-clean", rows = report.rows, dataset = report.dataset.as_str()))
                    }
                    form method="post" action="/dashboard/admin/imports/apply" #import-apply-form {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="dataset" value=(form.dataset);
                        input type="hidden" name="file_name" value=(form.file_name);
                        input type="hidden" name="csv" value=(form.csv);
                        input type="hidden" name="digest" value=(digest);
                        button.primary type="submit" #import-apply { (t!(lang, "imports-apply")) }
                    }
                }
            }
            Outcome::Refused(refusal) => {
                section #import-preview-result {
                    p.error #import-refused {
                        (t!(lang, "imports-refused", count = refusal.count))
                    }
                    div.scroll {
                        table #import-errors {
                            thead { tr { th.n { (t!(lang, "imports-col-line")) } th { (t!(lang, "imports-col-reason")) } } }
                            tbody {
                                @for (line, message) in &refusal.lines {
                                    tr data-line=(line) {
                                        td.n { @if *line == 0 { (t!(lang, "imports-line-file")) } @else { (line) } }
                                        td { (reason(*line, message)) }
                                    }
                                }
                            }
                        }
                    }
                    @if refusal.count > refusal.lines.len() {
                        p.note { (t!(lang, "imports-more", count = refusal.count - refusal.lines.len())) }
                    }
                }
            }
            Outcome::Error(text) => p.error #admin-error { (text) },
            Outcome::Applied(report) => p.notice #import-result { (applied(lang, report)) },
        }
    }
}

/// Writes the form's CSV text to a temporary file in the upload folder (removed when dropped).
async fn upload(state: &AppState, csv: &str) -> Result<tempfile::NamedTempFile, Error> {
    let dir = crate::http::imports::upload_dir(state);
    tokio::fs::create_dir_all(&dir).await?;
    let file = tempfile::Builder::new().prefix("dashboard-").suffix(".csv").tempfile_in(&dir)?;
    tokio::fs::write(file.path(), csv.as_bytes()).await?;
    Ok(file)
}

/// The refusals a person can act on are shown on the page; anything else is an error page.
async fn refused(state: &AppState, viewer: &Viewer, form: &ImportForm, error: Error) -> Result<Response, DashError> {
    let outcome = match error {
        Error::InvalidImport(refusal) => Outcome::Refused(refusal),
        Error::BadRequest { reason, .. } | Error::Conflict(reason) => Outcome::Error(reason),
        other => return Err(other.into()),
    };
    imports_page(state, viewer, form, outcome, StatusCode::BAD_REQUEST).await
}

/// The form, or a refusal that says why it could not be read (a file above [`FORM_LIMIT`] most
/// often), rather than the missing security token an empty form would show.
fn read_form(form: Result<Form<ImportForm>, FormRejection>) -> Result<ImportForm, DashError> {
    form.map(|Form(form)| form).map_err(|rejection| {
        let reason = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => format!(
                "the file is larger than the page takes ({} MiB): import it through the API or the command line",
                FORM_LIMIT / (1024 * 1024)
            ),
            _ => format!("the form could not be read: {}", rejection.body_text()),
        };
        DashError::Relay(Error::bad_request("invalid-form", reason))
    })
}

/// `POST /dashboard/admin/imports/preview`: checks the file and writes nothing.
pub async fn preview_import(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<ImportForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let form = read_form(form)?;
    viewer.check_form(&form.csrf)?;
    let dataset: Dataset = match form.dataset.parse() {
        Ok(dataset) => dataset,
        Err(error) => return refused(&state, &viewer, &form, error).await,
    };
    let file = upload(&state, &form.csv).await?;
    let request = RunRequest { dataset, path: file.path(), file_name: &form.file_name };
    match runs::preview_as(state.storage.as_ref(), &state.caches, &viewer.caller, request).await {
        Ok(report) => {
            let digest = digest(&viewer.csrf, dataset.as_str(), &form.csv);
            imports_page(&state, &viewer, &form, Outcome::Clean(report, digest), StatusCode::OK).await
        }
        Err(error) => refused(&state, &viewer, &form, error).await,
    }
}

/// `POST /dashboard/admin/imports/apply`: imports a previewed file and records the run.
pub async fn apply_import(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<ImportForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let form = read_form(form)?;
    viewer.check_form(&form.csrf)?;
    let dataset: Dataset = match form.dataset.parse() {
        Ok(dataset) => dataset,
        Err(error) => return refused(&state, &viewer, &form, error).await,
    };
    if !same_secret(&form.digest, &digest(&viewer.csrf, dataset.as_str(), &form.csv)) {
        let error =
            Error::bad_request("not-previewed", "this file was not previewed (or changed since): preview it first");
        return refused(&state, &viewer, &form, error).await;
    }
    let file = upload(&state, &form.csv).await?;
    let request = RunRequest { dataset, path: file.path(), file_name: &form.file_name };
    match runs::apply_as(state.storage.as_ref(), &state.caches, &state.import_runs, &viewer.caller, request).await {
        Ok(report) => {
            let blank = ImportForm { dataset: form.dataset.clone(), ..ImportForm::default() };
            imports_page(&state, &viewer, &blank, Outcome::Applied(report), StatusCode::OK).await
        }
        Err(error) => refused(&state, &viewer, &form, error).await,
    }
}
