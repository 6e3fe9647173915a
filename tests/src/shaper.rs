//! A user-space link shaper: a TCP proxy on `127.0.0.1` between a phone and the relay that
//! behaves like a bad field network (the kernel here has no netem).
//!
//! - **Bandwidth**: one link per shaper, shared by all its connections, in each direction: a
//!   chunk of `n` bytes occupies the link for `n * 8 / bits_per_second`, and the proxy reads from
//!   a socket only when the link is free, so the sender feels the back-pressure.
//! - **Delay**: every chunk arrives half a round trip after it left the link; a new connection
//!   waits one round trip before its first byte moves (the TCP handshake).
//! - **Cuts**: at seeded random byte offsets of the upstream traffic (phone to relay, counted
//!   over all connections), exponentially distributed around a mean, or once at an exact offset
//!   ([`LinkShaper::cut_after`]). The byte at the offset is the last one delivered; then both
//!   sockets of that connection are shut down, as when a phone loses its signal.
//!
//! [`LinkStats`] counts connections, bytes each way and cuts; [`LinkShaper::captures`] keeps what
//! each connection sent upstream, when asked, so a test can see what reached the relay.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Largest chunk the proxy moves at once: small enough that connections share the link fairly.
const CHUNK: usize = 1024;

/// How the link behaves.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Bandwidth in each direction, in kbit/s (1 kbit = 1000 bits).
    pub kbit_per_s: u32,
    /// Round-trip time the link adds.
    pub rtt: Duration,
    /// Mean upstream bytes between two cuts (exponentially distributed); `None`: no cuts.
    pub mean_bytes_between_cuts: Option<u64>,
    /// Seed of the cut offsets.
    pub seed: u64,
}

impl LinkConfig {
    /// A link of `kbit_per_s` and `rtt_ms`, without cuts.
    pub fn new(kbit_per_s: u32, rtt_ms: u64) -> Self {
        Self { kbit_per_s, rtt: Duration::from_millis(rtt_ms), mean_bytes_between_cuts: None, seed: 1 }
    }

    /// The same link, cut every `mean` upstream bytes on average, seeded.
    pub fn with_cuts(mut self, mean: u64, seed: u64) -> Self {
        self.mean_bytes_between_cuts = Some(mean);
        self.seed = seed;
        self
    }
}

/// What went through the link.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Connections opened through the link.
    pub connections: AtomicU64,
    /// Bytes the phone sent into the link (upstream).
    pub bytes_up: AtomicU64,
    /// Bytes the relay sent into the link (downstream).
    pub bytes_down: AtomicU64,
    /// Connections cut.
    pub cuts: AtomicU64,
}

impl LinkStats {
    /// (connections, bytes up, bytes down, cuts) now.
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.connections.load(Ordering::SeqCst),
            self.bytes_up.load(Ordering::SeqCst),
            self.bytes_down.load(Ordering::SeqCst),
            self.cuts.load(Ordering::SeqCst),
        )
    }
}

/// One direction of the link: when it is next free, its bandwidth and delay.
struct Direction {
    next_free: Mutex<Instant>,
    shape: Mutex<(f64, Duration)>,
}

impl Direction {
    fn new(kbit_per_s: u32, rtt: Duration) -> Self {
        Self { next_free: Mutex::new(Instant::now()), shape: Mutex::new(shape(kbit_per_s, rtt)) }
    }

    /// Waits until the link is free (so a reader feels the bandwidth).
    fn wait_free(&self) {
        let free = *lock(&self.next_free);
        let now = Instant::now();
        if free > now {
            std::thread::sleep(free - now);
        }
    }

    /// Reserves the link for `bytes`; when they arrive at the other end.
    fn send(&self, bytes: usize) -> Instant {
        let (bits_per_second, one_way) = *lock(&self.shape);
        let mut free = lock(&self.next_free);
        let start = (*free).max(Instant::now());
        let end = start + Duration::from_secs_f64(bytes as f64 * 8.0 / bits_per_second);
        *free = end;
        end + one_way
    }
}

fn shape(kbit_per_s: u32, rtt: Duration) -> (f64, Duration) {
    (f64::from(kbit_per_s.max(1)) * 1000.0, rtt / 2)
}

