//! Bad input against the real socket gets a clear error and changes nothing: forged actors,
//! malformed and oversized sync bodies, wrong-hash and bomb photos, path tricks in blob ids,
//! expired and revoked tokens. After every case the relay is healthy and a phone still syncs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use automerge::{ActorId, Automerge};
use fieldsync_core::doc::{self, Order};
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::protocol::{self, Push, SyncRequest};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::services::accounts::{hash_token, new_token};
use fieldsync_server::storage::NewSession;
use fieldsync_tests::{Phone, Relay, http, photo_fixture, post_sync, sync_round};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

fn new_order(phone: &Phone) -> DocumentId {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let sku = phone.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = phone.store.product(&sku).unwrap().base_price_cents;
    let line = LineInput { sku, qty: 1, unit_price_cents: price, discount_bp: 0 };
    phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() })
        .unwrap()
}

/// The relay is healthy, stored nothing since `position`, and an honest phone still syncs.
fn still_fine(relay: &Relay, phone: &Phone, position: u64, case: &str) {
    let health = http("GET", &format!("{}/healthz", relay.base_url), None, &[], vec![]);
    assert_eq!(health.status, 200, "{case}: /healthz");
    assert_eq!(relay.feed_position(), position, "{case}: something was stored");
    let id = new_order(phone);
    let report = phone.engine.sync_now().unwrap_or_else(|e| panic!("{case}: an honest phone cannot sync: {e}"));
    assert_eq!((report.accepted, report.rejected), (1, 0), "{case}: {report:?}");
    assert!(relay.stored(&id).is_some(), "{case}");
}

/// An edit of the relay's copy of an order, written with `actor`.
fn edit_with_actor(relay: &Relay, id: &DocumentId, actor: ActorId) -> Push {
    let mut am = Automerge::load(&relay.stored(id).unwrap().snapshot).unwrap();
    am.set_actor(actor);
    let mut order: Order = doc::read(id, &am).unwrap();
    order.notes = "forged".to_owned();
    let before = am.get_heads();
    doc::update(id, &mut am, &order).unwrap();
    Push { doc: id.clone(), changes: am.save_after(&before) }
}

#[test]
fn changes_carrying_another_devices_actor_or_the_relays_actor_are_rejected() {
    let relay = Relay::start();
    let rep = &relay.users(Role::Rep, Some("north"))[0];
    let (first, second) = (relay.phone(rep), relay.phone(rep));
    first.sync();
    second.sync();
    let order = new_order(&first);
    first.sync();
    second.sync();
    let before = relay.stored(&order).unwrap().snapshot;
    let position = relay.feed_position();

    // The same user on another device presents the first device's actor.
    let taken = edit_with_actor(&relay, &order, first.store.actor());
    let request = SyncRequest { cursor: position, pushes: vec![taken], ..Default::default() };
    let response = sync_round(&relay.base_url, &second.session.token, &request);
    assert_eq!(response.rejected.len(), 1, "{response:?}");
    assert_eq!(response.rejected[0].code, "actor-taken", "{response:?}");
    assert!(response.accepted.is_empty());

    // Anyone presenting the relay's own actor.
    let relay_actor = fieldsync_server::documents::relay_actor(relay.tenant_id());
    let forged = edit_with_actor(&relay, &order, relay_actor);
    let request = SyncRequest { cursor: position, pushes: vec![forged], ..Default::default() };
    let response = sync_round(&relay.base_url, &first.session.token, &request);
    assert_eq!(response.rejected.len(), 1, "{response:?}");
    assert_eq!(response.rejected[0].code, "forbidden", "{response:?}");

    assert_eq!(relay.stored(&order).unwrap().snapshot, before);
    still_fine(&relay, &first, position, "forged actors");
    second.sync();
    assert_eq!(second.store.order(&order).unwrap().notes, "");
}

#[test]
fn pushed_bytes_that_are_not_whole_automerge_changes_are_rejected_as_invalid_not_acknowledged() {
    let relay = Relay::start();
    let phone = relay.phone(&relay.users(Role::Rep, None)[0]);
    phone.sync();
    let order = new_order(&phone);
    phone.sync();
    let before = relay.stored(&order).unwrap().snapshot;
    let position = relay.feed_position();
    let real = edit_with_actor(&relay, &order, ActorId::random());
    let cut = real.changes[..real.changes.len() - 5].to_vec();
    for (case, changes) in [("junk", b"definitely not automerge".to_vec()), ("a cut-off change", cut)] {
        let junk = Push { doc: order.clone(), changes };
        let request = SyncRequest { cursor: position, pushes: vec![junk], ..Default::default() };
        let response = sync_round(&relay.base_url, &phone.session.token, &request);
        assert_eq!(relay.stored(&order).unwrap().snapshot, before, "{case} changed the order");
        // An acknowledgement tells the device the relay holds its changes: it must not be given
        // for bytes the relay could not read.
        assert!(response.accepted.is_empty(), "{case} was acknowledged as stored: {response:?}");
        assert_eq!(response.rejected.len(), 1, "{case}: {response:?}");
        assert_eq!(response.rejected[0].code, "invalid", "{case}: {response:?}");
    }
    still_fine(&relay, &phone, position, "unreadable changes");
}

