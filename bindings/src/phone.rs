//! The phone: the one object an app holds. It opens the local store and, once someone signs in,
//! owns the sync engine that talks to the relay.

use std::sync::{Arc, Mutex, MutexGuard};

use fieldsync_core::i18n::Language;
use fieldsync_core::sync::{BackgroundSync, HttpTransport, LiveWatch, RelayTrust, SyncEngine, login_with, logout_with};
use fieldsync_core::{DocumentId, Identity, LocalStore, StoreKey};

use crate::error::FieldSyncError;
use crate::listener::{ListenerBridge, ListenerSlot, forward_document_changes};

/// A user's role: it decides which documents the phone holds and which it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    /// A field rep: takes orders for their stores.
    Rep,
    /// A supervisor: audits the stores of their region.
    Supervisor,
    /// A manager: approves orders of their region.
    Manager,
    /// Head office: sees everything.
    Hq,
}

/// The user signed in on this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    /// Tenant (company) name.
    pub tenant: String,
    /// User id; it owns the orders and inspections made on this phone.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
}

/// A signed-in session, as the relay granted it at `login`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    /// Tenant name.
    pub tenant: String,
    /// The user's id.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
    /// The user's region, if any.
    pub region: Option<String>,
    /// The device id the relay registered for this phone.
    pub device_id: String,
    /// The bearer token. Keep it in the platform's secure storage and pass it to
    /// `resume_session` at the next app start, so the user need not type the password again.
    pub token: String,
    /// When the token expires, ms since the Unix epoch.
    pub expires_at: i64,
}

/// The relay connection of a signed-in phone.
pub(crate) struct Connection {
    pub(crate) base_url: String,
    pub(crate) token: String,
    pub(crate) engine: Arc<SyncEngine>,
}

/// A FieldSync phone: the local store of documents and photos, and the sync with the relay.
///
/// Every method is synchronous and may block on disk or network: call them off the UI thread
/// (a background dispatcher / queue). The object is safe to share between threads.
#[derive(uniffi::Object)]
pub struct FieldSyncPhone {
    pub(crate) store: Arc<LocalStore>,
    pub(crate) listener: Arc<ListenerSlot>,
    pub(crate) connection: Mutex<Option<Connection>>,
    /// Shared with the live channel's thread, which wakes the documents lane through it.
    pub(crate) background: Arc<Mutex<Option<BackgroundSync>>>,
    pub(crate) live: Mutex<Option<LiveWatch>>,
    /// Which certificates an `https://` relay may present (`pin_relay_certificates`).
    pub(crate) trust: Mutex<RelayTrust>,
    /// The app's language (`set_language`): every text the phone returns is in it.
    pub(crate) language: Mutex<Language>,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// Opens (creating if needed) the phone's database at `path`, e.g. a file in the app's
    /// private files directory. Everything works offline from here on; call `login` to sync.
    ///
    /// With `key` (32 random bytes the app keeps in the Android Keystore / iOS Keychain) the
    /// database, its photos and thumbnails are encrypted at rest; a plain database found at
    /// `path` is encrypted on the way, keeping everything it holds. A key that does not open the
    /// file fails with `WrongKey` and changes nothing. Without a key the file is plain.
    #[uniffi::constructor(default(key = None))]
    pub fn open(path: String, key: Option<Vec<u8>>) -> Result<Arc<Self>, FieldSyncError> {
        let store = match key {
            Some(key) => LocalStore::open_encrypted(&path, StoreKey::from_bytes(&key)?)?,
            None => LocalStore::open(&path)?,
        };
        let store = Arc::new(store);
        let listener = Arc::new(ListenerSlot::default());
        forward_document_changes(&store, &listener);
        Ok(Arc::new(Self {
            store,
            listener,
            connection: Mutex::new(None),
            background: Arc::new(Mutex::new(None)),
            live: Mutex::new(None),
            trust: Mutex::new(RelayTrust::default()),
            language: Mutex::new(Language::default()),
        }))
    }

