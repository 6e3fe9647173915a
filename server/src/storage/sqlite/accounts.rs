//! [`AccountStore`] on SQLite.

use async_trait::async_trait;
use fieldsync_core::Role;
use fieldsync_core::i18n::Message;
use rusqlite::types::Type;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::storage::{
    AccountStore, Device, LanguageSettings, NewSession, NewUser, SessionRecord, Tenant, User, UserChange, random_id,
};

const USER_COLUMNS: &str =
    "id, tenant_id, username, password_hash, role, region, disabled_at, created_at, display_name";
const TENANT_SELECT: &str = "SELECT id, name, time_zone, currency, created_at FROM tenants";
const DEVICE_COLUMNS: &str =
    "id, tenant_id, user_id, name, created_at, last_seen_at, revoked_at, unsynced_docs, unsynced_at";

fn role_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Role> {
    let text: String = row.get(index)?;
    text.parse::<Role>().map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

fn user_from(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        username: row.get(2)?,
        password_hash: row.get(3)?,
        role: role_at(row, 4)?,
        region: row.get(5)?,
        disabled_at: row.get(6)?,
        created_at: row.get(7)?,
        display_name: row.get(8)?,
    })
}

fn device_from(row: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        user_id: row.get(2)?,
        name: row.get(3)?,
        created_at: row.get(4)?,
        last_seen_at: row.get(5)?,
        revoked_at: row.get(6)?,
        unsynced_docs: row.get(7)?,
        unsynced_at: row.get(8)?,
    })
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation)
}

fn tenant_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: row.get(0)?,
        name: row.get(1)?,
        time_zone: row.get(2)?,
        currency: row.get(3)?,
        created_at: row.get(4)?,
    })
}

fn find_user_where(conn: &Connection, clause: &str, tenant_id: i64, value: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND {clause} = ?2");
    Ok(conn.query_row(&sql, params![tenant_id, value], user_from).optional()?)
}

