//! Alerts raised for users.

pub mod list;
