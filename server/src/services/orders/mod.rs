//! Orders and their approvals.

pub mod list;
