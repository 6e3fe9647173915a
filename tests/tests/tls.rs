//! HTTPS served by the relay itself, with a certificate generated in the test: a phone that
//! pins it signs in and syncs; a phone trusting only public CAs, or pinning another certificate,
//! is refused before it sends its password; a renewed certificate is served without a restart;
//! the live channel runs over `wss://` with the same pinning; a phone can pin the relay's
//! public key on top of its certificate chain.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::pinning::public_key_sha256;
use fieldsync_core::sync::{HttpTransport, RelayTrust, SyncEngine, TransportError, login_with, watch_with};
use fieldsync_core::{Identity, LocalStore, Role};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::http::tls::{TlsFiles, TlsListener};
use fieldsync_server::seed::seed_demo;

/// A self-signed certificate for `127.0.0.1` and `localhost`: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(names).unwrap();
    (cert.pem(), signing_key.serialize_pem())
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) -> TlsFiles {
    let files = TlsFiles { cert: dir.join("relay.crt"), key: dir.join("relay.key") };
    // Written beside and renamed, as a renewal tool does, so the relay never reads half a file.
    for (path, text) in [(&files.key, key), (&files.cert, cert)] {
        let partial = path.with_extension("partial");
        std::fs::write(&partial, text).unwrap();
        std::fs::rename(&partial, path).unwrap();
    }
    files
}

struct TlsRelay {
    base_url: String,
    tenant: String,
    username: String,
    password: String,
    _runtime: tokio::runtime::Runtime,
}

