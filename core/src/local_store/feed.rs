//! The change feed: lets the app (and the sync engine) hear about committed document changes.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::doc::DocKind;
use crate::id::DocumentId;

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// Made on this device.
    Local,
    /// Received from the relay or another replica.
    Remote,
}

/// One committed change to one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocChange {
    /// The document.
    pub id: DocumentId,
    /// Its kind.
    pub kind: DocKind,
    /// Local or remote.
    pub origin: ChangeOrigin,
}

#[derive(Default)]
pub(super) struct Feed {
    subscribers: Mutex<Vec<(Vec<DocKind>, Sender<DocChange>)>>,
}

impl Feed {
    pub(super) fn subscribe(&self, kinds: &[DocKind]) -> Receiver<DocChange> {
        let (tx, rx) = channel();
        self.lock().push((kinds.to_vec(), tx));
        rx
    }

    /// Sends to every interested subscriber; forgets those whose receiver is gone.
    pub(super) fn publish(&self, change: DocChange) {
        self.lock().retain(|(kinds, tx)| {
            if !kinds.is_empty() && !kinds.contains(&change.kind) {
                return true;
            }
            tx.send(change.clone()).is_ok()
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<DocKind>, Sender<DocChange>)>> {
        self.subscribers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
