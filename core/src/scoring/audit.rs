//! The audit score: weighted checklist compliance, 0–100.
//!
//! Each template item earns its weight when answered yes, and, if it requires a photo, when at
//! least one usable photo (no hard quality failure) backs it; otherwise it earns 0. Items
//! answered "not applicable" leave the score altogether (neither earned nor possible). Evidence
//! trust does not enter here (see [`super::evidence`]).

use std::collections::BTreeMap;

use super::photo_quality::round1;
use crate::doc::{AnswerValue, Inspection, ItemScore, Template};

/// What the audit needs to know about one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoUse {
    /// The photo's SHA-256.
    pub sha256: String,
    /// Whether it can count as evidence.
    pub usable: bool,
    /// Why not, when it cannot (e.g. `blurry: …`).
    pub why_not: Option<String>,
}

/// The audit result of one inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    /// 0–100, one decimal.
    pub score: f64,
    /// Points earned.
    pub earned: f64,
    /// Points possible (weights of the applicable items).
    pub possible: f64,
    /// Per item, in checklist order.
    pub items: Vec<ItemScore>,
}

/// Scores the answers of `inspection` against `template`; `photos` lists each item's photos.
pub fn audit(template: &Template, inspection: &Inspection, photos: &BTreeMap<String, Vec<PhotoUse>>) -> Audit {
    let mut earned_total = 0.0;
    let mut possible = 0.0;
    let mut items = Vec::new();
    for (item_id, item) in template.items_in_order() {
        let mut reasons = Vec::new();
        let weight = if item.weight.is_finite() && item.weight >= 0.0 {
            item.weight
        } else {
            reasons.push(format!("the checklist gives this item an invalid weight ({}): counted as 0", item.weight));
            0.0
        };
        let item_photos = photos.get(item_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let earned = match inspection.answers.get(item_id.as_str()).map(|a| a.value) {
            None => {
                possible += weight;
                reasons.push("not answered".to_owned());
                0.0
            }
            Some(AnswerValue::NotApplicable) => {
                reasons.push("not applicable: left out of the score".to_owned());
                0.0
            }
            Some(AnswerValue::No) => {
                possible += weight;
                reasons.push("answered no: not compliant".to_owned());
                0.0
            }
            Some(AnswerValue::Yes) => {
                possible += weight;
                yes(item.requires_photo, item_photos, weight, &mut reasons)
            }
        };
        earned_total += earned;
        items.push(ItemScore { item_id: item_id.clone(), weight, earned, reasons });
    }
    let score = if possible > 0.0 { round1(100.0 * earned_total / possible) } else { 0.0 };
    Audit { score, earned: earned_total, possible, items }
}

fn yes(requires_photo: bool, photos: &[PhotoUse], weight: f64, reasons: &mut Vec<String>) -> f64 {
    if !requires_photo {
        reasons.push("answered yes".to_owned());
        return weight;
    }
    let usable = photos.iter().filter(|p| p.usable).count();
    if usable > 0 {
        reasons.push(format!("answered yes, backed by {usable} usable photo{}", if usable == 1 { "" } else { "s" }));
        return weight;
    }
    if photos.is_empty() {
        reasons.push("answered yes, but this item requires a photo and none was taken: 0 points".to_owned());
    } else {
        reasons.push("answered yes, but this item requires a usable photo and none is: 0 points".to_owned());
        for photo in photos {
            let short = photo.sha256.get(..8).unwrap_or(&photo.sha256);
            let why = photo.why_not.as_deref().unwrap_or("not usable");
            reasons.push(format!("photo {short}: {why}"));
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Answer, GeoFix, InspectionStatus, TemplateItem, Visit};

    fn template(items: &[(&str, f64, bool)]) -> Template {
        Template {
            name: "t".into(),
            version: 1,
            items: items
                .iter()
                .zip(0..)
                .map(|(&(id, weight, requires_photo), position)| {
                    (id.to_owned(), TemplateItem { text: id.into(), weight, requires_photo, position })
                })
                .collect(),
            trust: None,
        }
    }

    fn inspection(answers: &[(&str, AnswerValue)]) -> Inspection {
        let fix = GeoFix { latitude: 52.0, longitude: 4.0, accuracy_m: 5.0 };
        Inspection {
            owner: "sup".into(),
            store_id: "store".into(),
            template_id: "tpl".into(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: 0, position: fix },
            check_out: Some(Visit { at: 1, position: fix }),
            answers: answers
                .iter()
                .map(|&(id, value)| {
                    (id.to_owned(), Answer { id: id.into(), value, count: None, note: String::new(), answered_at: 0 })
                })
                .collect(),
            photos: BTreeMap::new(),
            updated_at: 0,
            promotions_started: Default::default(),
        }
    }

    fn photo(item: &str, usable: bool) -> (String, Vec<PhotoUse>) {
        let why_not = (!usable).then(|| "blurry: sharpness 20".to_owned());
        (item.to_owned(), vec![PhotoUse { sha256: format!("{item}-photo"), usable, why_not }])
    }

    #[test]
    fn weights_and_required_photos() {
        use AnswerValue::{No, NotApplicable, Yes};
        let t = template(&[("a", 3.0, true), ("b", 2.0, false), ("c", 1.0, true)]);
        // (answers, photos: item -> usable, expected score)
        type Case = (Vec<(&'static str, AnswerValue)>, Vec<(&'static str, bool)>, f64);
        let table: Vec<Case> = vec![
            (vec![("a", Yes), ("b", Yes), ("c", Yes)], vec![("a", true), ("c", true)], 100.0),
            (vec![("a", Yes), ("b", Yes), ("c", Yes)], vec![("a", true)], 83.3), // c has no photo
            (vec![("a", Yes), ("b", Yes), ("c", Yes)], vec![("a", false), ("c", true)], 50.0), // a's is blurry
            (vec![("a", No), ("b", Yes), ("c", Yes)], vec![("a", true), ("c", true)], 50.0),
            (vec![("a", Yes), ("b", NotApplicable), ("c", Yes)], vec![("a", true), ("c", true)], 100.0),
            (vec![("a", Yes), ("b", Yes)], vec![("a", true)], 83.3), // c unanswered
            (vec![], vec![], 0.0),
            (vec![("a", NotApplicable), ("b", NotApplicable), ("c", NotApplicable)], vec![], 0.0),
        ];
        for (answers, photos, expected) in table {
            let photos: BTreeMap<_, _> = photos.iter().map(|&(item, usable)| photo(item, usable)).collect();
            let result = audit(&t, &inspection(&answers), &photos);
            assert_eq!(result.score, expected, "{answers:?} {photos:?}: {:?}", result.items);
            assert_eq!(result.items.len(), 3);
            assert!(result.items.iter().all(|i| !i.reasons.is_empty()));
        }
    }

    #[test]
    fn an_item_without_a_usable_photo_says_which_photo_failed_and_why() {
        let t = template(&[("a", 1.0, true)]);
        let photos: BTreeMap<_, _> = [photo("a", false)].into_iter().collect();
        let result = audit(&t, &inspection(&[("a", AnswerValue::Yes)]), &photos);
        assert_eq!(result.items[0].earned, 0.0);
        let reasons = result.items[0].reasons.join(" | ");
        assert!(reasons.contains("requires a usable photo") && reasons.contains("blurry"), "{reasons}");
    }

    #[test]
    fn items_come_in_checklist_order_and_bad_weights_count_as_zero() {
        let t = template(&[("z", 1.0, false), ("a", f64::NAN, false), ("m", -2.0, false)]);
        let answers = [("z", AnswerValue::Yes), ("a", AnswerValue::Yes), ("m", AnswerValue::Yes)];
        let result = audit(&t, &inspection(&answers), &BTreeMap::new());
        let order: Vec<&str> = result.items.iter().map(|i| i.item_id.as_str()).collect();
        assert_eq!(order, ["z", "a", "m"]);
        assert_eq!(result.score, 100.0);
        assert_eq!(result.possible, 1.0);
        assert!(result.items[1].reasons[0].contains("invalid weight"));
    }
}
