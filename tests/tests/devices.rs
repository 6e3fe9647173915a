//! HQ's devices page: which phones still held work the relay had not accepted at their last
//! sync, as the phones' own sync requests told the relay.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldsync_core::Role;
use fieldsync_core::sync::SyncOptions;
use fieldsync_tests::{Relay, new_order};

/// The text of the devices table's "unsynced at last sync" cell of the device named `device`.
fn unsynced_cell(page: &str, device: &str) -> String {
    let row = page.find(&format!(">{device}<")).unwrap_or_else(|| panic!("no row for {device}"));
    let cell = row + page[row..].find("class=\"unsynced\"").expect("an unsynced cell");
    let start = cell + page[cell..].find('>').unwrap() + 1;
    let end = start + page[start..].find("</td>").unwrap();
    let inner = &page[start..end];
    // Tags out, text in.
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_phone_that_ends_a_sync_holding_work_shows_it_on_the_devices_page_until_it_hands_it_over() {
    let relay = Relay::start();
    let rep = relay.users(Role::Rep, Some("north"))[0].clone();
    // A phone whose sync gives up after one round of one push: three orders made offline, two
    // of them still on the phone when the round ends.
    let stingy = SyncOptions { max_rounds: 1, pushes_per_round: 1, ..SyncOptions::default() };
    let phone = relay.phone_with(&rep, stingy.clone());
    phone.sync();
    let device = phone.session.device_id.clone();
    let name = relay.block_on(relay.state.storage.list_devices(relay.tenant_id(), &phone.session.user_id)).unwrap();
    let name = name.iter().find(|d| d.id == device).expect("the phone's device").name.clone();
    assert_eq!(unsynced_cell(&relay.dashboard_page("hq-admin", "/dashboard/devices"), &name), "none");

    for _ in 0..3 {
        new_order(&phone);
    }
    phone.sync();
    assert_eq!(phone.store.pending_documents().unwrap().len(), 2, "one round of one push leaves two");
    let page = relay.dashboard_page("hq-admin", "/dashboard/devices");
    assert!(unsynced_cell(&page, &name).starts_with("2 documents"), "{}", unsynced_cell(&page, &name));
    let listed = &page[page.find("id=\"unsynced-devices\"").expect("the list of devices holding work")..];
    assert!(listed[..listed.find("</ul>").expect("a list")].contains(&name), "the phone is listed as holding work");

    // The next full sync hands everything over, and the page says so.
    phone.engine.sync_now().unwrap();
    while !phone.store.pending_documents().unwrap().is_empty() {
        phone.engine.sync_now().unwrap();
    }
    let page = relay.dashboard_page("hq-admin", "/dashboard/devices");
    assert_eq!(unsynced_cell(&page, &name), "none");
    assert!(page.contains("every device had handed the relay all its work"));
}

/// The text of the "Last sync" cell of `username`'s rows, one per device (or one for no device).
fn last_sync_cells(page: &str, username: &str) -> Vec<String> {
    let marker = format!("data-user=\"{username}\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let row = &page[at..at + page[at..].find("</tr>").unwrap()];
            let cell = row.find("class=\"last-sync\"").expect("a last-sync cell");
            let start = cell + row[cell..].find('>').unwrap() + 1;
            let inner = &row[start..start + row[start..].find("</td>").unwrap()];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn a_rep_who_never_synced_is_listed_as_never_and_one_who_synced_with_the_time() {
    let relay = Relay::start();
    let north = relay.users(Role::Rep, Some("north"));
    let (never_signed_in, signed_in_only, synced) = (&north[0], &north[1], &north[2]);
    let _idle = relay.phone(signed_in_only);
    relay.phone(synced).sync();

    let page = relay.dashboard_page("hq-admin", "/dashboard/devices");
    assert_eq!(last_sync_cells(&page, never_signed_in), ["never"]);
    let idle = last_sync_cells(&page, signed_in_only);
    assert_eq!(idle.len(), 1);
    assert!(idle[0].starts_with("never (signed in"), "{idle:?}");
    let done = last_sync_cells(&page, synced);
    assert!(done.len() == 1 && !done[0].starts_with("never"), "{done:?}");
    let stale = &page[page.find("id=\"stale-reps\"").unwrap()..];
    let stale = &stale[..stale.find("</ul>").unwrap()];
    assert!(stale.contains(&format!("{signed_in_only} — never synced")), "{stale}");
    assert!(!stale.contains(&format!("{synced} —")), "{stale}");

    // Every user of the tenant is on HQ's page; a manager sees every user of their region.
    for login in &relay.logins {
        assert!(page.contains(&format!("data-user=\"{}\"", login.username)), "{} listed for HQ", login.username);
    }
    let managers = relay.dashboard_page("manager-north", "/dashboard/devices");
    for login in &relay.logins {
        let listed = managers.contains(&format!("data-user=\"{}\"", login.username));
        assert_eq!(listed, login.region.as_deref() == Some("north"), "{} on the manager's page", login.username);
    }
}
