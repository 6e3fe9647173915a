//! One inspection's page: photos, answers, the score breakdown, and for the supervisor's manager
//! or HQ a form per photo to review (accept or reject with a reason) that calls the inspections
//! service ([`crate::services::inspections::review`]) as
//! `POST /v1/inspections/{id}/photos/{sha256}/review` does.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldsync_core::doc::{AnswerValue, Inspection, InspectionScore, Template, Trust};
use serde::Deserialize;

use super::super::html::{Markup, html};
use super::super::records::{GpsPrecision, Names, gps_precision, load_one, show_fix};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::locale::Locale;
use crate::services::inspections::review::{self, PhotoDecision};
use crate::state::AppState;
use crate::storage::PhotoReviewRecord;

use super::*;

fn answer_text(lang: Language, value: AnswerValue) -> (&'static str, String) {
    match value {
        AnswerValue::Yes => ("ok", t!(lang, "inspection-answer-yes")),
        AnswerValue::No => ("bad", t!(lang, "inspection-answer-no")),
        AnswerValue::NotApplicable => ("", t!(lang, "inspection-answer-na")),
    }
}

fn trust_tag(lang: Language, trust: Trust) -> (&'static str, String) {
    match trust {
        Trust::Pass => ("ok", texts::trust(lang, "pass")),
        Trust::Review => ("warn", texts::trust(lang, "review")),
        Trust::Rejected => ("bad", texts::trust(lang, "rejected")),
    }
}

/// `GET /dashboard/inspections/{id}`: photos, answers, the score breakdown.
pub async fn inspection(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    inspection_page(&state, &viewer, &id, None, StatusCode::OK).await
}

/// The photo review form.
#[derive(Debug, Default, Deserialize)]
pub struct PhotoReviewForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `accepted` or `rejected`.
    #[serde(default)]
    pub decision: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// `POST /dashboard/inspections/{id}/photos/{sha256}/review`: accepts or rejects a photo to
/// review; the page shows the new score, or why the decision was refused.
pub async fn review_photo(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, sha256)): Path<(String, String)>,
    form: Result<Form<PhotoReviewForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let decided = PhotoDecision { inspection_id: &id, sha256: &sha256, decision: &form.decision, reason: &form.reason };
    let outcome =
        review::review_photo(state.storage.as_ref(), &state.blobs, &viewer.caller, decided, state.clock.now()).await;
    let short = sha256.get(..12).unwrap_or(&sha256);
    let lang = viewer.language;
    match outcome {
        Ok(score) => {
            let decision = match form.decision.trim() {
                "accepted" => t!(lang, "inspection-review-accepted"),
                _ => t!(lang, "inspection-review-rejected"),
            };
            let score = format!("{:.1}", score.score);
            let done = t!(lang, "inspection-review-done", photo = short, decision = decision, score = score);
            inspection_page(&state, &viewer, &id, Some(Notice::Done(done)), StatusCode::OK).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                inspection_page(&state, &viewer, &id, Some(Notice::Error(reason)), refusal_status(&error)).await
            }
            None => Err(error.into()),
        },
    }
}

async fn inspection_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id)
        .await?
        .with_language(viewer.language);
    let record = load_one::<Inspection>(state, &viewer.caller, id).await?;
    let names = Names::load(state, &viewer.caller).await?;
    let template: Option<Template> = match record.value.template_id.parse() {
        Ok(template_id) => {
            crate::documents::read(state.storage.as_ref(), viewer.caller.tenant_id, &template_id).await.ok()
        }
        Err(_) => None,
    };
    let score_id =
        crate::services::inspections::find_score(state.storage.as_ref(), viewer.caller.tenant_id, &record.id).await?.id;
    let score = match load_one::<InspectionScore>(state, &viewer.caller, score_id.as_str()).await {
        Ok(score) => Some(score),
        Err(crate::Error::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let reviews = state.storage.photo_reviews(viewer.caller.tenant_id, record.id.as_str()).await?;
    let view = InspectionView {
        inspection: &record.value,
        template: template.as_ref(),
        score: score.as_ref().map(|score| &score.value),
        precision: gps_precision(&viewer.caller, &record.value.owner),
        names: &names,
        locale: &locale,
        reviews: &reviews,
        review_form: review::may_review(viewer.caller.role).then(|| (viewer.csrf.as_str(), record.id.as_str())),
    };
    let body = html! {
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #review-error { (text) },
            }
        }
        (inspection_body(&view))
    };
    let mut response = frame(viewer, &t!(viewer.language, "inspection-title"), "/dashboard/inspections", body);
    *response.status_mut() = status;
    Ok(response)
}

