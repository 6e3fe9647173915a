//! The relay over HTTP: login, sync round trips, resumable photo uploads.
//!
//! Requests fail by lack of progress, not by total time: a request fails when no byte moved
//! for [`IDLE_TIMEOUT`] (connecting, sending or receiving), so a 4 MB answer finishes on a
//! 16 kbit/s link while a dead connection is noticed within seconds. One agent per transport
//! keeps connections alive between requests (each answer body is read to its end so the
//! connection goes back to the pool): a sequence of photo parts costs one handshake.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::transport::{BlobState, Transport, TransportError};

/// Largest sync response the device accepts.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
const SYNC_MEDIA_TYPE: &str = "application/x-fieldsync-sync";
/// A request fails when no byte moved for this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A signed-in session: the `POST /v1/auth/login` answer (the relay serialises this same type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// The user's id.
    pub user_id: String,
    /// The user's role (`rep`, `supervisor`, `manager`, `hq`).
    pub role: String,
    /// The user's region, if any.
    pub region: Option<String>,
    /// The device id the relay registered.
    pub device_id: String,
    /// When the token expires, ms since the Unix epoch.
    pub expires_at: i64,
}

/// `POST /v1/auth/login` body. The relay deserialises this same type: it is the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// A name for the device, shown to admins ("Pixel 7 of Anna").
    pub device_name: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Which certificates the phone accepts from an `https://` relay. They are always verified
/// (chain, validity, host name); this only says which roots the chain may end at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RelayTrust {
    /// A certificate of a public CA (Mozilla's root list, compiled into the app).
    #[default]
    PublicCas,
    /// Only a certificate that is one of these, or is issued by one of them (DER): the relay's
    /// own certificate, or the company's CA. Public CAs are then not trusted at all (pinning).
    Pinned(Vec<Vec<u8>>),
    /// A chain verified against `roots` (DER; public CAs when empty) that also holds a
    /// certificate with one of these public keys (SHA-256 of its DER SubjectPublicKeyInfo).
    PinnedKeys {
        /// The pinned certificates, or none for the public CAs.
        roots: Vec<Vec<u8>>,
        /// The pinned public keys' hashes.
        keys: Vec<[u8; 32]>,
    },
}

impl RelayTrust {
    /// Pins the certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks). Text with no
    /// certificate, or a block that is not valid base64, is refused.
    pub fn pinned_pem(pem: &[u8]) -> crate::Result<Self> {
        let mut pinned = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => pinned.push(cert.der().to_vec()),
                Ok(_) => {}
                Err(error) => {
                    return Err(crate::Error::InvalidInput { field: "certificate", reason: error.to_string() });
                }
            }
        }
        if pinned.is_empty() {
            return Err(crate::Error::InvalidInput {
                field: "certificate",
                reason: "no PEM CERTIFICATE block found".to_owned(),
            });
        }
        Ok(RelayTrust::Pinned(pinned))
    }

    /// Also requires the relay's chain to hold one of these public keys, each the hex SHA-256
    /// of a DER SubjectPublicKeyInfo (`openssl x509 -in relay.crt -pubkey -noout | openssl pkey
    /// -pubin -outform der | sha256sum`), on top of the certificates pinned so far (or the public
    /// CAs). Replaces keys pinned before.
    pub fn with_public_keys(self, sha256_hex: &[String]) -> crate::Result<Self> {
        let invalid = |reason: String| crate::Error::InvalidInput { field: "public_key", reason };
        if sha256_hex.is_empty() {
            return Err(invalid("no public key hash given".to_owned()));
        }
        let keys = sha256_hex
            .iter()
            .map(|text| {
                let bytes =
                    hex::decode(text.trim()).map_err(|error| invalid(format!("{text:?} is not hex: {error}")))?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| invalid(format!("{text:?} has {} bytes, a sha-256 has 32", bytes.len())))
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let roots = match self {
            RelayTrust::PublicCas => Vec::new(),
            RelayTrust::Pinned(roots) | RelayTrust::PinnedKeys { roots, .. } => roots,
        };
        Ok(RelayTrust::PinnedKeys { roots, keys })
    }

    /// The rustls configuration of this trust: the live channel's (`wss://`), and the sync
    /// requests' when public keys are pinned, so both verify and pin alike.
    pub(crate) fn rustls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
        let (certs, keys): (&[Vec<u8>], &[[u8; 32]]) = match self {
            RelayTrust::PublicCas => (&[], &[]),
            RelayTrust::Pinned(certs) => (certs, &[]),
            RelayTrust::PinnedKeys { roots, keys } => (roots, keys),
        };
        let mut roots = rustls::RootCertStore::empty();
        if certs.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            let (_, unusable) = roots.add_parsable_certificates(
                certs.iter().map(|der| rustls::pki_types::CertificateDer::from(der.clone())),
            );
            if roots.is_empty() {
                return Err(format!("none of the {unusable} pinned certificates can be a trust anchor"));
            }
        }
        super::pinning::client_config(roots, keys)
    }

    fn tls_config(&self) -> ureq::tls::TlsConfig {
        let roots = match self {
            RelayTrust::PublicCas => ureq::tls::RootCerts::WebPki,
            RelayTrust::Pinned(certs) | RelayTrust::PinnedKeys { roots: certs, .. } => ureq::tls::RootCerts::Specific(
                std::sync::Arc::new(certs.iter().map(|der| ureq::tls::Certificate::from_der(der).to_owned()).collect()),
            ),
        };
        ureq::tls::TlsConfig::builder().root_certs(roots).build()
    }
}

