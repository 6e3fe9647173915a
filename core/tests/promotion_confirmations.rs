//! A supervisor confirms during a visit that a promotion runs in the store: what the relay's
//! "promotion not started" alert waits for.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use fieldsync_core::doc::{GeoFix, Promotion};
use fieldsync_core::local_store::CheckIn;
use fieldsync_core::{DocumentId, Error, Identity, LocalStore, Role};

const T0: i64 = 1_764_460_800_000; // 2025-11-30 00:00 UTC
const AT_SHOP: GeoFix = GeoFix { latitude: 52.37, longitude: 4.89, accuracy_m: 6.0 };

struct Visit {
    store: LocalStore,
    inspection: DocumentId,
}

fn promotion(regions: &[&str]) -> Promotion {
    Promotion {
        name: "Summer drinks".into(),
        starts_at: T0,
        ends_at: T0 + 7 * 86_400_000,
        skus: vec!["SKU-1".into()],
        categories: Vec::new(),
        stores: Vec::new(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        discount_bp: 1000,
        priority: 1,
        stackable: false,
    }
}

fn visit(dir: &tempfile::TempDir) -> Visit {
    let store = LocalStore::open(dir.path().join("supervisor.db")).unwrap();
    let identity = Identity { tenant: "acme".into(), user_id: common::SUPERVISOR.into(), role: Role::Supervisor };
    store.set_identity(&identity).unwrap();
    let mut catalog = common::catalog();
    catalog.promotions.insert("summer".into(), promotion(&[]));
    catalog.promotions.insert("south-only".into(), promotion(&["south"]));
    common::deliver(&store, &catalog);
    let shop_id = common::deliver(&store, &common::shop("Corner Market"));
    let template_id = common::deliver(&store, &common::template());
    let check_in =
        CheckIn { store_id: shop_id.to_string(), template_id: template_id.to_string(), at: T0, position: AT_SHOP };
    let inspection = store.check_in(check_in).unwrap();
    Visit { store, inspection }
}

#[test]
fn a_confirmation_is_recorded_once_with_its_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let v = visit(&dir);
    v.store.confirm_promotion_started(&v.inspection, "summer", T0 + 60_000).unwrap();
    v.store.confirm_promotion_started(&v.inspection, "summer", T0 + 120_000).unwrap();
    let inspection = v.store.inspection(&v.inspection).unwrap();
    assert_eq!(inspection.promotions_started.len(), 1);
    assert_eq!(inspection.promotions_started["summer"], T0 + 60_000);
    assert!(v.store.pending_documents().unwrap().contains(&v.inspection));
}

#[test]
fn an_unknown_or_out_of_scope_promotion_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let v = visit(&dir);
    let before = v.store.inspection(&v.inspection).unwrap();
    for (promotion, expected) in [("winter", "not in the catalog"), ("south-only", "does not run in store")] {
        let error = v.store.confirm_promotion_started(&v.inspection, promotion, T0 + 60_000).unwrap_err();
        assert!(matches!(&error, Error::InvalidInput { field: "promotion_id", .. }), "{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
    let error = v.store.confirm_promotion_started(&v.inspection, "summer", 12).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { field: "at", .. }), "{error}");
    assert_eq!(v.store.inspection(&v.inspection).unwrap(), before);
}

#[test]
fn a_checked_out_visit_takes_no_more_confirmations() {
    let dir = tempfile::tempdir().unwrap();
    let v = visit(&dir);
    v.store.check_out(&v.inspection, T0 + 600_000, AT_SHOP).unwrap();
    let error = v.store.confirm_promotion_started(&v.inspection, "summer", T0 + 700_000).unwrap_err();
    assert!(matches!(error, Error::InvalidState { .. }), "{error}");
    assert!(v.store.inspection(&v.inspection).unwrap().promotions_started.is_empty());
}
