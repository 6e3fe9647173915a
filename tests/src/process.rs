//! The relay as a child process for the bench binaries (`sync_bench`, `load`): the release
//! binary next to them, a seeded data directory, `serve` on `127.0.0.1:0`, and what `/proc`
//! says about the process (memory, CPU). Linux only, as the benches are.

use std::collections::HashMap;
use std::error::Error;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::PrintedLogin;

/// What the helpers here fail with.
pub type ProcessResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux x86-64/arm64).
pub const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// The relay binary: `explicit` when given, else `fieldsync-server` next to this executable.
pub fn bench_server_binary(explicit: Option<&Path>) -> ProcessResult<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let exe = std::env::current_exe()?;
    let server = exe.parent().ok_or("this executable has no directory")?.join("fieldsync-server");
    if !server.exists() {
        return Err(format!(
            "the relay binary {} is missing: build it with `cargo build --release -p fieldsync-server` \
             (or pass --server PATH)",
            server.display()
        )
        .into());
    }
    Ok(server)
}

/// Seeds the demo tenant into `data` with `admin seed-demo`; returns the logins it printed.
pub fn seed_demo(server: &Path, data: &Path) -> ProcessResult<Vec<PrintedLogin>> {
    let output =
        Command::new(server).args(["admin", "seed-demo", "--data"]).arg(data).env("RUST_LOG", "warn").output()?;
    if !output.status.success() {
        return Err(format!("seed-demo failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let logins = crate::parse_logins(&stdout);
    if logins.is_empty() {
        return Err(format!("seed-demo printed no logins:\n{stdout}").into());
    }
    Ok(logins)
}

/// `fieldsync-server serve` on `127.0.0.1:0` started here, killed when dropped. Its log (stderr)
/// goes to `<data>.log`.
pub struct ChildRelay {
    /// The process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The relay's log file.
    pub log: PathBuf,
    child: Arc<Mutex<Option<Child>>>,
}

impl ChildRelay {
    /// Starts the relay on `data` with extra environment variables, and waits until it listens.
    pub fn start(server: &Path, data: &Path, env: &[(&str, &str)]) -> ProcessResult<Self> {
        let log = data.with_extension("log");
        let mut command = Command::new(server);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log)?));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn()?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or("relay stdout not captured")?;
        let mut lines = BufReader::new(stdout).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("listening on ").map(|a| a.trim().to_owned()));
        // Keep draining stdout so the relay never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let mut relay = Self { pid, base_url: String::new(), log, child: Arc::new(Mutex::new(Some(child))) };
        match address {
            Some(url) if url.starts_with("http://127.0.0.1:") => {
                relay.base_url = url;
                Ok(relay)
            }
            other => {
                let log = std::fs::read_to_string(&relay.log).unwrap_or_default();
                Err(format!("the relay did not print a loopback address ({other:?}); its log:\n{log}").into())
            }
        }
    }

    /// A handle that kills the relay from another thread (a watchdog).
    pub fn killer(&self) -> impl Fn() + Send + 'static {
        let child = self.child.clone();
        move || kill(&child)
    }

    /// Memory now.
    pub fn memory(&self) -> ProcessResult<Memory> {
        memory(self.pid).ok_or_else(|| format!("cannot read /proc/{}/status", self.pid).into())
    }

    /// CPU used so far.
    pub fn cpu(&self) -> ProcessResult<CpuSample> {
        CpuSample::of(self.pid)
    }

    /// Resets the peak RSS (`VmHWM`) to the current RSS; false when the kernel refuses.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }
}

fn kill(child: &Mutex<Option<Child>>) {
    if let Some(mut child) = child.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // Our own child, by its handle.
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ChildRelay {
    fn drop(&mut self) {
        kill(&self.child);
    }
}

/// A process's resident memory, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// `VmHWM` (the peak), KiB.
    pub hwm_kib: u64,
}

/// Memory of process `pid`, if it can be read.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse().ok())
            .unwrap_or(0)
    };
    Some(Memory { rss_kib: field("VmRSS:"), hwm_kib: field("VmHWM:") })
}

/// KiB as `12.3 MB`.
pub fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

/// A process's CPU time at one moment: process ticks and per-thread nanoseconds.
#[derive(Debug, Clone)]
pub struct CpuSample {
    ticks: u64,
    threads_ns: HashMap<u32, u64>,
}

impl CpuSample {
    /// Reads `/proc/<pid>/stat` and every thread's `schedstat`.
    pub fn of(pid: u32) -> ProcessResult<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) start at field 3 (state);
        // utime and stime are fields 14 and 15.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("malformed /proc/pid/stat")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let tick = |i: usize| -> ProcessResult<u64> { Ok(fields.get(i).ok_or("short /proc/pid/stat")?.parse()?) };
        let ticks = tick(11)? + tick(12)?;
        let mut threads_ns = HashMap::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let entry = entry?;
            let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            // A thread may exit between listing and reading.
            if let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat"))
                && let Some(ns) = text.split_whitespace().next().and_then(|v| v.parse().ok())
            {
                threads_ns.insert(tid, ns);
            }
        }
        Ok(Self { ticks, threads_ns })
    }

    /// CPU time so far, ms from ticks.
    pub fn total_ms(&self) -> u64 {
        self.ticks * 1000 / CLOCK_TICKS_PER_SECOND
    }

    /// CPU used since `earlier`. Threads that exited in between are missing from the fine
    /// figure (tokio's idle blocking threads exit after 10 s), never counted negative.
    pub fn since(&self, earlier: &CpuSample) -> Cpu {
        let ticks = self.ticks.saturating_sub(earlier.ticks);
        let ns: u64 = self
            .threads_ns
            .iter()
            .map(|(tid, now)| now.saturating_sub(earlier.threads_ns.get(tid).copied().unwrap_or(0)))
            .sum();
        Cpu { tick_ms: ticks * 1000 / CLOCK_TICKS_PER_SECOND, fine_ms: ns as f64 / 1e6 }
    }
}

/// CPU used between two samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// From clock ticks: 10 ms resolution.
    pub tick_ms: u64,
    /// From the threads' run time in nanoseconds, for figures below a tick.
    pub fine_ms: f64,
}