fn agent(trust: &RelayTrust) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .tls_config(trust.tls_config())
        .http_status_as_error(false)
        .timeout_connect(Some(IDLE_TIMEOUT))
        .timeout_per_read(Some(IDLE_TIMEOUT))
        .timeout_per_write(Some(IDLE_TIMEOUT))
        .build();
    if !matches!(trust, RelayTrust::PinnedKeys { .. }) {
        return config.into();
    }
    // ureq takes no certificate verifier of ours: its TLS step is replaced by one that uses the
    // pinning rustls configuration (the proxy and TCP steps as in ureq's default chain).
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(super::pinning::PinnedTlsConnector { config: trust.rustls_config() });
    ureq::Agent::with_parts(config, connector, ureq::unversioned::resolver::DefaultResolver::default())
}

fn unreachable(error: ureq::Error) -> TransportError {
    TransportError::Unreachable(error.to_string())
}

/// Turns a non-success answer into an error, reading the relay's JSON error body.
fn failure(mut response: ureq::http::Response<ureq::Body>) -> TransportError {
    let status = response.status().as_u16();
    let (code, reason) = match response.body_mut().with_config().limit(64 * 1024).read_json::<ErrorBody>() {
        Ok(body) => (body.error.code, body.error.message),
        Err(_) => ("unknown".to_owned(), format!("http status {status}")),
    };
    match status {
        401 if code == "revoked" => TransportError::Revoked(reason),
        401 => TransportError::Unauthenticated(reason),
        400..=499 => TransportError::Refused { status, code, reason },
        _ => TransportError::Server { status, reason },
    }
}

/// Signs in: `POST /v1/auth/login`, trusting public CAs.
pub fn login(
    base_url: &str,
    tenant: &str,
    username: &str,
    password: &str,
    device_name: &str,
) -> Result<Session, TransportError> {
    login_with(&RelayTrust::default(), base_url, tenant, username, password, device_name)
}

/// Signs in: `POST /v1/auth/login`, accepting the relay's certificate as `trust` says.
pub fn login_with(
    trust: &RelayTrust,
    base_url: &str,
    tenant: &str,
    username: &str,
    password: &str,
    device_name: &str,
) -> Result<Session, TransportError> {
    let url = format!("{}/v1/auth/login", base_url.trim_end_matches('/'));
    let mut response = agent(trust)
        .post(&url)
        .send_json(LoginRequest {
            tenant: tenant.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            device_name: device_name.to_owned(),
        })
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(failure(response));
    }
    response.body_mut().read_json::<Session>().map_err(unreachable)
}

/// Signs out: `POST /v1/auth/logout` revokes the token.
pub fn logout(base_url: &str, token: &str) -> Result<(), TransportError> {
    logout_with(&RelayTrust::default(), base_url, token)
}

/// Signs out, accepting the relay's certificate as `trust` says.
pub fn logout_with(trust: &RelayTrust, base_url: &str, token: &str) -> Result<(), TransportError> {
    let url = format!("{}/v1/auth/logout", base_url.trim_end_matches('/'));
    let response = agent(trust).post(&url).header("authorization", format!("Bearer {token}")).send_empty();
    let response = response.map_err(unreachable)?;
    if response.status().is_success() { Ok(()) } else { Err(failure(response)) }
}

