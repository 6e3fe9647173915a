//! The relay's side of sync: admitting device changes under the one-writer-role rule
//! ([`admit`]), serving a round trip from the change feed ([`round`]), and the live channel's
//! fan-out ([`live`]). The wire format lives in `fieldsync_core::sync::protocol`.

pub mod admit;
pub mod live;
pub mod round;

pub use round::{answer_budget, round};
