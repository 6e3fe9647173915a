//! The optional per-tenant alert webhook: every alert opened or closed is POSTed as a signed JSON
//! event to the URL HQ set with `fieldsync-server admin set-webhook` (format and signature check:
//! `docs/alerts.md`).
//!
//! Each event is its own `deliver-webhook` job in the persisted queue, so deliveries survive a
//! relay restart, and a failed attempt (connection error, timeout, or any non-2xx answer) is
//! retried with the queue's backoff until its attempts run out. Each attempt is signed afresh
//! with its own timestamp: `X-FieldSync-Signature: sha256=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>`. The URL and secret are read at delivery time: clearing the webhook
//! drops the events still queued.

use std::time::Duration;

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Alert, AlertState};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::services::accounts;
use crate::services::queue::JobSignal;
use crate::storage::{Storage, WebhookSettings};

/// The job kind of one delivery.
pub const KIND: &str = "deliver-webhook";
/// Header naming the event (`alert.opened`, `alert.closed`).
pub const EVENT_HEADER: &str = "X-FieldSync-Event";
/// Header with the attempt's Unix time in seconds, part of the signed text.
pub const TIMESTAMP_HEADER: &str = "X-FieldSync-Timestamp";
/// Header with `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub const SIGNATURE_HEADER: &str = "X-FieldSync-Signature";
/// Shortest secret accepted.
pub const MIN_SECRET_CHARS: usize = 16;
/// Longest URL accepted.
const MAX_URL_CHARS: usize = 2048;

/// Checks a webhook URL and secret: an absolute `http://` or `https://` URL with a host, and a
/// secret of at least [`MIN_SECRET_CHARS`] characters.
pub fn validate(url: &str, secret: &str) -> Result<()> {
    let invalid = |reason: String| Error::bad_request("invalid-webhook", reason);
    if url.len() > MAX_URL_CHARS {
        return Err(invalid(format!("webhook url is longer than {MAX_URL_CHARS} characters")));
    }
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(invalid(match url.split_once("://") {
            Some((scheme, _)) => format!("webhook url {url:?} uses {scheme}: only http:// and https:// are allowed"),
            None => format!("webhook url {url:?} must start with http:// or https://"),
        }));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|e| invalid(format!("webhook url {url:?} is not a url: {e}")))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(format!("webhook url {url:?} has no host")));
    }
    if secret.chars().count() < MIN_SECRET_CHARS {
        return Err(invalid(format!("webhook secret must be at least {MIN_SECRET_CHARS} characters")));
    }
    Ok(())
}

/// Sets the webhook of the tenant named `tenant` after validating it; bad input changes nothing.
pub async fn set_webhook(storage: &dyn Storage, tenant: &str, url: &str, secret: &str) -> Result<()> {
    validate(url, secret)?;
    let tenant = accounts::tenant_named(storage, tenant).await?;
    let settings = WebhookSettings { tenant: tenant.name, url: url.to_owned(), secret: secret.to_owned() };
    storage.set_webhook(tenant.id, Some(settings), now_ms()).await
}

/// Removes the webhook of the tenant named `tenant` (events still queued are dropped).
pub async fn clear_webhook(storage: &dyn Storage, tenant: &str) -> Result<()> {
    let tenant = accounts::tenant_named(storage, tenant).await?;
    storage.set_webhook(tenant.id, None, now_ms()).await
}

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Error::bad_request("invalid-webhook", format!("webhook secret unusable: {e}")))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

/// Who an alert event is addressed to.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    /// The user's id.
    pub user_id: &'a str,
    /// The user's username.
    pub username: &'a str,
}

/// The JSON event of an alert that opened or closed in tenant `tenant` (id and name; see
/// `docs/alerts.md`).
pub fn event(tenant: (i64, &str), key: &str, alert: &Alert, recipient: Recipient<'_>) -> serde_json::Value {
    let (tenant_id, tenant_name) = tenant;
    let (name, state, time) = match alert.state {
        AlertState::Open => ("alert.opened", "open", alert.raised_at),
        AlertState::Closed => ("alert.closed", "closed", alert.closed_at.unwrap_or(alert.raised_at)),
    };
    let id = hex::encode(
        &Sha256::new()
            .chain_update(tenant_id.to_be_bytes())
            .chain_update(recipient.user_id.as_bytes())
            .chain_update(b"\0")
            .chain_update(key.as_bytes())
            .chain_update(b"\0")
            .chain_update(state.as_bytes())
            .chain_update(time.to_be_bytes())
            .finalize()[..16],
    );
    json!({
        "id": id,
        "event": name,
        "tenant": tenant_name,
        "tenant_id": tenant_id,
        "alert_key": key,
        "kind": alert.kind,
        "state": state,
        "title": alert.title,
        "detail": alert.detail,
        "texts": alert.texts,
        "store_id": alert.store_id,
        "sku": alert.sku,
        "recipient": { "user_id": recipient.user_id, "username": recipient.username },
        "raised_at": alert.raised_at,
        "closed_at": alert.closed_at,
        "time": time,
    })
}

