//! The server side of the tests: extract the incoming context and run the handler inside it.
//!
//! A minimal stand-in for trace-tower's layer: `Propagation::default().extract(headers)
//! .server_context(..)`, then the handler runs `.with_context(ctx)`.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use trace_context::codec::Propagation;
use trace_context::{FollowUpstream, IdGenerator, WithContext};

/// Wraps every route of `app` in the server-side context.
pub fn traced(app: Router) -> Router {
    app.layer(middleware::from_fn(server_context))
}

async fn server_context(req: Request, next: Next) -> Response {
    let ctx = Propagation::default()
        .extract(req.headers())
        .server_context(&IdGenerator::default(), &FollowUpstream);
    next.run(req).with_context(ctx).await
}
