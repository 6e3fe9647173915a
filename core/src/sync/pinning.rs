//! Public-key pinning for the relay's TLS: besides verifying the certificate chain (against the
//! public CAs or the pinned certificates), the phone accepts the relay only when a certificate of
//! its chain carries one of the pinned public keys (SHA-256 of the DER SubjectPublicKeyInfo, as
//! in HPKP and OkHttp's `CertificatePinner`). A key survives certificate renewals that keep it,
//! and a CA's key pins every certificate it issues.
//!
//! The same rustls configuration serves the sync requests (through a ureq connector, since ureq
//! takes no custom verifier) and the live channel.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};
use sha2::{Digest, Sha256};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// The SHA-256 of a certificate's DER SubjectPublicKeyInfo, or `None` when the DER does not parse.
pub fn public_key_sha256(certificate_der: &[u8]) -> Option<[u8; 32]> {
    subject_public_key_info(certificate_der).map(|spki| Sha256::digest(spki).into())
}

/// The SubjectPublicKeyInfo (tag and length included) of a DER X.509 certificate.
fn subject_public_key_info(der: &[u8]) -> Option<&[u8]> {
    let certificate = content(der, 0x30)?;
    let mut tbs = content(certificate, 0x30)?;
    // version [0] EXPLICIT (optional), serialNumber, signature, issuer, validity, subject.
    if tbs.first() == Some(&0xA0) {
        tbs = tbs.get(element_len(tbs)?..)?;
    }
    for _ in 0..5 {
        tbs = tbs.get(element_len(tbs)?..)?;
    }
    if tbs.first() != Some(&0x30) {
        return None;
    }
    tbs.get(..element_len(tbs)?)
}

/// The content of the DER element at the start of `der`, which must have tag `tag`.
fn content(der: &[u8], tag: u8) -> Option<&[u8]> {
    if der.first() != Some(&tag) {
        return None;
    }
    let (header, length) = header(der)?;
    der.get(header..header.checked_add(length)?)
}

/// The whole length (header and content) of the DER element at the start of `der`.
fn element_len(der: &[u8]) -> Option<usize> {
    let (header, length) = header(der)?;
    header.checked_add(length).filter(|&end| end <= der.len())
}

/// (header length, content length) of the DER element at the start of `der`.
fn header(der: &[u8]) -> Option<(usize, usize)> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let bytes = usize::from(first & 0x7F);
    if bytes == 0 || bytes > 4 {
        return None;
    }
    let length = der.get(2..2 + bytes)?.iter().fold(0usize, |length, &b| (length << 8) | usize::from(b));
    Some((2 + bytes, length))
}

/// Verifies the chain as usual, then requires a pinned public key in it.
struct PublicKeyVerifier {
    chain: Arc<WebPkiServerVerifier>,
    keys: Vec<[u8; 32]>,
}

impl fmt::Debug for PublicKeyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKeyVerifier").field("keys", &self.keys.len()).finish()
    }
}

impl ServerCertVerifier for PublicKeyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        let pinned = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(|certificate| public_key_sha256(certificate))
            .any(|key| self.keys.contains(&key));
        if pinned {
            Ok(verified)
        } else {
            Err(rustls::Error::General("no certificate of the relay's chain carries a pinned public key".to_owned()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// A rustls configuration trusting `roots`, and also requiring one of `keys` when there are any.
pub(crate) fn client_config(roots: RootCertStore, keys: &[[u8; 32]]) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let config = if keys.is_empty() {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|error| error.to_string())?;
        let verifier = PublicKeyVerifier { chain, keys: keys.to_vec() };
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The TLS step of a ureq connector chain, with a rustls configuration of our own.
pub(crate) struct PinnedTlsConnector {
    pub(crate) config: Result<Arc<ClientConfig>, String>,
}

impl fmt::Debug for PinnedTlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinnedTlsConnector")
    }
}

impl<In: Transport> Connector<In> for PinnedTlsConnector {
    type Out = Either<In, PinnedTlsTransport>;

    fn connect(&self, details: &ConnectionDetails<'_>, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::Io(std::io::Error::other("no connection to wrap in TLS")));
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let config = self.config.as_ref().map_err(|reason| ureq::Error::Io(std::io::Error::other(reason.clone())))?;
        let host = details.uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned())
            .map_err(|error| ureq::Error::Io(std::io::Error::other(format!("server name {host}: {error}"))))?;
        let mut connection = ClientConnection::new(Arc::clone(config), name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        connection.complete_io(&mut socket)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(PinnedTlsTransport { buffers, stream: StreamOwned::new(connection, socket) })))
    }
}

/// A TLS connection made by [`PinnedTlsConnector`].
pub(crate) struct PinnedTlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for PinnedTlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinnedTlsTransport")
    }
}

impl Transport for PinnedTlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_a_certificate_has_no_public_key() {
        assert_eq!(public_key_sha256(b""), None);
        assert_eq!(public_key_sha256(b"\x30\x82\xff\xff"), None, "a length past the end");
        assert_eq!(public_key_sha256(b"\x30\x03\x02\x01\x01"), None, "a sequence with no tbsCertificate");
    }
}
