//! `GET /v1/inspections/{id}/report`: the score of one inspection as a readable HTML page — the
//! audit score, each checklist item with its points and reasons, and each photo with a
//! thumbnail, its quality and its evidence trust with reasons.
//!
//! Readable by whoever may read the inspection (its supervisor, the region's manager, HQ);
//! anyone else, and an inspection not yet scored, gets the same JSON 404 as any other unknown
//! document. Thumbnails are inlined as `data:` URLs so the page is one self-contained file that
//! can be saved or mailed.
//!
//! The page speaks the reader's language: `?lang=` (`en`, `zh-CN`), else the `Accept-Language`
//! header, else English. Its words come from `server/locales/<tag>/report.ftl`, the findings,
//! reasons and quality texts from their codes in core's catalog.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{Inspection, InspectionScore, RetailStore, Template, Trust};
use fieldsync_core::i18n::{Language, Message};
use serde::Deserialize;

use crate::dashboard::html::{DOCTYPE, Markup, PreEscaped, html};
use crate::documents;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::lists::query;
use crate::locale::Locale;
use crate::messages::catalog;
use crate::services::accounts::Caller;
use crate::services::inspections::find_score;
use crate::state::AppState;

/// The report's query: its language.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ReportLanguage {
    /// The page's language (`en`, `zh-CN`); without it, the `Accept-Language` header's, else English.
    pub lang: Option<String>,
}

impl ReportLanguage {
    /// The language to answer in: `?lang=` (an unknown one is refused), else the header's, else
    /// English.
    pub fn choose(&self, headers: &HeaderMap) -> Result<Language, Error> {
        if let Some(tag) = &self.lang {
            return tag.parse().map_err(|e: fieldsync_core::i18n::UnknownLanguage| {
                Error::bad_request("invalid-language", e.to_string())
            });
        }
        let header = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        Ok(Language::from_accept_language(header).unwrap_or_default())
    }
}

/// The report page of one inspection.
#[utoipa::path(
    get, path = "/v1/inspections/{id}/report", tag = "read",
    params(("id" = String, Path, description = "the inspection's document id"), ReportLanguage),
    responses(
        (status = 200, description = "the score report as an HTML page, in the language of `lang` or `Accept-Language`", content_type = "text/html", body = String),
        (status = 400, description = "invalid id or language", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 404, description = "no such inspection or no score yet", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    language: Result<Query<ReportLanguage>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(text) = path.map_err(|e| {
        Error::bad_request("invalid-id", format!("invalid inspection id in the path: {}", e.body_text()))
    })?;
    let language = query(language)?.choose(&headers)?;
    let id: DocumentId =
        text.parse().map_err(|e: fieldsync_core::Error| Error::bad_request("invalid-id", e.to_string()))?;
    let tenant_id = caller.tenant_id;
    let storage = state.storage.as_ref();
    let not_found = || Error::not_found(format!("inspection {id}"));
    let stored = storage.load_doc(tenant_id, &id).await?.ok_or_else(not_found)?;
    if stored.meta.kind != fieldsync_core::DocKind::Inspection || !caller.scope().contains(&stored.meta) {
        return Err(not_found().into());
    }
    let inspection: Inspection = fieldsync_core::doc::read(&id, &documents::load(&stored)?)?;
    let score = find_score(storage, tenant_id, &id).await?;
    let score: InspectionScore = match &score.stored {
        Some(stored) => fieldsync_core::doc::read(&score.id, &documents::load(stored)?)?,
        None => return Err(Error::not_found(format!("score report of inspection {id} (not scored yet)")).into()),
    };
    // Names make the page readable; without them it still shows ids.
    let template: Option<Template> = match inspection.template_id.parse() {
        Ok(template_id) => documents::read(storage, tenant_id, &template_id).await.ok(),
        Err(_) => None,
    };
    let store: Option<RetailStore> = match inspection.store_id.parse() {
        Ok(store_id) => documents::read(storage, tenant_id, &store_id).await.ok(),
        Err(_) => None,
    };
    let mut thumbnails = Vec::new();
    for photo in &score.photos {
        let thumb = state.blobs.thumbnail(tenant_id, &photo.sha256).await.ok().flatten();
        thumbnails.push(thumb.map(|bytes| STANDARD.encode(bytes)));
    }
    let locale = crate::services::accounts::tenant_locale(storage, tenant_id).await?;
    let page = render(&id, &inspection, &score, template.as_ref(), store.as_ref(), &thumbnails, &locale, language);
    let headers = [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_LANGUAGE, language.tag())];
    Ok((headers, page).into_response())
}