#[derive(Serialize)]
struct OutOfOffice {
    delegate: String,
    from: i64,
    until: i64,
}

/// Sets the signed-in approver's out-of-office: `PUT /v1/me/out-of-office` with the delegate's
/// username and the period (ms since the Unix epoch, `until` excluded). The relay checks the
/// delegate's role and refuses a loop (`Refused`, naming why). The relay's certificate is
/// accepted as `trust` says.
pub fn set_out_of_office(
    trust: &RelayTrust,
    base_url: &str,
    token: &str,
    delegate: &str,
    from: i64,
    until: i64,
) -> Result<(), TransportError> {
    let url = format!("{}/v1/me/out-of-office", base_url.trim_end_matches('/'));
    let body = OutOfOffice { delegate: delegate.to_owned(), from, until };
    let response = agent(trust)
        .put(&url)
        .header("authorization", format!("Bearer {token}"))
        .send_json(body)
        .map_err(unreachable)?;
    if response.status().is_success() { Ok(()) } else { Err(failure(response)) }
}

/// Ends the signed-in approver's out-of-office: `DELETE /v1/me/out-of-office`.
pub fn end_out_of_office(trust: &RelayTrust, base_url: &str, token: &str) -> Result<(), TransportError> {
    let url = format!("{}/v1/me/out-of-office", base_url.trim_end_matches('/'));
    let response = agent(trust).delete(&url).header("authorization", format!("Bearer {token}")).call();
    let response = response.map_err(unreachable)?;
    if response.status().is_success() { Ok(()) } else { Err(failure(response)) }
}

/// The relay at a base URL, with a session's token.
pub struct HttpTransport {
    base_url: String,
    token: String,
    agent: ureq::Agent,
}

impl HttpTransport {
    /// A transport to `base_url` (e.g. `http://127.0.0.1:8080`) using `token`, trusting public CAs.
    pub fn new(base_url: &str, token: &str) -> Self {
        Self::with_trust(base_url, token, &RelayTrust::default())
    }

    /// A transport that accepts the relay's certificate as `trust` says.
    pub fn with_trust(base_url: &str, token: &str, trust: &RelayTrust) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), token: token.to_owned(), agent: agent(trust) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

fn upload_offset(response: &ureq::http::Response<ureq::Body>) -> u64 {
    response.headers().get("upload-offset").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl Transport for HttpTransport {
    fn round_trip(&self, request: Vec<u8>, answer_budget: usize) -> Result<Vec<u8>, TransportError> {
        let mut response = self
            .agent
            .post(&self.url("/v1/sync"))
            .header("authorization", self.bearer())
            .header(super::protocol::ANSWER_BUDGET_HEADER, answer_budget.to_string())
            .content_type(SYNC_MEDIA_TYPE)
            .send(&request[..])
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(failure(response));
        }
        response.body_mut().with_config().limit(MAX_RESPONSE_BYTES).read_to_vec().map_err(unreachable)
    }

    fn blob_state(&self, sha256: &str) -> Result<BlobState, TransportError> {
        let response = self
            .agent
            .head(&self.url(&format!("/v1/blobs/{sha256}")))
            .header("authorization", self.bearer())
            .call()
            .map_err(unreachable)?;
        match response.status().as_u16() {
            200 => Ok(BlobState::Complete),
            404 => Ok(BlobState::Partial(upload_offset(&response))),
            _ => Err(failure(response)),
        }
    }

    fn upload_blob(&self, sha256: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<BlobState, TransportError> {
        let end = offset + chunk.len() as u64;
        // Always a range, even for a whole photo: the relay keeps the bytes of a ranged part
        // that arrived before a cut, and the next attempt resumes at the byte.
        let mut response = self
            .agent
            .put(&self.url(&format!("/v1/blobs/{sha256}")))
            .header("authorization", self.bearer())
            .header("content-range", format!("bytes {offset}-{}/{total}", end.saturating_sub(1)))
            .content_type("image/jpeg")
            .send(chunk)
            .map_err(unreachable)?;
        let state = match response.status().as_u16() {
            200 | 201 => BlobState::Complete,
            202 | 409 => BlobState::Partial(upload_offset(&response)),
            _ => return Err(failure(response)),
        };
        // Read the small JSON answer to its end so the connection is reused for the next part.
        let _ = response.body_mut().with_config().limit(64 * 1024).read_to_vec();
        Ok(state)
    }
}
