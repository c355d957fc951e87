//! The four shop services as plain axum routers: handlers and state, no tracing wiring.
//!
//! [`crate::shop`] adds the trace-kit layers: around the gateway's router, and around each
//! handler of the other three (a [`HandlerLayer`] their `router` functions take and put on
//! every handler as it is). Keeping the two apart shows that the business code needs no change
//! to be traced.

/// What the shop puts around each handler of the order, user and product services: trace-kit's
/// `trace_tower::TraceLayer` in the instrumented build
/// ([`shop::handler_layer`](crate::shop::handler_layer)), nothing in the bare one.
///
/// It goes around the handler itself (axum's `Handler::layer`) rather than around the finished
/// router (`Router::layer`): axum keeps each route as a boxed service, and a layered router
/// boxes the layered route once more, so that every request clones a second boxed service
/// and boxes a second future (three allocations and ≈ 800 instructions per request; see
/// `examples/BENCHMARKS.md`). A handler layer only sees requests that reach a route: a path
/// no route matches gets the router's plain 404 (the gateway, which answers the outside
/// world, keeps its layer around the whole router).
///
/// ```
/// let layer = examples::services::HandlerLayer::default();
/// let _app: axum::Router = examples::services::user::router(examples::catalog::Users::sample(), &layer);
/// ```
#[cfg(feature = "instrumented")]
pub type HandlerLayer = trace_tower::TraceLayer;

/// What the shop puts around each handler: nothing, in the bare build.
///
/// ```
/// let layer = examples::services::HandlerLayer::default();
/// let _app: axum::Router = examples::services::user::router(examples::catalog::Users::sample(), &layer);
/// ```
#[cfg(not(feature = "instrumented"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct HandlerLayer;

/// A handler with the [`HandlerLayer`] around it (the handler as it is in the bare build).
/// Defined before the service modules, which use it.
macro_rules! layered {
    ($layer:expr, $handler:expr) => {{
        #[cfg(feature = "instrumented")]
        let handler = axum::handler::Handler::layer($handler, $layer.clone());
        #[cfg(not(feature = "instrumented"))]
        let handler = {
            let _: &$crate::services::HandlerLayer = $layer;
            $handler
        };
        handler
    }};
}

pub mod gateway;
pub mod order;
pub mod product;
pub mod user;

mod error;

pub use error::ApiError;

/// One of the shop's services: its name (in logs and in Zipkin) and its default port.
///
/// ```
/// use examples::services::Service;
/// assert_eq!(Service::Order.name(), "order");
/// assert_eq!(Service::Order.default_port(), 8080);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// The gateway: routes `/server-order/**` to the order service.
    Gateway,
    /// The order service: `GET /order/submit_order`.
    Order,
    /// The user service: `GET /user/get/{uid}`.
    User,
    /// The product service: `GET /product/get/{pid}`, `GET /product/update_count/{pid}/{count}`.
    Product,
}

impl Service {
    /// All four, gateway first.
    ///
    /// ```
    /// assert_eq!(examples::services::Service::ALL.len(), 4);
    /// ```
    pub const ALL: [Service; 4] = [
        Service::Gateway,
        Service::Order,
        Service::User,
        Service::Product,
    ];

    /// The service name used in log lines and as the Zipkin `localEndpoint.serviceName`.
    ///
    /// ```
    /// assert_eq!(examples::services::Service::Gateway.name(), "gateway");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Order => "order",
            Service::User => "user",
            Service::Product => "product",
        }
    }

    /// The port of the Java walk-through: gateway 10001, order 8080, user 8060, product 8070.
    ///
    /// ```
    /// assert_eq!(examples::services::Service::Product.default_port(), 8070);
    /// ```
    pub const fn default_port(self) -> u16 {
        match self {
            Service::Gateway => 10001,
            Service::Order => 8080,
            Service::User => 8060,
            Service::Product => 8070,
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
