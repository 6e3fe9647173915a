//! [`AccountStore`] on PostgreSQL.

use async_trait::async_trait;
use fieldsync_core::Role;
use fieldsync_core::i18n::Message;
use tokio_postgres::Row;

use super::{PostgresStorage, is_unique_violation};
use crate::error::{Error, Result};
use crate::storage::{
    AccountStore, Device, LanguageSettings, NewSession, NewUser, SessionRecord, Tenant, User, UserChange, random_id,
};

const USER_COLUMNS: &str =
    "id, tenant_id, username, password_hash, role, region, disabled_at, created_at, display_name";
const TENANT_SELECT: &str = "SELECT id, name, time_zone, currency, created_at FROM tenants";
const DEVICE_COLUMNS: &str =
    "id, tenant_id, user_id, name, created_at, last_seen_at, revoked_at, unsynced_docs, unsynced_at";

fn role_at(row: &Row, index: usize) -> Result<Role> {
    let text: String = row.try_get(index)?;
    text.parse::<Role>().map_err(|e| Error::Storage(format!("stored role {text:?} is unreadable: {e}")))
}

fn user_from(row: &Row) -> Result<User> {
    Ok(User {
        id: row.try_get(0)?,
        tenant_id: row.try_get(1)?,
        username: row.try_get(2)?,
        password_hash: row.try_get(3)?,
        role: role_at(row, 4)?,
        region: row.try_get(5)?,
        disabled_at: row.try_get(6)?,
        created_at: row.try_get(7)?,
        display_name: row.try_get(8)?,
    })
}

