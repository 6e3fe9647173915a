//! Prometheus metrics with `prometheus-client`, rendered in the Prometheus text format (0.0.4) on
//! `GET /metrics`.
//!
//! The HTTP middleware (`http::health::track`) counts and times requests; the sync, live,
//! job and blob code call the named methods ([`Metrics::sync_round`], [`Metrics::docs_accepted`],
//! [`Metrics::live_connections`], [`Metrics::job_run`], …). Labels are bounded: routes are axum's
//! matched templates (`/v1/docs/{id}`), never raw paths; job kinds are the relay's own.
//!
//! Latency histograms: `fieldsync_http_request_seconds` (per method, route and status class),
//! `fieldsync_sync_round_seconds` (per transport: `http` or `live`) and `fieldsync_job_seconds`
//! (per job kind and outcome). The older `fieldsync_http_request_seconds_sum` series is the
//! histogram's own sum, so queries written against it keep working.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TransportLabel {
    transport: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: &'static str,
}

/// A histogram family whose buckets are fixed by a plain function (so the family has a type).
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Buckets from 1 ms to about 33 s, doubling: requests and sync rounds take milliseconds, a
/// photo upload or a big first sync seconds.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn histograms<L: Clone + std::hash::Hash + Eq>() -> Histograms<L> {
    Family::new_with_constructor(latency)
}

/// The relay's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Histograms<HttpLabels>,
    errors: Family<KindLabel, Counter>,
    sync_rounds: Counter,
    sync_round_seconds: Histograms<TransportLabel>,
    sync_bytes_in: Counter,
    sync_bytes_out: Counter,
    docs_accepted: Counter,
    docs_rejected: Counter,
    live_connections: Gauge,
    blobs_stored: Counter,
    blob_bytes_stored: Counter,
    blob_uploads_refused: Counter,
    logins: Family<OutcomeLabel, Counter>,
    jobs: Family<JobLabels, Counter>,
    job_seconds: Histograms<JobLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_seconds: histograms(),
            errors: Family::default(),
            sync_rounds: Counter::default(),
            sync_round_seconds: histograms(),
            sync_bytes_in: Counter::default(),
            sync_bytes_out: Counter::default(),
            docs_accepted: Counter::default(),
            docs_rejected: Counter::default(),
            live_connections: Gauge::default(),
            blobs_stored: Counter::default(),
            blob_bytes_stored: Counter::default(),
            blob_uploads_refused: Counter::default(),
            logins: Family::default(),
            jobs: Family::default(),
            job_seconds: histograms(),
        };
        // Counters are registered without `_total`: the encoder adds it.
        let r = &mut metrics.registry;
        r.register(
            "fieldsync_http_requests",
            "HTTP requests by method, route and status class",
            metrics.http_requests.clone(),
        );
        r.register(
            "fieldsync_http_request_seconds",
            "Time spent answering HTTP requests, by method, route and status class",
            metrics.http_seconds.clone(),
        );
        r.register("fieldsync_errors", "Errors by kind", metrics.errors.clone());
        r.register("fieldsync_sync_rounds", "Sync round trips", metrics.sync_rounds.clone());
        r.register(
            "fieldsync_sync_round_seconds",
            "Time the relay spent on a sync round, by transport (http or live)",
            metrics.sync_round_seconds.clone(),
        );
        r.register("fieldsync_sync_bytes_in", "Sync request bytes received", metrics.sync_bytes_in.clone());
        r.register("fieldsync_sync_bytes_out", "Sync response bytes sent", metrics.sync_bytes_out.clone());
        r.register("fieldsync_docs_accepted", "Documents whose changes were accepted", metrics.docs_accepted.clone());
        r.register("fieldsync_docs_rejected", "Documents whose changes were refused", metrics.docs_rejected.clone());
        r.register("fieldsync_live_connections", "Open live (WebSocket) connections", metrics.live_connections.clone());
        r.register("fieldsync_blobs_stored", "Photos verified and stored", metrics.blobs_stored.clone());
        r.register(
            "fieldsync_blob_bytes_stored",
            "Bytes of photos verified and stored",
            metrics.blob_bytes_stored.clone(),
        );
        r.register(
            "fieldsync_blob_uploads_refused",
            "Photo uploads refused at verification",
            metrics.blob_uploads_refused.clone(),
        );
        r.register("fieldsync_logins", "Login attempts by outcome", metrics.logins.clone());
        r.register("fieldsync_jobs", "Background job runs by kind and outcome", metrics.jobs.clone());
        r.register(
            "fieldsync_job_seconds",
            "Time a background job run took, by kind and outcome",
            metrics.job_seconds.clone(),
        );
        // Both outcomes show from the start, so a rate of failed logins is 0 rather than absent.
        for outcome in ["ok", "failed"] {
            let _ = metrics.logins.get_or_create(&OutcomeLabel { outcome });
        }
        metrics
    }
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

fn outcome(ok: bool) -> &'static str {
    if ok { "done" } else { "failed" }
}

