//! The change feed pages: whatever the byte budget, a device that applies every page ends up
//! with every document in its scope, whole.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;

use automerge::Automerge;
use fieldsync_core::doc::{Inbox, RetailStore};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::config::Config;
use fieldsync_server::documents::{create_as_relay, edit_as_relay};
use fieldsync_server::scope::Scope;
use fieldsync_server::storage::Storage;

fn store(n: usize) -> RetailStore {
    RetailStore {
        name: format!("Shop {n}"),
        address: "Main St".into(),
        customer_id: format!("C{n}"),
        region: "north".into(),
        tier: "B".into(),
        latitude: 52.0,
        longitude: 4.0,
        rep: "rep-a".into(),
        supervisor: "sup".into(),
        active: true,
    }
}

#[tokio::test]
async fn pages_cut_by_a_small_budget_still_deliver_every_change_of_every_document() {
    let dir = tempfile::tempdir().unwrap();
    let state = Config::new(dir.path()).open_state().unwrap();
    let storage: &dyn Storage = state.storage.as_ref();
    let tenant = fieldsync_server::accounts::create_tenant(storage, "acme").await.unwrap().id;
    // Documents created early and edited late, interleaved, so that a page cut anywhere falls
    // between a document's creation and its later edits.
    let mut ids: Vec<DocumentId> = Vec::new();
    for n in 0..12 {
        ids.push(create_as_relay(storage, tenant, &store(n)).await.unwrap());
    }
    for round in 0..3 {
        for (n, id) in ids.iter().enumerate().rev() {
            edit_as_relay(storage, tenant, id, |s: &mut RetailStore| {
                s.address = format!("{round} Market Square {n}");
                Ok(())
            })
            .await
            .unwrap();
        }
    }
    let inbox =
        create_as_relay(storage, tenant, &Inbox { owner: "rep-b".into(), alerts: Default::default() }).await.unwrap();
    let scope = Scope { role: Role::Rep, user_id: "rep-a".into(), region: Some("north".into()) };

    for budget in [1, 300, 2_000, usize::MAX] {
        let mut device: HashMap<DocumentId, Automerge> = HashMap::new();
        let mut cursor = 0;
        for _ in 0..500 {
            let page = storage.feed(tenant, &scope, cursor, "some-device", budget).await.unwrap();
            for (id, bytes) in page.updates {
                let doc = device.entry(id).or_default();
                doc.load_incremental(&bytes).unwrap();
            }
            assert!(page.cursor >= cursor, "the cursor went back");
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        assert_eq!(cursor, storage.feed_position(tenant).await.unwrap(), "budget {budget}");
        assert!(!device.contains_key(&inbox), "another user's inbox was sent");
        for id in &ids {
            let stored = storage.load_doc(tenant, id).await.unwrap().unwrap();
            let relay = Automerge::load(&stored.snapshot).unwrap();
            let held = device.get(id).unwrap_or_else(|| panic!("budget {budget}: document {id} never arrived"));
            assert_eq!(held.get_heads(), relay.get_heads(), "budget {budget}: document {id} is incomplete");
        }
    }
}
