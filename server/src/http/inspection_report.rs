//! `GET /v1/inspections/{id}/report`: the score of one inspection as a readable HTML page — the
//! audit score, each checklist item with its points and reasons, and each photo with a
//! thumbnail, its quality and its evidence trust with reasons.
//!
//! Readable by whoever may read the inspection (its supervisor, the region's manager, HQ);
//! anyone else, and an inspection not yet scored, gets the same JSON 404 as any other unknown
//! document. Thumbnails are inlined as `data:` URLs so the page is one self-contained file that
//! can be saved or mailed.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{Inspection, InspectionScore, RetailStore, Template, Trust};

use crate::dashboard::html::{DOCTYPE, Markup, PreEscaped, html};
use crate::documents;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::locale::Locale;
use crate::services::accounts::Caller;
use crate::services::inspections::find_score;
use crate::state::AppState;

/// The report page of one inspection.
#[utoipa::path(
    get, path = "/v1/inspections/{id}/report", tag = "read",
    params(("id" = String, Path, description = "the inspection's document id")),
    responses(
        (status = 200, description = "the score report as an HTML page", content_type = "text/html", body = String),
        (status = 400, description = "invalid id", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 404, description = "no such inspection or no score yet", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(text) = path.map_err(|e| {
        Error::bad_request("invalid-id", format!("invalid inspection id in the path: {}", e.body_text()))
    })?;
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
    let page = render(&id, &inspection, &score, template.as_ref(), store.as_ref(), &thumbnails, &locale);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
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

fn trust_badge(trust: Trust) -> Markup {
    let (class, text) = match trust {
        Trust::Pass => ("pass", "trusted"),
        Trust::Review => ("review", "review"),
        Trust::Rejected => ("rejected", "rejected"),
    };
    html! { span class={ "badge " (class) } { (text) } }
}

fn reasons_list(reasons: &[String]) -> Markup {
    html! { ul { @for reason in reasons { li { (reason) } } } }
}

/// Renders the page (pure, so it is tested without a relay), times in the tenant's zone.
pub fn render(
    id: &DocumentId,
    inspection: &Inspection,
    score: &InspectionScore,
    template: Option<&Template>,
    store: Option<&RetailStore>,
    thumbnails: &[Option<String>],
    locale: &Locale,
) -> String {
    let store_name = store.map_or_else(|| inspection.store_id.clone(), |s| format!("{} — {}", s.name, s.address));
    let checklist = template.map_or_else(|| inspection.template_id.clone(), |t| format!("{} v{}", t.name, t.version));
    let item_text = |item_id: &str| {
        template.and_then(|t| t.item(item_id)).map_or_else(|| item_id.to_owned(), |item| item.text.clone())
    };
    let heads = score.scored_heads.iter().map(|h| h.get(..8).unwrap_or(h)).collect::<Vec<_>>().join(", ");
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Inspection report: " (store_name) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Inspection report" }
                p {
                    strong { "Store:" } " " (store_name) br;
                    strong { "Checklist:" } " " (checklist) br;
                    strong { "Supervisor:" } " " (inspection.owner) br;
                    strong { "Visit:" } " " (locale.datetime(inspection.check_in.at)) " to "
                    @match inspection.check_out {
                        Some(out) => (locale.datetime(out.at)),
                        None => "(not checked out)",
                    }
                    br;
                    strong { "Inspection:" } " " code { (id.as_str()) }
                }
                p.score #score { (format!("{:.1}", score.score)) " / 100" }
                p #verdict { strong { "Verdict:" } " " (trust_badge(score.verdict)) }
                (reasons_list(&score.reasons))
                p {
                    small {
                        "Scored " (locale.datetime(score.scored_at)) " with scoring rules version "
                        (score.scoring_version) ", inspection heads " (heads) "."
                    }
                }
                h2 { "Checklist" }
                table {
                    thead { tr { th { "Item" } th { "Points" } th { "Why" } } }
                    tbody {
                        @for item in &score.items {
                            tr {
                                td { (item_text(&item.item_id)) }
                                td { (item.earned) " / " (item.weight) }
                                td { (reasons_list(&item.reasons)) }
                            }
                        }
                    }
                }
                h2 { "Photos" }
                table {
                    thead { tr { th { "Photo" } th { "Item" } th { "Quality" } th { "Evidence" } th { "Why" } } }
                    tbody {
                        @for (index, photo) in score.photos.iter().enumerate() {
                            tr {
                                td {
                                    @match thumbnails.get(index).and_then(Option::as_ref) {
                                        Some(data) => {
                                            img alt={ "photo " (photo.sha256) } src={ "data:image/jpeg;base64," (data) };
                                        },
                                        None => "(no thumbnail)",
                                    }
                                    br;
                                    code { (photo.sha256.get(..12).unwrap_or(&photo.sha256)) }
                                }
                                td {
                                    @if let Some(p) = inspection.photos.get(&photo.sha256) { (item_text(&p.item_id)) }
                                }
                                td { (format!("{:.1}", photo.quality)) " / 100" }
                                td { (trust_badge(photo.trust)) }
                                td { (reasons_list(&photo.reasons)) }
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
            items: vec![ItemScore { item_id: HOSTILE.into(), weight: 1.0, earned: 1.0, reasons: vec![HOSTILE.into()] }],
            photos: vec![PhotoAssessment {
                sha256: HOSTILE.into(),
                quality: 10.0,
                trust: Trust::Rejected,
                reasons: vec![HOSTILE.into()],
            }],
            reasons: vec![HOSTILE.into()],
            scored_at: 0,
        };
        let id = DocumentId::random();
        let html = render(&id, &inspection, &score, None, None, &[Some(HOSTILE.into())], &Locale::default());

        assert!(!html.contains("<script") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("<title>Inspection report: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;"), "{html}");
        assert!(html.contains("src=\"data:image/jpeg;base64,&lt;script&gt;"), "{html}");
        assert!(html.contains("<p class=\"score\" id=\"score\">42.0 / 100</p>"), "{html}");
        assert!(html.contains("<span class=\"badge rejected\">rejected</span>"), "{html}");
    }
}
