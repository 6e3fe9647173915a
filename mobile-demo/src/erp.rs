//! The "ERP": a consumer of the relay's event feed on NATS JetStream (`docs/events.md`), as an
//! integration would write one. It reads the stream `FIELDSYNC` with a consumer of its own,
//! pairs each `order.approved` with the `order.submitted` of the same submission (which has the
//! lines) and prints the orders to book. The field-day demo runs it at the end of the day; the
//! `fieldsync-erp` binary runs it on its own.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use serde_json::Value;

/// The stream the relay publishes to.
pub const STREAM: &str = "FIELDSYNC";

/// One message as the consumer received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The `Nats-Msg-Id` header: the event's id.
    pub msg_id: String,
    /// The subject (`fieldsync.<tenant>.<type>`).
    pub subject: String,
    /// The event's envelope.
    pub event: Value,
}

/// Whether something listens on the host and port of a `nats://host:port` URL (a plain TCP
/// connect, so that a demo without NATS says so at once instead of waiting on a client's
/// reconnects).
pub fn reachable(url: &str) -> bool {
    let address = url.trim_start_matches("nats://");
    let Ok(addresses) = address.to_socket_addrs() else { return false };
    addresses.into_iter().any(|a: SocketAddr| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// Every message of the stream on `filter` (a subject, wildcards allowed), read with a new
/// consumer from the start of the stream until nothing more arrives for `quiet`.
pub async fn read(url: &str, filter: &str, quiet: Duration) -> Result<Vec<Received>, String> {
    let client = async_nats::connect(url).await.map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
    let context = jetstream::new(client);
    let stream = context.get_stream(STREAM).await.map_err(|e| format!("no stream {STREAM} on {url}: {e}"))?;
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            filter_subject: filter.to_owned(),
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot create a consumer on {STREAM}: {e}"))?;
    let mut received = Vec::new();
    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(1_000)
            .expires(quiet)
            .messages()
            .await
            .map_err(|e| format!("cannot fetch from {STREAM}: {e}"))?;
        let before = received.len();
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| format!("cannot read a message of {STREAM}: {e}"))?;
            let msg_id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let event = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
            received.push(Received { msg_id, subject: message.subject.to_string(), event });
        }
        if received.len() == before {
            return Ok(received);
        }
    }
}

/// An approved order, as the ERP books it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedOrder {
    /// The readable number (`N-000123`).
    pub number: String,
    /// The store.
    pub store_id: String,
    /// The total, in cents.
    pub total_cents: i64,
    /// Lines: SKU, quantity, line total in cents (empty if the submission's event was not read).
    pub lines: Vec<(String, i64, i64)>,
    /// When it was approved, ms since the Unix epoch.
    pub approved_at: i64,
}

/// The approved orders among `received` recorded at or after `since` (ms), in approval order.
pub fn approved_orders(received: &[Received], since: i64) -> Vec<ApprovedOrder> {
    let key = |data: &Value| (data["order_id"].as_str().unwrap_or("").to_owned(), data["submission"].as_u64());
    let mut submitted: HashMap<(String, Option<u64>), &Value> = HashMap::new();
    for r in received.iter().filter(|r| r.event["type"] == "order.submitted") {
        submitted.insert(key(&r.event["data"]), &r.event["data"]);
    }
    received
        .iter()
        .filter(|r| r.event["type"] == "order.approved")
        .filter(|r| r.event["recorded_at"].as_i64().unwrap_or(0) >= since)
        .map(|r| {
            let data = &r.event["data"];
            let lines = submitted
                .get(&key(data))
                .and_then(|s| s["lines"].as_array())
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| {
                            (
                                l["sku"].as_str().unwrap_or("").to_owned(),
                                l["qty"].as_i64().unwrap_or(0),
                                l["line_total_cents"].as_i64().unwrap_or(0),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            ApprovedOrder {
                number: data["order_number"].as_str().unwrap_or("").to_owned(),
                store_id: data["store_id"].as_str().unwrap_or("").to_owned(),
                total_cents: data["total_cents"].as_i64().unwrap_or(0),
                lines,
                approved_at: data["decided_at"].as_i64().unwrap_or(0),
            }
        })
        .collect()
}

/// Prints the orders to book.
pub fn write_orders(orders: &[ApprovedOrder], out: &mut dyn Write) {
    let _ = writeln!(out, "ERP: {} approved order(s) received over JetStream", orders.len());
    for order in orders {
        let lines: Vec<String> = order.lines.iter().map(|(sku, qty, _)| format!("{qty} × {sku}")).collect();
        let _ = writeln!(
            out,
            "  {:<10} store {:<28} {:>10.2}  {}",
            order.number,
            order.store_id,
            order.total_cents as f64 / 100.0,
            lines.join(", ")
        );
    }
}