/// Where the next cut falls, in upstream bytes since the shaper started.
struct Cuts {
    upstream: u64,
    next: Option<u64>,
    mean: Option<u64>,
    rng: StdRng,
}

impl Cuts {
    fn draw(&mut self) {
        self.next = self.mean.map(|mean| {
            // Exponential with the given mean; at least one byte so a cut always moves forward.
            let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
            self.upstream + ((-u.ln()) * mean as f64).max(1.0) as u64
        });
    }
}

struct Link {
    up: Direction,
    down: Direction,
    rtt: Mutex<Duration>,
    cuts: Mutex<Cuts>,
    stats: Arc<LinkStats>,
    capture: AtomicBool,
    captures: Mutex<Vec<Arc<Mutex<Vec<u8>>>>>,
}

/// A running link shaper. Dropping it stops accepting connections.
pub struct LinkShaper {
    address: SocketAddr,
    link: Arc<Link>,
    stop: Arc<AtomicBool>,
}

impl LinkShaper {
    /// Starts a shaper on `127.0.0.1:0` forwarding to `target` (`http://127.0.0.1:PORT` or an
    /// address).
    pub fn start(target: &str, config: LinkConfig) -> Self {
        let target: SocketAddr =
            target.trim_start_matches("http://").trim_end_matches('/').parse().expect("a loopback address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the shaper");
        let address = listener.local_addr().expect("the shaper's address");
        let mut cuts = Cuts {
            upstream: 0,
            next: None,
            mean: config.mean_bytes_between_cuts,
            rng: StdRng::seed_from_u64(config.seed),
        };
        cuts.draw();
        let link = Arc::new(Link {
            up: Direction::new(config.kbit_per_s, config.rtt),
            down: Direction::new(config.kbit_per_s, config.rtt),
            rtt: Mutex::new(config.rtt),
            cuts: Mutex::new(cuts),
            stats: Arc::new(LinkStats::default()),
            capture: AtomicBool::new(false),
            captures: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (accepting, stopping) = (Arc::clone(&link), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let link = Arc::clone(&accepting);
                std::thread::spawn(move || serve(&link, client, target));
            }
        });
        Self { address, link, stop }
    }

    /// `http://127.0.0.1:PORT` of the shaper: give it to the phone instead of the relay's.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What went through the link so far.
    pub fn stats(&self) -> &LinkStats {
        &self.link.stats
    }

    /// Changes the bandwidth and delay from now on (a fast link to set phones up, then the bad
    /// one for the test).
    pub fn set_link(&self, kbit_per_s: u32, rtt: Duration) {
        *lock(&self.link.up.shape) = shape(kbit_per_s, rtt);
        *lock(&self.link.down.shape) = shape(kbit_per_s, rtt);
        *lock(&self.link.rtt) = rtt;
    }

    /// Changes the mean distance between cuts from now on (`None`: no more cuts).
    pub fn set_cuts(&self, mean: Option<u64>) {
        let mut cuts = lock(&self.link.cuts);
        cuts.mean = mean;
        cuts.draw();
    }

    /// Cuts once, after exactly `bytes` more upstream bytes (then no more cuts).
    pub fn cut_after(&self, bytes: u64) {
        let mut cuts = lock(&self.link.cuts);
        cuts.mean = None;
        cuts.next = Some(cuts.upstream + bytes);
    }

    /// Keeps what each new connection sends upstream, from now on.
    pub fn capture(&self, on: bool) {
        self.link.capture.store(on, Ordering::SeqCst);
    }

    /// The upstream bytes of each captured connection, in the order they opened.
    pub fn captures(&self) -> Vec<Vec<u8>> {
        lock(&self.link.captures).iter().map(|c| lock(c).clone()).collect()
    }
}

impl Drop for LinkShaper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
    }
}

enum Piece {
    Bytes(Vec<u8>),
    /// The sender closed its side.
    End,
    /// The link was cut here.
    Cut,
}

