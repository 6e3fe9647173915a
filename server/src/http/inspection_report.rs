//! `GET /v1/inspections/{id}/report`: the score of one inspection as a readable HTML page — the
//! audit score, each checklist item with its points and reasons, and each photo with a
//! thumbnail, its quality and its evidence trust with reasons.
//!
//! Readable by whoever may read the inspection (its supervisor, the region's manager, HQ);
//! anyone else, and an inspection not yet scored, gets the same JSON 404 as any other unknown
//! document. Thumbnails are inlined as `data:` URLs so the page is one self-contained file that
//! can be saved or mailed.

use crate::dashboard::html::esc;
use std::fmt::Write;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{Inspection, InspectionScore, RetailStore, Template, Trust};

use crate::documents;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::locale::Locale;
use crate::services::accounts;
use crate::services::accounts::Caller;
use crate::services::inspections::find_score;
use crate::state::AppState;

/// The report page of one inspection.
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
    let locale = accounts::tenant_locale(storage, tenant_id).await?;
    let page = render(&id, &inspection, &score, template.as_ref(), store.as_ref(), &thumbnails, &locale);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
}

fn trust_badge(trust: Trust) -> &'static str {
    match trust {
        Trust::Pass => r#"<span class="badge pass">trusted</span>"#,
        Trust::Review => r#"<span class="badge review">review</span>"#,
        Trust::Rejected => r#"<span class="badge rejected">rejected</span>"#,
    }
}

fn reasons_list(reasons: &[String]) -> String {
    let items: String = reasons.iter().map(|r| format!("<li>{}</li>", esc(r))).collect();
    format!("<ul>{items}</ul>")
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
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inspection report: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }}
.score {{ font-size: 3rem; font-weight: bold; }}
.badge {{ padding: .1rem .5rem; border-radius: .5rem; color: #fff; }}
.pass {{ background: #2e7d32; }} .review {{ background: #ef6c00; }} .rejected {{ background: #c62828; }}
img {{ max-width: 200px; max-height: 200px; }}
ul {{ margin: 0; padding-left: 1.2rem; }}
</style></head><body>
<h1>Inspection report</h1>
<p><strong>Store:</strong> {store}<br><strong>Checklist:</strong> {checklist}<br>
<strong>Supervisor:</strong> {owner}<br><strong>Visit:</strong> {check_in} to {check_out}<br>
<strong>Inspection:</strong> <code>{id}</code></p>
<p class="score" id="score">{score:.1} / 100</p>
{visit_reasons}
<p><small>Scored {scored_at} with scoring rules version {version}, inspection heads {heads}.</small></p>
<h2>Checklist</h2>
<table><thead><tr><th>Item</th><th>Points</th><th>Why</th></tr></thead><tbody>
"#,
        title = esc(&store_name),
        store = esc(&store_name),
        checklist = esc(&checklist),
        owner = esc(&inspection.owner),
        check_in = locale.datetime(inspection.check_in.at),
        check_out = inspection.check_out.map_or_else(|| "(not checked out)".to_owned(), |v| locale.datetime(v.at)),
        id = esc(id.as_str()),
        score = score.score,
        visit_reasons = reasons_list(&score.reasons),
        scored_at = locale.datetime(score.scored_at),
        version = score.scoring_version,
        heads = esc(&score.scored_heads.iter().map(|h| h.get(..8).unwrap_or(h)).collect::<Vec<_>>().join(", ")),
    );
    for item in &score.items {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{} / {}</td><td>{}</td></tr>",
            esc(&item_text(&item.item_id)),
            item.earned,
            item.weight,
            reasons_list(&item.reasons)
        );
    }
    html.push_str(
        "</tbody></table>\n<h2>Photos</h2>\n<table><thead><tr><th>Photo</th><th>Item</th><th>Quality</th>\
         <th>Evidence</th><th>Why</th></tr></thead><tbody>\n",
    );
    for (index, photo) in score.photos.iter().enumerate() {
        let image = match thumbnails.get(index).cloned().flatten() {
            Some(data) => format!(r#"<img alt="photo {}" src="data:image/jpeg;base64,{data}">"#, esc(&photo.sha256)),
            None => "(no thumbnail)".to_owned(),
        };
        let item = inspection.photos.get(&photo.sha256).map_or_else(String::new, |p| item_text(&p.item_id));
        let _ = writeln!(
            html,
            "<tr><td>{image}<br><code>{}</code></td><td>{}</td><td>{:.1} / 100</td><td>{}</td><td>{}</td></tr>",
            esc(photo.sha256.get(..12).unwrap_or(&photo.sha256)),
            esc(&item),
            photo.quality,
            trust_badge(photo.trust),
            reasons_list(&photo.reasons)
        );
    }
    html.push_str("</tbody></table>\n</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<b>"Tom's" & co</b>"#), "&lt;b&gt;&quot;Tom&#39;s&quot; &amp; co&lt;/b&gt;");
    }
}
