//! The imports page (`/dashboard/admin/imports`, HQ only): a CSV file of one of the datasets of
//! `POST /v1/import/{dataset}` is previewed first: every row is checked as the import checks it
//! and nothing is written; a file with a bad line shows each bad line with its number and reason.
//! Only a clean preview offers "Apply", whose form carries a digest of the previewed file under
//! the session's CSRF token, so a file that was not previewed (or changed since) is refused. The
//! page lists the history of runs (who, when, dataset, rows, outcome), running ones too, each
//! linking to its run page.
//!
//! "Apply" starts the import in the background and answers at once with a 303 to the run's page
//! (`/dashboard/admin/imports/runs/{id}`): the import checks every row again and writes all or
//! nothing ([`runs::start_as`], then [`runs::apply_started`] on a task of its own, which keeps the
//! uploaded file until it ends). The run page shows the run's progress while it runs (a
//! `<progress>` bar and what it is doing, refreshed by the frame's script from
//! `/dashboard/admin/imports/runs/{id}/progress` about once a second, or by the page reloading
//! itself every few seconds without script), then what came of it: what was written, the refused
//! lines, the failure, or that it was interrupted.
//!
//! The file travels in the form as text: the page's script reads the chosen file into the form's
//! text area (the CSV can also be pasted), and sends the apply form with a bar of the bytes sent.
//! Files above [`FORM_LIMIT`] go through the API or the command line.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use fieldsync_core::i18n::Message;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::html::secure_headers;
use super::super::session::{Viewer, same_secret};
use super::super::{DashError, Section};
use crate::error::{Error, ImportRefusal};
use crate::format::{count, megabytes};
use crate::imports::runs::{self, RunRequest, RunState};
use crate::imports::{Counted, DATASETS, Dataset, ImportReport};
use crate::locale::Locale;
use crate::services::accounts;
use crate::state::AppState;
use crate::storage::{ImportProgress, ImportRun};

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
    let now = state.clock.now();
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
                        @let run_state = state.import_runs.state_of(run, now);
                        tr data-run=(run.id) data-state=(run_state.as_str()) {
                            td data-label=(t!(lang, "imports-col-when")) { a href=(run_href(run.id)) { (locale.datetime(run.at)) } }
                            td data-label=(t!(lang, "imports-col-who")) { (run.actor) }
                            td data-label=(t!(lang, "imports-col-dataset")) { (run.dataset) }
                            td data-label=(t!(lang, "imports-col-file")) { @if run.file_name.is_empty() { span.muted { "—" } } @else { (run.file_name) } }
                            td.n data-label=(t!(lang, "imports-col-rows")) { (count(run.rows)) }
                            td data-label=(t!(lang, "imports-col-outcome")) { (state_tag(lang, run_state)) }
                            td data-label=(t!(lang, "imports-col-detail")) {
                                @if run_state == RunState::Running {
                                    a href=(run_href(run.id)) { (progress_of(lang, run).2) }
                                } @else {
                                    (run.detail)
                                }
                            }
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
                    // The frame's script sends this form itself, showing the bytes sent in
                    // `data-upload`'s element, then follows the answer to the run's page.
                    form method="post" action="/dashboard/admin/imports/apply" #import-apply-form data-upload="import-upload" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="dataset" value=(form.dataset);
                        input type="hidden" name="file_name" value=(form.file_name);
                        input type="hidden" name="csv" value=(form.csv);
                        input type="hidden" name="digest" value=(digest);
                        button.primary type="submit" #import-apply { (t!(lang, "imports-apply")) }
                        p.upload #import-upload hidden {
                            (t!(lang, "imports-uploading")) " "
                            progress max="1" value="0" {} " "
                            span data-percent {}
                        }
                    }
                }
            }
            Outcome::Refused(refusal) => section #import-preview-result { (refusal_markup(lang, refusal)) },
            Outcome::Error(text) => p.error #admin-error { (text) },
        }
    }
}