fn serve(link: &Arc<Link>, client: TcpStream, target: SocketAddr) {
    link.stats.connections.fetch_add(1, Ordering::SeqCst);
    let Ok(relay) = TcpStream::connect(target) else { return };
    let _ = client.set_nodelay(true);
    let _ = relay.set_nodelay(true);
    // The handshake's round trip.
    std::thread::sleep(*lock(&link.rtt));
    let capture = link.capture.load(Ordering::SeqCst).then(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        lock(&link.captures).push(Arc::clone(&buffer));
        buffer
    });
    // Each of the four pumps and both cut handlers holds its own handle on the two sockets.
    let pair = || -> std::io::Result<_> { Ok((client.try_clone()?, relay.try_clone()?)) };
    let (Ok((from_client, to_relay)), Ok((to_client, from_relay))) = (pair(), pair()) else { return };
    let (Ok(up_ends), Ok(down_ends)) = (pair(), pair()) else { return };
    let (up_tx, up_rx) = channel();
    let (down_tx, down_rx) = channel();
    let reader = Arc::clone(link);
    std::thread::spawn(move || pump_in(&reader, from_client, &up_tx, true, capture));
    let reader = Arc::clone(link);
    std::thread::spawn(move || pump_in(&reader, from_relay, &down_tx, false, None));
    std::thread::spawn(move || pump_out(up_rx, to_relay, up_ends));
    pump_out(down_rx, to_client, down_ends);
}

/// Reads from `from` at the link's pace and queues each chunk with its arrival time.
fn pump_in(
    link: &Link,
    mut from: TcpStream,
    queue: &Sender<(Instant, Piece)>,
    upstream: bool,
    capture: Option<Arc<Mutex<Vec<u8>>>>,
) {
    let direction = if upstream { &link.up } else { &link.down };
    let mut buffer = vec![0u8; CHUNK];
    loop {
        direction.wait_free();
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => {
                let _ = queue.send((direction.send(0), Piece::End));
                return;
            }
            Ok(n) => n,
        };
        let mut keep = n;
        let mut cut = false;
        if upstream {
            let mut cuts = lock(&link.cuts);
            if let Some(at) = cuts.next
                && cuts.upstream + n as u64 >= at
            {
                keep = (at - cuts.upstream) as usize;
                cut = true;
            }
            cuts.upstream += keep as u64;
            if cut {
                cuts.draw();
            }
        }
        let stats = &link.stats;
        if upstream { &stats.bytes_up } else { &stats.bytes_down }.fetch_add(keep as u64, Ordering::SeqCst);
        if let Some(capture) = &capture {
            lock(capture).extend_from_slice(&buffer[..keep]);
        }
        let arrival = direction.send(keep);
        if queue.send((arrival, Piece::Bytes(buffer[..keep].to_vec()))).is_err() {
            return;
        }
        if cut {
            stats.cuts.fetch_add(1, Ordering::SeqCst);
            let _ = queue.send((arrival, Piece::Cut));
            return;
        }
    }
}

/// Delivers queued chunks to `to` when they arrive; on a cut shuts down both connections.
fn pump_out(queue: Receiver<(Instant, Piece)>, mut to: TcpStream, (client, relay): (TcpStream, TcpStream)) {
    for (arrival, piece) in queue {
        let now = Instant::now();
        if arrival > now {
            std::thread::sleep(arrival - now);
        }
        match piece {
            Piece::Bytes(bytes) => {
                if to.write_all(&bytes).is_err() {
                    break;
                }
            }
            Piece::End => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Piece::Cut => break,
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = relay.shutdown(Shutdown::Both);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_pass_at_the_links_pace_and_a_cut_falls_on_the_exact_byte() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = echo.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in echo.incoming() {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let _ = stream.read_to_end(&mut got);
                    let _ = stream.write_all(&(got.len() as u64).to_be_bytes());
                });
            }
        });
        let shaper = LinkShaper::start(&target, LinkConfig::new(80, 100));
        let mut stream = TcpStream::connect(shaper.address).unwrap();
        let started = Instant::now();
        stream.write_all(&[7u8; 5000]).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = [0u8; 8];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(u64::from_be_bytes(answer), 5000);
        // 5000 bytes at 10 kB/s take half a second; print rather than assert the time.
        println!("5000 bytes at 80 kbit/s with 100 ms: {:?}", started.elapsed());

        shaper.cut_after(1234);
        let mut stream = TcpStream::connect(shaper.address).unwrap();
        let _ = stream.write_all(&[7u8; 5000]);
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(rest.is_empty() || rest == 1234u64.to_be_bytes(), "{rest:?}");
        assert_eq!(shaper.stats().snapshot().3, 1);
        assert_eq!(shaper.stats().snapshot().1, 5000 + 1234);
    }
}