/// A relay with the demo tenant serving HTTPS with `files`, checking them every 100 ms.
fn start(dir: &Path, files: TlsFiles) -> TlsRelay {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut config = Config::new(dir.join("relay"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let (state, logins) = runtime.block_on(async {
        let state = config.open().await.unwrap();
        let logins = seed_demo(state.storage.as_ref(), PasswordCost::insecure_for_tests()).await.unwrap().logins;
        (state, logins)
    });
    let rep = logins.iter().find(|l| l.role == Role::Rep).expect("a demo rep").clone();
    let address = runtime.block_on(async {
        let tcp = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let address = tcp.local_addr().unwrap();
        let listener = TlsListener::new(tcp, files, Duration::from_millis(100)).unwrap().tap_io(|_| {});
        let app = fieldsync_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        address
    });
    TlsRelay {
        base_url: format!("https://localhost:{}", address.port()),
        tenant: rep.tenant,
        username: rep.username,
        password: rep.password,
        _runtime: runtime,
    }
}

fn sign_in(relay: &TlsRelay, trust: &RelayTrust) -> Result<fieldsync_core::sync::Session, TransportError> {
    login_with(trust, &relay.base_url, &relay.tenant, &relay.username, &relay.password, "tls test phone")
}

#[test]
fn a_phone_pinning_the_relays_certificate_signs_in_and_syncs_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let pair = certificate();
    let relay = start(dir.path(), write_pair(dir.path(), &pair));
    let trust = RelayTrust::pinned_pem(pair.0.as_bytes()).unwrap();

    let session = sign_in(&relay, &trust).expect("login over https");
    let store = Arc::new(LocalStore::open(dir.path().join("phone.db")).unwrap());
    let role: Role = session.role.parse().unwrap();
    store.set_identity(&Identity { tenant: relay.tenant.clone(), user_id: session.user_id.clone(), role }).unwrap();
    let transport = Arc::new(HttpTransport::with_trust(&relay.base_url, &session.token, &trust));
    let engine = SyncEngine::new(store.clone(), transport);
    let report = engine.sync_now().expect("sync over https");
    assert!(report.received > 0, "the rep's scope arrived: {report:?}");
    assert!(!store.stores().unwrap().is_empty());
}

#[test]
fn a_phone_that_does_not_trust_the_certificate_is_refused_before_it_sends_anything() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start(dir.path(), write_pair(dir.path(), &certificate()));
    let stranger = RelayTrust::pinned_pem(certificate().0.as_bytes()).unwrap();
    for (what, trust) in [("public CAs only", RelayTrust::PublicCas), ("another pinned certificate", stranger)] {
        match sign_in(&relay, &trust) {
            Err(TransportError::Unreachable(reason)) => {
                assert!(reason.to_lowercase().contains("certificate"), "{what}: {reason}")
            }
            other => panic!("{what}: expected a certificate failure, got {other:?}"),
        }
    }
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let old = certificate();
    let relay = start(dir.path(), write_pair(dir.path(), &old));
    let old_trust = RelayTrust::pinned_pem(old.0.as_bytes()).unwrap();
    sign_in(&relay, &old_trust).expect("the first certificate is served");

    let new = certificate();
    write_pair(dir.path(), &new);
    let new_trust = RelayTrust::pinned_pem(new.0.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sign_in(&relay, &new_trust).is_err() {
        assert!(Instant::now() < deadline, "the renewed certificate was never served");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(sign_in(&relay, &old_trust).is_err(), "the old certificate is still served");

    // A broken renewal keeps the pair being served.
    std::fs::write(dir.path().join("relay.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sign_in(&relay, &new_trust).expect("the last good certificate is still served");
}

#[test]
fn pinning_text_without_a_certificate_is_refused() {
    let error = RelayTrust::pinned_pem(b"hello").unwrap_err();
    assert!(error.to_string().contains("no PEM CERTIFICATE"), "{error}");
    let (_, key) = certificate();
    assert!(RelayTrust::pinned_pem(key.as_bytes()).is_err(), "a private key is not a certificate");
}

#[test]
fn a_relay_does_not_start_with_a_key_that_does_not_match_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = certificate();
    let (_, other_key) = certificate();
    let files = write_pair(dir.path(), &(cert, other_key));
    let error = files.load().expect_err("a mismatched pair loaded");
    assert!(error.to_string().contains("relay.crt"), "{error}");
    let missing = TlsFiles { cert: dir.path().join("none.crt"), key: dir.path().join("none.key") };
    assert!(missing.load().expect_err("missing files loaded").to_string().contains("none.crt"));
}

#[test]
fn the_live_channel_runs_over_wss_with_the_same_pinning_as_the_sync_requests() {
    let dir = tempfile::tempdir().unwrap();
    let pair = certificate();
    let relay = start(dir.path(), write_pair(dir.path(), &pair));
    let trust = RelayTrust::pinned_pem(pair.0.as_bytes()).unwrap();
    let session = sign_in(&relay, &trust).expect("login over https");

    let (heard, notices) = std::sync::mpsc::channel();
    let _live = watch_with(&trust, &relay.base_url, &session.token, move |position| {
        let _ = heard.send(position);
    });
    // A connect announces itself with position 0 (catch up on whatever was missed).
    assert_eq!(notices.recv_timeout(Duration::from_secs(20)).expect("the live channel connected over wss"), 0);

    // The rep's own order, pushed over HTTPS by another of the rep's phones, is announced over wss.
    let tablet = sign_in(&relay, &trust).expect("a second device signs in");
    let store = Arc::new(LocalStore::open(dir.path().join("tablet.db")).unwrap());
    let role: Role = tablet.role.parse().unwrap();
    store.set_identity(&Identity { tenant: relay.tenant.clone(), user_id: tablet.user_id.clone(), role }).unwrap();
    let engine =
        SyncEngine::new(store.clone(), Arc::new(HttpTransport::with_trust(&relay.base_url, &tablet.token, &trust)));
    engine.sync_now().expect("sync over https");
    let (store_id, _) = store.stores().unwrap().into_iter().next().unwrap();
    let sku = store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = store.product(&sku).unwrap().base_price_cents;
    let line = LineInput { sku, qty: 2, unit_price_cents: price, discount_bp: 0 };
    store.create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() }).unwrap();
    engine.sync_now().expect("push over https");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match notices.recv_timeout(left) {
            Ok(position) if position > 0 => break,
            Ok(_) => {}
            Err(_) => panic!("no notice of the order arrived over wss"),
        }
    }

    // A phone that does not trust the certificate never gets a channel: the pinned one above
    // connected well within this time.
    let (refused, nothing) = std::sync::mpsc::channel();
    let stranger = RelayTrust::pinned_pem(certificate().0.as_bytes()).unwrap();
    let _others: Vec<_> = [RelayTrust::PublicCas, stranger]
        .iter()
        .map(|trust| {
            let refused = refused.clone();
            watch_with(trust, &relay.base_url, &session.token, move |position| {
                let _ = refused.send(position);
            })
        })
        .collect();
    assert!(nothing.recv_timeout(Duration::from_secs(3)).is_err(), "an untrusted certificate opened a live channel");
}

