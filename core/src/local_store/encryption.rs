//! Encryption at rest: the store's SQLite file is a SQLCipher database keyed by the app.
//!
//! The key is 32 random bytes the app keeps in the platform's key store (Android Keystore, iOS
//! Keychain) and passes at every open. It is given to SQLCipher as a raw key (`x'…'`), so opening
//! costs no key derivation. SQLCipher encrypts every page of the database, its WAL and its
//! temporary files (AES-256 in CBC mode with an HMAC-SHA512 per page: a page changed on disk
//! fails to read instead of reading wrong). Photos and thumbnails live in the `blobs` table, so
//! they are encrypted with the same key and no photo is ever a file of its own.
//!
//! A store opened without a key is a plain SQLite file, as before; opening a plain store with a
//! key converts it once ([`encrypt_plain_file`]), keeping every document and photo.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

/// The first 16 bytes of every plain SQLite file; an encrypted file starts with random salt.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The key of an encrypted local store: 32 bytes from the platform's key store.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// Length of a key in bytes.
    pub const LEN: usize = 32;

    /// A key from its bytes; anything but [`StoreKey::LEN`] bytes is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidInput {
            field: "key",
            reason: format!("a store key is {} bytes, got {}", Self::LEN, bytes.len()),
        })?;
        Ok(Self(key))
    }

    /// A new random key (for tests and for an app creating its first key).
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// The key as SQLCipher's raw-key literal, `x'<64 hex digits>'`.
    fn sqlcipher_literal(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, not even in a panic message.
        f.write_str("StoreKey(..)")
    }
}

/// Keys a freshly opened connection. Must run before anything reads the file.
pub(crate) fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    // A wrong key is reported as `Error::WrongKey`; SQLCipher's own log lines to stderr (or
    // logcat) would only repeat it.
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(())).optional()?;
    conn.pragma_update(None, "key", key.sqlcipher_literal())?;
    Ok(())
}

/// Re-encrypts the open database with `new_key` (SQLCipher's `rekey`).
pub(crate) fn rekey(conn: &Connection, new_key: &StoreKey) -> Result<()> {
    conn.pragma_update(None, "rekey", new_key.sqlcipher_literal())?;
    Ok(())
}

/// Whether `path` holds a plain (unencrypted) SQLite database. A missing or empty file is not.
pub(crate) fn is_plain_file(path: &Path) -> Result<bool> {
    let mut header = [0u8; 16];
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(io_error(path, &error)),
    };
    match file.read_exact(&mut header) {
        Ok(()) => Ok(&header == PLAIN_HEADER),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(io_error(path, &error)),
    }
}

/// Converts the plain store at `path` into one encrypted with `key`, keeping every table, row
/// and the schema version.
///
/// The encrypted copy is written beside the file and renamed over it only once complete and
/// synced, so a crash leaves either the plain store or the encrypted one, never half of each.
pub(crate) fn encrypt_plain_file(path: &Path, key: &StoreKey) -> Result<()> {
    let partial = sibling(path, "encrypting");
    remove_if_present(&partial)?;
    {
        let conn = Connection::open(path)?;
        // Everything in the WAL goes into the main file first, so the copy misses nothing.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let target = partial.to_str().ok_or_else(|| Error::InvalidInput {
            field: "path",
            reason: format!("{} is not valid UTF-8", partial.display()),
        })?;
        conn.execute("ATTACH DATABASE ?1 AS encrypted KEY ?2", [target, key.sqlcipher_literal().as_str()])?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute("DETACH DATABASE encrypted", [])?;
    }
    std::fs::File::open(&partial).and_then(|file| file.sync_all()).map_err(|e| io_error(&partial, &e))?;
    std::fs::rename(&partial, path).map_err(|e| io_error(path, &e))?;
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&PathBuf::from(format!("{}{suffix}", path.display())))?;
    }
    tracing::info!(path = %path.display(), "local store converted to an encrypted store");
    Ok(())
}

/// `path` with `.suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", path.display()))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error(path, &error)),
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), reason: error.to_string() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_key_of_the_wrong_length_is_refused_naming_its_length() {
        let error = StoreKey::from_bytes(&[7; 16]).unwrap_err().to_string();
        assert!(error.contains("32 bytes, got 16"), "{error}");
    }

    #[test]
    fn a_key_never_shows_its_bytes_when_debug_printed() {
        let key = StoreKey::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "StoreKey(..)");
    }
}
