//! Live fan-out: every accepted change is announced to the live connections of its tenant.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::storage::DocMeta;

/// One accepted change, as announced to live connections.
#[derive(Debug, Clone)]
pub struct Announcement {
    /// The tenant.
    pub tenant_id: i64,
    /// The feed position.
    pub seq: u64,
    /// The changed document's scope columns.
    pub meta: DocMeta,
}

/// Broadcasts accepted changes to the live connections.
#[derive(Clone)]
pub struct LiveHub {
    sender: Arc<broadcast::Sender<Announcement>>,
}

impl Default for LiveHub {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Self { sender: Arc::new(sender) }
    }
}

impl LiveHub {
    /// Announces an accepted change.
    pub fn announce(&self, announcement: Announcement) {
        // No live connection is not an error.
        let _ = self.sender.send(announcement);
    }

    /// Listens to announcements.
    pub fn subscribe(&self) -> broadcast::Receiver<Announcement> {
        self.sender.subscribe()
    }
}
