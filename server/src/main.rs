//! `fieldsync-server`: the relay binary.
//!
//! ```text
//! fieldsync-server serve --data DIR [--listen 127.0.0.1:8080] [--database URL] [--tls-cert PEM --tls-key PEM]
//! fieldsync-server admin --data DIR create-tenant NAME
//! fieldsync-server admin --data DIR create-user --tenant T --username U --password P --role R [--region R]
//! fieldsync-server admin --data DIR reset-password --tenant T --username U --password P
//! fieldsync-server admin --data DIR revoke-user --tenant T --username U
//! fieldsync-server admin --data DIR revoke-device --tenant T --device ID
//! fieldsync-server admin --data DIR list-users --tenant T
//! fieldsync-server admin --data DIR seed-demo
//! fieldsync-server admin --data DIR set-webhook --tenant T --url URL --secret S
//! fieldsync-server admin --data DIR clear-webhook --tenant T
//! fieldsync-server admin --data DIR subscribe --tenant T --url URL --secret S [--types a,b]
//! fieldsync-server admin --data DIR list-subscriptions --tenant T
//! fieldsync-server admin --data DIR replay-subscription --tenant T --id ID --after CURSOR
//! fieldsync-server admin --data DIR unsubscribe --tenant T --id ID
//! fieldsync-server admin --data DIR api-key create --tenant T --name N --scope events:read [--scope imports:write]
//! fieldsync-server admin --data DIR api-key list --tenant T
//! fieldsync-server admin --data DIR api-key revoke --tenant T ID
//! fieldsync-server import --data DIR --tenant T stock|stores|products|prices|sales|purchases FILE.csv
//! ```
//!
//! `--data`, `--listen` and `--database` also come from `FIELDSYNC_DATA`, `FIELDSYNC_LISTEN` and
//! `FIELDSYNC_DATABASE`. Exit codes: 0 done, 1 the relay failed (storage, I/O), 2 usage or
//! validation error, with a one-line message on stderr.
//!
//! `--database postgres://…` stores everything but photo bytes in PostgreSQL (migrated at start),
//! so several `serve` nodes can share it; `--data` then names the photo folder they all mount.

