//! Promotion not started: a catalog promotion that is running (its start has passed and its end
//! has not) in an active store of its scope, without any inspection of that store confirming
//! that it started (`Inspection::promotions_started`, recorded by the supervisor's phone during a
//! visit). The scope is the pricing rules' one: the promotion's `stores` and `regions` lists, an
//! empty list not limiting. One cause per promotion and store:
//! `promotion-not-started:{promotion}:{store}`. It closes when a confirmation arrives, when the
//! promotion ends, or when the store leaves its scope or is deactivated.

use std::collections::{BTreeMap, BTreeSet};

use fieldsync_core::doc::{Promotion, RetailStore};

use fieldsync_core::i18n::Message;

use super::{AlertKind, Cause};
use crate::locale::Locale;

/// A running promotion a store has not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionNotStarted {
    /// The catalog's promotion id.
    pub promotion_id: String,
    /// Its display name.
    pub promotion_name: String,
    /// When it started, ms since the Unix epoch.
    pub starts_at: i64,
    /// The store's document id.
    pub store_id: String,
    /// The store's display name.
    pub store_name: String,
}

impl PromotionNotStarted {
    /// The alert this finding raises; `locale` writes the start time in the tenant's zone.
    pub fn cause(&self, locale: &Locale) -> Cause {
        let key = format!("{}:{}:{}", AlertKind::PromotionNotStarted.as_str(), self.promotion_id, self.store_id);
        let title = Message::new("alert-promotion-not-started-title")
            .arg("promotion", &self.promotion_name)
            .arg("store", &self.store_name);
        let detail = Message::new("alert-promotion-not-started-detail")
            .arg("promotion", &self.promotion_name)
            .arg("promotion-id", &self.promotion_id)
            .arg("started", locale.datetime(self.starts_at))
            .arg("store", &self.store_name);
        Cause {
            store_id: Some(self.store_id.clone()),
            ..Cause::new(key, AlertKind::PromotionNotStarted, title, detail)
        }
    }
}