#[test]
fn malformed_truncated_and_foreign_sync_bodies_are_400_json_and_change_nothing() {
    let relay = Relay::start();
    let phone = relay.phone(&relay.users(Role::Rep, None)[0]);
    phone.sync();
    let order = new_order(&phone);
    let (changes, _) = phone.store.push_payload(&order).unwrap();
    let valid = protocol::encode(&SyncRequest {
        cursor: relay.feed_position(),
        pushes: vec![Push { doc: order.clone(), changes }],
        ..Default::default()
    });
    let mut rng = StdRng::seed_from_u64(7);
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("an empty body".into(), vec![]),
        ("JSON".into(), br#"{"cursor":0}"#.to_vec()),
        ("wrong magic".into(), [&[b'X'][..], &valid[1..]].concat()),
        ("wrong version".into(), [&[valid[0], 99][..], &valid[2..]].concat()),
        ("trailing bytes".into(), [&valid[..], &[0, 1, 2][..]].concat()),
    ];
    for cut in [2, 3, valid.len() / 2, valid.len() - 1] {
        cases.push((format!("a valid body cut to {cut} of {} bytes", valid.len()), valid[..cut].to_vec()));
    }
    for n in 0..8 {
        let mut bytes = vec![0u8; rng.random_range(1..512)];
        rng.fill_bytes(&mut bytes);
        cases.push((format!("random bytes #{n}"), bytes));
        let mut header = vec![b'F', 1];
        header.extend((0..rng.random_range(1..64)).map(|_| 0xFFu8));
        cases.push((format!("a header and overlong varints #{n}"), header));
    }
    for (case, body) in cases {
        let position = relay.feed_position();
        let answer = post_sync(&relay.base_url, &phone.session.token, body);
        if answer.status == 200 {
            // Random bytes can decode by chance; then it must be a harmless request.
            let response: protocol::SyncResponse = protocol::decode(&answer.body).unwrap();
            assert!(response.accepted.is_empty(), "{case}: {response:?}");
        } else {
            assert_eq!(answer.status, 400, "{case}: {}", String::from_utf8_lossy(&answer.body));
            assert_eq!(answer.error_code(), "malformed-sync", "{case}");
        }
        assert_eq!(relay.feed_position(), position, "{case}: something was stored");
        assert_eq!(http("GET", &format!("{}/healthz", relay.base_url), None, &[], vec![]).status, 200, "{case}");
    }
    assert!(relay.stored(&order).is_none(), "a broken body stored the order");
    // The honest phone still pushes that same order.
    let position = relay.feed_position();
    phone.sync();
    assert!(relay.stored(&order).is_some());
    still_fine(&relay, &phone, position + 1, "malformed bodies");
}

#[test]
fn a_sync_body_over_8_mib_is_413_json_and_changes_nothing() {
    let relay = Relay::start();
    let phone = relay.phone(&relay.users(Role::Rep, None)[0]);
    phone.sync();
    let position = relay.feed_position();
    let mut body = protocol::encode(&SyncRequest::default());
    body.resize(8 * 1024 * 1024 + 1, 0);
    let answer = post_sync(&relay.base_url, &phone.session.token, body);
    assert_eq!(answer.status, 413, "{}", String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]));
    assert_eq!(answer.error_code(), "too-large");
    still_fine(&relay, &phone, position, "an oversized body");
}

/// A real, tiny JPEG whose header claims 9000x9000 pixels.
fn pixel_bomb() -> Vec<u8> {
    let mut jpeg = Vec::new();
    let image = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 30, 30]));
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    // Start of frame: FF C0, length (2), precision (1), height (2), width (2).
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline JPEG has SOF0");
    let claimed = 9000u16.to_be_bytes();
    jpeg[sof + 5..sof + 7].copy_from_slice(&claimed);
    jpeg[sof + 7..sof + 9].copy_from_slice(&claimed);
    assert!(jpeg.len() < 2048);
    jpeg
}

