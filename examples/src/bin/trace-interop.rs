//! The W3C Trace Context conformance test service: `POST /test` (see `examples::interop`).
//!
//! ```text
//! trace-interop --addr 127.0.0.1:5000 &
//! python3 test/test.py http://127.0.0.1:5000/test     # in a w3c/trace-context checkout
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

/// A service for the W3C Trace Context test harness, built on trace-tower and trace-reqwest
/// with their defaults.
#[derive(Parser, Debug)]
#[command(name = "trace-interop", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000")]
    addr: SocketAddr,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = trace_log::init() {
        eprintln!("trace-interop: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("trace-interop: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: std::io::Result<()> = runtime.block_on(async {
        let listener = examples::server::bind(cli.addr, "--addr").await?;
        println!(
            "trace-interop: listening on http://{}/test",
            listener.local_addr()?
        );
        axum::serve(listener, examples::interop::app())
            .with_graceful_shutdown(examples::server::shutdown_signal())
            .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace-interop: {e}");
            ExitCode::FAILURE
        }
    }
}
