//! `fieldsync-server`: the relay binary.
//!
//! ```text
//! fieldsync-server serve --data DIR [--listen 127.0.0.1:8080] [--database URL]
//! fieldsync-server admin --data DIR create-tenant NAME
//! fieldsync-server admin --data DIR create-user --tenant T --username U --password P --role R [--region R]
//! fieldsync-server admin --data DIR reset-password --tenant T --username U --password P
//! fieldsync-server admin --data DIR revoke-user --tenant T --username U
//! fieldsync-server admin --data DIR revoke-device --tenant T --device ID
//! fieldsync-server admin --data DIR list-users --tenant T
//! fieldsync-server admin --data DIR seed-demo
//! fieldsync-server import --data DIR --tenant T stock|stores FILE.csv
//! ```
//!
//! `--data`, `--listen` and `--database` also come from `FIELDSYNC_DATA`, `FIELDSYNC_LISTEN` and
//! `FIELDSYNC_DATABASE`. Exit codes: 0 done, 1 the relay failed (storage, I/O), 2 usage or
//! validation error, with a one-line message on stderr.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fieldsync_server::accounts::{self, NewAccount};
use fieldsync_server::config::Config;
use fieldsync_server::imports::{self, Dataset, Progress};
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
    },
    /// Administer tenants and users.
    Admin {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import a CSV file of stock levels or stores into a tenant (formats: docs/imports.md).
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// What the file holds: stock or stores.
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
    /// Database URL (PostgreSQL is not available yet).
    #[arg(long, env = "FIELDSYNC_DATABASE", global = true)]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a tenant.
    CreateTenant {
        /// Tenant name (lowercase letters, digits, '-', '_', '.').
        name: String,
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
            | Error::NotFound { .. }
            | Error::Conflict(_)
            | Error::Core(fieldsync_core::Error::InvalidInput { .. } | fieldsync_core::Error::InvalidId { .. }) => 2,
            _ => 1,
        };
        Self { code, message: error.to_string() }
    }
}

fn config_from(storage: &StorageArgs) -> Result<Config, Failure> {
    if let Some(url) = &storage.database {
        return Err(if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Failure::usage("PostgreSQL storage is not available yet; use --data DIR")
        } else {
            Failure::usage(format!("unsupported --database {url:?}: use --data DIR"))
        });
    }
    let data = storage.data.clone().ok_or_else(|| Failure::usage("missing --data DIR (or FIELDSYNC_DATA)"))?;
    let mut config = Config::new(data);
    config.metrics_token = std::env::var("FIELDSYNC_METRICS_TOKEN").ok().filter(|t| !t.is_empty());
    Ok(config)
}

fn open(storage: &StorageArgs) -> Result<AppState, Failure> {
    Ok(config_from(storage)?.open_state()?)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve { storage, listen } => {
            let mut config = config_from(&storage)?;
            config.listen = listen;
            serve(config).await
        }
        Command::Admin { storage, command } => {
            let state = open(&storage)?;
            admin(&state, command).await
        }
        Command::Import { storage, tenant, dataset, file } => {
            let dataset: Dataset = dataset.parse()?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let state = open(&storage)?;
            let storage = state.storage.as_ref();
            let tenant = accounts::tenant_named(storage, &tenant).await?;
            let mut show = |progress: Progress| match progress {
                Progress::Validated(rows) => eprintln!("validated {rows} rows"),
                Progress::Written { done, total } => eprintln!("wrote {done} of {total} documents"),
            };
            let report = imports::import(storage, tenant.id, dataset, &text, &mut show).await?;
            println!("{report} in tenant {}", tenant.name);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), Failure> {
    let listen = config.listen;
    let data_dir = config.data_dir.clone();
    let state = config.open_state()?;
    let state_shutdown = state.shutdown.clone();
    tokio::spawn(fieldsync_server::jobs::run_queue(state.clone()));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure { code: 1, message: format!("cannot listen on {listen}: {e}") })?;
    let address = listener.local_addr().map_err(|e| Failure { code: 1, message: format!("no local address: {e}") })?;
    tracing::info!(%address, data = %data_dir.display(), "relay started");
    // Tests and scripts read this line to find the port.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on http://{address}");
    let _ = stdout.flush();
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown({
            let shutdown = state_shutdown.clone();
            async move {
                shutdown_signal().await;
                // Live connections end too, or the graceful shutdown would wait for them forever.
                shutdown.trigger();
            }
        })
        .await
        .map_err(|e| Failure { code: 1, message: format!("server failed: {e}") })?;
    tracing::info!("relay stopped");
    Ok(())
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
        AdminCommand::CreateTenant { name } => {
            let tenant = accounts::create_tenant(storage, &name).await?;
            println!("created tenant {} (id {})", tenant.name, tenant.id);
        }
        AdminCommand::CreateUser { tenant, username, password, role, region } => {
            let role = accounts::parse_role(&role)?;
            let account = NewAccount {
                tenant: &tenant,
                username: &username,
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
