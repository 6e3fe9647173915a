//! HTTPS served by the relay itself (`serve --tls-cert FILE --tls-key FILE`): rustls with the
//! certificate chain and private key read from PEM files, and read again whenever either file
//! changes, so a renewed certificate (certbot, an ACME client, a secret mount) is served without a
//! restart. A pair that fails to load keeps the previous one and is logged; a relay never starts
//! with a pair that does not load.
//!
//! Handshakes run in their own tasks, each with a time limit, so a client that stalls in its
//! handshake holds up nobody else; [`TlsListener`] hands finished connections to axum.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the certificate and key files are checked for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(10);

/// Why the certificate and key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the pair (a key that does not match the certificate, an unsupported key).
    #[error("certificate {} with key {}: {reason}", cert.display(), key.display())]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        reason: String,
    },
}

/// The certificate chain and private key files, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (`fullchain.pem`).
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// Reads both files into a rustls server configuration (HTTP/1.1; TLS 1.2 and 1.3).
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let file_error = |path: &Path, reason: String| TlsError::File { path: path.to_owned(), reason };
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| file_error(&self.cert, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| file_error(&self.cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(file_error(&self.cert, "no CERTIFICATE in the file".into()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| file_error(&self.key, e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let pair_error = |reason: String| TlsError::Pair { cert: self.cert.clone(), key: self.key.clone(), reason };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| pair_error(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| pair_error(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// What identifies the files' current contents: modification time and length of each.
    fn stamp(&self) -> Option<[(SystemTime, u64); 2]> {
        let one = |path: &Path| std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
        Some([one(&self.cert)?, one(&self.key)?])
    }
}

/// A TCP listener that completes TLS handshakes and yields the encrypted connections.
pub struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Serves TLS on `listener` with `files`, checking them for a change every `reload_check`.
    /// Fails when the files do not load now. Must be called inside a tokio runtime.
    pub fn new(listener: TcpListener, files: TlsFiles, reload_check: Duration) -> Result<Self, TlsError> {
        let config = Arc::new(RwLock::new(files.load()?));
        let local =
            listener.local_addr().map_err(|e| TlsError::File { path: PathBuf::new(), reason: e.to_string() })?;
        let (sender, incoming) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, config.clone(), sender.clone()));
        tokio::spawn(reload_loop(files, config, reload_check, sender));
        Ok(Self { incoming, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped; never reached while serving.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

type Connections = mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>;

async fn accept_loop(listener: TcpListener, config: Arc<RwLock<Arc<ServerConfig>>>, connections: Connections) {
    while !connections.is_closed() {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let current = config.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let acceptor = TlsAcceptor::from(current);
        let connections = connections.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = connections.send((tls, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

async fn reload_loop(
    files: TlsFiles,
    config: Arc<RwLock<Arc<ServerConfig>>>,
    every: Duration,
    connections: Connections,
) {
    let mut loaded = files.stamp();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !connections.is_closed() {
        ticks.tick().await;
        let now = files.stamp();
        if now.is_none() || now == loaded {
            continue;
        }
        match files.load() {
            Ok(fresh) => {
                *config.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
                loaded = now;
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
            }
            // A half-written renewal: keep serving the old pair, try again at the next check.
            Err(error) => tracing::error!(%error, "TLS certificate not reloaded; keeping the previous one"),
        }
    }
}
