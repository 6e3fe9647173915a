//! A small least-recently-used cache of loaded documents.
//!
//! Documents are small, but a device holds thousands: only the ones in use stay loaded.

use std::collections::HashMap;

use automerge::Automerge;

use crate::id::DocumentId;

pub(super) struct DocCache {
    capacity: usize,
    tick: u64,
    docs: HashMap<DocumentId, (Automerge, u64)>,
}

impl DocCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), tick: 0, docs: HashMap::new() }
    }

    pub(super) fn contains(&self, id: &DocumentId) -> bool {
        self.docs.contains_key(id)
    }

    pub(super) fn get(&mut self, id: &DocumentId) -> Option<&Automerge> {
        self.tick += 1;
        let tick = self.tick;
        self.docs.get_mut(id).map(|(doc, used)| {
            *used = tick;
            &*doc
        })
    }

    pub(super) fn take(&mut self, id: &DocumentId) -> Option<Automerge> {
        self.docs.remove(id).map(|(doc, _)| doc)
    }

    pub(super) fn put(&mut self, id: DocumentId, doc: Automerge) {
        self.tick += 1;
        if self.docs.len() >= self.capacity && !self.docs.contains_key(&id) {
            // Eviction scans the map: O(capacity), and it only runs when a new document loads.
            if let Some(oldest) = self.docs.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| id.clone()) {
                self.docs.remove(&oldest);
            }
        }
        self.docs.insert(id, (doc, self.tick));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_document_is_evicted_first() {
        let mut cache = DocCache::new(2);
        let (a, b, c) = (DocumentId::random(), DocumentId::random(), DocumentId::random());
        cache.put(a.clone(), Automerge::new());
        cache.put(b.clone(), Automerge::new());
        assert!(cache.get(&a).is_some());
        cache.put(c.clone(), Automerge::new());
        assert!(cache.contains(&a) && cache.contains(&c) && !cache.contains(&b));
    }
}