#[test]
fn wrong_hash_photos_pixel_bombs_and_path_tricks_in_blob_ids_are_400_and_store_nothing() {
    let relay = Relay::start();
    let supervisor = relay.phone("supervisor-north");
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    rep.sync();
    let token = supervisor.session.token.clone();
    let blob = |sha: &str| format!("{}/v1/blobs/{sha}", relay.base_url);
    let jpeg = [("content-type", "image/jpeg")];
    let held = |sha: &str| relay.block_on(relay.state.storage.get_blob(relay.tenant_id(), sha)).unwrap();
    let position = relay.feed_position();

    let photo = photo_fixture("hopper.jpg");
    let real = fieldsync_server::blobs::sha256_hex(&photo);
    let wrong = fieldsync_server::blobs::sha256_hex(b"something else");
    let answer = http("PUT", &blob(&wrong), Some(&token), &jpeg, photo.clone());
    assert_eq!((answer.status, answer.error_code().as_str()), (400, "hash-mismatch"));
    assert!(held(&wrong).is_none_or(|b| !b.complete));
    assert_eq!(http("HEAD", &blob(&wrong), Some(&token), &[], vec![]).status, 404);
    // The same, sent in two parts: the last part fails verification and the upload is dropped.
    let half = photo.len() / 2;
    let range = |from: usize, to: usize| format!("bytes {from}-{}/{}", to - 1, photo.len());
    let first = http("PUT", &blob(&wrong), Some(&token), &[("content-range", &range(0, half))], photo[..half].to_vec());
    assert_eq!(first.status, 202);
    let last = http(
        "PUT",
        &blob(&wrong),
        Some(&token),
        &[("content-range", &range(half, photo.len()))],
        photo[half..].to_vec(),
    );
    assert_eq!((last.status, last.error_code().as_str()), (400, "hash-mismatch"));
    let head = http("HEAD", &blob(&wrong), Some(&token), &[], vec![]);
    assert_eq!((head.status, head.header("upload-offset").as_deref()), (404, Some("0")));

    let bomb = pixel_bomb();
    let bomb_sha = fieldsync_server::blobs::sha256_hex(&bomb);
    let answer = http("PUT", &blob(&bomb_sha), Some(&token), &jpeg, bomb);
    assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.error_code(), "invalid-image");
    assert!(held(&bomb_sha).is_none_or(|b| !b.complete));

    let bad_ids = [
        format!("..%2F..%2F{}", &real[10..]),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        real.to_uppercase(),
        real[..63].to_owned(),
        format!("{real}0"),
        format!("{}g", &real[..63]),
    ];
    for id in &bad_ids {
        for method in ["GET", "PUT"] {
            let answer =
                http(method, &blob(id), Some(&token), &jpeg, if method == "PUT" { photo.clone() } else { vec![] });
            assert_eq!(answer.status, 400, "{method} {id}");
            assert_eq!(answer.error_code(), "invalid-id", "{method} {id}");
        }
        assert_eq!(http("HEAD", &blob(id), Some(&token), &[], vec![]).status, 400, "HEAD {id}");
    }
    assert!(held(&real).is_none(), "a refused upload left a record");
    let tenant_blobs = relay.state.config.blob_dir().join(relay.tenant_id().to_string());
    let files = walk(&tenant_blobs);
    assert!(files.is_empty(), "refused uploads left files: {files:?}");
    still_fine(&relay, &rep, position, "bad photos");
    // And the right upload of the same bytes works.
    assert_eq!(http("PUT", &blob(&real), Some(&token), &jpeg, photo).status, 201);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    entries
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { walk(&path) } else { vec![path] }
        })
        .collect()
}

#[test]
fn expired_revoked_unknown_and_missing_tokens_are_401_json() {
    let relay = Relay::start();
    let rep = relay.users(Role::Rep, None)[0].clone();
    let phone = relay.phone(&rep);
    phone.sync();
    let position = relay.feed_position();

    let revoked = relay.phone(&rep);
    revoked.sync();
    fieldsync_core::sync::logout(&relay.base_url, &revoked.session.token).unwrap();

    let user_id = relay.login_of(&rep).user_id.clone();
    let expired = new_token();
    let storage = relay.state.storage.as_ref();
    let now = fieldsync_core::clock::now_ms();
    let tenant_id = relay.tenant_id();
    relay.block_on(async {
        let device = storage.register_device(tenant_id, &user_id, "old phone", now - 10_000).await.unwrap();
        storage
            .create_session(NewSession {
                token_hash: hash_token(&expired),
                tenant_id,
                user_id: user_id.clone(),
                device_id: device.id,
                created_at: now - 10_000,
                expires_at: now - 1,
            })
            .await
            .unwrap();
    });
    let body = protocol::encode(&SyncRequest::default());
    let cases = [
        ("an expired token", Some(expired.as_str())),
        ("a revoked token", Some(revoked.session.token.as_str())),
        ("an unknown token", Some("not-a-token")),
        ("no token", None),
    ];
    for (case, token) in cases {
        let headers = [("content-type", "application/x-fieldsync-sync")];
        let answer = http("POST", &format!("{}/v1/sync", relay.base_url), token, &headers, body.clone());
        assert_eq!((answer.status, answer.error_code().as_str()), (401, "unauthenticated"), "{case}");
        let answer = http("GET", &format!("{}/v1/orders", relay.base_url), token, &[], vec![]);
        assert_eq!(answer.status, 401, "{case}");
    }
    // A revoked phone is told it is signed out, and keeps its unsent work.
    let id = new_order(&revoked);
    match revoked.engine.sync_now() {
        Err(fieldsync_core::sync::SyncError::Transport(fieldsync_core::sync::TransportError::Unauthenticated(_))) => {}
        other => panic!("a revoked phone's sync must fail as signed out, got {other:?}"),
    }
    assert_eq!(revoked.store.pending_documents().unwrap(), vec![id]);
    still_fine(&relay, &phone, position, "bad tokens");
}
