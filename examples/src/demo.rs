//! The demo run of the `shop` binary: sends sample orders through the gateway and shows, for
//! each, the answer, the log lines of the four services and the trace as a waterfall.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::services::order::OrderRequest;
use crate::shop::Shop;
use crate::telemetry::Telemetry;
use crate::waterfall;
use crate::zipkin;

/// The header carrying the application's trace id.
pub const APP_TRACE_ID_HEADER: &str = "x-app-trace-id";

/// How long to wait for a trace's spans to reach the sink.
pub const SPAN_WAIT: Duration = Duration::from_secs(5);

/// One sample order to send.
///
/// ```
/// use examples::demo::SampleOrder;
/// use examples::services::order::OrderRequest;
/// let s = SampleOrder { order: OrderRequest { user_id: 1001, product_id: 1001, count: 1 }, app_trace_id: None };
/// assert!(s.app_trace_id.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOrder {
    /// The order.
    pub order: OrderRequest,
    /// The `X-App-Trace-Id` to send, if any.
    pub app_trace_id: Option<String>,
}

/// What happened to one sample order.
///
/// ```
/// let o = examples::demo::OrderOutcome::default();
/// assert!(o.spans.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct OrderOutcome {
    /// The URL called.
    pub url: String,
    /// The `X-App-Trace-Id` sent.
    pub sent_id: Option<String>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The answer's body.
    pub body: String,
    /// The `X-App-Trace-Id` the gateway echoed.
    pub echoed_id: Option<String>,
    /// The trace id (as Zipkin prints it), when the build is instrumented.
    pub trace_id: Option<String>,
    /// The log lines printed while the order ran (all services, interleaved).
    pub logs: Vec<String>,
    /// The trace's spans as the exporter reported them (empty when not sampled).
    pub spans: Vec<zipkin::Span>,
    /// Where the spans were written as Zipkin v2 JSON.
    pub spans_file: Option<PathBuf>,
}

/// The two orders of the demo: the same order, first without an `X-App-Trace-Id` (the gateway
/// mints the trace id), then with `app_trace_id` (it becomes the trace id).
///
/// ```
/// let orders = examples::demo::sample_orders(
///     examples::services::order::OrderRequest { user_id: 1001, product_id: 1001, count: 1 },
///     "4bf92f3577b34da6a3ce929d0e0e4736".into(),
/// );
/// assert_eq!(orders.len(), 2);
/// assert!(orders[0].app_trace_id.is_none());
/// ```
pub fn sample_orders(order: OrderRequest, app_trace_id: String) -> Vec<SampleOrder> {
    vec![
        SampleOrder {
            order,
            app_trace_id: None,
        },
        SampleOrder {
            order,
            app_trace_id: Some(app_trace_id),
        },
    ]
}

/// A fresh random 32-hex-digit id, to send as `X-App-Trace-Id`.
///
/// ```
/// let id = examples::demo::random_app_trace_id();
/// assert_eq!(id.len(), 32);
/// assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
/// ```
pub fn random_app_trace_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half() | 1)
}

