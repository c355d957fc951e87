//! The server side of the tests: trace-tower's `TraceLayer` on every route, so the handler
//! runs in the context decided from the headers it received.

use axum::Router;
use trace_tower::TraceLayer;

/// Wraps every route of `app` in trace-tower's layer (defaults: X-App-Trace-Id, W3C, B3).
pub fn traced(app: Router) -> Router {
    app.layer(TraceLayer::new())
}
