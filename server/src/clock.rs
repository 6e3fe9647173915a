//! The relay's clock: wall-clock time, which tests and the field-day demo can move forward.
//!
//! Deadlines (approval reminders and escalations) are jobs queued to run at a time; the job
//! runner asks this clock what time it is, and the handlers record its time. Moving it forward
//! ([`Clock::advance`]) makes four hours pass without sleeping, on every part of the relay that
//! shares the clock. The offset is not persisted: a restarted relay runs on wall-clock time
//! (a test that restarts sets its offset again).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use fieldsync_core::clock::now_ms;

/// Wall-clock time plus an offset; cheap to clone, clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Now, ms since the Unix epoch, moved by the offset.
    pub fn now(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward by `ms` (never backward: a negative value is ignored).
    pub fn advance(&self, ms: i64) {
        if ms > 0 {
            self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// How far the clock is ahead of wall-clock time, in ms.
    pub fn offset(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_runs_ahead_in_every_clone_and_never_goes_back() {
        let clock = Clock::default();
        let shared = clock.clone();
        clock.advance(4 * 3_600_000);
        clock.advance(-10 * 3_600_000);
        assert_eq!(shared.offset(), 4 * 3_600_000);
        assert!(shared.now() >= now_ms() + 4 * 3_600_000 - 1_000);
    }
}