/// Queues the delivery of the event of an alert that opened or closed, when the tenant has a
/// webhook; returns whether it queued.
pub async fn queue_delivery(
    storage: &dyn Storage,
    jobs: Option<&JobSignal>,
    tenant_id: i64,
    key: &str,
    alert: &Alert,
    recipient: Recipient<'_>,
) -> Result<bool> {
    let Some(webhook) = storage.webhook(tenant_id).await? else { return Ok(false) };
    let event = event((tenant_id, &webhook.tenant), key, alert, recipient);
    let key = event["id"].as_str().unwrap_or_default().to_owned();
    let queued = storage.enqueue_job(tenant_id, KIND, &key, &event.to_string(), now_ms()).await?;
    if queued && let Some(jobs) = jobs {
        jobs.wake();
    }
    Ok(queued)
}

/// Delivers one alert event (what a `deliver-webhook` job does, `job` naming it in logs and
/// errors): one signed POST of `payload` to the tenant's webhook, which must answer within
/// `timeout`; an error makes the queue retry. Nothing is sent when the webhook was cleared.
pub async fn deliver(storage: &dyn Storage, tenant_id: i64, job: i64, payload: &str, timeout: Duration) -> Result<()> {
    let Some(webhook) = storage.webhook(tenant_id).await? else {
        tracing::info!(job, "webhook cleared; alert event dropped");
        return Ok(());
    };
    let event: serde_json::Value = serde_json::from_str(payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("job {job} has an unreadable payload: {e}")))?;
    let name = event["event"].as_str().unwrap_or("alert").to_owned();
    let timestamp = now_ms() / 1000;
    let signed = signature(&webhook.secret, timestamp, payload)?;
    let (url, body) = (webhook.url.clone(), payload.to_owned());
    let status = tokio::task::spawn_blocking(move || post(&url, &name, timestamp, &signed, body, timeout))
        .await
        .map_err(|e| Error::Delivery(format!("webhook delivery task failed: {e}")))?;
    match status {
        Ok(status) if (200..300).contains(&status) => {
            tracing::info!(job, status, "alert event delivered");
            Ok(())
        }
        Ok(status) => Err(Error::Delivery(format!("webhook {} answered http status {status}", webhook.url))),
        Err(reason) => Err(Error::Delivery(format!("webhook {} unreachable: {reason}", webhook.url))),
    }
}

/// One POST; the status code, or why there was none.
fn post(
    url: &str,
    event: &str,
    timestamp: i64,
    signature: &str,
    body: String,
    timeout: Duration,
) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header(EVENT_HEADER, event)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .send(body)
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn urls_and_secrets_are_checked() {
        let secret = "a-long-enough-secret";
        // (url, secret, error containing; None when accepted)
        let cases = [
            ("https://hooks.example.com/fieldsync", secret, None),
            ("http://127.0.0.1:9000/in", secret, None),
            ("ftp://example.com/in", secret, Some("only http:// and https://")),
            ("example.com/in", secret, Some("must start with http://")),
            ("not a url", secret, Some("must start with http://")),
            ("https://exa mple.com/in", secret, Some("is not a url")),
            ("HTTPS://example.com/in", secret, None),
            ("https://", secret, Some("not a url")),
            ("https://example.com/in", "short", Some("at least 16 characters")),
        ];
        for (url, secret, expected) in cases {
            match (validate(url, secret), expected) {
                (Ok(()), None) => {}
                (Err(error), Some(text)) => assert!(error.to_string().contains(text), "{url}: {error}"),
                (outcome, expected) => panic!("{url}: got {outcome:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // Computed independently: Python's hmac.new(b"Jefe", b'1700000000.{"a":1}', sha256).
        let known = "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a";
        assert_eq!(signature("Jefe", 1_700_000_000, r#"{"a":1}"#).unwrap(), known);
        assert_ne!(signature("Jefe", 1_700_000_001, r#"{"a":1}"#).unwrap(), known);
        assert_ne!(signature("Jeff", 1_700_000_000, r#"{"a":1}"#).unwrap(), known);
    }

    #[test]
    fn events_name_the_transition_and_their_ids_differ_per_transition() {
        let open = Alert {
            kind: "low-stock".into(),
            title: "Low stock".into(),
            detail: "3 available".into(),
            texts: None,
            store_id: None,
            sku: Some("SKU-1".into()),
            state: AlertState::Open,
            raised_at: 10,
            closed_at: None,
        };
        let closed = Alert { state: AlertState::Closed, closed_at: Some(20), ..open.clone() };
        let to = Recipient { user_id: "u1", username: "mia" };
        let opened = event((1, "acme"), "low-stock:W/n:SKU-1", &open, to);
        let closed = event((1, "acme"), "low-stock:W/n:SKU-1", &closed, to);
        assert_eq!((opened["event"].as_str(), opened["time"].as_i64()), (Some("alert.opened"), Some(10)));
        assert_eq!((closed["event"].as_str(), closed["time"].as_i64()), (Some("alert.closed"), Some(20)));
        assert_eq!((closed["recipient"]["username"].as_str(), closed["tenant"].as_str()), (Some("mia"), Some("acme")));
        assert_ne!(opened["id"], closed["id"]);
    }
}