    /// Sets the app's language from its locale's BCP 47 tag (`en`, `en-GB`, `zh-CN`, `zh-Hans`):
    /// findings, score reasons and photo quality texts come back in it from now on (English
    /// until this is called). Their codes are unchanged. A language FieldSync does not speak
    /// fails with `InvalidInput` and keeps the current one.
    pub fn set_language(&self, tag: String) -> Result<(), FieldSyncError> {
        let language = tag.parse::<Language>().map_err(|error| FieldSyncError::InvalidInput {
            field: "language".to_owned(),
            reason: error.to_string(),
        })?;
        *lock(&self.language) = language;
        Ok(())
    }

    /// The language texts come back in, as a tag: `en` or `zh-CN`.
    pub fn language(&self) -> String {
        self.current_language().tag().to_owned()
    }

    /// Re-encrypts the database with `new_key` (key rotation); the old key no longer opens it.
    /// Store the new key before calling, and delete the old one after it returns. Fails with
    /// `InvalidState` on a database opened without a key.
    pub fn rekey(&self, new_key: Vec<u8>) -> Result<(), FieldSyncError> {
        Ok(self.store.rekey(StoreKey::from_bytes(&new_key)?)?)
    }

    /// Whether the database is encrypted (it was opened with a key).
    pub fn is_encrypted(&self) -> bool {
        self.store.is_encrypted()
    }

    /// Trusts only these certificates (PEM: one or more `BEGIN CERTIFICATE` blocks) for an
    /// `https://` relay from now on: the relay's own certificate, or the company's CA. Public CAs
    /// are then no longer trusted (pinning). Call it before `login` / `resume_session`. Without
    /// it the relay's certificate must chain to a public CA. Certificates are always verified.
    pub fn pin_relay_certificates(&self, pem: String) -> Result<(), FieldSyncError> {
        *lock(&self.trust) = RelayTrust::pinned_pem(pem.as_bytes())?;
        Ok(())
    }

    /// Also requires the relay's certificate chain to hold one of these public keys (pinning by
    /// key, which survives renewals that keep the key): each the hex SHA-256 of a DER
    /// SubjectPublicKeyInfo, as `openssl x509 -in relay.crt -pubkey -noout | openssl pkey -pubin
    /// -outform der | sha256sum` prints it. The chain is still verified against the public CAs,
    /// or the certificates of `pin_relay_certificates` (call that first). Call it before `login`
    /// / `resume_session`; it applies to the sync requests, photo uploads and the live channel.
    pub fn pin_relay_public_keys(&self, sha256_hex: Vec<String>) -> Result<(), FieldSyncError> {
        let mut trust = lock(&self.trust);
        *trust = trust.clone().with_public_keys(&sha256_hex)?;
        Ok(())
    }

    /// The user signed in on this phone (kept across restarts), if any.
    pub fn user(&self) -> Option<User> {
        self.store.identity().map(User::from)
    }

    /// Signs in at the relay `base_url` (e.g. `https://relay.example.com`) and connects the sync
    /// engine. New orders and inspections belong to this user.
    pub fn login(
        &self,
        base_url: String,
        tenant: String,
        username: String,
        password: String,
        device_name: String,
    ) -> Result<Session, FieldSyncError> {
        let trust = lock(&self.trust).clone();
        let session = login_with(&trust, &base_url, &tenant, &username, &password, &device_name)?;
        let role: fieldsync_core::Role = session.role.parse()?;
        self.store.set_identity(&Identity { tenant: tenant.clone(), user_id: session.user_id.clone(), role })?;
        self.connect(&base_url, &session.token);
        Ok(Session {
            tenant,
            user_id: session.user_id,
            role: role.into(),
            region: session.region,
            device_id: session.device_id,
            token: session.token,
            expires_at: session.expires_at,
        })
    }

    /// Reconnects the sync engine with a token from an earlier `login`, without the network:
    /// the next sync tells (`Unauthenticated`) if the token is no longer valid.
    pub fn resume_session(&self, base_url: String, token: String) -> Result<(), FieldSyncError> {
        if self.store.identity().is_none() {
            return Err(FieldSyncError::NotSignedIn { reason: "no user has signed in on this phone yet".to_owned() });
        }
        self.connect(&base_url, &token);
        Ok(())
    }

