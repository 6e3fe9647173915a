//! The app's listener: sync progress and outcomes from the sync engine, and document changes
//! from the local store's change feed, forwarded by a Rust thread.
//!
//! No lock is held while the app's code runs: the listener is cloned out of its slot first, so a
//! callback may read from the phone (but not start or stop a sync, which would wait for itself).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use fieldsync_core::local_store::{ChangeOrigin as CoreOrigin, DocChange, Quarantined};
use fieldsync_core::sync::{SyncListener, SyncReport as CoreReport};
use fieldsync_core::{DocKind, LocalStore};

use crate::phone::{FieldSyncPhone, lock};
use crate::sync::{QuarantinedDocument, SyncOutcome, SyncReport};

/// What the app hears from FieldSync. The app implements it (Kotlin, Swift, Python) and
/// registers it with `set_listener`.
///
/// Callbacks run on FieldSync's threads (the background sync thread, the change-feed thread) or
/// on the thread that called `sync_now`: move to the UI thread before touching views, and return
/// quickly. A callback may read from the phone, but must not call `sync_now`,
/// `start_background_sync`, `stop_background_sync` or `logout`: they wait for the sync that is
/// calling it. An exception thrown by a callback is dropped; it never stops syncing.
#[uniffi::export(foreign)]
pub trait FieldSyncListener: Send + Sync {
    /// A sync round trip completed; `progress` counts what the current sync has done so far.
    fn on_sync_progress(&self, progress: SyncReport);
    /// A sync finished, successfully or not.
    fn on_sync_finished(&self, outcome: SyncOutcome);
    /// The relay refused a document; it is quarantined on the phone and blocks nothing else.
    fn on_document_rejected(&self, document: QuarantinedDocument);
    /// A document changed: edited on this phone or received from the relay. Refresh what shows it.
    fn on_document_changed(&self, change: DocumentChange);
}

/// The kinds of document FieldSync holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DocumentKind {
    /// A rep's order.
    Order,
    /// The relay's verdict and approval steps for one order.
    OrderReview,
    /// One approver's decision on one approval step.
    Decision,
    /// A supervisor's store visit.
    Inspection,
    /// The relay's score report for one inspection.
    InspectionScore,
    /// Stock levels of one warehouse.
    Inventory,
    /// Products, prices, promotions.
    Catalog,
    /// One retail store.
    Store,
    /// An inspection checklist.
    Template,
    /// A user's alerts.
    Inbox,
}

/// Where a document change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeOrigin {
    /// Made on this phone.
    Local,
    /// Received from the relay.
    Remote,
}

/// One committed change to one document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentChange {
    /// The document's id.
    pub document_id: String,
    /// Its kind.
    pub kind: DocumentKind,
    /// Local or remote.
    pub origin: ChangeOrigin,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// Registers the listener, replacing any earlier one.
    pub fn set_listener(&self, listener: Arc<dyn FieldSyncListener>) {
        *lock(&self.listener.current) = Some(listener);
    }

    /// Removes the listener.
    pub fn clear_listener(&self) {
        *lock(&self.listener.current) = None;
    }
}

/// Where the app's listener lives; shared by the sync bridge and the change-feed thread.
#[derive(Default)]
pub(crate) struct ListenerSlot {
    current: Mutex<Option<Arc<dyn FieldSyncListener>>>,
}

impl ListenerSlot {
    /// Calls the listener, if any, without holding the slot's lock, and contains a panic (an
    /// exception the app's callback threw) so that it cannot kill a sync or feed thread.
    fn notify(&self, call: impl FnOnce(&dyn FieldSyncListener)) {
        let listener = lock(&self.current).clone();
        if let Some(listener) = listener {
            let _ = catch_unwind(AssertUnwindSafe(|| call(listener.as_ref())));
        }
    }
}

/// Adapts the app's listener to the sync engine's [`SyncListener`].
pub(crate) struct ListenerBridge {
    slot: Weak<ListenerSlot>,
}

impl ListenerBridge {
    pub(crate) fn new(slot: &Arc<ListenerSlot>) -> Self {
        Self { slot: Arc::downgrade(slot) }
    }

    fn notify(&self, call: impl FnOnce(&dyn FieldSyncListener)) {
        if let Some(slot) = self.slot.upgrade() {
            slot.notify(call);
        }
    }
}

impl SyncListener for ListenerBridge {
    fn on_round(&self, report: &CoreReport) {
        self.notify(|l| l.on_sync_progress(report.into()));
    }

    fn on_rejected(&self, document: &Quarantined) {
        self.notify(|l| l.on_document_rejected(document.into()));
    }

    fn on_finished(&self, result: Result<&CoreReport, &str>) {
        let outcome = match result {
            Ok(report) => SyncOutcome::Completed { report: report.into() },
            Err(reason) => SyncOutcome::Failed { reason: reason.to_owned() },
        };
        self.notify(|l| l.on_sync_finished(outcome));
    }
}

/// Starts the thread that forwards the store's change feed to the listener. It ends soon after
/// the phone is dropped (it holds the slot weakly and polls twice a second).
pub(crate) fn forward_document_changes(store: &LocalStore, slot: &Arc<ListenerSlot>) {
    let changes = store.subscribe(&[]);
    let slot = Arc::downgrade(slot);
    let forward = move || {
        loop {
            match changes.recv_timeout(Duration::from_millis(500)) {
                Ok(change) => match slot.upgrade() {
                    Some(slot) => slot.notify(|l| l.on_document_changed(change.into())),
                    None => return,
                },
                Err(RecvTimeoutError::Timeout) if slot.strong_count() > 0 => {}
                Err(_) => return,
            }
        }
    };
    // Without the thread the app still works, it just hears no document changes.
    let _ = std::thread::Builder::new().name("fieldsync-changes".to_owned()).spawn(forward);
}

impl From<DocChange> for DocumentChange {
    fn from(change: DocChange) -> Self {
        DocumentChange { document_id: change.id.to_string(), kind: change.kind.into(), origin: change.origin.into() }
    }
}

impl From<CoreOrigin> for ChangeOrigin {
    fn from(origin: CoreOrigin) -> Self {
        match origin {
            CoreOrigin::Local => ChangeOrigin::Local,
            CoreOrigin::Remote => ChangeOrigin::Remote,
        }
    }
}

impl From<DocKind> for DocumentKind {
    fn from(kind: DocKind) -> Self {
        match kind {
            DocKind::Order => DocumentKind::Order,
            DocKind::OrderReview => DocumentKind::OrderReview,
            DocKind::Decision => DocumentKind::Decision,
            DocKind::Inspection => DocumentKind::Inspection,
            DocKind::InspectionScore => DocumentKind::InspectionScore,
            DocKind::Inventory => DocumentKind::Inventory,
            DocKind::Catalog => DocumentKind::Catalog,
            DocKind::Store => DocumentKind::Store,
            DocKind::Template => DocumentKind::Template,
            DocKind::Inbox => DocumentKind::Inbox,
        }
    }
}