/// jemalloc with its background thread: what a burst of syncs and reviews allocated goes back to
/// the system within seconds of idling (dirty pages are purged on a decay clock), where the
/// system allocator keeps a process at its peak.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::serve::ListenerExt;
use clap::{Args, Parser, Subcommand};
use fieldsync_server::config::Config;
use fieldsync_server::http::tls::{self, TlsFiles, TlsListener};
use fieldsync_server::imports::display::ProgressDisplay;
use fieldsync_server::imports::{self, Dataset};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::events::webhooks;
use fieldsync_server::storage::postgres;
use fieldsync_server::{AppState, Error, app, seed};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "fieldsync-server", version, about = "The FieldSync relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        #[command(flatten)]
        storage: StorageArgs,
        /// Address to listen on (port 0 picks a free port; the real one is printed).
        #[arg(long, env = "FIELDSYNC_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Browsers reach the relay over HTTPS through a reverse proxy that terminates TLS: mark
        /// the session cookie Secure and send Strict-Transport-Security (docs/deployment.md).
        #[arg(long, env = "FIELDSYNC_BEHIND_HTTPS")]
        behind_https: bool,
        /// A reverse proxy's address whose X-Forwarded-For names the client, for login
        /// throttling; repeat it, or comma-separate the list in the variable.
        #[arg(long = "trusted-proxy", env = "FIELDSYNC_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Jobs of the work lane (reviews, scoring, alerts) run at once; default: the cores.
        #[arg(long, env = "FIELDSYNC_WORK_JOBS", value_parser = clap::value_parser!(u16).range(1..=256))]
        work_jobs: Option<u16>,
        /// Webhook deliveries run at once, in their own lane.
        #[arg(long, env = "FIELDSYNC_DELIVERY_JOBS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
        delivery_jobs: u16,
        /// Most documents kept loaded between the relay's own edits (memory against reloads).
        #[arg(long, env = "FIELDSYNC_KEPT_DOCUMENTS", default_value_t = fieldsync_server::config::KEPT_DOCUMENTS, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        kept_documents: u64,
        /// Most tenants whose hydrated catalog is kept in memory.
        #[arg(long, env = "FIELDSYNC_CACHED_CATALOGS", default_value_t = fieldsync_server::config::CACHED_CATALOGS, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        cached_catalogs: u64,
        /// Most submitted orders kept, as admission read them, for their review (memory against
        /// reloading each order).
        #[arg(long, env = "FIELDSYNC_KEPT_SUBMISSIONS", default_value_t = fieldsync_server::config::KEPT_SUBMISSIONS, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        kept_submissions: u64,
        /// Read buffer of each live connection, in KiB: allocated per connected phone, so it
        /// weighs on memory with thousands of phones (a larger message grows it as needed).
        #[arg(long, env = "FIELDSYNC_LIVE_READ_BUFFER_KIB", default_value_t = fieldsync_server::config::LIVE_READ_BUFFER_KIB, value_parser = clap::value_parser!(u32).range(1..=1024))]
        live_read_buffer_kib: u32,
        /// Days a closed alert is kept (in the inboxes and the alerts page's history) before it
        /// is removed.
        #[arg(long, env = "FIELDSYNC_ALERT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3650))]
        alert_retention_days: u16,
        /// Serve HTTPS with this certificate chain (PEM, leaf first), read again when it changes;
        /// needs --tls-key. Implies --behind-https (docs/deployment.md).
        #[arg(long, env = "FIELDSYNC_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM); needs --tls-cert.
        #[arg(long, env = "FIELDSYNC_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// Push the event feed to this NATS server's JetStream (nats://host:port), subject
        /// fieldsync.<tenant>.<type> (docs/events.md).
        #[arg(long, env = "FIELDSYNC_NATS")]
        nats: Option<String>,
    },
    /// Administer tenants and users.
    Admin {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import a CSV file into a tenant: stock, stores, products, prices, sales or purchases
    /// (formats: docs/imports.md).
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// What the file holds: stock, stores, products, prices, sales or purchases.
        dataset: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct StorageArgs {
    /// Data directory (SQLite file and photo folder); created if missing.
    #[arg(long, env = "FIELDSYNC_DATA", global = true)]
    data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user@host:port/db): store everything but photos there, so that
    /// several relay nodes can share it; --data then holds only the photo folder, which the
    /// nodes must share too (docs/deployment.md).
    #[arg(long, env = "FIELDSYNC_DATABASE", global = true)]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a tenant.
    CreateTenant {
        /// Tenant name (lowercase letters, digits, '-', '_', '.').
        name: String,
        /// IANA time zone in which the tenant's days are counted and times shown (Europe/Berlin).
        #[arg(long, default_value = fieldsync_server::locale::DEFAULT_TIME_ZONE)]
        time_zone: String,
        /// ISO 4217 code of the currency of the tenant's amounts (two decimal places: EUR, CNY).
        #[arg(long, default_value = fieldsync_server::locale::DEFAULT_CURRENCY)]
        currency: String,
        /// Default language of the tenant's dashboard (en, zh-CN); without it, each browser's.
        #[arg(long)]
        language: Option<String>,
    },
    /// Change a tenant's time zone, currency or default language.
    #[command(group = clap::ArgGroup::new("locale").required(true).multiple(true).args(["time_zone", "currency", "language"]))]
    SetTenant {
        /// Tenant name.
        name: String,
        /// IANA time zone (Europe/Berlin).
        #[arg(long)]
        time_zone: Option<String>,
        /// ISO 4217 currency code (EUR).
        #[arg(long)]
        currency: Option<String>,
        /// Default language of the dashboard for users who chose none (en, zh-CN).
        #[arg(long)]
        language: Option<String>,
    },
    /// Check every stored document against the limits on what a document may become, and
    /// quarantine those that break them (a migration queues the same check as a job).
    CheckDocuments {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Derive the read model (the relational tables lists and figures read) again from the
    /// documents: delete a tenant's rows and project every document anew.
    RebuildProjections {
        /// Tenant name; every tenant with documents when left out.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Create a user.
    CreateUser {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Username.
        #[arg(long)]
        username: String,
        /// Password (at least 8 characters).
        #[arg(long)]
        password: String,
        /// rep, supervisor, manager or hq.
        #[arg(long)]
        role: String,
        /// Region (required for rep, supervisor and manager).
        #[arg(long)]
        region: Option<String>,
        /// The name people see (the username when absent).
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Set a user's password.
    ResetPassword {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Username.
        #[arg(long)]
        username: String,
        /// The new password.
        #[arg(long)]
        password: String,
    },
    /// Enable a disabled user again (they sign in anew).
    EnableUser {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Username.
        #[arg(long)]
        username: String,
    },
    /// Set a user's role, region and display name.
    SetUser {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Username.
        #[arg(long)]
        username: String,
        /// rep, supervisor, manager or hq.
        #[arg(long)]
        role: String,
        /// Region (required for rep, supervisor and manager).
        #[arg(long)]
        region: Option<String>,
        /// The name people see (the username when empty).
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Disable a user and revoke all their sessions.
    RevokeUser {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Username.
        #[arg(long)]
        username: String,
    },
    /// Revoke a device and all its sessions.
    RevokeDevice {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Device id.
        #[arg(long)]
        device: String,
    },
    /// List the users of a tenant.
    ListUsers {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Create the demo tenant with realistic data and print its logins.
    SeedDemo,
    /// Post the tenant's alert events to a URL, signed with a secret (docs/alerts.md).
    SetWebhook {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// An http:// or https:// URL.
        #[arg(long)]
        url: String,
        /// The HMAC-SHA256 signing secret (at least 16 characters).
        #[arg(long)]
        secret: String,
    },
    /// Stop posting the tenant's alert events.
    ClearWebhook {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Create, list or revoke the API keys of integrations (docs/integrations.md).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Post the tenant's business events (docs/events.md) to a URL, signed, from now on.
    Subscribe {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// An http:// or https:// URL.
        #[arg(long)]
        url: String,
        /// The HMAC-SHA256 signing secret (at least 16 characters).
        #[arg(long)]
        secret: String,
        /// Comma-separated event types (default: all).
        #[arg(long, default_value = "")]
        types: String,
    },
    /// The tenant's event subscriptions, their cursors and dead letters.
    ListSubscriptions {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Send a subscription's events again from after a cursor.
    ReplaySubscription {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// The subscription's id.
        #[arg(long)]
        id: String,
        /// Events after this position are sent again (0: all).
        #[arg(long)]
        after: u64,
    },
    /// Delete an event subscription.
    Unsubscribe {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// The subscription's id.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it (the only time it is shown).
    Create {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// The key's name (lowercase letters, digits, '-', '_', '.').
        #[arg(long)]
        name: String,
        /// What it may do: events:read, imports:write; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List the tenant's keys, with when each was last used and how often.
    List {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key by id: refused from its next request on.
    Revoke {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// The key's id (from `api-key list`).
        id: String,
    },
}

/// A failure and its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::BadRequest { .. }
            | Error::InvalidImport(_)
            | Error::NotFound { .. }
            | Error::Conflict(_)
            | Error::Core(fieldsync_core::Error::InvalidInput { .. } | fieldsync_core::Error::InvalidId { .. }) => 2,
            // A refusal of a value or of the state, as the variants above; a forbidden one is 1.
            Error::Refused(refusal) if refusal.kind != fieldsync_server::error::RefusalKind::Forbidden => 2,
            _ => 1,
        };
        Self { code, message: error.to_string() }
    }
}

fn config_from(storage: &StorageArgs) -> Result<Config, Failure> {
    let database = storage.database.clone().filter(|url| !url.is_empty());
    if let Some(url) = &database
        && !postgres::is_postgres_url(url)
    {
        return Err(Failure::usage(format!(
            "unsupported --database {:?}: expected postgres://user@host:port/db",
            postgres::redact(url)
        )));
    }
    let data = storage.data.clone().ok_or_else(|| {
        Failure::usage(match database {
            Some(_) => "missing --data DIR (or FIELDSYNC_DATA): the photo folder, shared by every node",
            None => "missing --data DIR (or FIELDSYNC_DATA)",
        })
    })?;
    let mut config = Config::new(data);
    config.database_url = database;
    config.metrics_token = std::env::var("FIELDSYNC_METRICS_TOKEN").ok().filter(|t| !t.is_empty());
    Ok(config)
}

async fn open(storage: &StorageArgs) -> Result<AppState, Failure> {
    Ok(config_from(storage)?.open().await?)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve {
            storage,
            listen,
            behind_https,
            trusted_proxies,
            work_jobs,
            delivery_jobs,
            kept_documents,
            cached_catalogs,
            kept_submissions,
            live_read_buffer_kib,
            alert_retention_days,
            tls_cert,
            tls_key,
            nats,
        } => {
            let mut config = config_from(&storage)?;
            config.listen = listen;
            let tls = tls_cert.zip(tls_key).map(|(cert, key)| TlsFiles { cert, key });
            // Browsers reach a relay that serves TLS itself over HTTPS, as behind a proxy.
            config.behind_https = behind_https || tls.is_some();
            config.trusted_proxies = trusted_proxies;
            if let Some(work_jobs) = work_jobs {
                config.work_jobs = usize::from(work_jobs);
            }
            config.delivery_jobs = usize::from(delivery_jobs);
            config.kept_documents = kept_documents;
            config.cached_catalogs = cached_catalogs;
            config.kept_submissions = kept_submissions;
            config.live_read_buffer = live_read_buffer_kib as usize * 1024;
            config.nats_url = nats;
            config.alert_retention = std::time::Duration::from_secs(u64::from(alert_retention_days) * 24 * 60 * 60);
            serve(config, tls).await
        }
        Command::Admin { storage, command } => {
            let state = open(&storage).await?;
            admin(&state, command).await
        }
        Command::Import { storage, tenant, dataset, file } => {
            let dataset: Dataset = dataset.parse()?;
            let size = std::fs::File::open(&file)
                .and_then(|f| f.metadata())
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?
                .len();
            let state = open(&storage).await?;
            let storage = state.storage.as_ref();
            let tenant = accounts::tenant_named(storage, &tenant).await?;
            let display = ProgressDisplay::on_stderr(dataset, size);
            let imported =
                imports::import_file(storage, &state.caches, tenant.id, dataset, &file, display.sink()).await;
            display.finish();
            println!("{} in tenant {}", imported?, tenant.name);
            Ok(())
        }
    }
}

async fn serve(config: Config, tls: Option<TlsFiles>) -> Result<(), Failure> {
    let listen = config.listen;
    let data_dir = config.data_dir.clone();
    let database = config.database_url.as_deref().map(postgres::redact).unwrap_or_else(|| "sqlite".to_owned());
    let state = config.open().await?;
    let state_shutdown = state.shutdown.clone();
    fieldsync_server::spawn_workers(&state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure { code: 1, message: format!("cannot listen on {listen}: {e}") })?;
    let address = listener.local_addr().map_err(|e| Failure { code: 1, message: format!("no local address: {e}") })?;
    tracing::info!(%address, data = %data_dir.display(), %database, "relay started");
    let scheme = if tls.is_some() { "https" } else { "http" };
    let shutdown = {
        let shutdown = state_shutdown.clone();
        async move {
            shutdown_signal().await;
            // Live connections end too, or the graceful shutdown would wait for them forever.
            shutdown.trigger();
        }
    };
    let app = app(state);
    let served = match tls {
        Some(files) => {
            let listener = TlsListener::new(listener, files, tls::RELOAD_CHECK)
                .map_err(|e| Failure { code: 1, message: format!("cannot serve TLS: {e}") })?
                // `tap_io` gives the listener the peer-address connect info axum knows for TCP.
                .tap_io(|_| {});
            announce(scheme, address);
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            announce(scheme, address);
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    served.map_err(|e| Failure { code: 1, message: format!("server failed: {e}") })?;
    tracing::info!("relay stopped");
    Ok(())
}

/// Prints the address served; tests and scripts read this line to find the port.
fn announce(scheme: &str, address: SocketAddr) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {scheme}://{address}");
    let _ = stdout.flush();
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

async fn admin(state: &AppState, command: AdminCommand) -> Result<(), Failure> {
    let storage = state.storage.as_ref();
    let cost = state.config.password_cost;
    match command {
        AdminCommand::CreateTenant { name, time_zone, currency, language } => {
            let locale = fieldsync_server::locale::Locale::new(&time_zone, &currency)?;
            // Checked before anything is written: a bad language creates no tenant.
            let language = language.as_deref().map(accounts::parse_language).transpose()?;
            let tenant = accounts::create_tenant_in(storage, &name, &locale).await?;
            if let Some(language) = language {
                accounts::set_tenant_language(storage, &tenant.name, language.tag()).await?;
            }
            println!(
                "created tenant {} (id {}), time zone {}, currency {}{}",
                tenant.name,
                tenant.id,
                tenant.time_zone,
                tenant.currency,
                language.map(|l| format!(", language {l}")).unwrap_or_default()
            );
        }
        AdminCommand::SetTenant { name, time_zone, currency, language } => {
            // Every value is checked before any is written.
            let language = language.as_deref().map(accounts::parse_language).transpose()?;
            let mut tenant = accounts::tenant_named(storage, &name).await?;
            if time_zone.is_some() || currency.is_some() {
                tenant = accounts::set_tenant_locale(storage, &name, time_zone.as_deref(), currency.as_deref()).await?;
            }
            if let Some(language) = language {
                accounts::set_tenant_language(storage, &name, language.tag()).await?;
            }
            println!(
                "tenant {}: time zone {}, currency {}{}",
                tenant.name,
                tenant.time_zone,
                tenant.currency,
                language.map(|l| format!(", language {l}")).unwrap_or_default()
            );
        }
        AdminCommand::CheckDocuments { tenant } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            let report = fieldsync_server::quarantine::check_tenant(storage, found.id).await?;
            println!("checked {} document(s) of tenant {tenant}", report.checked);
            for (id, reason) in &report.quarantined {
                println!("quarantined {id}: {reason}");
            }
            println!("{} document(s) quarantined", report.quarantined.len());
        }
        AdminCommand::RebuildProjections { tenant } => {
            let tenants: Vec<(i64, String)> = match tenant {
                Some(name) => vec![(accounts::tenant_named(storage, &name).await?.id, name)],
                None => storage.tenants_with_documents().await?.into_iter().map(|id| (id, format!("#{id}"))).collect(),
            };
            for (id, name) in tenants {
                let report = fieldsync_server::read_model::rebuild_tenant(storage, id).await?;
                println!("rebuilt the read model of tenant {name} from {} document(s)", report.documents);
            }
        }
        AdminCommand::CreateUser { tenant, username, password, role, region, display_name } => {
            let role = accounts::parse_role(&role)?;
            let account = NewAccount {
                tenant: &tenant,
                username: &username,
                display_name: &display_name,
                password: &password,
                role,
                region: region.as_deref(),
            };
            let user = accounts::create_user(storage, cost, account).await?;
            println!("created user {} ({}) in tenant {tenant} with id {}", user.username, user.role, user.id);
        }
        AdminCommand::ResetPassword { tenant, username, password } => {
            accounts::reset_password(storage, cost, &tenant, &username, &password).await?;
            println!("password of {username} in tenant {tenant} changed");
        }
        AdminCommand::EnableUser { tenant, username } => {
            accounts::enable_user(storage, &tenant, &username).await?;
            println!("user {username} in tenant {tenant} enabled");
        }
        AdminCommand::SetUser { tenant, username, role, region, display_name } => {
            let role = accounts::parse_role(&role)?;
            let update = accounts::UserUpdate { role, region: region.as_deref(), display_name: &display_name };
            accounts::update_user(storage, &tenant, &username, update).await?;
            println!("user {username} in tenant {tenant} is now a {role}");
        }
        AdminCommand::RevokeUser { tenant, username } => {
            accounts::revoke_user(storage, &tenant, &username).await?;
            println!("user {username} in tenant {tenant} disabled and all their sessions revoked");
        }
        AdminCommand::RevokeDevice { tenant, device } => {
            accounts::revoke_device(storage, &tenant, &device).await?;
            println!("device {device} in tenant {tenant} revoked with all its sessions");
        }
        AdminCommand::ListUsers { tenant } => {
            let users = accounts::list_users(storage, &tenant).await?;
            println!("{:<32}  {:<24}  {:<10}  {:<10}  status", "id", "username", "role", "region");
            for user in users {
                println!(
                    "{:<32}  {:<24}  {:<10}  {:<10}  {}",
                    user.id,
                    user.username,
                    user.role.as_str(),
                    user.region.as_deref().unwrap_or("-"),
                    if user.disabled_at.is_some() { "disabled" } else { "active" }
                );
            }
        }
        AdminCommand::SeedDemo => {
            let report = seed::seed_demo(storage, cost).await?;
            if report.created_tenant {
                println!("created tenant {}", seed::DEMO_TENANT);
            } else {
                println!("tenant {} already exists; nothing is created twice", seed::DEMO_TENANT);
            }
            for (kind, count) in &report.documents_created {
                println!("created {count} {kind} document(s)");
            }
            print!("{}", report.logins_table());
        }
        AdminCommand::SetWebhook { tenant, url, secret } => {
            fieldsync_server::services::alerts::webhook::set_webhook(storage, &tenant, &url, &secret).await?;
            println!("alert events of tenant {tenant} will be posted to {url}");
        }
        AdminCommand::ClearWebhook { tenant } => {
            fieldsync_server::services::alerts::webhook::clear_webhook(storage, &tenant).await?;
            println!("alert events of tenant {tenant} are no longer posted");
        }
        AdminCommand::Subscribe { tenant, url, secret, types } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            let created = webhooks::subscribe(storage, found.id, &url, &secret, &types).await?;
            let types = if created.types.is_empty() { "all".to_owned() } else { created.types.join(",") };
            println!("subscription {} of tenant {tenant}: {types} events posted to {url}", created.id);
        }
        AdminCommand::ListSubscriptions { tenant } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            for state in webhooks::list(storage, found.id).await? {
                let s = &state.subscription;
                let types = if s.types.is_empty() { "all".to_owned() } else { s.types.join(",") };
                println!(
                    "{}  {}  types {types}  cursor {}  dead letters {}",
                    s.id,
                    s.url,
                    state.cursor,
                    state.dead_letters.len()
                );
                for letter in &state.dead_letters {
                    println!(
                        "  dead: cursor {} {} {} after {} attempts: {}",
                        letter.seq, letter.event_type, letter.event_id, letter.attempts, letter.last_error
                    );
                }
            }
        }
        AdminCommand::ReplaySubscription { tenant, id, after } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            webhooks::replay(storage, found.id, &id, after).await?;
            println!("subscription {id} will be sent the events after {after} again");
        }
        AdminCommand::Unsubscribe { tenant, id } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            webhooks::unsubscribe(storage, found.id, &id).await?;
            println!("subscription {id} of tenant {tenant} deleted");
        }
        AdminCommand::ApiKey(command) => api_key(state, command).await?,
    }
    Ok(())
}

async fn api_key(state: &AppState, command: ApiKeyCommand) -> Result<(), Failure> {
    let storage = state.storage.as_ref();
    match command {
        ApiKeyCommand::Create { tenant, name, scopes } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            let scopes = accounts::parse_scopes(&scopes)?;
            let created = accounts::create_api_key(storage, found.id, &name, &scopes, "cli").await?;
            eprintln!(
                "created api key {} (id {}) in tenant {tenant} with scopes {}; it is shown once, keep it now:",
                created.record.name, created.record.id, created.record.scopes
            );
            println!("{}", created.key);
        }
        ApiKeyCommand::List { tenant } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            let keys = accounts::list_api_keys(storage, found.id).await?;
            println!(
                "{:<32}  {:<20}  {:<12}  {:<26}  {:>8}  {:<13}  status",
                "id", "name", "prefix", "scopes", "uses", "last used"
            );
            for key in keys {
                println!(
                    "{:<32}  {:<20}  {:<12}  {:<26}  {:>8}  {:<13}  {}",
                    key.id,
                    key.name,
                    key.prefix,
                    key.scopes,
                    key.use_count,
                    key.last_used_at.map_or_else(|| "never".to_owned(), |at| at.to_string()),
                    if key.revoked_at.is_some() { "revoked" } else { "live" }
                );
            }
        }
        ApiKeyCommand::Revoke { tenant, id } => {
            let found = accounts::tenant_named(storage, &tenant).await?;
            let key = accounts::revoke_api_key(storage, found.id, &id).await?;
            println!("api key {} (id {}) of tenant {tenant} revoked", key.name, key.id);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
        Err(error) => error.exit(),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