/// Sends one order through the gateway and collects its answer, log lines and spans; writes
/// the spans to `out_dir/trace-<id>.json` when there are some.
///
/// ```no_run
/// # async fn f(shop: examples::shop::Shop, t: examples::telemetry::Telemetry) {
/// use examples::demo::{send_order, SampleOrder};
/// use examples::services::order::OrderRequest;
/// let sample = SampleOrder { order: OrderRequest { user_id: 1001, product_id: 1001, count: 1 }, app_trace_id: None };
/// let outcome = send_order(&shop, &t, &sample, Some(std::path::Path::new("/tmp"))).await.unwrap();
/// println!("{}", outcome.status);
/// # }
/// ```
pub async fn send_order(
    shop: &Shop,
    telemetry: &Telemetry,
    sample: &SampleOrder,
    out_dir: Option<&Path>,
) -> Result<OrderOutcome, DemoError> {
    let url = shop.order_url(sample.order);
    let mark = telemetry.logs.mark();
    // The demo's own client is "the browser": a plain client, outside any trace.
    let mut request = reqwest::Client::new().get(&url);
    if let Some(id) = &sample.app_trace_id {
        request = request.header(APP_TRACE_ID_HEADER, id);
    }
    let response = request
        .send()
        .await
        .map_err(|e| DemoError(format!("GET {url}: {e}")))?;
    let status = response.status().as_u16();
    let echoed_id = response
        .headers()
        .get(APP_TRACE_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .text()
        .await
        .map_err(|e| DemoError(format!("GET {url}: reading the answer: {e}")))?;
    let mut outcome = OrderOutcome {
        url,
        sent_id: sample.app_trace_id.clone(),
        status,
        body,
        echoed_id,
        ..OrderOutcome::default()
    };
    collect_trace(telemetry, &mut outcome, out_dir).await?;
    outcome.logs = telemetry.logs.since(mark);
    Ok(outcome)
}

#[cfg(feature = "instrumented")]
async fn collect_trace(
    telemetry: &Telemetry,
    outcome: &mut OrderOutcome,
    out_dir: Option<&Path>,
) -> Result<(), DemoError> {
    let Some(echoed) = &outcome.echoed_id else {
        return Ok(());
    };
    let Ok(app) = trace_context::AppTraceId::parse(echoed.as_bytes()) else {
        return Ok(());
    };
    let trace_id = app.trace_id().to_zipkin_hex().to_string();
    // The gateway got no upstream decision, so the global sampler decided on the trace id
    // alone — deterministically: ask it again rather than wait for spans that never come.
    let sampled = trace_context::global_sampler()
        .should_sample(app.trace_id(), trace_context::Sampling::Deferred);
    if sampled {
        outcome.spans = telemetry.spans.wait_for_trace(&trace_id, SPAN_WAIT).await;
    }
    if let (Some(dir), false) = (out_dir, outcome.spans.is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| DemoError(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(format!("trace-{trace_id}.json"));
        zipkin::write_file(&path, &outcome.spans).map_err(|e| DemoError(e.to_string()))?;
        outcome.spans_file = Some(path);
    }
    outcome.trace_id = Some(trace_id);
    Ok(())
}

#[cfg(not(feature = "instrumented"))]
async fn collect_trace(
    _telemetry: &Telemetry,
    _outcome: &mut OrderOutcome,
    _out_dir: Option<&Path>,
) -> Result<(), DemoError> {
    // Give the services' last log lines (written after the answer) a moment to land.
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(())
}

/// Prints one order's story: request, answer, log lines, waterfall.
///
/// ```
/// let mut out = Vec::new();
/// let outcome = examples::demo::OrderOutcome { status: 200, ..Default::default() };
/// examples::demo::print_outcome(&mut out, "order 1", &outcome, &Default::default()).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("200"));
/// ```
pub fn print_outcome(
    out: &mut impl Write,
    title: &str,
    outcome: &OrderOutcome,
    options: &waterfall::Options,
) -> io::Result<()> {
    let rule = "─".repeat(78usize.saturating_sub(title.chars().count() + 4));
    writeln!(out, "\n── {title} {rule}")?;
    match &outcome.sent_id {
        Some(id) => writeln!(out, "→ GET {}\n  X-App-Trace-Id: {id}", outcome.url)?,
        None => writeln!(out, "→ GET {}  (no X-App-Trace-Id)", outcome.url)?,
    }
    writeln!(
        out,
        "← {}  X-App-Trace-Id: {}\n  {}",
        outcome.status,
        outcome.echoed_id.as_deref().unwrap_or("(none)"),
        outcome.body
    )?;
    writeln!(out, "\nlog lines of the four services:")?;
    for line in &outcome.logs {
        writeln!(out, "  {line}")?;
    }
    if let Some(id) = &outcome.trace_id {
        if outcome.spans.is_empty() {
            writeln!(
                out,
                "\ntrace {id} was not sampled (see --sample-probability): no spans to draw"
            )?;
        } else {
            writeln!(out, "\nthe trace, as the reporter emitted it:")?;
            for line in waterfall::render(&outcome.spans, options).lines() {
                writeln!(out, "  {line}")?;
            }
        }
    }
    if let Some(path) = &outcome.spans_file {
        writeln!(
            out,
            "\nspans written to {} (Zipkin UI: \"Upload JSON\"; or: trace-view {})",
            path.display(),
            path.display()
        )?;
    }
    Ok(())
}

/// The demo failed (a service did not answer, a file could not be written).
///
/// ```
/// assert_eq!(examples::demo::DemoError("x".into()).to_string(), "x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoError(pub String);

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoError {}