/// Every (running promotion, active store in its scope) pair that `confirmed` (store id,
/// promotion id) does not hold, at `now`; in promotion then store order.
pub fn detect(
    promotions: &BTreeMap<String, Promotion>,
    stores: &[(String, RetailStore)],
    confirmed: &BTreeSet<(String, String)>,
    now: i64,
) -> Vec<PromotionNotStarted> {
    let covers = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let mut found = Vec::new();
    for (promotion_id, promotion) in promotions.iter().filter(|(_, p)| p.starts_at <= now && now <= p.ends_at) {
        for (store_id, store) in stores {
            let in_scope =
                store.active && covers(&promotion.stores, store_id) && covers(&promotion.regions, &store.region);
            if in_scope && !confirmed.contains(&(store_id.clone(), promotion_id.clone())) {
                found.push(PromotionNotStarted {
                    promotion_id: promotion_id.clone(),
                    promotion_name: promotion.name.clone(),
                    starts_at: promotion.starts_at,
                    store_id: store_id.clone(),
                    store_name: store.name.clone(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// (case, promotion, confirmations, stores alerted)
    type Case = (&'static str, Promotion, BTreeSet<(String, String)>, Vec<&'static str>);

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_764_460_800_000;

    fn promotion(starts_at: i64, ends_at: i64, stores: &[&str], regions: &[&str]) -> Promotion {
        Promotion {
            name: "Summer".into(),
            starts_at,
            ends_at,
            skus: Vec::new(),
            categories: Vec::new(),
            stores: stores.iter().map(|s| (*s).to_owned()).collect(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            discount_bp: 1000,
            priority: 0,
            stackable: false,
        }
    }

    fn store(name: &str, region: &str, active: bool) -> RetailStore {
        RetailStore {
            name: name.into(),
            code: String::new(),
            address: String::new(),
            customer_id: format!("C-{name}"),
            region: region.into(),
            tier: "A".into(),
            latitude: 0.0,
            longitude: 0.0,
            geofence_m: 0.0,
            rep: "rep".into(),
            supervisor: "sup".into(),
            active,
        }
    }

    fn stores() -> Vec<(String, RetailStore)> {
        vec![
            ("s-north".into(), store("North", "north", true)),
            ("s-south".into(), store("South", "south", true)),
            ("s-closed".into(), store("Closed", "north", false)),
        ]
    }

    #[test]
    fn running_promotions_alert_the_unconfirmed_active_stores_of_their_scope() {
        let confirmed_north = BTreeSet::from([("s-north".to_owned(), "p".to_owned())]);
        // (case, promotion, confirmations, stores alerted)
        let cases: Vec<Case> = vec![
            ("not started yet", promotion(NOW + 1, NOW + DAY, &[], &[]), BTreeSet::new(), vec![]),
            ("starts right now", promotion(NOW, NOW + DAY, &[], &[]), BTreeSet::new(), vec!["s-north", "s-south"]),
            ("ended", promotion(NOW - 2 * DAY, NOW - 1, &[], &[]), BTreeSet::new(), vec![]),
            ("last moment", promotion(NOW - DAY, NOW, &[], &[]), BTreeSet::new(), vec!["s-north", "s-south"]),
            ("one region", promotion(NOW - DAY, NOW + DAY, &[], &["south"]), BTreeSet::new(), vec!["s-south"]),
            ("one store", promotion(NOW - DAY, NOW + DAY, &["s-north"], &[]), BTreeSet::new(), vec!["s-north"]),
            (
                "store outside region",
                promotion(NOW - DAY, NOW + DAY, &["s-north"], &["south"]),
                BTreeSet::new(),
                vec![],
            ),
            ("inactive store only", promotion(NOW - DAY, NOW + DAY, &["s-closed"], &[]), BTreeSet::new(), vec![]),
            ("confirmed in one store", promotion(NOW - DAY, NOW + DAY, &[], &[]), confirmed_north, vec!["s-south"]),
        ];
        for (case, promotion, confirmed, expected) in cases {
            let promotions = BTreeMap::from([("p".to_owned(), promotion)]);
            let found = detect(&promotions, &stores(), &confirmed, NOW);
            let alerted: Vec<&str> = found.iter().map(|f| f.store_id.as_str()).collect();
            assert_eq!(alerted, expected, "{case}");
        }
    }

    #[test]
    fn a_promotion_starting_at_local_midnight_in_shanghai_runs_from_16_00_utc_the_day_before() {
        let shanghai = Locale::new("Asia/Shanghai", "CNY").unwrap();
        // Midnight of 5 March 2026 in Shanghai is 16:00 UTC on 4 March.
        let starts_at = 1_772_640_000_000;
        assert_eq!(shanghai.datetime(starts_at), "2026-03-05 00:00 +08:00");
        let promotions = BTreeMap::from([("p".to_owned(), promotion(starts_at, starts_at + DAY, &["s-north"], &[]))]);
        assert!(detect(&promotions, &stores(), &BTreeSet::new(), starts_at - 1).is_empty(), "23:59 local: not yet");
        let found = detect(&promotions, &stores(), &BTreeSet::new(), starts_at + 30 * 60_000);
        assert_eq!(found.len(), 1, "half an hour into the local day it runs");
        let detail = found[0].cause(&shanghai).detail;
        assert!(detail.contains("started 2026-03-05 00:00 +08:00"), "{detail}");
    }

    #[test]
    fn a_confirmation_of_another_promotion_does_not_count() {
        let promotions = BTreeMap::from([("p".to_owned(), promotion(NOW - DAY, NOW + DAY, &["s-north"], &[]))]);
        let confirmed = BTreeSet::from([("s-north".to_owned(), "other".to_owned())]);
        let found = detect(&promotions, &stores(), &confirmed, NOW);
        assert_eq!(found.len(), 1);
        let cause = found[0].cause(&Locale::default());
        assert_eq!(cause.key, "promotion-not-started:p:s-north");
        assert_eq!(cause.store_id.as_deref(), Some("s-north"));
        assert!(cause.detail.contains("no visit to North"), "{}", cause.detail);
    }
}
