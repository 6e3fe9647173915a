//! Inspections, as the relay handles them after a supervisor checked one out: scoring with
//! core's rules once every photo has arrived ([`scoring`]), and again when a person reviews a
//! photo ([`review`]); inspections as lists show them
//! ([`list`]) and store coverage ([`coverage`]).

pub mod coverage;
pub mod list;
pub mod review;
pub mod scoring;

pub use scoring::{find_score, legacy_score_id, score_id};