/// The hex SHA-256 of a generated key's SubjectPublicKeyInfo, as rcgen encodes it.
fn public_key_pin() -> (String, String, String) {
    use rcgen::PublicKeyData;
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(names).unwrap();
    let pin = fieldsync_core::photo::sha256_hex(&signing_key.subject_public_key_info());
    assert_eq!(
        public_key_sha256(cert.der()).map(hex_of),
        Some(pin.clone()),
        "the phone finds the same public key in the certificate"
    );
    (cert.pem(), signing_key.serialize_pem(), pin)
}

fn hex_of(bytes: [u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_phone_pinning_the_relays_public_key_syncs_and_goes_live_and_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pin) = public_key_pin();
    let relay = start(dir.path(), write_pair(dir.path(), &(cert.clone(), key)));
    let chain = RelayTrust::pinned_pem(cert.as_bytes()).unwrap();

    let trust = chain.clone().with_public_keys(std::slice::from_ref(&pin)).unwrap();
    let session = sign_in(&relay, &trust).expect("login with the relay's key pinned");
    let store = Arc::new(LocalStore::open(dir.path().join("phone.db")).unwrap());
    let role: Role = session.role.parse().unwrap();
    store.set_identity(&Identity { tenant: relay.tenant.clone(), user_id: session.user_id.clone(), role }).unwrap();
    let engine =
        SyncEngine::new(store.clone(), Arc::new(HttpTransport::with_trust(&relay.base_url, &session.token, &trust)));
    assert!(engine.sync_now().expect("sync with the key pinned").received > 0);
    let (heard, notices) = std::sync::mpsc::channel();
    let _live = watch_with(&trust, &relay.base_url, &session.token, move |position| {
        let _ = heard.send(position);
    });
    assert_eq!(
        notices.recv_timeout(Duration::from_secs(20)).expect("the live channel connected with the key pinned"),
        0
    );

    // The right chain with another key pinned is refused, before the password is sent.
    let (_, _, other) = public_key_pin();
    match sign_in(&relay, &chain.clone().with_public_keys(&[other]).unwrap()) {
        Err(TransportError::Unreachable(reason)) => assert!(reason.contains("pinned public key"), "{reason}"),
        other => panic!("another key pinned: expected a refusal, got {other:?}"),
    }
    // The right key does not stand in for the chain: public CAs do not vouch for this certificate.
    match sign_in(&relay, &RelayTrust::PublicCas.with_public_keys(std::slice::from_ref(&pin)).unwrap()) {
        Err(TransportError::Unreachable(reason)) => assert!(reason.to_lowercase().contains("certificate"), "{reason}"),
        other => panic!("the key without the chain: expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_public_key_pin_that_is_not_a_sha256_is_refused() {
    for (text, why) in [("zz", "not hex"), ("abcd", "2 bytes")] {
        let error = RelayTrust::PublicCas.with_public_keys(&[text.to_owned()]).unwrap_err();
        assert!(error.to_string().contains(why), "{text}: {error}");
    }
    assert!(RelayTrust::PublicCas.with_public_keys(&[]).is_err(), "pinning no key at all");
}
