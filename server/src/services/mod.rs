//! The relay's services: the business rules between the edges (HTTP, the dashboard, jobs, the
//! command line) and storage, one module per business area. An edge parses its input, calls a
//! service, and renders what comes back; a service never knows which edge called it.

pub mod alerts;
pub mod inspections;
pub mod listing;
pub mod orders;
pub mod overview;