/// Everything one inspection's page shows, loaded and checked by [`inspection`].
pub struct InspectionView<'a> {
    /// The inspection.
    pub inspection: &'a Inspection,
    /// Its checklist, when it can be read.
    pub template: Option<&'a Template>,
    /// Its score, once the relay scored it.
    pub score: Option<&'a InspectionScore>,
    /// How precisely the viewer may see where it happened.
    pub precision: GpsPrecision,
    /// User and store names.
    pub names: &'a Names,
    /// The tenant's time zone and currency.
    pub locale: &'a Locale,
    /// People's decisions on its photos.
    pub reviews: &'a [PhotoReviewRecord],
    /// For a viewer who may review photos: the session's CSRF token and the inspection's id.
    pub review_form: Option<(&'a str, &'a str)>,
}

impl InspectionView<'_> {
    /// A checklist item's question, or its id when the template does not have it.
    fn item_text(&self, item: &str) -> String {
        self.template.and_then(|t| t.item(item)).map_or_else(|| item.to_owned(), |i| i.text.clone())
    }
}

/// The body of one inspection's page: visit, photos, answers, the score breakdown.
pub fn inspection_body(view: &InspectionView<'_>) -> Markup {
    let (v, locale, precision) = (view.inspection, view.locale, view.precision);
    let mut photos: Vec<_> = v.photos.values().collect();
    photos.sort_by_key(|p| p.captured_at);
    let mut order: Vec<String> =
        view.template.map(|t| t.items_in_order().into_iter().map(|(id, _)| id.clone()).collect()).unwrap_or_default();
    order.extend(v.answers.keys().filter(|k| !order.contains(k)).cloned().collect::<Vec<_>>());
    let lang = locale.language();
    html! {
        h1 { (t!(lang, "inspection-heading", store = view.names.store(&v.store_id))) }
        p {
            (t!(lang, "inspection-supervisor")) " " b { (view.names.user(&v.owner)) }
            " · " span.tag data-status=(v.status.as_str()) { (texts::inspection_status(lang, v.status.as_str())) }
            " · " (t!(lang, "inspection-template")) " "
            @match view.template { Some(template) => (template.name), None => (t!(lang, "inspection-template-unknown")) }
        }
        p {
            (t!(lang, "inspection-check-in", at = locale.datetime(v.check_in.at), place = show_fix(&v.check_in.position, precision)))
            @if let Some(out) = v.check_out {
                " · " (t!(lang, "inspection-check-out", at = locale.datetime(out.at), place = show_fix(&out.position, precision)))
            }
        }
        @if precision == GpsPrecision::Rounded {
            p.note { (t!(lang, "inspection-rounded")) }
        }
        h2 { (t!(lang, "inspection-photos")) }
        div.photos #photos {
            @if photos.is_empty() {
                p.muted { (t!(lang, "inspection-no-photos")) }
            }
            @for photo in photos {
                @let item = view.item_text(&photo.item_id);
                figure {
                    a.photo href={ "/v1/blobs/" (photo.sha256) } {
                        img src={ "/v1/blobs/" (photo.sha256) "?thumb=1" } alt=(t!(lang, "inspection-photo-for", item = item.as_str())) loading="lazy";
                    }
                    figcaption {
                        (item) br;
                        (photo.width) "×" (photo.height) " · " (locale.datetime(photo.captured_at))
                        @if let Some(position) = photo.position {
                            br; (show_fix(&position, precision))
                        }
                    }
                }
            }
        }
        h2 { (t!(lang, "inspection-answers")) }
        table #answers {
            thead { tr {
                th { (t!(lang, "inspection-col-item")) } th { (t!(lang, "inspection-col-answer")) } th.n { (t!(lang, "inspection-col-count")) }
                th { (t!(lang, "inspection-col-note")) } th { (t!(lang, "inspection-col-answered")) }
            } }
            tbody {
                @for item in &order {
                    tr {
                        td { (view.item_text(item)) }
                        @match v.answers.get(item) {
                            Some(answer) => {
                                @let (class, text) = answer_text(lang, answer.value);
                                td { span class={ "tag " (class) } { (text) } }
                                td.n { @if let Some(count) = answer.count { (count) } }
                                td { (answer.note) }
                                td { (locale.datetime(answer.answered_at)) }
                            },
                            None => {
                                td.muted { (t!(lang, "inspection-not-answered")) } td {} td {} td {}
                            },
                        }
                    }
                }
            }
        }
        h2 { (t!(lang, "inspection-score")) }
        @match view.score {
            None => p.note #score { (t!(lang, "inspection-not-scored")) },
            Some(s) => (score(view, s)),
        }
    }
}

