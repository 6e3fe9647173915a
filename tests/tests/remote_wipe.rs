//! Remote wipe: HQ revokes a phone or disables its user over the relay's API; at its next sync
//! the phone erases what it holds, and nothing readable of its orders or photos stays on disk.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use fieldsync_core::Role;
use fieldsync_core::local_store::NewOrder;
use fieldsync_core::sync::{SyncError, TransportError};
use fieldsync_tests::{Phone, Relay, http, new_order, queue_photos};

const NOTE: &str = "leave the crates with Mrs Abernathy-Quist at the side gate";

/// The files of `phone` (its database, WAL and shared memory), by name.
fn phone_files(phone: &Phone) -> Vec<(String, Vec<u8>)> {
    let name = phone.path.file_name().unwrap().to_string_lossy().into_owned();
    let dir = phone.path.parent().unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&name) {
            files.push((file, std::fs::read(entry.path()).unwrap()));
        }
    }
    files
}

/// Which of `needles` some file of the phone still holds.
fn readable(phone: &Phone, needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, bytes) in phone_files(phone) {
        for (what, needle) in needles {
            if bytes.windows(needle.len()).any(|window| window == needle.as_slice()) {
                found.push(format!("{what} in {file}"));
            }
        }
    }
    found
}

/// A 64-byte run from the middle of `bytes`.
fn middle(bytes: &[u8]) -> Vec<u8> {
    bytes[bytes.len() / 2..bytes.len() / 2 + 64].to_vec()
}

fn hq_token(relay: &Relay) -> String {
    relay.phone(&relay.users(Role::Hq, None)[0]).session.token.clone()
}

/// Two orders made offline and never synced, one with a note nobody else writes.
fn unsynced_order_with_note(phone: &Phone) {
    new_order(phone);
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().unwrap();
    let new = NewOrder { store_id: store_id.to_string(), lines: Vec::new(), notes: NOTE.into() };
    phone.store.create_order(new).unwrap();
}

fn assert_wiped(phone: &Phone, needles: &[(String, Vec<u8>)], reason: &str) {
    match phone.engine.sync_now() {
        Err(SyncError::Transport(TransportError::Revoked(said))) => assert!(said.contains(reason), "{said}"),
        other => panic!("expected the relay to say revoked, got {other:?}"),
    }
    let wiped = phone.engine.status().unwrap().wiped.expect("the status reports the wipe");
    assert!(wiped.reason.contains(reason), "{}", wiped.reason);
    assert_eq!(phone.store.identity(), None, "the signed-in user is forgotten");
    assert!(phone.store.pending_documents().unwrap().is_empty());
    assert_eq!(phone.store.pending_photos().unwrap(), (0, 0));
    assert!(phone.store.held_heads(&Default::default()).unwrap().is_empty(), "documents remain");
    assert_eq!(readable(phone, needles), Vec::<String>::new());
}

#[test]
fn a_revoked_phone_erases_its_orders_and_photos_at_its_next_sync_and_nothing_readable_remains() {
    let relay = Relay::start();
    let hq = hq_token(&relay);
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    let supervisor = relay.phone(&relay.users(Role::Supervisor, Some("north"))[0]);
    rep.sync();
    supervisor.sync();

    unsynced_order_with_note(&rep);
    queue_photos(&supervisor, 2);
    let photos = supervisor.store.pending_photo_uploads().unwrap();
    let mut needles = vec![("order note".to_owned(), NOTE.as_bytes().to_vec())];
    for photo in &photos {
        needles
            .push((format!("photo {}", photo.sha256), middle(&supervisor.store.photo_bytes(&photo.sha256).unwrap())));
        let thumbnail = supervisor.store.photo_thumbnail(&photo.sha256).unwrap();
        needles.push((format!("thumbnail {}", photo.sha256), middle(&thumbnail)));
    }
    // The scan finds them before the wipe, so its empty answer after means something.
    assert_eq!(readable(&rep, &needles).len(), 1, "{:?}", readable(&rep, &needles));
    assert_eq!(readable(&supervisor, &needles).len(), needles.len() - 1, "{:?}", readable(&supervisor, &needles));

    // HQ revokes the rep's phone and disables the supervisor.
    let base = &relay.base_url;
    let revoked = http("POST", &format!("{base}/v1/devices/{}/revoke", rep.session.device_id), Some(&hq), &[], vec![]);
    assert_eq!(revoked.status, 200, "{}", String::from_utf8_lossy(&revoked.body));
    let username = supervisor.username.clone();
    let disabled = http("POST", &format!("{base}/v1/users/{username}/disable"), Some(&hq), &[], vec![]);
    assert_eq!(disabled.status, 200, "{}", String::from_utf8_lossy(&disabled.body));

    assert_wiped(&rep, &needles, "was revoked");
    assert_wiped(&supervisor, &needles, "is disabled");
    // The wiped store is empty and usable, and a second contact changes nothing.
    assert!(matches!(rep.engine.sync_now(), Err(SyncError::Transport(TransportError::Revoked(_)))));
    rep.store.integrity_check().unwrap();
}

