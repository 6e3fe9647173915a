//! The embedded storage: one SQLite file in the data directory (WAL, `synchronous=FULL`).
//!
//! One writer connection behind a mutex (SQLite has one writer at a time anyway; document writes
//! are group-committed, see `docs.rs`) and a few reader connections that callers queue for (the
//! sync feed has readers of its own, planned without regard to bound values:
//! `SqliteStorage::read_stable`); every call runs on tokio's blocking pool so no async worker
//! waits on disk.

mod accounts;
mod alert_triage;
mod blobs;
mod docs;
mod events;
mod integrations;
mod jobs;
mod migrations;
mod photo_reviews;
mod read_model;
mod reservations;
mod sales;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};

const READERS: usize = 4;

/// SQLite storage in one file.
#[derive(Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    announcements: tokio::sync::broadcast::Sender<crate::storage::Announcement>,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Reader connections whose plans never depend on the values bound ([`read_stable`]), for
    /// the sync feed; opened as needed, at most [`READERS`] kept.
    ///
    /// [`read_stable`]: SqliteStorage::read_stable
    stable_readers: Mutex<Vec<Connection>>,
    /// Document writes waiting for the next group commit.
    write_queue: docs::WriteQueue,
    /// One permit per pooled reader: a burst of reads waits for a pooled connection instead of
    /// opening (and throwing away) connections of its own, each with its own page cache.
    read_permits: tokio::sync::Semaphore,
}

impl SqliteStorage {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path)?;
        migrations::migrate(&mut writer)?;
        let readers = (0..READERS).map(|_| connect(&path)).collect::<Result<Vec<_>>>()?;
        let (announcements, _) = tokio::sync::broadcast::channel(4096);
        let inner = Inner {
            path,
            announcements,
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
            stable_readers: Mutex::new(Vec::new()),
            write_queue: docs::WriteQueue::default(),
            read_permits: tokio::sync::Semaphore::new(READERS),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with the writer connection on the blocking pool.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
    }

    /// Runs `f` with a reader connection on the blocking pool.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.read_with(|inner| &inner.readers, connect, f).await
    }

    /// Runs `f` with a reader connection whose statements are planned under SQLite's query
    /// planner stability guarantee ([`connect_stable`]): for a statement run over and over with
    /// new values, which SQLite would otherwise prepare again at every new value.
    pub(crate) async fn read_stable<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.read_with(|inner| &inner.stable_readers, connect_stable, f).await
    }

    /// Runs `f` with a connection of the pool `pool` picks (opened with `open` when the pool has
    /// none free), within the reads' permits.
    async fn read_with<R, F>(
        &self,
        pool: fn(&Inner) -> &Mutex<Vec<Connection>>,
        open: fn(&Path) -> Result<Connection>,
        f: F,
    ) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let _permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|e| Error::Storage(format!("no reader connection available: {e}")))?;
        let inner = self.inner.clone();
        run_blocking(move || {
            let taken = pool(&inner).lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match taken {
                Some(conn) => conn,
                None => open(&inner.path)?,
            };
            let result = f(&conn);
            let mut pooled = pool(&inner).lock().unwrap_or_else(|p| p.into_inner());
            if pooled.len() < READERS {
                pooled.push(conn);
            }
            result
        })
        .await
    }
}

async fn run_blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Storage(format!("storage task failed: {e}")))?
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// A reader connection ([`connect`]) with SQLite's query planner stability guarantee on
/// (`SQLITE_DBCONFIG_ENABLE_QPSG`): its plans never depend on the values bound. SQLite marks the
/// sync feed's join (documents and change log) as depending on its bound values, so without it
/// the cached feed statement is prepared again at every new cursor, every sync round of every
/// phone: the feed query was 13.8 % of the relay's CPU while a fleet synced (`sync_bench` phase
/// d, perf), two thirds of it preparing again; 3.6 % on these connections. Set once, for the connection's life: switching the guarantee
/// on and off expires every statement the connection has prepared. The dashboard's queries keep
/// the ordinary connections, whose plans may use their values (`LIMIT ?`).
fn connect_stable(path: &Path) -> Result<Connection> {
    let conn = connect(path)?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}
