//! The score preview a supervisor sees before leaving the store: the relay's own rules
//! ([`crate::scoring`]) run on what the phone holds.

use std::collections::BTreeMap;

use super::LocalStore;
use super::inspections::InspectionFilter;
use crate::clock::now_ms;
use crate::doc::{InspectionScore, RetailStore, Template};
use crate::error::Result;
use crate::id::DocumentId;
use crate::photo::{self, PhotoLimits};
use crate::scoring::{self, EarlierPhoto, Location, PhotoPixels, ScoringInput};

impl LocalStore {
    /// What the relay will most likely say about an inspection (open or checked out): the audit
    /// score, per-item points, photo quality and evidence trust, with reasons.
    ///
    /// The same rules and thresholds as the relay's verdict, on the photos stored on this phone.
    /// Two differences, both stated in the result's reasons: reuse is checked only against this
    /// phone's other inspections (the relay checks the whole tenant), and an open visit has no
    /// check-out yet, so its photos' capture times are only checked against the check-in.
    pub fn preview_inspection_score(&self, id: &DocumentId) -> Result<InspectionScore> {
        let inspection = self.inspection(id)?;
        let template: Template = self.get(&inspection.template_id.parse()?)?;
        let store: RetailStore = self.get(&inspection.store_id.parse()?)?;
        let mut pixels = BTreeMap::new();
        for sha256 in inspection.photos.keys() {
            let result = match self.photo_bytes(sha256) {
                Ok(bytes) => match photo::analyze(&bytes, &PhotoLimits::default()) {
                    Ok(analysis) => PhotoPixels::from(analysis),
                    Err(error) => PhotoPixels::Unreadable { reason: error.to_string() },
                },
                Err(_) => PhotoPixels::Unreadable { reason: "the photo is not stored on this phone".to_owned() },
            };
            pixels.insert(sha256.clone(), result);
        }
        let mut earlier = Vec::new();
        for summary in self.list_inspections(&InspectionFilter::default())? {
            if summary.id == *id {
                continue;
            }
            let other = self.inspection(&summary.id)?;
            earlier.extend(other.photos.values().map(|p| EarlierPhoto {
                sha256: p.sha256.clone(),
                phash: p.phash.clone(),
                inspection_id: summary.id.to_string(),
                store_id: other.store_id.clone(),
                captured_at: p.captured_at,
            }));
        }
        let mut preview = scoring::score_inspection(&ScoringInput {
            inspection_id: id.as_str(),
            inspection: &inspection,
            template: &template,
            store: Location { latitude: store.latitude, longitude: store.longitude },
            store_geofence_m: store.geofence_m,
            pixels: &pixels,
            earlier: &earlier,
            reviews: &scoring::NO_REVIEWS,
            scored_heads: &[],
            scored_at: now_ms(),
        });
        preview.reasons.push("preview on this phone: reuse checked against this phone's visits only".to_owned());
        preview.reason_messages.push(crate::i18n::Message::new("reason-preview-local"));
        Ok(preview)
    }
}