impl Metrics {
    /// Counts one HTTP request: method, route template, status, and how long it took.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = HttpLabels { method: method.to_owned(), route: route.to_owned(), status: status_class(status) };
        self.http_requests.get_or_create(&labels).inc();
        self.http_seconds.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// Counts one error of a kind (`http-5xx`, `sync-malformed`, `blob-verify`, …).
    pub fn error(&self, kind: &str) {
        self.errors.get_or_create(&KindLabel { kind: kind.to_owned() }).inc();
    }

    /// Counts one sync round trip over `transport` (`http` or `live`), its body sizes and the
    /// time the relay spent on it.
    pub fn sync_round(&self, transport: &'static str, bytes_in: u64, bytes_out: u64, elapsed: Duration) {
        self.sync_rounds.inc();
        self.sync_bytes_in.inc_by(bytes_in);
        self.sync_bytes_out.inc_by(bytes_out);
        self.sync_round_seconds.get_or_create(&TransportLabel { transport }).observe(elapsed.as_secs_f64());
    }

    /// Counts documents whose changes were accepted.
    pub fn docs_accepted(&self, n: u64) {
        self.docs_accepted.inc_by(n);
    }

    /// Counts documents whose changes were refused.
    pub fn docs_rejected(&self, n: u64) {
        self.docs_rejected.inc_by(n);
    }

    /// Moves the live-connection gauge (+1 on connect, -1 on disconnect).
    pub fn live_connections(&self, delta: i64) {
        self.live_connections.inc_by(delta);
    }

    /// Counts one verified photo and its bytes.
    pub fn blob_stored(&self, bytes: u64) {
        self.blobs_stored.inc();
        self.blob_bytes_stored.inc_by(bytes);
    }

    /// Counts a photo upload refused at verification (hash, size or image header).
    pub fn blob_refused(&self) {
        self.blob_uploads_refused.inc();
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        self.logins.get_or_create(&OutcomeLabel { outcome: if ok { "ok" } else { "failed" } }).inc();
    }

    /// Counts one finished run of a background job (`review-order`, …) and how long it took.
    pub fn job_run(&self, kind: &str, ok: bool, elapsed: Duration) {
        let labels = JobLabels { kind: kind.to_owned(), outcome: outcome(ok) };
        self.jobs.get_or_create(&labels).inc();
        self.job_seconds.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The current live-connection gauge.
    pub fn live_connection_count(&self) -> i64 {
        self.live_connections.get()
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4, [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_as_prometheus_text_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.http_request("GET", "/v1/docs/{id}", 404, Duration::from_millis(5));
        metrics.http_request("GET", "/v1/docs/{id}", 200, Duration::from_millis(5));
        metrics.http_request("GET", "/v1/docs/{id}", 200, Duration::from_millis(5));
        metrics.sync_round("http", 100, 250, Duration::from_millis(3));
        metrics.docs_accepted(3);
        metrics.live_connections(2);
        metrics.live_connections(-1);
        metrics.error("weird\"kind");
        metrics.job_run("review-order", true, Duration::from_millis(20));
        metrics.job_run("review-order", false, Duration::from_millis(20));
        metrics.job_run("review-order", true, Duration::from_millis(20));
        metrics.login(true);
        let text = metrics.render();
        let has = |line: &str| assert!(text.contains(line), "{line} missing from\n{text}");
        has("fieldsync_http_requests_total{method=\"GET\",route=\"/v1/docs/{id}\",status=\"2xx\"} 2\n");
        has("status=\"4xx\"} 1\n");
        has("fieldsync_http_request_seconds_sum{method=\"GET\",route=\"/v1/docs/{id}\",status=\"2xx\"} 0.01\n");
        has("fieldsync_http_request_seconds_count{method=\"GET\",route=\"/v1/docs/{id}\",status=\"2xx\"} 2\n");
        has(
            "fieldsync_http_request_seconds_bucket{method=\"GET\",route=\"/v1/docs/{id}\",status=\"2xx\",le=\"0.008\"} 2\n",
        );
        has("fieldsync_sync_rounds_total 1\n");
        has("fieldsync_sync_bytes_out_total 250\n");
        has("fieldsync_sync_round_seconds_count{transport=\"http\"} 1\n");
        has("fieldsync_docs_accepted_total 3\n");
        has("fieldsync_live_connections 1\n");
        has("fieldsync_errors_total{kind=\"weird\\\"kind\"} 1\n");
        has("# TYPE fieldsync_live_connections gauge\n");
        has("# TYPE fieldsync_http_request_seconds histogram\n");
        has("fieldsync_jobs_total{kind=\"review-order\",outcome=\"done\"} 2\n");
        has("fieldsync_jobs_total{kind=\"review-order\",outcome=\"failed\"} 1\n");
        has("fieldsync_job_seconds_count{kind=\"review-order\",outcome=\"done\"} 2\n");
        has("fieldsync_logins_total{outcome=\"ok\"} 1\n");
        has("fieldsync_logins_total{outcome=\"failed\"} 0\n");
    }
}