/// The bad lines of a refused preview or run: how many, and each kept one with its number and
/// reason.
fn refusal_markup(lang: Language, refusal: &ImportRefusal) -> Markup {
    html! {
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
                            td { (texts::import_line(lang, message)) }
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

/// A run's page.
fn run_href(id: i64) -> String {
    format!("/dashboard/admin/imports/runs/{id}")
}

/// A run's state as a coloured tag, in words of `lang`.
fn state_tag(lang: Language, state: RunState) -> Markup {
    match state {
        RunState::Running => html! { span."tag warn" { (t!(lang, "imports-outcome-running")) } },
        RunState::Interrupted => html! { span."tag bad" { (t!(lang, "imports-outcome-interrupted")) } },
        RunState::Applied => html! { span."tag ok" { (t!(lang, "imports-outcome-applied")) } },
        RunState::Refused => html! { span."tag bad" { (t!(lang, "imports-outcome-refused")) } },
        RunState::Failed => html! { span."tag bad" { (t!(lang, "imports-outcome-failed")) } },
    }
}

/// A run's progress for its bar and its text: the bar's value and maximum (a maximum of 0 when
/// there is nothing to measure yet), and what the run is doing, in `lang`: `checking: 12,000
/// rows, 3.1 of 8.0 MB`, `writing: 40 of 120 documents`.
fn progress_of(lang: Language, run: &ImportRun) -> (i64, i64, String) {
    let progress: &ImportProgress = &run.progress;
    let counted = match run.dataset.parse::<Dataset>().map(Dataset::counted) {
        Ok(Counted::Documents) => "documents",
        Ok(Counted::Products | Counted::Prices) => "catalog",
        Ok(Counted::Rows) | Err(_) => "rows",
    };
    match progress.phase.as_str() {
        runs::WRITING if progress.write_total > 0 => (
            progress.written,
            progress.write_total,
            t!(
                lang,
                "imports-run-writing",
                done = count(progress.written),
                total = count(progress.write_total),
                counted = counted
            ),
        ),
        runs::WRITING => (
            progress.bytes_read,
            progress.bytes_total,
            t!(
                lang,
                "imports-run-writing-bytes",
                read = megabytes(progress.bytes_read),
                total = megabytes(progress.bytes_total)
            ),
        ),
        runs::CHECKING => (
            progress.bytes_read,
            progress.bytes_total,
            t!(
                lang,
                "imports-run-checking",
                rows = count(progress.rows_checked),
                read = megabytes(progress.bytes_read),
                total = megabytes(progress.bytes_total)
            ),
        ),
        _ => (0, 0, t!(lang, "imports-run-starting")),
    }
}

/// What came of an ended run, as the imports page showed it: what was written, the refused
/// lines, the failure, or that it was interrupted. Runs recorded before their counts and lines
/// were kept show their stored text.
fn run_outcome(lang: Language, locale: &Locale, run: &ImportRun, state: RunState) -> Markup {
    let report = run.counts.zip(run.dataset.parse::<Dataset>().ok()).map(|(counts, dataset)| {
        let size = |n: i64| usize::try_from(n).unwrap_or(0);
        ImportReport {
            dataset,
            rows: size(run.rows),
            created: size(counts.created),
            updated: size(counts.updated),
            unchanged: size(counts.unchanged),
        }
    });
    html! {
        @match state {
            RunState::Running => {}
            RunState::Applied => p.notice #import-result {
                @if let Some(report) = &report { (applied(lang, report)) } @else { (run.detail) }
            },
            RunState::Refused => @if let Some(refusal) = &run.refusal {
                (refusal_markup(lang, refusal))
            } @else {
                p.error #import-refused { (run.detail) }
            },
            RunState::Failed => {
                p.error #import-failed { (t!(lang, "imports-run-failed")) }
                p.note { (run.detail) }
            },
            RunState::Interrupted => p.error #import-interrupted {
                (t!(lang, "imports-run-interrupted", at = locale.datetime(run.updated_at)))
            },
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
        other => match texts::refusal(viewer.language, &other) {
            Some(reason) => Outcome::Error(reason),
            None => return Err(other.into()),
        },
    };
    imports_page(state, viewer, form, outcome, StatusCode::BAD_REQUEST).await
}

/// The form, or a refusal that says why it could not be read (a file above [`FORM_LIMIT`] most
/// often), rather than the missing security token an empty form would show.
fn read_form(form: Result<Form<ImportForm>, FormRejection>) -> Result<ImportForm, DashError> {
    form.map(|Form(form)| form).map_err(|rejection| {
        let message = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                Message::new("refusal-import-form-too-large").arg("mib", FORM_LIMIT / (1024 * 1024))
            }
            _ => Message::new("refusal-import-form-unreadable").arg("detail", rejection.body_text()),
        };
        DashError::Relay(Error::invalid("invalid-form", message))
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

/// `POST /dashboard/admin/imports/apply`: starts importing a previewed file in the background
/// and answers at once with a 303 to the run's page.
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
        let error = Error::invalid("not-previewed", Message::new("refusal-import-not-previewed"));
        return refused(&state, &viewer, &form, error).await;
    }
    let file = upload(&state, &form.csv).await?;
    let request = RunRequest { dataset, path: file.path(), file_name: &form.file_name };
    let run = runs::start_as(state.storage.as_ref(), &viewer.caller, request).await?;
    let task = state.clone();
    let user = viewer.caller.username.clone();
    // The import goes on whatever becomes of this request; the upload is removed when it ends.
    tokio::spawn(async move {
        let storage = task.storage.as_ref();
        match runs::apply_started(storage, &task.caches, &task.import_runs, run, file.path()).await {
            Ok(report) => tracing::info!(run = run.id, %user, %report, "import done"),
            Err(Error::InvalidImport(refusal)) => tracing::info!(run = run.id, %user, %refusal, "import refused"),
            Err(error) => tracing::warn!(run = run.id, %user, %error, "import failed"),
        }
        drop(file);
    });
    Ok(Redirect::to(&run_href(run.id)).into_response())
}

