//! Draws Zipkin traces in the terminal as waterfalls: from a Zipkin v2 JSON file, or fetched
//! from a Zipkin server by trace id.
//!
//! ```text
//! trace-view /tmp/trace-kit-shop/trace-4bf92f3577b34da6a3ce929d0e0e4736.json
//! trace-view --zipkin http://localhost:9411 4bf92f3577b34da6a3ce929d0e0e4736
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::{waterfall, zipkin};

/// Draw Zipkin traces as waterfalls (service, span, start offset, duration bar).
#[derive(Parser, Debug)]
#[command(name = "trace-view", version)]
struct Cli {
    /// A Zipkin v2 JSON file (one trace, or a list of traces); with --zipkin, a trace id.
    target: String,
    /// Fetch the trace with this id from the Zipkin server at this URL
    /// (GET {URL}/api/v2/trace/{id}).
    #[arg(long)]
    zipkin: Option<String>,
    /// Width of the time axis, in characters.
    #[arg(long, default_value_t = 40)]
    bar_width: usize,
    /// Print each span's id and parent id.
    #[arg(long)]
    ids: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spans = match &cli.zipkin {
        Some(url) => fetch(url, &cli.target),
        None => zipkin::read_file(&PathBuf::from(&cli.target)).map_err(|e| e.to_string()),
    };
    let spans = match spans {
        Ok(s) => s,
        Err(e) => {
            eprintln!("trace-view: {e}");
            return ExitCode::FAILURE;
        }
    };
    if spans.is_empty() {
        eprintln!("trace-view: no spans in {}", cli.target);
        return ExitCode::FAILURE;
    }
    let options = waterfall::Options {
        bar_width: cli.bar_width,
        show_ids: cli.ids,
        ..Default::default()
    };
    let traces = zipkin::group_by_trace(spans);
    for (i, (_, spans)) in traces.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", waterfall::render(spans, &options));
    }
    ExitCode::SUCCESS
}

fn fetch(url: &str, trace_id: &str) -> Result<Vec<zipkin::Span>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    runtime
        .block_on(zipkin::fetch_trace(url, trace_id))
        .map_err(|e| e.to_string())
}
