//! The device's end of the live channel (`GET /v1/ws`): it listens for the relay's `Changed`
//! notices and calls back, so the app syncs as soon as something in its scope changes instead of
//! waiting for the next interval. It reconnects by itself with backoff.
//!
//! Only notices travel here; the data still moves through the sync engine's round trips, so a
//! missed notice costs a little latency, never a change.
//!
//! An `https://` relay is reached over `wss://` with the same [`RelayTrust`] as the HTTP
//! transport: the certificate is verified against the same roots, pinned ones included.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

use super::engine::{SyncEngine, backoff};
use super::http::{IDLE_TIMEOUT, RelayTrust};
use super::protocol::{self, LiveFrame};

/// How often a blocked read wakes up to check whether the watch was stopped.
const READ_SLICE: Duration = Duration::from_millis(250);

/// A running live watch. Dropping it closes the connection and stops the thread.
pub struct LiveWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveWatch {
    /// Stops watching and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LiveWatch {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Connects to the relay's live channel at `base_url` (`http://…` or `https://…` trusting public
/// CAs; the WebSocket URL is derived) with `token`, and calls `on_changed` with the feed position
/// of every notice.
pub fn watch(base_url: &str, token: &str, on_changed: impl Fn(u64) + Send + 'static) -> LiveWatch {
    watch_with(&RelayTrust::default(), base_url, token, on_changed)
}

/// [`watch`], verifying an `https://` relay's certificate as `trust` says.
pub fn watch_with(
    trust: &RelayTrust,
    base_url: &str,
    token: &str,
    on_changed: impl Fn(u64) + Send + 'static,
) -> LiveWatch {
    let url = format!("{}/v1/ws", base_url.trim_end_matches('/').replacen("http", "ws", 1));
    let bearer = format!("Bearer {token}");
    let tls = trust.rustls_config();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("fieldsync-live".to_owned())
        .spawn(move || {
            let mut failures = 0;
            while !stopping.load(Ordering::SeqCst) {
                match connect(&url, &bearer, &tls) {
                    Ok(mut socket) => {
                        failures = 0;
                        // Whatever happened while disconnected: one sync catches up.
                        on_changed(0);
                        listen(&mut socket, &on_changed, &stopping);
                        let _ = socket.close(None);
                    }
                    Err(error) => tracing::debug!(%error, "live channel unavailable"),
                }
                failures += 1;
                let wait = backoff(failures, Duration::from_secs(1));
                let mut waited = Duration::ZERO;
                while waited < wait && !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(READ_SLICE);
                    waited += READ_SLICE;
                }
            }
        })
        .ok();
    LiveWatch { stop, thread }
}

/// Opens the live channel and syncs documents on every notice of a change the phone does not
/// hold yet: `wake` passes the notice to the running documents lane (returning whether one
/// runs); without one the documents sync runs on the live thread itself. A notice never waits
/// for a photo. Notices arrive in bursts (every write in the phone's scope, such as each stock
/// reservation in its region's inventory, sends one): the sync after the first brings the
/// phone past the positions of those queued behind it, and they start no sync of their own.
pub fn watch_and_sync(
    engine: Arc<SyncEngine>,
    base_url: &str,
    token: &str,
    wake: impl Fn() -> bool + Send + 'static,
) -> LiveWatch {
    watch_and_sync_with(&RelayTrust::default(), engine, base_url, token, wake)
}

/// [`watch_and_sync`], verifying an `https://` relay's certificate as `trust` says.
pub fn watch_and_sync_with(
    trust: &RelayTrust,
    engine: Arc<SyncEngine>,
    base_url: &str,
    token: &str,
    wake: impl Fn() -> bool + Send + 'static,
) -> LiveWatch {
    watch_with(trust, base_url, token, move |position| {
        // Position 0: a connect or missed notices; anything else is a write's feed position.
        if position > 0 && engine.store().sync_cursor().is_ok_and(|held| held >= position) {
            return;
        }
        if !wake()
            && let Err(error) = engine.sync_documents_now()
        {
            tracing::info!(%error, "documents sync after a live notice failed");
        }
    })
}

/// The connection under the WebSocket: plain TCP (`ws://`) or TLS over TCP (`wss://`).
enum LiveStream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl LiveStream {
    fn tcp(&self) -> &TcpStream {
        match self {
            LiveStream::Plain(tcp) => tcp,
            LiveStream::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for LiveStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            LiveStream::Plain(tcp) => tcp.read(buf),
            LiveStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for LiveStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            LiveStream::Plain(tcp) => tcp.write(buf),
            LiveStream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            LiveStream::Plain(tcp) => tcp.flush(),
            LiveStream::Tls(tls) => tls.flush(),
        }
    }
}

type Socket = WebSocket<LiveStream>;

fn connect(url: &str, bearer: &str, tls: &Result<Arc<rustls::ClientConfig>, String>) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let value = bearer.parse().map_err(|_| "the token is not a valid header value".to_owned())?;
    request.headers_mut().insert("authorization", value);
    let uri = request.uri().clone();
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        other => return Err(format!("live channel url {url}: scheme {other:?} is neither http nor https")),
    };
    let host = uri.host().ok_or_else(|| format!("live channel url {url} has no host"))?;
    // An IPv6 literal keeps its brackets in the URI, not in a socket address or a server name.
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).map_err(|e| format!("connect to {host}:{port}: {e}"))?;
    // The handshakes wait for the relay at most as long as a sync request does.
    tcp.set_read_timeout(Some(IDLE_TIMEOUT)).map_err(|e| e.to_string())?;
    let stream = if secure {
        let config = tls.as_ref().map_err(Clone::clone)?;
        let name =
            rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| format!("server name {host}: {e}"))?;
        let connection = rustls::ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
        LiveStream::Tls(Box::new(rustls::StreamOwned::new(connection, tcp)))
    } else {
        LiveStream::Plain(tcp)
    };
    let (socket, _) = tungstenite::client(request, stream).map_err(|e| e.to_string())?;
    socket.get_ref().tcp().set_read_timeout(Some(READ_SLICE)).map_err(|e| e.to_string())?;
    Ok(socket)
}

fn listen(socket: &mut Socket, on_changed: &impl Fn(u64), stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match socket.read() {
            Ok(Message::Binary(bytes)) => match protocol::decode::<LiveFrame>(&bytes) {
                Ok(LiveFrame::Changed(seq)) => on_changed(seq),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "unreadable live frame"),
            },
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(tungstenite::Error::Io(error))
                if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}
