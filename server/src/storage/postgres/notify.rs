//! Announcements between nodes: every write sends `NOTIFY fieldsync_changes` in its transaction
//! (PostgreSQL delivers it at commit, never for a rolled-back write), and each node keeps one
//! `LISTEN` connection that turns the other nodes' notifications into
//! [`Announcement`]s on its own broadcast channel.
//!
//! The payload is small JSON: node, tenant, position, the document's scope columns and the
//! sending device (a few hundred bytes; PostgreSQL allows 8,000). Should it ever be too long, only
//! node, tenant and position are sent and the listener loads the rest.
//!
//! When the connection drops, the listener reconnects with a growing pause, and once it listens
//! again it replays from the change feed every write it may have missed (positions after the
//! last one it saw per tenant), so live devices on this node still hear of them.

use std::collections::HashMap;
use std::time::Duration;

use deadpool_postgres::Pool;
use fieldsync_core::DocKind;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls, Notification};

use super::to_u64;
use crate::error::{Error, Result};
use crate::storage::{Announcement, DocMeta};

/// The channel every node notifies and listens on.
pub const CHANNEL: &str = "fieldsync_changes";
/// PostgreSQL refuses payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;
/// Most missed writes replayed per tenant after a reconnect (devices only need a nudge: the feed
/// has everything).
const REPLAY_LIMIT: i64 = 1_000;

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// Sending node.
    n: String,
    /// Tenant.
    t: i64,
    /// Feed position.
    s: u64,
    /// Scope columns and origin, absent when they did not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<Meta>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    kind: String,
    owner: Option<String>,
    store_id: Option<String>,
    region: Option<String>,
    subject_id: Option<String>,
    status: Option<String>,
    origin: Option<String>,
}

/// The notification payload of a write.
pub fn payload(node: &str, tenant_id: i64, seq: u64, meta: &DocMeta, origin: Option<&str>) -> String {
    let full = Payload {
        n: node.to_owned(),
        t: tenant_id,
        s: seq,
        m: Some(Meta {
            kind: meta.kind.as_str().to_owned(),
            owner: meta.owner.clone(),
            store_id: meta.store_id.clone(),
            region: meta.region.clone(),
            subject_id: meta.subject_id.clone(),
            status: meta.status.clone(),
            origin: origin.map(str::to_owned),
        }),
    };
    let text = serde_json::to_string(&full).unwrap_or_default();
    if !text.is_empty() && text.len() <= MAX_PAYLOAD {
        return text;
    }
    serde_json::to_string(&Payload { n: node.to_owned(), t: tenant_id, s: seq, m: None }).unwrap_or_default()
}

