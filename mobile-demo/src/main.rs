//! `fieldsync-mobile-demo`: starts the relay, seeds the demo tenant, runs a field day of
//! simulated phones, prints a summary, then keeps the relay running (unless `--exit`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fieldsync_mobile_demo::{default_data_dir, erp, field_day, remove_data_dir, start_relay_with, write_logins};

/// A FieldSync field day: reps and a supervisor working offline against a real relay.
#[derive(Parser)]
struct Args {
    /// Data directory of the relay and the phones.
    #[arg(long, env = "FIELDSYNC_DATA", default_value_os_t = default_data_dir())]
    data: PathBuf,
    /// Where the relay listens.
    #[arg(long, env = "FIELDSYNC_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Exit after the summary instead of keeping the relay running.
    #[arg(long)]
    exit: bool,
    /// Start from an empty data directory: delete it first (only if it holds nothing but a
    /// FieldSync relay's and phones' data). Without it, each run adds a new day.
    #[arg(long)]
    fresh: bool,
    /// NATS server (with JetStream) the relay pushes its event feed to; the day ends with the
    /// "ERP" consumer reading the approved orders from it. Skipped when nothing answers there.
    #[arg(long, env = "FIELDSYNC_NATS", default_value = "nats://127.0.0.1:4222")]
    nats: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_env_filter("error").with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.fresh {
        match remove_data_dir(&args.data) {
            Ok(true) => println!("--fresh: deleted the earlier data in {}", args.data.display()),
            Ok(false) => {}
            Err(error) => {
                eprintln!("--fresh: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("FieldSync field day — data in {}", args.data.display());
    let nats = erp::reachable(&args.nats).then(|| args.nats.clone());
    if nats.is_none() {
        println!(
            "NATS does not answer at {}: the event feed stays in the relay's outbox (GET /v1/events), and the ERP consumer is skipped",
            args.nats
        );
    }
    let day_started = fieldsync_core::clock::now_ms();
    let (base_url, logins, clock) = match start_relay_with(&runtime, &args.data, args.listen, nats.clone()) {
        Ok(started) => started,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    println!("relay listening on {base_url} (embedded SQLite in {})", args.data.join("relay").display());
    let mut stdout = std::io::stdout();
    let summary = match field_day(&base_url, &logins, &clock, &args.data.join("phones"), &mut stdout) {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("the field day failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    summary.write_table(&mut stdout);
    println!();
    if let Some(url) = &nats {
        // The ERP reads what JetStream holds; the relay's publisher pushes within a second.
        match runtime.block_on(erp::read(url, "fieldsync.demo.order.>", std::time::Duration::from_secs(2))) {
            Ok(received) => erp::write_orders(&erp::approved_orders(&received, day_started), &mut stdout),
            Err(error) => println!("ERP consumer: {error}"),
        }
        println!();
    }
    write_logins(&logins, &mut stdout);
    println!("HQ dashboard: {base_url}/ (sign in with company \"demo\", e.g. hq-admin / demo-hq-admin)");
    if args.exit {
        return ExitCode::SUCCESS;
    }
    println!("\nThe relay keeps running at {base_url} (Ctrl-C to stop).");
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    ExitCode::SUCCESS
}
