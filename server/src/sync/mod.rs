//! The relay's side of sync: accepting pushes under access control, serving the feed, repairing
//! with automerge sync messages, and the live channel.

pub mod live;
