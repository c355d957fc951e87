//! The service: extract, decide, open the span, call the inner service inside the context.

use std::fmt::{self, Display};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{HeaderValue, Request, Response};
use tower_service::Service;
use trace_context::{with_global_sampler, Context};

use crate::echo::Echo;
use crate::future::ResponseFuture;
use crate::layer::Config;
use crate::span::server_span;

/// The service produced by [`TraceLayer`](crate::TraceLayer).
///
/// ```
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let svc = trace_tower::TraceLayer::new().layer(tower::service_fn(|_req: http::Request<()>| async {
///     let id = trace_context::current_trace_id().expect("inside the request's context");
///     Ok::<_, std::convert::Infallible>(http::Response::new(id.to_string()))
/// }));
/// let req = http::Request::builder()
///     .header("x-app-trace-id", "0af7651916cd43dd8448eb211c80319c")
///     .body(())
///     .unwrap();
/// let res = svc.oneshot(req).await.unwrap();
/// assert_eq!(res.headers()["x-app-trace-id"], "0af7651916cd43dd8448eb211c80319c");
/// assert_eq!(res.body(), "0af7651916cd43dd8448eb211c80319c");
/// # }
/// ```
#[derive(Clone)]
pub struct TraceService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> TraceService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        TraceService { inner, config }
    }

    /// The wrapped service.
    ///
    /// ```
    /// use tower::Layer;
    /// let svc = trace_tower::TraceLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(()))
    /// }));
    /// let _inner = svc.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    ///
    /// ```
    /// use tower::Layer;
    /// let mut svc = trace_tower::TraceLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(()))
    /// }));
    /// let _inner = svc.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    ///
    /// ```
    /// use tower::Layer;
    /// let svc = trace_tower::TraceLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(()))
    /// }));
    /// let _inner = svc.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The request's context, decided from its headers, and the received application id
    /// header when it was accepted as is (echoing it shares its bytes instead of copying them).
    fn context_for<'a>(&self, headers: &'a http::HeaderMap) -> (Context, Option<&'a HeaderValue>) {
        let config = &*self.config;
        let (extracted, received) = config.propagation.extract_header_map(headers);
        if let Some(reason) = &extracted.app_trace_id_rejected {
            // The reason names the position and byte, never the received value.
            tracing::debug!(%reason, "discarded an invalid application trace id");
        }
        let ctx = match &config.sampler {
            Some(sampler) => extracted.server_context(&config.generator, &**sampler),
            None => with_global_sampler(|s| extracted.server_context(&config.generator, s)),
        };
        (ctx, received)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TraceService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Display,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (ctx, received) = self.context_for(req.headers());
        let ctx = ctx.with_mdc_fields(&self.config.mdc);
        let echo = self.config.echo.as_ref().map(|name| Echo {
            received: received.cloned(),
            name: name.clone(),
        });
        let open = self.config.unsampled_spans || ctx.is_sampled();
        // The span is created inside the request's context, which it adopts (it has a
        // `span.kind` field). Work done synchronously inside `call` (routing, extractors that
        // run eagerly) runs inside the span and the context; MDC changes it makes are kept for
        // the future. (A second handle on the context: the span's fields read it while the
        // first one is current.)
        let mut context = Some(ctx.clone());
        let config = &*self.config;
        let scope = trace_context::SpanScope::open(&mut context, || {
            if open {
                server_span(&req, config, &ctx)
            } else {
                tracing::Span::none()
            }
        });
        let inner = self.inner.call(req);
        let span = scope.close();
        drop(ctx);
        ResponseFuture::new(inner, context, span, echo, self.config.client_errors)
    }
}

impl<S: fmt::Debug> fmt::Debug for TraceService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceService")
            .field("inner", &self.inner)
            .field("echo", &self.config.echo)
            .finish_non_exhaustive()
    }
}
