//! `fieldsync-mobile-demo`: starts the relay, seeds the demo tenant, runs a field day of
//! simulated phones, prints a summary, then keeps the relay running (unless `--exit`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fieldsync_mobile_demo::{default_data_dir, field_day, start_relay};

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
    println!("FieldSync field day — data in {}", args.data.display());
    let (base_url, logins) = match start_relay(&runtime, &args.data, args.listen) {
        Ok(started) => started,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    println!("relay listening on {base_url} (embedded SQLite in {})", args.data.join("relay").display());
    let summary = match field_day(&base_url, &logins, &args.data.join("phones")) {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("the field day failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("\n== Summary");
    println!("  orders submitted offline: {}", summary.orders_submitted);
    println!("  orders at HQ:             {}", summary.orders_at_hq);
    let (approved, waiting, rejected) = summary.verdicts;
    println!("  verdicts:                 {approved} approved, {waiting} needing approval, {rejected} rejected");
    println!("  approved by the manager:  {}", summary.approvals);
    let scores: Vec<String> = summary.scores.iter().map(|s| format!("{s:.1}")).collect();
    println!("  inspection scores:        {}", scores.join(", "));
    println!("  inspections at HQ:        {}", summary.inspections_at_hq);
    println!("  alerts raised by imports: {}", summary.alerts_raised.join("; "));
    println!("  open alerts (manager):    {}", summary.alerts_open);
    println!("  photos uploaded:          {}", summary.photos_uploaded);
    println!("  sync round trips:         {}", summary.round_trips);
    println!("  bytes synced:             {}", summary.bytes_synced);
    if args.exit {
        return ExitCode::SUCCESS;
    }
    println!("\nThe relay keeps running at {base_url} (Ctrl-C to stop).");
    println!("HQ dashboard: {base_url}/ — demo logins:");
    for login in &logins {
        println!(
            "  tenant {:<6} user {:<18} password {:<24} {}{}",
            login.tenant,
            login.username,
            login.password,
            login.role,
            login.region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
    }
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    ExitCode::SUCCESS
}
