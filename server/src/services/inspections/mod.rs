//! Store inspections, their scores and store coverage.

pub mod coverage;
pub mod list;
