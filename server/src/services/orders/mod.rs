//! Orders, as the relay handles them after a phone submitted one: the review (prices,
//! validation, stock, approval route; [`review`]), the readable order number ([`number`]), an
//! approver's decision ([`decide`] for a decision made from a client, [`apply`] for any decision
//! document), the deadlines of waiting steps ([`deadline`]), the stock reservation that follows
//! the review ([`reservation`]), submitted orders kept from admission for their review
//! ([`submitted`]),
//! orders as lists show them ([`list`]), the approvals queue with bulk approval
//! ([`approvals`]), out-of-office delegation ([`delegation`]), where approval time goes
//! ([`report`]), and the policy editor's check, what-if and publishing ([`policy`]).

pub mod apply;
pub mod approvals;
pub mod deadline;
pub mod decide;
pub mod delegation;
pub mod list;
pub mod number;
pub mod policy;
pub mod report;
pub mod reservation;
pub mod review;
pub mod submitted;

pub use decide::{DecisionRequest, decide_order, parse_verdict};
pub use number::order_number;
pub use review::{ReviewDone, find_review, legacy_review_id, review_id, review_order};
