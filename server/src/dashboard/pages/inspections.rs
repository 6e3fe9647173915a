//! One inspection's page: photos, answers, the score breakdown.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::response::Response;
use fieldsync_core::doc::{AnswerValue, Inspection, InspectionScore, Template, Trust};

use super::super::html::esc;
use super::super::records::{GpsPrecision, Names, gps_precision, load_one, show_fix};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::locale::{self};
use crate::state::AppState;

use super::*;

fn answer_text(value: AnswerValue) -> (&'static str, &'static str) {
    match value {
        AnswerValue::Yes => ("ok", "yes"),
        AnswerValue::No => ("bad", "no"),
        AnswerValue::NotApplicable => ("", "n/a"),
    }
}

/// `GET /dashboard/inspections/{id}`: photos, answers, the score breakdown.
pub async fn inspection(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let record = load_one::<Inspection>(&state, &viewer.caller, &id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let template: Option<Template> = match record.value.template_id.parse() {
        Ok(template_id) => {
            crate::documents::read(state.storage.as_ref(), viewer.caller.tenant_id, &template_id).await.ok()
        }
        Err(_) => None,
    };
    let score_id =
        crate::jobs::score_inspection::find_score(state.storage.as_ref(), viewer.caller.tenant_id, &record.id)
            .await?
            .id;
    let score = match load_one::<InspectionScore>(&state, &viewer.caller, score_id.as_str()).await {
        Ok(score) => Some(score),
        Err(crate::Error::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let v = &record.value;
    let precision = gps_precision(&viewer.caller, &v.owner);
    let item_text =
        |item: &str| template.as_ref().and_then(|t| t.item(item)).map_or(item.to_owned(), |i| i.text.clone());
    let mut body = format!(
        "<h1>Inspection at {}</h1><p>Supervisor <b>{}</b> · {} · template {}</p>\
         <p>Check-in {} at {}{}</p>",
        esc(&names.store(&v.store_id)),
        esc(&names.user(&v.owner)),
        status_tag(v.status.as_str()),
        esc(template.as_ref().map_or("unknown", |t| t.name.as_str())),
        esc(&locale.datetime(v.check_in.at)),
        esc(&show_fix(&v.check_in.position, precision)),
        v.check_out
            .map(|out| format!(
                " · check-out {} at {}",
                esc(&locale.datetime(out.at)),
                esc(&show_fix(&out.position, precision))
            ))
            .unwrap_or_default()
    );
    if precision == GpsPrecision::Rounded {
        body.push_str("<p class=\"note\">Coordinates are rounded for your role.</p>");
    }
    body.push_str("<h2>Photos</h2><div class=\"photos\" id=\"photos\">");
    if v.photos.is_empty() {
        body.push_str("<p class=\"muted\">No photos.</p>");
    }
    let mut photos: Vec<_> = v.photos.values().collect();
    photos.sort_by_key(|p| p.captured_at);
    for photo in photos {
        let sha = esc(&photo.sha256);
        let _ = write!(
            body,
            "<figure><a class=\"photo\" href=\"/v1/blobs/{sha}\"><img src=\"/v1/blobs/{sha}?thumb=1\" alt=\"photo for {item}\" loading=\"lazy\"></a>\
             <figcaption>{item}<br>{w}×{h} · {at}{pos}</figcaption></figure>",
            item = esc(&item_text(&photo.item_id)),
            w = photo.width,
            h = photo.height,
            at = esc(&locale.datetime(photo.captured_at)),
            pos = photo.position.map(|p| format!("<br>{}", esc(&show_fix(&p, precision)))).unwrap_or_default(),
        );
    }
    body.push_str("</div><h2>Answers</h2><table id=\"answers\"><thead><tr><th>Item</th><th>Answer</th><th class=\"n\">Count</th><th>Note</th><th>Answered</th></tr></thead><tbody>");
    let mut order: Vec<String> = template
        .as_ref()
        .map(|t| t.items_in_order().into_iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    order.extend(v.answers.keys().filter(|k| !order.contains(k)).cloned().collect::<Vec<_>>());
    for item in &order {
        match v.answers.get(item) {
            Some(answer) => {
                let (class, text) = answer_text(answer.value);
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td><span class=\"tag {class}\">{text}</span></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&item_text(item)),
                    answer.count.map(|c| c.to_string()).unwrap_or_default(),
                    esc(&answer.note),
                    esc(&locale.datetime(answer.answered_at))
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td class=\"muted\">not answered</td><td></td><td></td><td></td></tr>",
                    esc(&item_text(item))
                );
            }
        }
    }
    body.push_str("</tbody></table><h2>Score</h2>");
    match score {
        None => body.push_str("<p class=\"note\" id=\"score\">Not scored yet: the relay scores an inspection after check-out, once its photos arrived.</p>"),
        Some(score) => {
            let s = &score.value;
            let _ = write!(
                body,
                "<p id=\"score\"><b>{:.1}</b> (scoring version {}, {})</p>",
                s.score,
                s.scoring_version,
                esc(&locale.datetime(s.scored_at))
            );
            for reason in &s.reasons {
                let _ = write!(body, "<p class=\"note\">{}</p>", esc(reason));
            }
            body.push_str("<table id=\"score-items\"><thead><tr><th>Item</th><th class=\"n\">Earned</th><th class=\"n\">Weight</th><th>Why</th></tr></thead><tbody>");
            for item in &s.items {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td>{}</td></tr>",
                    esc(&item_text(&item.item_id)),
                    item.earned,
                    item.weight,
                    esc(&item.reasons.join("; "))
                );
            }
            body.push_str("</tbody></table><table id=\"score-photos\"><thead><tr><th>Photo</th><th class=\"n\">Quality</th><th>Trust</th><th>Why</th></tr></thead><tbody>");
            for photo in &s.photos {
                let (class, trust) = match photo.trust {
                    Trust::Pass => ("ok", "pass"),
                    Trust::Review => ("warn", "review"),
                    Trust::Rejected => ("bad", "rejected"),
                };
                let _ = write!(
                    body,
                    "<tr><td>{}…</td><td class=\"n\">{:.2}</td><td><span class=\"tag {class}\">{trust}</span></td><td>{}</td></tr>",
                    esc(photo.sha256.get(..12).unwrap_or(&photo.sha256)),
                    photo.quality,
                    esc(&photo.reasons.join("; "))
                );
            }
            body.push_str("</tbody></table>");
        }
    }
    Ok(frame(&viewer, "Inspection", "/dashboard/inspections", super::super::html::PreEscaped(body)))
}