    /// Stops syncing and revokes the session at the relay. Returns `false` when the relay could
    /// not be reached (the token then simply expires). Unsynced work stays on the phone and
    /// syncs after the next sign-in.
    pub fn logout(&self) -> Result<bool, FieldSyncError> {
        self.stop_live();
        self.stop_background_sync();
        let Some(connection) = lock(&self.connection).take() else { return Ok(false) };
        let trust = lock(&self.trust).clone();
        match logout_with(&trust, &connection.base_url, &connection.token) {
            Ok(()) => Ok(true),
            Err(error) if error.is_transient() => Ok(false),
            // The relay no longer knows the token: it is as revoked as it gets.
            Err(
                fieldsync_core::sync::TransportError::Unauthenticated(_)
                | fieldsync_core::sync::TransportError::Revoked(_),
            ) => Ok(true),
            Err(error) => Err(error.into()),
        }
    }
}

impl FieldSyncPhone {
    /// Replaces the relay connection (stopping a background sync bound to the old one).
    fn connect(&self, base_url: &str, token: &str) {
        self.stop_live();
        self.stop_background_sync();
        let trust = lock(&self.trust).clone();
        let transport = Arc::new(HttpTransport::with_trust(base_url, token, &trust));
        let engine = Arc::new(SyncEngine::new(self.store.clone(), transport));
        engine.set_listener(Some(Arc::new(ListenerBridge::new(&self.listener))));
        *lock(&self.connection) = Some(Connection { base_url: base_url.to_owned(), token: token.to_owned(), engine });
    }

    /// The sync engine, or `NotSignedIn`. The lock is released before the caller uses it.
    /// The app's language, for the conversions of texts.
    pub(crate) fn current_language(&self) -> Language {
        *lock(&self.language)
    }

    pub(crate) fn engine(&self) -> Result<Arc<SyncEngine>, FieldSyncError> {
        lock(&self.connection).as_ref().map(|c| c.engine.clone()).ok_or_else(|| FieldSyncError::NotSignedIn {
            reason: "sign in (login or resume_session) before syncing".to_owned(),
        })
    }

    /// The relay's base URL and the session's token, or `NotSignedIn`.
    pub(crate) fn relay(&self) -> Result<(String, String), FieldSyncError> {
        lock(&self.connection).as_ref().map(|c| (c.base_url.clone(), c.token.clone())).ok_or_else(|| {
            FieldSyncError::NotSignedIn { reason: "sign in (login or resume_session) before going live".to_owned() }
        })
    }

    /// The signed-in user's id, or `NotSignedIn`.
    pub(crate) fn user_id(&self) -> Result<String, FieldSyncError> {
        self.store
            .identity()
            .map(|identity| identity.user_id)
            .ok_or_else(|| FieldSyncError::NotSignedIn { reason: "no user has signed in on this phone yet".to_owned() })
    }
}

/// Parses a document id as it crosses the FFI (bs58check text, `automerge:` prefix allowed).
pub(crate) fn document_id(text: &str) -> Result<DocumentId, FieldSyncError> {
    Ok(text.parse()?)
}

/// Locks a mutex of the phone. The state behind it (an optional handle) is consistent even after
/// a panic elsewhere, so a poisoned lock is used as is.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl From<fieldsync_core::Role> for Role {
    fn from(role: fieldsync_core::Role) -> Self {
        match role {
            fieldsync_core::Role::Rep => Role::Rep,
            fieldsync_core::Role::Supervisor => Role::Supervisor,
            fieldsync_core::Role::Manager => Role::Manager,
            fieldsync_core::Role::Hq => Role::Hq,
        }
    }
}

impl From<Identity> for User {
    fn from(identity: Identity) -> Self {
        User { tenant: identity.tenant, user_id: identity.user_id, role: identity.role.into() }
    }
}