#[test]
fn a_signed_out_or_expired_session_keeps_the_phone_data_only_a_revocation_wipes() {
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    rep.sync();
    unsynced_order_with_note(&rep);
    // The session ends (as a logout elsewhere or an expiry would), the device stays trusted.
    fieldsync_core::sync::logout(&relay.base_url, &rep.session.token).unwrap();
    assert!(matches!(rep.engine.sync_now(), Err(SyncError::Transport(TransportError::Unauthenticated(_)))));
    assert_eq!(rep.engine.status().unwrap().wiped, None);
    assert!(rep.store.identity().is_some());
    assert_eq!(rep.store.pending_documents().unwrap().len(), 2, "the unsynced orders stay for the next sign-in");
}

#[test]
fn only_hq_may_revoke_and_never_its_own_device_or_user() {
    let relay = Relay::start();
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    let manager = relay.phone(&relay.users(Role::Manager, Some("north"))[0]);
    let base = &relay.base_url;
    let post = |path: &str, token: &str| http("POST", &format!("{base}{path}"), Some(token), &[], vec![]);

    let by_manager = post(&format!("/v1/devices/{}/revoke", rep.session.device_id), &manager.session.token);
    assert_eq!((by_manager.status, by_manager.error_code()), (403, "forbidden".to_owned()));
    let by_rep = post(&format!("/v1/users/{}/disable", manager.username), &rep.session.token);
    assert_eq!((by_rep.status, by_rep.error_code()), (403, "forbidden".to_owned()));
    let own_device = post(&format!("/v1/devices/{}/revoke", hq.session.device_id), &hq.session.token);
    assert_eq!(own_device.status, 409);
    let own_user = post(&format!("/v1/users/{}/disable", hq.username), &hq.session.token);
    assert_eq!(own_user.status, 409);
    assert_eq!(post("/v1/devices/no-such-device/revoke", &hq.session.token).status, 404);
    assert_eq!(post("/v1/users/nobody/disable", &hq.session.token).status, 404);
    // Nothing was revoked: every phone still syncs.
    for phone in [&hq, &rep, &manager] {
        phone.sync();
    }
    assert!(Path::new(&rep.path).exists());
}

/// A dashboard session of the demo user `username`: (agent that follows no redirect, cookie).
fn dashboard_session(relay: &Relay, username: &str) -> (ureq::Agent, String) {
    use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
    let login = relay.login_of(username);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let form = format!("tenant={}&username={username}&password={}&csrf=check", login.tenant, login.password);
    let answer = agent
        .post(format!("{}/dashboard/login", relay.base_url))
        .header("cookie", format!("{LOGIN_CSRF_COOKIE}=check"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form)
        .unwrap();
    let session = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")).and_then(|rest| rest.split(';').next()))
        .unwrap()
        .to_owned();
    (agent, session)
}

#[test]
fn hq_revokes_a_phone_from_the_devices_page_with_the_sessions_csrf_token_and_the_phone_wipes_itself() {
    use fieldsync_server::dashboard::session::{SESSION_COOKIE, csrf_token};
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    rep.sync();
    unsynced_order_with_note(&rep);
    let hq = relay.users(Role::Hq, None)[0].clone();
    let page = relay.dashboard_page(&hq, "/dashboard/devices");
    let action = format!("/dashboard/devices/{}/revoke", rep.session.device_id);
    assert!(page.contains(&format!("action=\"{action}\"")), "HQ sees the revoke button");
    let manager = relay.users(Role::Manager, Some("north"))[0].clone();
    assert!(!relay.dashboard_page(&manager, "/dashboard/devices").contains("/revoke\""), "a manager sees none");

    let (agent, session) = dashboard_session(&relay, &hq);
    let post = |csrf: &str| {
        agent
            .post(format!("{}{action}", relay.base_url))
            .header("cookie", format!("{SESSION_COOKIE}={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("csrf={csrf}"))
            .unwrap()
            .status()
            .as_u16()
    };
    // A forged form (no token, or another session's) changes nothing.
    assert_eq!(post(""), 403);
    assert_eq!(post(&csrf_token("another session")), 403);
    rep.sync();
    assert!(rep.store.identity().is_some());

    assert_eq!(post(&csrf_token(&session)), 303);
    let needles = vec![("order note".to_owned(), NOTE.as_bytes().to_vec())];
    assert_wiped(&rep, &needles, "was revoked");
    assert!(!relay.dashboard_page(&hq, "/dashboard/devices").contains(&action), "a revoked device is not listed");
}
