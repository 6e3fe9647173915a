//! `fieldsync-erp`: the field-day demo's "ERP" on its own. Reads the relay's event feed from NATS
//! JetStream (`docs/events.md`) and prints the approved orders of a tenant.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fieldsync_mobile_demo::erp;

/// Prints the approved orders a FieldSync relay published to NATS JetStream.
#[derive(Parser)]
struct Args {
    /// The NATS server.
    #[arg(long, env = "FIELDSYNC_NATS", default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// The tenant whose orders to print.
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// Only orders approved in the last this many hours.
    #[arg(long, default_value_t = 24)]
    hours: i64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !erp::reachable(&args.nats) {
        eprintln!("NATS does not answer at {}", args.nats);
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let filter = format!("fieldsync.{}.order.>", args.tenant);
    match runtime.block_on(erp::read(&args.nats, &filter, Duration::from_secs(1))) {
        Ok(received) => {
            let since = fieldsync_core::clock::now_ms() - args.hours * 3_600_000;
            erp::write_orders(&erp::approved_orders(&received, since), &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