/// The run a path names, of the viewer's tenant (HQ only), and its state now; anything but a
/// number is a run that does not exist.
async fn viewer_run(state: &AppState, viewer: &Viewer, id: &str) -> Result<(ImportRun, RunState), DashError> {
    Section::Admin.check(&viewer.caller)?;
    let id: i64 = id.parse().map_err(|_| Error::not_found(format!("import run {id}")))?;
    let run = runs::run_as(state.storage.as_ref(), &state.import_runs, &viewer.caller, id).await?;
    let run_state = state.import_runs.state_of(&run, state.clock.now());
    Ok((run, run_state))
}

/// `GET /dashboard/admin/imports/runs/{id}`: a run of the viewer's tenant (another tenant's is
/// not found): its file, who started it and when, its progress while it runs, what came of it.
pub async fn import_run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    let (run, run_state) = viewer_run(&state, &viewer, &id).await?;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, viewer.caller.tenant_id).await?.with_language(viewer.language);
    let lang = viewer.language;
    let title = t!(lang, "imports-run-title", id = run.id);
    let body = html! {
        h1 { (title) }
        table.facts #import-run data-state=(run_state.as_str()) {
            tr { th { (t!(lang, "imports-col-dataset")) } td { (run.dataset) } }
            tr { th { (t!(lang, "imports-col-file")) } td { @if run.file_name.is_empty() { span.muted { "—" } } @else { (run.file_name) } } }
            tr { th { (t!(lang, "imports-col-who")) } td { (run.actor) } }
            tr { th { (t!(lang, "imports-col-when")) } td { (locale.datetime(run.at)) } }
            tr { th { (t!(lang, "imports-col-outcome")) } td #import-state { (state_tag(lang, run_state)) } }
        }
        @if run_state == RunState::Running {
            @let (value, max, text) = progress_of(lang, &run);
            // The frame's script polls `data-progress-url` and reloads the page when the run ends.
            section #import-running data-progress-url=(format!("{}/progress", run_href(run.id))) {
                p.note { (t!(lang, "imports-run-note")) }
                progress #import-progress max=(max.max(1)) value=[(max > 0).then_some(value)] {}
                p #import-progress-text aria-live="polite" { (text) }
                noscript { meta http-equiv="refresh" content="3"; }
            }
        } @else {
            (run_outcome(lang, &locale, &run, run_state))
        }
        p { a href="/dashboard/admin/imports" #import-back { (t!(lang, "imports-run-back")) } }
    };
    Ok(frame(&viewer, &title, "/dashboard/admin/imports", body))
}

/// Where a run stands, for the run page's script.
#[derive(Debug, Serialize)]
struct RunProgress {
    /// `running`, `interrupted`, `applied`, `refused` or `failed`.
    state: &'static str,
    /// Whether it has ended: the page reloads to show what came of it.
    ended: bool,
    /// The bar's value.
    value: i64,
    /// The bar's maximum (0: nothing to measure yet).
    max: i64,
    /// What it is doing, in the viewer's language.
    text: String,
}

/// `GET /dashboard/admin/imports/runs/{id}/progress`: a run's state and progress as JSON, for its
/// page's script.
pub async fn import_run_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    let (run, run_state) = viewer_run(&state, &viewer, &id).await?;
    let (value, max, text) = progress_of(viewer.language, &run);
    let progress = RunProgress { state: run_state.as_str(), ended: run_state.ended(), value, max, text };
    let mut response = Json(progress).into_response();
    secure_headers(&mut response, "default-src 'none'; frame-ancestors 'none'");
    Ok(response)
}
