//! The README's main job, run as a test so the command stays true.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;

use fieldsync_mobile_demo::{field_day, start_relay};

#[test]
fn the_field_day_runs_end_to_end_and_hq_sees_every_order_and_inspection() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (base_url, logins) = start_relay(&runtime, dir.path(), SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let summary = field_day(&base_url, &logins, &dir.path().join("phones")).unwrap();
    assert_eq!(summary.orders_submitted, 7);
    assert_eq!(summary.orders_at_hq, 7);
    assert_eq!(summary.inspections_at_hq, 2);
    assert!(summary.photos_uploaded >= 2, "{summary:?}");
    let (approved, waiting, rejected) = summary.verdicts;
    assert_eq!(approved + waiting + rejected, 7, "every order got a verdict: {summary:?}");
    assert!(rejected >= 1, "the order priced below the floor is rejected: {summary:?}");
    assert!(summary.approvals >= 1, "{summary:?}");
    assert_eq!(summary.scores.len(), 2, "{summary:?}");
    assert!(summary.scores[0] > summary.scores[1], "the doubtful audit scores lower: {summary:?}");
    assert_eq!(summary.alerts_raised.len(), 1, "the stock import raised one low-stock alert: {summary:?}");
    assert!(summary.alerts_raised[0].to_lowercase().contains("stock"), "{summary:?}");
    assert!(summary.alerts_open >= 1, "{summary:?}");
    // A second day on the same data works too (the demo can be run again).
    let again = field_day(&base_url, &logins, &dir.path().join("phones")).unwrap();
    assert_eq!(again.orders_at_hq, 14);
}
