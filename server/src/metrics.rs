//! Prometheus metrics: plain atomic counters, rendered as text on `GET /metrics`.
//!
//! The HTTP middleware ([`crate::http::health::track`]) counts requests; the sync, live and blob
//! code call the named methods ([`Metrics::sync_round`], [`Metrics::docs_accepted`],
//! [`Metrics::live_connections`], …). Labels are bounded: routes are templates
//! (`/v1/docs/{id}`), never raw paths.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<HttpKey, HttpStats>>,
    errors: Mutex<BTreeMap<String, u64>>,
    sync_rounds: AtomicU64,
    sync_bytes_in: AtomicU64,
    sync_bytes_out: AtomicU64,
    docs_accepted: AtomicU64,
    docs_rejected: AtomicU64,
    live_connections: AtomicI64,
    blobs_stored: AtomicU64,
    blob_bytes_stored: AtomicU64,
    blob_uploads_refused: AtomicU64,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    /// Finished job runs by kind and outcome (`done`, `failed`).
    jobs: Mutex<BTreeMap<(String, &'static str), u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HttpKey {
    method: String,
    route: String,
    status: &'static str,
}

#[derive(Debug, Default, Clone, Copy)]
struct HttpStats {
    count: u64,
    seconds: f64,
}

/// `2xx`, `4xx`, … for a status code.
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Escapes a label value for the Prometheus text format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