/// Stops the listener when dropped.
pub struct ListenerGuard(tokio::task::JoinHandle<()>);

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the node's listener; returns once it listens (or fails to connect the first time).
pub async fn spawn(
    mut config: tokio_postgres::Config,
    pool: Pool,
    node: String,
    sender: broadcast::Sender<Announcement>,
) -> Result<ListenerGuard> {
    config.application_name(format!("fieldsync-listener-{node}"));
    config.keepalives(true).keepalives_idle(Duration::from_secs(30));
    let mut listener = Listener { config, pool, node, sender, known: None, replayed: HashMap::new() };
    let first = listener.listen().await?;
    let task = tokio::spawn(async move {
        let mut connection = Some(first);
        let mut pause = Duration::from_millis(100);
        loop {
            if let Some(live) = connection.take() {
                listener.serve(live).await;
                tracing::warn!("lost the PostgreSQL LISTEN connection; reconnecting");
            }
            match listener.listen().await {
                Ok(live) => {
                    pause = Duration::from_millis(100);
                    if let Err(error) = listener.replay().await {
                        tracing::warn!(%error, "cannot replay the writes missed while reconnecting");
                    }
                    connection = Some(live);
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64, "cannot LISTEN on PostgreSQL");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    });
    Ok(ListenerGuard(task))
}

/// A listening connection: the client (kept so the connection stays open) and its notifications.
struct Live {
    _client: tokio_postgres::Client,
    notifications: tokio::sync::mpsc::UnboundedReceiver<Notification>,
}

struct Listener {
    config: tokio_postgres::Config,
    pool: Pool,
    node: String,
    sender: broadcast::Sender<Announcement>,
    /// Last position seen per tenant, to replay from after a reconnect; `None` until the first
    /// connection listens.
    known: Option<HashMap<i64, u64>>,
    /// Per tenant, the last position the latest replay announced.
    replayed: HashMap<i64, u64>,
}

impl Listener {
    /// Connects and subscribes. The first time, records every tenant's current position.
    async fn listen(&mut self) -> Result<Live> {
        let (client, mut connection) = self.config.connect(NoTls).await?;
        let (forward, notifications) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if forward.send(n).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "PostgreSQL LISTEN connection failed");
                        break;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        if self.known.is_none() {
            self.known = Some(self.positions().await?.into_iter().collect());
        }
        Ok(Live { _client: client, notifications })
    }

    async fn positions(&self) -> Result<Vec<(i64, u64)>> {
        let client = self.pool.get().await.map_err(|e| Error::Storage(format!("no PostgreSQL connection: {e}")))?;
        let rows = client.query("SELECT tenant_id, last_seq FROM feed_positions", &[]).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, to_u64(r.try_get(1)?)))).collect()
    }

    /// Forwards notifications until the connection ends.
    async fn serve(&mut self, mut live: Live) {
        while let Some(notification) = live.notifications.recv().await {
            if let Err(error) = self.on_notification(notification.payload()).await {
                tracing::warn!(%error, "unreadable change notification");
            }
        }
    }

    async fn on_notification(&mut self, text: &str) -> Result<()> {
        let payload: Payload = serde_json::from_str(text)
            .map_err(|e| Error::Storage(format!("notification {text:?} is not a change: {e}")))?;
        let seen = self.known.get_or_insert_default().entry(payload.t).or_insert(0);
        *seen = (*seen).max(payload.s);
        if self.replayed.get(&payload.t).is_some_and(|replayed| payload.s <= *replayed) {
            // Already announced by the replay after a reconnect: a write committed between
            // `LISTEN` and the replay is both queued here and read from the feed.
            return Ok(());
        }
        if payload.n == self.node {
            // This node announced it when it stored it.
            return Ok(());
        }
        let announcement = match payload.m {
            Some(meta) => Announcement {
                tenant_id: payload.t,
                seq: payload.s,
                meta: DocMeta {
                    kind: meta.kind.parse::<DocKind>()?,
                    owner: meta.owner,
                    store_id: meta.store_id,
                    region: meta.region,
                    subject_id: meta.subject_id,
                    status: meta.status,
                },
                origin_device: meta.origin,
            },
            None => match self.load(payload.t, payload.s, payload.s.saturating_sub(1), 1).await?.pop() {
                Some(announcement) => announcement,
                None => return Ok(()),
            },
        };
        // Nobody listening on this node is fine.
        let _ = self.sender.send(announcement);
        Ok(())
    }

    /// Announces the writes after each known position (and, for tenants first seen now, their
    /// latest writes).
    async fn replay(&mut self) -> Result<()> {
        let mut replayed = 0usize;
        for (tenant, last) in self.positions().await? {
            let known = self.known.as_ref().and_then(|k| k.get(&tenant)).copied().unwrap_or(0);
            if last <= known {
                continue;
            }
            for announcement in self.load(tenant, last, known, REPLAY_LIMIT).await? {
                replayed += 1;
                let _ = self.sender.send(announcement);
            }
            self.known.get_or_insert_default().insert(tenant, last);
            self.replayed.insert(tenant, last);
        }
        if replayed > 0 {
            tracing::info!(replayed, "announced writes missed while the LISTEN connection was down");
        }
        Ok(())
    }

    /// Announcements of a tenant's writes in `(after, up_to]`, the latest `limit` of them, oldest
    /// first. A document's scope columns are its current ones.
    async fn load(&self, tenant: i64, up_to: u64, after: u64, limit: i64) -> Result<Vec<Announcement>> {
        let client = self.pool.get().await.map_err(|e| Error::Storage(format!("no PostgreSQL connection: {e}")))?;
        let (up_to, after) = (super::to_i64(up_to), super::to_i64(after));
        let rows = client
            .query(
                "SELECT c.seq, c.origin_device, d.kind, d.owner, d.store_id, d.region, d.subject_id, d.status
                 FROM change_log c JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.doc_id
                 WHERE c.tenant_id = $1 AND c.seq > $2 AND c.seq <= $3
                 ORDER BY c.seq DESC LIMIT $4",
                &[&tenant, &after, &up_to, &limit],
            )
            .await?;
        let mut announcements = rows
            .iter()
            .map(|r| {
                Ok(Announcement {
                    tenant_id: tenant,
                    seq: to_u64(r.try_get(0)?),
                    origin_device: r.try_get(1)?,
                    meta: DocMeta {
                        kind: r.try_get::<_, String>(2)?.parse()?,
                        owner: r.try_get(3)?,
                        store_id: r.try_get(4)?,
                        region: r.try_get(5)?,
                        subject_id: r.try_get(6)?,
                        status: r.try_get(7)?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        announcements.reverse();
        Ok(announcements)
    }
}