fn as_count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[async_trait]
impl AccountStore for SqliteStorage {
    async fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0)).map(|_| ())?)).await
    }

    async fn create_tenant(&self, name: &str, time_zone: &str, currency: &str, now_ms: i64) -> Result<Tenant> {
        let (name, time_zone, currency) = (name.to_owned(), time_zone.to_owned(), currency.to_owned());
        self.write(move |conn| {
            match conn.execute(
                "INSERT INTO tenants (name, time_zone, currency, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, time_zone, currency, now_ms],
            ) {
                Ok(_) => Ok(Tenant { id: conn.last_insert_rowid(), name, time_zone, currency, created_at: now_ms }),
                Err(e) if is_unique_violation(&e) => {
                    Err(Error::conflict(Message::new("refusal-tenant-exists").arg("name", &name)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn find_tenant(&self, name: &str) -> Result<Option<Tenant>> {
        let name = name.to_owned();
        self.read(move |conn| {
            Ok(conn.query_row(&format!("{TENANT_SELECT} WHERE name = ?1"), [name], tenant_from).optional()?)
        })
        .await
    }

    async fn find_tenant_by_id(&self, tenant_id: i64) -> Result<Option<Tenant>> {
        self.read(move |conn| {
            Ok(conn.query_row(&format!("{TENANT_SELECT} WHERE id = ?1"), [tenant_id], tenant_from).optional()?)
        })
        .await
    }

    async fn set_tenant_locale(&self, tenant_id: i64, time_zone: &str, currency: &str) -> Result<()> {
        let (time_zone, currency) = (time_zone.to_owned(), currency.to_owned());
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE tenants SET time_zone = ?2, currency = ?3 WHERE id = ?1",
                params![tenant_id, time_zone, currency],
            )?;
            if changed == 0 {
                return Err(Error::not_found(format!("tenant {tenant_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn language_settings(&self, tenant_id: i64, user_id: &str) -> Result<LanguageSettings> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let found = conn
                .query_row(
                    "SELECT u.language, t.language FROM users u JOIN tenants t ON t.id = u.tenant_id
                     WHERE u.tenant_id = ?1 AND u.id = ?2",
                    params![tenant_id, user_id],
                    |row| Ok(LanguageSettings { user: row.get(0)?, tenant: row.get(1)? }),
                )
                .optional()?;
            Ok(found.unwrap_or_default())
        })
        .await
    }

    async fn set_tenant_language(&self, tenant_id: i64, language: Option<&str>) -> Result<()> {
        let language = language.map(str::to_owned);
        self.write(move |conn| {
            let changed =
                conn.execute("UPDATE tenants SET language = ?2 WHERE id = ?1", params![tenant_id, language])?;
            if changed == 0 {
                return Err(Error::not_found(format!("tenant {tenant_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn set_user_language(&self, tenant_id: i64, user_id: &str, language: Option<&str>) -> Result<()> {
        let (user_id, language) = (user_id.to_owned(), language.map(str::to_owned));
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE users SET language = ?3 WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, user_id, language],
            )?;
            if changed == 0 {
                return Err(Error::not_found(format!("user {user_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser, now_ms: i64) -> Result<User> {
        self.write(move |conn| {
            let id = random_id();
            let inserted = conn.execute(
                "INSERT INTO users (id, tenant_id, username, password_hash, role, region, created_at, display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    tenant_id,
                    user.username,
                    user.password_hash,
                    user.role.as_str(),
                    user.region,
                    now_ms,
                    user.display_name
                ],
            );
            match inserted {
                Ok(_) => Ok(User {
                    id,
                    tenant_id,
                    username: user.username,
                    display_name: user.display_name,
                    password_hash: user.password_hash,
                    role: user.role,
                    region: user.region,
                    disabled_at: None,
                    created_at: now_ms,
                }),
                Err(e) if is_unique_violation(&e) => {
                    Err(Error::conflict(Message::new("refusal-user-exists").arg("username", &user.username)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn find_user_by_username(&self, tenant_id: i64, username: &str) -> Result<Option<User>> {
        let username = username.to_owned();
        self.read(move |conn| find_user_where(conn, "username", tenant_id, &username)).await
    }

    async fn find_user(&self, tenant_id: i64, user_id: &str) -> Result<Option<User>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| find_user_where(conn, "id", tenant_id, &user_id)).await
    }

    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 ORDER BY username");
            let mut statement = conn.prepare(&sql)?;
            let users = statement.query_map([tenant_id], user_from)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(users)
        })
        .await
    }

    async fn set_password_hash(&self, tenant_id: i64, user_id: &str, password_hash: &str) -> Result<()> {
        let (user_id, password_hash) = (user_id.to_owned(), password_hash.to_owned());
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE users SET password_hash = ?3 WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, user_id, password_hash],
            )?;
            if changed == 0 {
                return Err(Error::not_found(format!("user {user_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn disable_user(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<()> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let found = tx.execute(
                "UPDATE users SET disabled_at = COALESCE(disabled_at, ?3) WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, user_id, now_ms],
            )?;
            if found == 0 {
                return Err(Error::not_found(format!("user {user_id}")));
            }
            tx.execute(
                "UPDATE sessions SET revoked_at = ?3 WHERE tenant_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                params![tenant_id, user_id, now_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn enable_user(&self, tenant_id: i64, user_id: &str) -> Result<()> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let found = conn.execute(
                "UPDATE users SET disabled_at = NULL WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, user_id],
            )?;
            if found == 0 {
                return Err(Error::not_found(format!("user {user_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn update_user(&self, tenant_id: i64, user_id: &str, change: UserChange) -> Result<()> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let found = conn.execute(
                "UPDATE users SET role = ?3, region = ?4, display_name = ?5 WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, user_id, change.role.as_str(), change.region, change.display_name],
            )?;
            if found == 0 {
                return Err(Error::not_found(format!("user {user_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn register_device(&self, tenant_id: i64, user_id: &str, name: &str, now_ms: i64) -> Result<Device> {
        let (user_id, name) = (user_id.to_owned(), name.to_owned());
        self.write(move |conn| {
            let id = random_id();
            conn.execute(
                "INSERT INTO devices (id, tenant_id, user_id, name, created_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![id, tenant_id, user_id, name, now_ms],
            )?;
            Ok(Device {
                id,
                tenant_id,
                user_id,
                name,
                created_at: now_ms,
                last_seen_at: Some(now_ms),
                revoked_at: None,
                unsynced_docs: None,
                unsynced_at: None,
            })
        })
        .await
    }

    async fn revoke_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()> {
        let device_id = device_id.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let found = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?3) WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, device_id, now_ms],
            )?;
            if found == 0 {
                return Err(Error::not_found(format!("device {device_id}")));
            }
            tx.execute(
                "UPDATE sessions SET revoked_at = ?3 WHERE tenant_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
                params![tenant_id, device_id, now_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn touch_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()> {
        let device_id = device_id.to_owned();
        self.write(move |conn| {
            conn.execute(
                "UPDATE devices SET last_seen_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, device_id, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_unsynced(&self, tenant_id: i64, device_id: &str, unsynced_docs: i64, now_ms: i64) -> Result<()> {
        let device_id = device_id.to_owned();
        self.write(move |conn| {
            conn.execute(
                "UPDATE devices SET unsynced_docs = ?3, unsynced_at = ?4 WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, device_id, unsynced_docs, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_devices(&self, tenant_id: i64, user_id: &str) -> Result<Vec<Device>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = ?1 AND user_id = ?2
                 ORDER BY created_at DESC, id"
            );
            let mut statement = conn.prepare(&sql)?;
            let devices =
                statement.query_map(params![tenant_id, user_id], device_from)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(devices)
        })
        .await
    }

    async fn create_session(&self, session: NewSession) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO sessions (token_hash, tenant_id, user_id, device_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    session.token_hash,
                    session.tenant_id,
                    session.user_id,
                    session.device_id,
                    session.created_at,
                    session.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT s.tenant_id, t.name, u.id, u.username, u.role, u.region, d.id,
                            s.expires_at, s.revoked_at, u.disabled_at, d.revoked_at, d.last_seen_at, d.unsynced_docs
                     FROM sessions s
                     JOIN tenants t ON t.id = s.tenant_id
                     JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
                     JOIN devices d ON d.id = s.device_id AND d.tenant_id = s.tenant_id
                     WHERE s.token_hash = ?1",
                    [token_hash],
                    |row| {
                        Ok(SessionRecord {
                            tenant_id: row.get(0)?,
                            tenant: row.get(1)?,
                            user_id: row.get(2)?,
                            username: row.get(3)?,
                            role: role_at(row, 4)?,
                            region: row.get(5)?,
                            device_id: row.get(6)?,
                            expires_at: row.get(7)?,
                            revoked_at: row.get(8)?,
                            user_disabled_at: row.get(9)?,
                            device_revoked_at: row.get(10)?,
                            device_last_seen_at: row.get(11)?,
                            device_unsynced_docs: row.get(12)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn revoke_session(&self, token_hash: &str, now_ms: i64) -> Result<bool> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash, now_ms],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn revoke_user_sessions(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<u64> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE sessions SET revoked_at = ?3 WHERE tenant_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                params![tenant_id, user_id, now_ms],
            )?;
            Ok(as_count(changed))
        })
        .await
    }

    async fn revoke_device_sessions(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<u64> {
        let device_id = device_id.to_owned();
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE sessions SET revoked_at = ?3 WHERE tenant_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
                params![tenant_id, device_id, now_ms],
            )?;
            Ok(as_count(changed))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn open() -> (tempfile::TempDir, SqliteStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path().join("relay.db")).unwrap();
        (dir, storage)
    }

    fn new_user(username: &str) -> NewUser {
        NewUser {
            username: username.into(),
            display_name: String::new(),
            password_hash: "hash".into(),
            role: Role::Rep,
            region: Some("north".into()),
        }
    }

    #[tokio::test]
    async fn tenants_and_usernames_are_unique() {
        let (_dir, storage) = open();
        let tenant = storage.create_tenant("acme", "UTC", "USD", 1).await.unwrap();
        let conflict = Some(crate::error::RefusalKind::Conflict);
        assert!(storage.create_tenant("acme", "UTC", "USD", 2).await.is_err_and(|e| e.refusal_kind() == conflict));
        assert_eq!(storage.find_tenant("acme").await.unwrap(), Some(tenant.clone()));
        let anna = storage.create_user(tenant.id, new_user("anna"), 3).await.unwrap();
        assert!(storage.create_user(tenant.id, new_user("anna"), 4).await.is_err_and(|e| e.refusal_kind() == conflict));
        assert_eq!(storage.find_user(tenant.id, &anna.id).await.unwrap(), Some(anna.clone()));
        assert_eq!(storage.find_user_by_username(tenant.id, "anna").await.unwrap(), Some(anna));
        let other = storage.create_tenant("globex", "UTC", "USD", 5).await.unwrap();
        assert!(storage.find_user_by_username(other.id, "anna").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_session_resolves_until_its_device_is_revoked() {
        let (_dir, storage) = open();
        let tenant = storage.create_tenant("acme", "UTC", "USD", 1).await.unwrap();
        let anna = storage.create_user(tenant.id, new_user("anna"), 1).await.unwrap();
        let device = storage.register_device(tenant.id, &anna.id, "phone", 1).await.unwrap();
        let session = NewSession {
            token_hash: "h1".into(),
            tenant_id: tenant.id,
            user_id: anna.id.clone(),
            device_id: device.id.clone(),
            created_at: 1,
            expires_at: 100,
        };
        storage.create_session(session).await.unwrap();
        let record = storage.find_session("h1").await.unwrap().unwrap();
        assert_eq!((record.tenant.as_str(), record.user_id.as_str()), ("acme", anna.id.as_str()));
        assert_eq!(record.device_revoked_at, None);
        storage.revoke_device(tenant.id, &device.id, 60).await.unwrap();
        let record = storage.find_session("h1").await.unwrap().unwrap();
        assert_eq!((record.device_revoked_at, record.revoked_at), (Some(60), Some(60)));
        assert_eq!(storage.list_devices(tenant.id, &anna.id).await.unwrap()[0].revoked_at, Some(60));
        assert!(matches!(storage.revoke_device(tenant.id, "nope", 1).await, Err(Error::NotFound { .. })));
    }
}