impl Metrics {
    /// Counts one HTTP request: method, route template, status, and how long it took.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let key = HttpKey { method: method.to_owned(), route: route.to_owned(), status: status_class(status) };
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let stats = http.entry(key).or_default();
        stats.count += 1;
        stats.seconds += elapsed.as_secs_f64();
    }

    /// Counts one error of a kind (`http-5xx`, `sync-malformed`, `blob-verify`, …).
    pub fn error(&self, kind: &str) {
        *self.errors.lock().unwrap_or_else(|p| p.into_inner()).entry(kind.to_owned()).or_default() += 1;
    }

    /// Counts one sync round trip and its body sizes.
    pub fn sync_round(&self, bytes_in: u64, bytes_out: u64) {
        self.sync_rounds.fetch_add(1, Ordering::Relaxed);
        self.sync_bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.sync_bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
    }

    /// Counts documents whose changes were accepted.
    pub fn docs_accepted(&self, n: u64) {
        self.docs_accepted.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts documents whose changes were refused.
    pub fn docs_rejected(&self, n: u64) {
        self.docs_rejected.fetch_add(n, Ordering::Relaxed);
    }

    /// Moves the live-connection gauge (+1 on connect, -1 on disconnect).
    pub fn live_connections(&self, delta: i64) {
        self.live_connections.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts one verified photo and its bytes.
    pub fn blob_stored(&self, bytes: u64) {
        self.blobs_stored.fetch_add(1, Ordering::Relaxed);
        self.blob_bytes_stored.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a photo upload refused at verification (hash, size or image header).
    pub fn blob_refused(&self) {
        self.blob_uploads_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        let counter = if ok { &self.logins_ok } else { &self.logins_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one finished run of a background job (`review-order`, …).
    pub fn job_run(&self, kind: &str, ok: bool) {
        let outcome = if ok { "done" } else { "failed" };
        *self.jobs.lock().unwrap_or_else(|p| p.into_inner()).entry((kind.to_owned(), outcome)).or_default() += 1;
    }

    /// The current live-connection gauge.
    pub fn live_connection_count(&self) -> i64 {
        self.live_connections.load(Ordering::Relaxed)
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let http = self.http.lock().unwrap_or_else(|p| p.into_inner()).clone();
        header(
            &mut out,
            "fieldsync_http_requests_total",
            "counter",
            "HTTP requests by method, route and status class.",
        );
        for (key, stats) in &http {
            let _ = writeln!(
                out,
                "fieldsync_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                label(&key.method),
                label(&key.route),
                key.status,
                stats.count
            );
        }
        header(
            &mut out,
            "fieldsync_http_request_seconds_sum",
            "counter",
            "Total time spent answering HTTP requests, by method, route and status class.",
        );
        for (key, stats) in &http {
            let _ = writeln!(
                out,
                "fieldsync_http_request_seconds_sum{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                label(&key.method),
                label(&key.route),
                key.status,
                stats.seconds
            );
        }
        let errors = self.errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
        header(&mut out, "fieldsync_errors_total", "counter", "Errors by kind.");
        for (kind, count) in &errors {
            let _ = writeln!(out, "fieldsync_errors_total{{kind=\"{}\"}} {count}", label(kind));
        }
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        scalar(&mut out, "fieldsync_sync_rounds_total", "counter", "Sync round trips.", get(&self.sync_rounds));
        scalar(
            &mut out,
            "fieldsync_sync_bytes_in_total",
            "counter",
            "Sync request bytes received.",
            get(&self.sync_bytes_in),
        );
        scalar(
            &mut out,
            "fieldsync_sync_bytes_out_total",
            "counter",
            "Sync response bytes sent.",
            get(&self.sync_bytes_out),
        );
        scalar(
            &mut out,
            "fieldsync_docs_accepted_total",
            "counter",
            "Documents whose changes were accepted.",
            get(&self.docs_accepted),
        );
        scalar(
            &mut out,
            "fieldsync_docs_rejected_total",
            "counter",
            "Documents whose changes were refused.",
            get(&self.docs_rejected),
        );
        scalar(
            &mut out,
            "fieldsync_live_connections",
            "gauge",
            "Open live (WebSocket) connections.",
            self.live_connection_count(),
        );
        scalar(
            &mut out,
            "fieldsync_blobs_stored_total",
            "counter",
            "Photos verified and stored.",
            get(&self.blobs_stored),
        );
        scalar(
            &mut out,
            "fieldsync_blob_bytes_stored_total",
            "counter",
            "Bytes of photos verified and stored.",
            get(&self.blob_bytes_stored),
        );
        scalar(
            &mut out,
            "fieldsync_blob_uploads_refused_total",
            "counter",
            "Photo uploads refused at verification.",
            get(&self.blob_uploads_refused),
        );
        header(&mut out, "fieldsync_logins_total", "counter", "Login attempts by outcome.");
        let _ = writeln!(out, "fieldsync_logins_total{{outcome=\"ok\"}} {}", get(&self.logins_ok));
        let _ = writeln!(out, "fieldsync_logins_total{{outcome=\"failed\"}} {}", get(&self.logins_failed));
        header(&mut out, "fieldsync_jobs_total", "counter", "Background job runs by kind and outcome.");
        for ((kind, outcome), count) in self.jobs.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "fieldsync_jobs_total{{kind=\"{}\",outcome=\"{outcome}\"}} {count}", label(kind));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.http_request("GET", "/v1/docs/{id}", 404, Duration::from_millis(5));
        metrics.http_request("GET", "/v1/docs/{id}", 200, Duration::from_millis(5));
        metrics.http_request("GET", "/v1/docs/{id}", 200, Duration::from_millis(5));
        metrics.sync_round(100, 250);
        metrics.docs_accepted(3);
        metrics.live_connections(2);
        metrics.live_connections(-1);
        metrics.error("weird\"kind");
        metrics.job_run("review-order", true);
        metrics.job_run("review-order", false);
        metrics.job_run("review-order", true);
        let text = metrics.render();
        assert!(
            text.contains("fieldsync_http_requests_total{method=\"GET\",route=\"/v1/docs/{id}\",status=\"2xx\"} 2")
        );
        assert!(text.contains("status=\"4xx\"} 1"));
        assert!(text.contains("fieldsync_sync_bytes_out_total 250"));
        assert!(text.contains("fieldsync_docs_accepted_total 3"));
        assert!(text.contains("fieldsync_live_connections 1"));
        assert!(text.contains("fieldsync_errors_total{kind=\"weird\\\"kind\"} 1"));
        assert!(text.contains("# TYPE fieldsync_live_connections gauge"));
        assert!(text.contains("fieldsync_jobs_total{kind=\"review-order\",outcome=\"done\"} 2"));
        assert!(text.contains("fieldsync_jobs_total{kind=\"review-order\",outcome=\"failed\"} 1"));
    }
}
