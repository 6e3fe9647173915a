//! Inspections, as the relay handles them after a supervisor checked one out: scoring with
//! core's rules once every photo has arrived ([`scoring`]).

pub mod scoring;

pub use scoring::{find_score, legacy_score_id, score_id};