/// The score breakdown: total, reasons, points per item, assessment per photo.
fn score(view: &InspectionView<'_>, s: &InspectionScore) -> Markup {
    let lang = view.locale.language();
    html! {
        p #score {
            b { (format!("{:.1}", s.score)) }
            " " (t!(lang, "inspection-scoring-version", version = s.scoring_version, at = view.locale.datetime(s.scored_at)))
        }
        @let (verdict_class, verdict) = trust_tag(lang, s.verdict);
        p #verdict { (t!(lang, "inspection-verdict")) " " span class={ "tag " (verdict_class) } { (verdict) } }
        @for reason in s.reasons_in(lang) {
            p.note { (reason) }
        }
        table #score-items {
            thead { tr {
                th { (t!(lang, "inspection-col-item")) } th.n { (t!(lang, "inspection-col-earned")) }
                th.n { (t!(lang, "inspection-col-weight")) } th { (t!(lang, "inspection-col-why")) }
            } }
            tbody {
                @for item in &s.items {
                    tr {
                        td { (view.item_text(&item.item_id)) }
                        td.n { (format!("{:.2}", item.earned)) }
                        td.n { (format!("{:.2}", item.weight)) }
                        td { (item.reasons_in(lang).join("; ")) }
                    }
                }
            }
        }
        table #score-photos {
            thead { tr {
                th { (t!(lang, "inspection-col-photo")) } th.n { (t!(lang, "inspection-col-quality")) }
                th { (t!(lang, "inspection-col-trust")) } th { (t!(lang, "inspection-col-why")) }
            } }
            tbody {
                @for photo in &s.photos {
                    @let (class, trust) = trust_tag(lang, photo.trust);
                    @let decided = view.reviews.iter().find(|r| r.sha256 == photo.sha256);
                    tr.photo-score data-sha256=(photo.sha256) {
                        td { (photo.sha256.get(..12).unwrap_or(&photo.sha256)) "…" }
                        td.n { (format!("{:.2}", photo.quality)) }
                        td { span class={ "tag " (class) } { (trust) } }
                        td {
                            (photo.reasons_in(lang).join("; "))
                            @if let Some(r) = decided {
                                div.reviewed {
                                    (t!(lang, "inspection-reviewed")) " "
                                    b { (if r.accepted { t!(lang, "inspection-review-accepted") } else { t!(lang, "inspection-review-rejected") }) }
                                    " " (t!(lang, "inspection-reviewed-by", user = view.names.user(&r.reviewer), at = view.locale.datetime(r.decided_at)))
                                    " " (r.reason)
                                }
                            }
                            @if let Some((csrf, inspection)) = view.review_form {
                                @if photo.trust == Trust::Review || decided.is_some() {
                                    form.inline.review method="post" action={ "/dashboard/inspections/" (inspection) "/photos/" (photo.sha256) "/review" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="text" name="reason" maxlength="500" required placeholder=(t!(lang, "inspection-reason")) aria-label=(t!(lang, "inspection-reason"));
                                        button type="submit" name="decision" value="accepted" { (t!(lang, "inspection-accept")) }
                                        button.danger type="submit" name="decision" value="rejected" { (t!(lang, "inspection-reject")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use fieldsync_core::Role;
    use fieldsync_core::doc::{
        Answer, GeoFix, InspectionStatus, ItemScore, PhotoAssessment, PhotoRef, TemplateItem, Visit,
    };

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

    #[test]
    fn the_inspection_page_escapes_every_user_provided_string() {
        let position = GeoFix { latitude: 52.52, longitude: 13.40, accuracy_m: 5.0 };
        let sha = "ab".repeat(32);
        let template = Template {
            name: HOSTILE.into(),
            version: 1,
            items: BTreeMap::from([(
                "shelf".to_owned(),
                TemplateItem { text: HOSTILE.into(), weight: 1.0, requires_photo: true, position: 0 },
            )]),
            trust: None,
        };
        let inspection = Inspection {
            owner: "supervisor-1".into(),
            store_id: "store-1".into(),
            template_id: "template-1".into(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: 0, position },
            check_out: Some(Visit { at: 60_000, position }),
            answers: BTreeMap::from([(
                "shelf".to_owned(),
                Answer {
                    id: "a1".into(),
                    value: AnswerValue::No,
                    count: Some(3),
                    note: HOSTILE.into(),
                    answered_at: 1_000,
                },
            )]),
            photos: BTreeMap::from([(
                sha.clone(),
                PhotoRef {
                    sha256: sha.clone(),
                    item_id: "shelf".into(),
                    byte_size: 1,
                    width: 4,
                    height: 3,
                    captured_at: 2_000,
                    position: None,
                    phash: String::new(),
                    original: None,
                    measured: None,
                },
            )]),
            updated_at: 60_000,
            promotions_started: BTreeMap::new(),
        };
        let score = InspectionScore {
            inspection_id: "inspection-1".into(),
            owner: "supervisor-1".into(),
            store_id: "store-1".into(),
            scored_heads: Vec::new(),
            scoring_version: 1,
            score: 50.0,
            verdict: fieldsync_core::doc::Trust::Review,
            items: vec![ItemScore {
                item_id: "shelf".into(),
                weight: 1.0,
                earned: 0.5,
                reasons: vec![HOSTILE.into()],
                reason_messages: Vec::new(),
            }],
            photos: vec![PhotoAssessment {
                sha256: sha,
                quality: 70.0,
                trust: Trust::Review,
                reasons: vec![HOSTILE.into()],
                reason_messages: Vec::new(),
            }],
            reasons: vec![HOSTILE.into()],
            reason_messages: Vec::new(),
            scored_at: 70_000,
        };
        let names = Names {
            users: HashMap::from([("supervisor-1".to_owned(), (HOSTILE.to_owned(), Role::Supervisor, None))]),
            stores: BTreeMap::from([("store-1".to_owned(), HOSTILE.to_owned())]),
        };
        let locale = Locale::default();
        let view = InspectionView {
            inspection: &inspection,
            template: Some(&template),
            score: Some(&score),
            precision: GpsPrecision::Exact,
            names: &names,
            locale: &locale,
            reviews: &[],
            review_form: None,
        };
        let html = inspection_body(&view).into_string();

        assert!(!html.contains("<script") && !html.contains("<img src=x"), "{html}");
        // Store, supervisor, template; the item's text as photo alt, caption, answer row and score
        // row; the note; the visit, item and photo reasons: each escaped.
        assert_eq!(html.matches("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x").count(), 11, "{html}");
        for id in ["photos", "answers", "score", "verdict", "score-items", "score-photos"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing: {html}");
        }
    }
}
