//! A device's live channel (`GET /v1/ws`) opened by hand, for the tests that watch its frames.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use fieldsync_core::sync::protocol::{self, LiveFrame};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// An open live channel.
pub type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens the live channel of the relay at `base_url` with a session token.
pub fn connect(base_url: &str, token: &str) -> Socket {
    let url = format!("{}/v1/ws", base_url.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a websocket request");
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("a header value"));
    let (socket, _) = tungstenite::connect(request).expect("live channel");
    socket
}

/// The next binary frame within `wait`, or `None`.
pub fn next_frame(socket: &mut Socket, wait: Duration) -> Option<LiveFrame> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
            stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).expect("a read timeout");
        }
        match socket.read() {
            Ok(Message::Binary(bytes)) => return Some(protocol::decode(&bytes).expect("a live frame")),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                return None;
            }
            Err(e) => panic!("live channel failed: {e}"),
        }
    }
}

/// The position of the next `Changed` notice within `wait` (other frames are skipped), or `None`.
pub fn next_change(socket: &mut Socket, wait: Duration) -> Option<u64> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if let LiveFrame::Changed(seq) = next_frame(socket, left)? {
            return Some(seq);
        }
    }
}

/// Sends one frame.
pub fn send(socket: &mut Socket, frame: &LiveFrame) {
    socket.send(Message::Binary(protocol::encode(frame).into())).expect("send a live frame");
}
