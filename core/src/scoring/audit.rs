//! The audit score: weighted checklist compliance, 0–100.
//!
//! Each template item earns its weight when answered yes, and, if it requires a photo, when at
//! least one photo that counts as evidence backs it: usable (no hard quality failure) and not
//! rejected by the evidence checks ([`super::evidence`]). A photo whose trust or quality needs
//! review counts provisionally: the item earns its weight, and the item says so (the visit's
//! verdict becomes `review`). A rejected photo never earns anything. Items answered "not
//! applicable" leave the score altogether (neither earned nor possible).

use std::collections::BTreeMap;

use super::photo_quality::round1;
use crate::doc::{AnswerValue, Inspection, ItemScore, Template};
use crate::i18n::{Message, english_texts};

/// How far a photo counts as evidence for its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Usable and trusted: earns the item.
    Counts,
    /// Usable, but its trust or quality needs a person's look: earns the item provisionally.
    Provisional,
    /// Unusable or rejected: earns nothing.
    NotCounted,
}

/// What the audit needs to know about one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoUse {
    /// The photo's SHA-256.
    pub sha256: String,
    /// Whether, and how, it counts as evidence.
    pub standing: Standing,
    /// Why not, or why only provisionally (e.g. `blurry: …`, `taken 2.0 km from the store …`).
    pub why_not: Option<Message>,
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
    /// Items that earned their points only on photos to review.
    pub provisional_items: Vec<String>,
}

/// Scores the answers of `inspection` against `template`; `photos` lists each item's photos.
pub fn audit(template: &Template, inspection: &Inspection, photos: &BTreeMap<String, Vec<PhotoUse>>) -> Audit {
    let mut earned_total = 0.0;
    let mut possible = 0.0;
    let mut items = Vec::new();
    let mut provisional_items = Vec::new();
    for (item_id, item) in template.items_in_order() {
        let mut reasons = Vec::new();
        let weight = if item.weight.is_finite() && item.weight >= 0.0 {
            item.weight
        } else {
            reasons.push(Message::new("reason-invalid-weight").arg("weight", item.weight));
            0.0
        };
        let item_photos = photos.get(item_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let earned = match inspection.answers.get(item_id.as_str()).map(|a| a.value) {
            None => {
                possible += weight;
                reasons.push(Message::new("reason-not-answered"));
                0.0
            }
            Some(AnswerValue::NotApplicable) => {
                reasons.push(Message::new("reason-not-applicable"));
                0.0
            }
            Some(AnswerValue::No) => {
                possible += weight;
                reasons.push(Message::new("reason-answered-no"));
                0.0
            }
            Some(AnswerValue::Yes) => {
                possible += weight;
                let (earned, provisional) = yes(item.requires_photo, item_photos, weight, &mut reasons);
                if provisional {
                    provisional_items.push(item_id.clone());
                }
                earned
            }
        };
        earned_total += earned;
        items.push(ItemScore {
            item_id: item_id.clone(),
            weight,
            earned,
            reasons: english_texts(&reasons),
            reason_messages: reasons,
        });
    }
    let score = if possible > 0.0 { round1(100.0 * earned_total / possible) } else { 0.0 };
    Audit { score, earned: earned_total, possible, items, provisional_items }
}

/// Points of an item answered yes, and whether they rest only on photos to review.
fn yes(requires_photo: bool, photos: &[PhotoUse], weight: f64, reasons: &mut Vec<Message>) -> (f64, bool) {
    if !requires_photo {
        reasons.push(Message::new("reason-answered-yes"));
        return (weight, false);
    }
    let count = |standing: Standing| photos.iter().filter(|p| p.standing == standing).count();
    let (trusted, provisional, not_counted) =
        (count(Standing::Counts), count(Standing::Provisional), count(Standing::NotCounted));
    if trusted > 0 {
        reasons.push(
            Message::new("reason-yes-trusted")
                .arg("trusted", trusted)
                .arg("review", provisional)
                .arg("not-counted", not_counted),
        );
        return (weight, false);
    }
    if provisional > 0 {
        reasons.push(Message::new("reason-yes-provisional").arg("review", provisional).arg("not-counted", not_counted));
        for photo in photos.iter().filter(|p| p.standing == Standing::Provisional) {
            let short = photo.sha256.get(..8).unwrap_or(&photo.sha256);
            let why = photo.why_not.clone().unwrap_or_else(|| Message::new("reason-needs-a-look"));
            reasons.push(Message::new("reason-photo-to-review").arg("photo", short).part("why", why));
        }
        return (weight, true);
    }
    if photos.is_empty() {
        reasons.push(Message::new("reason-yes-no-photo"));
    } else {
        reasons.push(Message::new("reason-yes-no-usable-photo").arg("photos", photos.len()));
        for photo in photos {
            let short = photo.sha256.get(..8).unwrap_or(&photo.sha256);
            let why = photo.why_not.clone().unwrap_or_else(|| Message::new("reason-not-usable"));
            reasons.push(Message::new("reason-photo-not-counted").arg("photo", short).part("why", why));
        }
    }
    (0.0, false)
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
        let why_not = (!usable).then(|| Message::new("quality-blurry").arg("sharpness", 20).arg("needed", 90));
        let standing = if usable { Standing::Counts } else { Standing::NotCounted };
        (item.to_owned(), vec![PhotoUse { sha256: format!("{item}-photo"), standing, why_not }])
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
        assert!(reasons.contains("requires a usable, trusted photo") && reasons.contains("blurry"), "{reasons}");
    }

    #[test]
    fn rejected_photos_earn_nothing_and_photos_to_review_earn_provisionally() {
        let t = template(&[("a", 1.0, true)]);
        let answers = [("a", AnswerValue::Yes)];
        let use_of =
            |standing, why: &str| PhotoUse { sha256: "abcdef0123".into(), standing, why_not: Some(Message::new(why)) };
        let rejected =
            [("a".to_owned(), vec![use_of(Standing::NotCounted, "reused"), use_of(Standing::NotCounted, "reused")])];
        let result = audit(&t, &inspection(&answers), &rejected.into_iter().collect());
        assert_eq!(result.score, 0.0);
        assert!(result.items[0].reasons[0].contains("none of its 2 is"), "{:?}", result.items[0].reasons);
        let review = [("a".to_owned(), vec![use_of(Standing::Provisional, "no check-out yet")])];
        let result = audit(&t, &inspection(&answers), &review.into_iter().collect());
        assert_eq!(result.score, 100.0);
        assert_eq!(result.provisional_items, vec!["a".to_owned()]);
        assert!(result.items[0].reasons[0].starts_with("answered yes, backed provisionally by 1 photo to review"));
        let mixed = [("a".to_owned(), vec![use_of(Standing::Counts, ""), use_of(Standing::NotCounted, "far")])];
        let result = audit(&t, &inspection(&answers), &mixed.into_iter().collect());
        assert_eq!(
            result.items[0].reasons[0],
            "answered yes, backed by 1 trusted photo; 1 rejected or unusable photo not counted"
        );
        assert!(result.provisional_items.is_empty());
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
