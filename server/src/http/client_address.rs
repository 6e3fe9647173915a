//! The address a request came from, for login throttling ([`crate::services::accounts::LoginLimiter`]).
//!
//! Behind a reverse proxy every connection comes from the proxy, so the relay would count every
//! user's failures as one address's. When the connection comes from a configured trusted proxy
//! ([`crate::config::Config::trusted_proxies`]), the client is the right-most `X-Forwarded-For`
//! entry that is not itself a trusted proxy: the one the last trusted proxy saw. Entries further
//! left were written by the client and may be forged, so they are never read. From any other
//! peer the header is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The header a reverse proxy appends the address of its client to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address: the peer's, or, when the peer is a trusted proxy, the one it forwarded
/// for. `None` without connect info (tests driving the router directly).
pub fn client_address(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let entries: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .flat_map(|value| value.split(','))
        .collect();
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(address) if trusted.contains(&address) => continue,
            Some(address) => return Some(address),
            // Garbage where a proxy should have written an address: count it as the proxy's.
            None => return Some(peer),
        }
    }
    Some(peer)
}

/// An `X-Forwarded-For` entry: an IP address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client_and_only_its_own_entry_counts() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let peer = |ip: IpAddr| Some(SocketAddr::new(ip, 4000));
        let trusted = [proxy, [10, 0, 0, 2].into()];
        let client: IpAddr = [198, 51, 100, 7].into();
        // From the proxy: its (right-most) entry, skipping other trusted proxies, never the forged left part.
        assert_eq!(client_address(peer(proxy), &headers(&["6.6.6.6, 198.51.100.7"]), &trusted), Some(client));
        assert_eq!(
            client_address(peer(proxy), &headers(&["6.6.6.6", "198.51.100.7, 10.0.0.2"]), &trusted),
            Some(client)
        );
        assert_eq!(client_address(peer(proxy), &headers(&["[2001:db8::1]:443"]), &trusted), "2001:db8::1".parse().ok());
        assert_eq!(client_address(peer(proxy), &headers(&["198.51.100.7:5000"]), &trusted), Some(client));
        // Nothing or garbage forwarded: the proxy's own address.
        assert_eq!(client_address(peer(proxy), &headers(&[]), &trusted), Some(proxy));
        assert_eq!(client_address(peer(proxy), &headers(&["1.2.3.4, unknown"]), &trusted), Some(proxy));
        // From anyone else the header is ignored.
        assert_eq!(client_address(peer(client), &headers(&["6.6.6.6"]), &trusted), Some(client));
        assert_eq!(client_address(peer(proxy), &headers(&["6.6.6.6"]), &[]), Some(proxy));
        assert_eq!(client_address(None, &headers(&["6.6.6.6"]), &trusted), None);
    }
}