const CSS: &str = "
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
th, td { border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }
.score { font-size: 3rem; font-weight: bold; }
.badge { padding: .1rem .5rem; border-radius: .5rem; color: #fff; }
.pass { background: #2e7d32; } .review { background: #ef6c00; } .rejected { background: #c62828; }
img { max-width: 200px; max-height: 200px; }
ul { margin: 0; padding-left: 1.2rem; }
";

fn trust_badge(trust: Trust, language: Language) -> Markup {
    let (class, id) = match trust {
        Trust::Pass => ("pass", "report-trust-pass"),
        Trust::Review => ("review", "report-trust-review"),
        Trust::Rejected => ("rejected", "report-trust-rejected"),
    };
    html! { span class={ "badge " (class) } { (catalog().label(language, id)) } }
}

fn reasons_list(reasons: &[String]) -> Markup {
    html! { ul { @for reason in reasons { li { (reason) } } } }
}

/// Renders the page in `language` (pure, so it is tested without a relay), times in the tenant's
/// zone.
#[allow(clippy::too_many_arguments)]
pub fn render(
    id: &DocumentId,
    inspection: &Inspection,
    score: &InspectionScore,
    template: Option<&Template>,
    store: Option<&RetailStore>,
    thumbnails: &[Option<String>],
    locale: &Locale,
    language: Language,
) -> String {
    let label = |id: &str| catalog().label(language, id);
    let text = |message: Message| catalog().text(language, &message);
    let store_name = store.map_or_else(|| inspection.store_id.clone(), |s| format!("{} — {}", s.name, s.address));
    let checklist = template.map_or_else(|| inspection.template_id.clone(), |t| format!("{} v{}", t.name, t.version));
    let item_text = |item_id: &str| {
        template.and_then(|t| t.item(item_id)).map_or_else(|| item_id.to_owned(), |item| item.text.clone())
    };
    let heads = score.scored_heads.iter().map(|h| h.get(..8).unwrap_or(h)).collect::<Vec<_>>().join(", ");
    let visit_end = match inspection.check_out {
        Some(out) => locale.datetime(out.at),
        None => label("report-not-checked-out"),
    };
    let visit = text(
        Message::new("report-visit-span").arg("from", locale.datetime(inspection.check_in.at)).arg("to", visit_end),
    );
    let scored = text(
        Message::new("report-scored")
            .arg("at", locale.datetime(score.scored_at))
            .arg("version", score.scoring_version)
            .arg("heads", heads),
    );
    let page = html! {
        (DOCTYPE)
        html lang=(language.tag()) {
            head {
                meta charset="utf-8";
                title { (text(Message::new("report-title").arg("store", &store_name))) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (label("report-heading")) }
                p {
                    strong { (label("report-store")) } " " (store_name) br;
                    strong { (label("report-checklist")) } " " (checklist) br;
                    strong { (label("report-supervisor")) } " " (inspection.owner) br;
                    strong { (label("report-visit")) } " " (visit) br;
                    strong { (label("report-inspection")) } " " code { (id.as_str()) }
                }
                p.score #score { (format!("{:.1}", score.score)) " / 100" }
                p #verdict { strong { (label("report-verdict")) } " " (trust_badge(score.verdict, language)) }
                (reasons_list(&score.reasons_in(language)))
                p { small { (scored) } }
                h2 { (label("report-checklist-heading")) }
                table {
                    thead {
                        tr { th { (label("report-item")) } th { (label("report-points")) } th { (label("report-why")) } }
                    }
                    tbody {
                        @for item in &score.items {
                            tr {
                                td { (item_text(&item.item_id)) }
                                td { (item.earned) " / " (item.weight) }
                                td { (reasons_list(&item.reasons_in(language))) }
                            }
                        }
                    }
                }
                h2 { (label("report-photos-heading")) }
                table {
                    thead {
                        tr {
                            th { (label("report-photo")) }
                            th { (label("report-item")) }
                            th { (label("report-quality")) }
                            th { (label("report-evidence")) }
                            th { (label("report-why")) }
                        }
                    }
                    tbody {
                        @for (index, photo) in score.photos.iter().enumerate() {
                            tr {
                                td {
                                    @match thumbnails.get(index).and_then(Option::as_ref) {
                                        Some(data) => {
                                            img alt=(text(Message::new("report-photo-alt").arg("photo", &photo.sha256))) src={ "data:image/jpeg;base64," (data) };
                                        },
                                        None => (label("report-no-thumbnail")),
                                    }
                                    br;
                                    code { (photo.sha256.get(..12).unwrap_or(&photo.sha256)) }
                                }
                                td {
                                    @if let Some(p) = inspection.photos.get(&photo.sha256) { (item_text(&p.item_id)) }
                                }
                                td { (format!("{:.1}", photo.quality)) " / 100" }
                                td { (trust_badge(photo.trust, language)) }
                                td { (reasons_list(&photo.reasons_in(language))) }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use fieldsync_core::doc::{GeoFix, InspectionStatus, ItemScore, PhotoAssessment, Visit};

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

    #[test]
    fn text_from_documents_is_escaped() {
        let position = GeoFix { latitude: 52.52, longitude: 13.40, accuracy_m: 5.0 };
        let inspection = Inspection {
            owner: HOSTILE.into(),
            store_id: HOSTILE.into(),
            template_id: HOSTILE.into(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: 0, position },
            check_out: None,
            answers: BTreeMap::new(),
            photos: BTreeMap::new(),
            updated_at: 0,
            promotions_started: BTreeMap::new(),
        };
        let score = InspectionScore {
            inspection_id: "inspection-1".into(),
            owner: HOSTILE.into(),
            store_id: HOSTILE.into(),
            scored_heads: vec![HOSTILE.into()],
            scoring_version: 1,
            score: 42.0,
            verdict: fieldsync_core::doc::Trust::Review,
            items: vec![ItemScore {
                item_id: HOSTILE.into(),
                weight: 1.0,
                earned: 1.0,
                reasons: vec![HOSTILE.into()],
                reason_messages: Vec::new(),
            }],
            photos: vec![PhotoAssessment {
                sha256: HOSTILE.into(),
                quality: 10.0,
                trust: Trust::Rejected,
                reasons: vec![HOSTILE.into()],
                reason_messages: Vec::new(),
            }],
            reasons: vec![HOSTILE.into()],
            reason_messages: Vec::new(),
            scored_at: 0,
        };
        let id = DocumentId::random();
        let html = render(
            &id,
            &inspection,
            &score,
            None,
            None,
            &[Some(HOSTILE.into())],
            &Locale::default(),
            Language::English,
        );

        assert!(!html.contains("<script") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("<title>Inspection report: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;"), "{html}");
        assert!(html.contains("src=\"data:image/jpeg;base64,&lt;script&gt;"), "{html}");
        assert!(html.contains("<p class=\"score\" id=\"score\">42.0 / 100</p>"), "{html}");
        assert!(html.contains("<span class=\"badge rejected\">rejected</span>"), "{html}");
    }

    #[test]
    fn the_report_in_chinese_has_chinese_headings_and_reasons() {
        let position = GeoFix { latitude: 31.23, longitude: 121.47, accuracy_m: 5.0 };
        let inspection = Inspection {
            owner: "supervisor-east".into(),
            store_id: "store-1".into(),
            template_id: "template-1".into(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: 0, position },
            check_out: None,
            answers: BTreeMap::new(),
            photos: BTreeMap::new(),
            updated_at: 0,
            promotions_started: BTreeMap::new(),
        };
        let verdict = Message::new("reason-verdict").arg("verdict", "review");
        let answered = Message::new("reason-yes-no-photo");
        let blurry = Message::new("quality-blurry").arg("sharpness", 20).arg("needed", 90);
        let score = InspectionScore {
            inspection_id: "inspection-1".into(),
            owner: "supervisor-east".into(),
            store_id: "store-1".into(),
            scored_heads: Vec::new(),
            scoring_version: 2,
            score: 50.0,
            verdict: Trust::Review,
            items: vec![ItemScore {
                item_id: "shelf".into(),
                weight: 1.0,
                earned: 0.0,
                reasons: vec![answered.english()],
                reason_messages: vec![answered],
            }],
            photos: vec![PhotoAssessment {
                sha256: "abc".into(),
                quality: 20.0,
                trust: Trust::Review,
                reasons: vec![blurry.english()],
                reason_messages: vec![blurry],
            }],
            reasons: vec![verdict.english()],
            reason_messages: vec![verdict],
            scored_at: 0,
        };
        let id = DocumentId::random();
        let chinese = render(&id, &inspection, &score, None, None, &[None], &Locale::default(), Language::Chinese);
        for text in
            ["<html lang=\"zh-CN\">", "<h1>巡店报告</h1>", "<h2>检查项</h2>", "<h2>照片</h2>", "结论：待人工复核"]
        {
            assert!(chinese.contains(text), "{text} missing in {chinese}");
        }
        assert!(chinese.contains("回答“是”，但该项要求拍照而未拍：0 分"), "{chinese}");
        assert!(chinese.contains("模糊：清晰度 20 低于要求的 90"), "{chinese}");
        assert!(chinese.contains("<span class=\"badge review\">待复核</span>"), "{chinese}");
        assert!(!chinese.contains("Inspection report") && !chinese.contains("answered yes"), "{chinese}");

        let english = render(&id, &inspection, &score, None, None, &[None], &Locale::default(), Language::English);
        assert!(english.contains("<h1>Inspection report</h1>") && english.contains("verdict: review"), "{english}");
    }

    #[test]
    fn the_language_comes_from_lang_then_accept_language_then_english() {
        let mut headers = HeaderMap::new();
        let none = ReportLanguage::default();
        assert_eq!(none.choose(&headers).unwrap(), Language::English);
        headers.insert(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(none.choose(&headers).unwrap(), Language::Chinese);
        let english = ReportLanguage { lang: Some("en".into()) };
        assert_eq!(english.choose(&headers).unwrap(), Language::English);
        let unknown = ReportLanguage { lang: Some("fr".into()) };
        let error = unknown.choose(&headers).unwrap_err();
        assert!(error.to_string().contains("language \"fr\" is not spoken"), "{error}");
    }
}