fn tenant_from(row: &Row) -> Result<Tenant> {
    Ok(Tenant {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        time_zone: row.try_get(2)?,
        currency: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

fn device_from(row: &Row) -> Result<Device> {
    Ok(Device {
        id: row.try_get(0)?,
        tenant_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        name: row.try_get(3)?,
        created_at: row.try_get(4)?,
        last_seen_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
        unsynced_docs: row.try_get(7)?,
        unsynced_at: row.try_get(8)?,
    })
}

impl PostgresStorage {
    async fn find_user_where(&self, clause: &str, tenant_id: i64, value: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND {clause} = $2");
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        client.query_opt(&statement, &[&tenant_id, &value]).await?.as_ref().map(user_from).transpose()
    }

    /// Revokes the live sessions matching `column = value` in a tenant; how many.
    async fn revoke_sessions_where(&self, column: &str, tenant_id: i64, value: &str, now_ms: i64) -> Result<u64> {
        let sql = format!(
            "UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND {column} = $2 AND revoked_at IS NULL"
        );
        Ok(self.client().await?.execute(&sql, &[&tenant_id, &value, &now_ms]).await?)
    }

    /// Sets `disabled_at`/`revoked_at` of a user or device (keeping an earlier time) and revokes
    /// its sessions, in one transaction; [`Error::NotFound`] naming `what` when there is no row.
    async fn retire(
        &self,
        table: &str,
        session_column: &str,
        what: &str,
        tenant_id: i64,
        id: &str,
        now: i64,
    ) -> Result<()> {
        let column = if table == "users" { "disabled_at" } else { "revoked_at" };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let found = tx
            .execute(
                &format!("UPDATE {table} SET {column} = COALESCE({column}, $3) WHERE tenant_id = $1 AND id = $2"),
                &[&tenant_id, &id, &now],
            )
            .await?;
        if found == 0 {
            return Err(Error::not_found(format!("{what} {id}")));
        }
        tx.execute(
            &format!(
                "UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND {session_column} = $2 AND revoked_at IS NULL"
            ),
            &[&tenant_id, &id, &now],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl AccountStore for PostgresStorage {
    async fn ping(&self) -> Result<()> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn create_tenant(&self, name: &str, time_zone: &str, currency: &str, now_ms: i64) -> Result<Tenant> {
        let client = self.client().await?;
        match client
            .query_one(
                "INSERT INTO tenants (name, time_zone, currency, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&name, &time_zone, &currency, &now_ms],
            )
            .await
        {
            Ok(row) => Ok(Tenant {
                id: row.try_get(0)?,
                name: name.to_owned(),
                time_zone: time_zone.to_owned(),
                currency: currency.to_owned(),
                created_at: now_ms,
            }),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::conflict(Message::new("refusal-tenant-exists").arg("name", name)))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn find_tenant(&self, name: &str) -> Result<Option<Tenant>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(&format!("{TENANT_SELECT} WHERE name = $1")).await?;
        client.query_opt(&statement, &[&name]).await?.map(|row| tenant_from(&row)).transpose()
    }

    async fn find_tenant_by_id(&self, tenant_id: i64) -> Result<Option<Tenant>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(&format!("{TENANT_SELECT} WHERE id = $1")).await?;
        client.query_opt(&statement, &[&tenant_id]).await?.map(|row| tenant_from(&row)).transpose()
    }

    async fn set_tenant_locale(&self, tenant_id: i64, time_zone: &str, currency: &str) -> Result<()> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE tenants SET time_zone = $2, currency = $3 WHERE id = $1",
                &[&tenant_id, &time_zone, &currency],
            )
            .await?;
        if changed == 0 {
            return Err(Error::not_found(format!("tenant {tenant_id}")));
        }
        Ok(())
    }

    async fn language_settings(&self, tenant_id: i64, user_id: &str) -> Result<LanguageSettings> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT u.language, t.language FROM users u JOIN tenants t ON t.id = u.tenant_id
                 WHERE u.tenant_id = $1 AND u.id = $2",
            )
            .await?;
        match client.query_opt(&statement, &[&tenant_id, &user_id]).await? {
            Some(row) => Ok(LanguageSettings { user: row.try_get(0)?, tenant: row.try_get(1)? }),
            None => Ok(LanguageSettings::default()),
        }
    }

    async fn set_tenant_language(&self, tenant_id: i64, language: Option<&str>) -> Result<()> {
        let changed = self
            .client()
            .await?
            .execute("UPDATE tenants SET language = $2 WHERE id = $1", &[&tenant_id, &language])
            .await?;
        if changed == 0 {
            return Err(Error::not_found(format!("tenant {tenant_id}")));
        }
        Ok(())
    }

    async fn set_user_language(&self, tenant_id: i64, user_id: &str, language: Option<&str>) -> Result<()> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE users SET language = $3 WHERE tenant_id = $1 AND id = $2",
                &[&tenant_id, &user_id, &language],
            )
            .await?;
        if changed == 0 {
            return Err(Error::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser, now_ms: i64) -> Result<User> {
        let id = random_id();
        let client = self.client().await?;
        let inserted = client
            .execute(
                "INSERT INTO users (id, tenant_id, username, password_hash, role, region, created_at, display_name)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &id,
                    &tenant_id,
                    &user.username,
                    &user.password_hash,
                    &user.role.as_str(),
                    &user.region,
                    &now_ms,
                    &user.display_name,
                ],
            )
            .await;
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
    }

    async fn find_user_by_username(&self, tenant_id: i64, username: &str) -> Result<Option<User>> {
        self.find_user_where("username", tenant_id, username).await
    }

    async fn find_user(&self, tenant_id: i64, user_id: &str) -> Result<Option<User>> {
        self.find_user_where("id", tenant_id, user_id).await
    }

    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY username");
        let rows = self.client().await?.query(&sql, &[&tenant_id]).await?;
        rows.iter().map(user_from).collect()
    }

    async fn set_password_hash(&self, tenant_id: i64, user_id: &str, password_hash: &str) -> Result<()> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2",
                &[&tenant_id, &user_id, &password_hash],
            )
            .await?;
        if changed == 0 {
            return Err(Error::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    async fn disable_user(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<()> {
        self.retire("users", "user_id", "user", tenant_id, user_id, now_ms).await
    }

    async fn enable_user(&self, tenant_id: i64, user_id: &str) -> Result<()> {
        let found = self
            .client()
            .await?
            .execute("UPDATE users SET disabled_at = NULL WHERE tenant_id = $1 AND id = $2", &[&tenant_id, &user_id])
            .await?;
        if found == 0 {
            return Err(Error::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    async fn update_user(&self, tenant_id: i64, user_id: &str, change: UserChange) -> Result<()> {
        let found = self
            .client()
            .await?
            .execute(
                "UPDATE users SET role = $3, region = $4, display_name = $5 WHERE tenant_id = $1 AND id = $2",
                &[&tenant_id, &user_id, &change.role.as_str(), &change.region, &change.display_name],
            )
            .await?;
        if found == 0 {
            return Err(Error::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    async fn register_device(&self, tenant_id: i64, user_id: &str, name: &str, now_ms: i64) -> Result<Device> {
        let id = random_id();
        self.client()
            .await?
            .execute(
                "INSERT INTO devices (id, tenant_id, user_id, name, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
                &[&id, &tenant_id, &user_id, &name, &now_ms],
            )
            .await?;
        Ok(Device {
            id,
            tenant_id,
            user_id: user_id.to_owned(),
            name: name.to_owned(),
            created_at: now_ms,
            last_seen_at: Some(now_ms),
            revoked_at: None,
            unsynced_docs: None,
            unsynced_at: None,
        })
    }

    async fn revoke_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()> {
        self.retire("devices", "device_id", "device", tenant_id, device_id, now_ms).await
    }

    async fn touch_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()> {
        let client = self.client().await?;
        let statement =
            client.prepare_cached("UPDATE devices SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2").await?;
        client.execute(&statement, &[&tenant_id, &device_id, &now_ms]).await?;
        Ok(())
    }

    async fn record_unsynced(&self, tenant_id: i64, device_id: &str, unsynced_docs: i64, now_ms: i64) -> Result<()> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("UPDATE devices SET unsynced_docs = $3, unsynced_at = $4 WHERE tenant_id = $1 AND id = $2")
            .await?;
        client.execute(&statement, &[&tenant_id, &device_id, &unsynced_docs, &now_ms]).await?;
        Ok(())
    }

    async fn list_devices(&self, tenant_id: i64, user_id: &str) -> Result<Vec<Device>> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, id"
        );
        let rows = self.client().await?.query(&sql, &[&tenant_id, &user_id]).await?;
        rows.iter().map(device_from).collect()
    }

    async fn create_session(&self, session: NewSession) -> Result<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO sessions (token_hash, tenant_id, user_id, device_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &session.token_hash,
                    &session.tenant_id,
                    &session.user_id,
                    &session.device_id,
                    &session.created_at,
                    &session.expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT s.tenant_id, t.name, u.id, u.username, u.role, u.region, d.id,
                        s.expires_at, s.revoked_at, u.disabled_at, d.revoked_at, d.last_seen_at, d.unsynced_docs
                 FROM sessions s
                 JOIN tenants t ON t.id = s.tenant_id
                 JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
                 JOIN devices d ON d.id = s.device_id AND d.tenant_id = s.tenant_id
                 WHERE s.token_hash = $1",
            )
            .await?;
        let Some(row) = client.query_opt(&statement, &[&token_hash]).await? else { return Ok(None) };
        Ok(Some(SessionRecord {
            tenant_id: row.try_get(0)?,
            tenant: row.try_get(1)?,
            user_id: row.try_get(2)?,
            username: row.try_get(3)?,
            role: role_at(&row, 4)?,
            region: row.try_get(5)?,
            device_id: row.try_get(6)?,
            expires_at: row.try_get(7)?,
            revoked_at: row.try_get(8)?,
            user_disabled_at: row.try_get(9)?,
            device_revoked_at: row.try_get(10)?,
            device_last_seen_at: row.try_get(11)?,
            device_unsynced_docs: row.try_get(12)?,
        }))
    }

    async fn revoke_session(&self, token_hash: &str, now_ms: i64) -> Result<bool> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
                &[&token_hash, &now_ms],
            )
            .await?;
        Ok(changed > 0)
    }

    async fn revoke_user_sessions(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<u64> {
        self.revoke_sessions_where("user_id", tenant_id, user_id, now_ms).await
    }

    async fn revoke_device_sessions(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<u64> {
        self.revoke_sessions_where("device_id", tenant_id, device_id, now_ms).await
    }
}
