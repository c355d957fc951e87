//! The shop: the four services wired together, traced, on loopback ports.
//!
//! `trace_layer` (instrumented build) is everything a service adds to be traced: trace-tower's
//! layer around its handlers ([`handler_layer`]; around the whole router for the gateway,
//! [`traced`]), with, because all four services of this demo share one process, the service's
//! name in the MDC of every request, so that log lines and spans say which service they come
//! from. The HTTP client each service calls the others with is [`HttpClient`], a plain
//! `reqwest::Client` whose calls go through trace-reqwest's plain-reqwest path.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;

use crate::catalog::{Products, Users};
use crate::client::HttpClient;
use crate::server::{bind, serve, ServiceHandle};
use crate::services::order::{OrderConfig, OrderRequest};
use crate::services::{gateway, order, product, user, HandlerLayer, Service};

/// The MDC key holding the name of the service handling the request.
pub const SERVICE_KEY: &str = "service";

/// trace-kit's `TraceLayer` as the shop configures it for a service: it reads or mints the
/// trace id, runs the request in its context — which starts with the service's name in the MDC
/// under [`SERVICE_KEY`], for the log lines — opens the server span of a sampled request named
/// after the service (the exporter's `localEndpoint.serviceName` for it and its client spans),
/// and marks a 4xx answer as an error on it, as Brave's HTTP parser does for any status above
/// 399 (in the shop an unknown user or product fails the order and must show as an error in
/// the trace). The gateway, the shop's edge, echoes `X-App-Trace-Id` to its callers; the
/// services behind it do not (their callers are the shop's own services, which do not read it:
/// the gateway drops it from the order service's answer and sets its own).
///
/// ```
/// use examples::services::Service;
/// let layer = examples::shop::trace_layer(Service::User);
/// assert!(layer.client_errors_marked());
/// ```
#[cfg(feature = "instrumented")]
pub fn trace_layer(service: Service) -> trace_tower::TraceLayer {
    trace_tower::TraceLayer::new()
        .service_name(service.name())
        .mdc_field(SERVICE_KEY, service.name())
        .mark_client_errors(true)
        // Only the edge answers clients that want the id back.
        .echo(service == Service::Gateway)
        // As on the client side: the exporter is the only consumer of server spans.
        .unsampled_spans(false)
}

/// What goes around each handler of the order, user and product services: [`trace_layer`]
/// (see [`HandlerLayer`] for why around the handlers and not around their routers).
///
/// ```
/// use examples::services::Service;
/// let layer = examples::shop::handler_layer(Service::User);
/// let _app: axum::Router = examples::services::user::router(Default::default(), &layer);
/// ```
#[cfg(feature = "instrumented")]
pub fn handler_layer(service: Service) -> HandlerLayer {
    trace_layer(service)
}

/// What goes around each handler of the order, user and product services (here: the bare
/// build, so nothing).
///
/// ```
/// use examples::services::Service;
/// let layer = examples::shop::handler_layer(Service::User);
/// let _app: axum::Router = examples::services::user::router(Default::default(), &layer);
/// ```
#[cfg(not(feature = "instrumented"))]
pub fn handler_layer(_service: Service) -> HandlerLayer {
    HandlerLayer
}

/// Wraps a service's whole router with [`trace_layer`] (the gateway's: its layer also sees
/// requests that match no route, which the outside world may send). Without the
/// `instrumented` feature the routes are returned as they are.
///
/// ```
/// use examples::services::Service;
/// let app = examples::shop::traced(Service::Gateway, examples::services::gateway::router(
///     "http://127.0.0.1:8080", examples::client::HttpClient::new()));
/// # let _: axum::Router = app;
/// ```
#[cfg(feature = "instrumented")]
pub fn traced(service: Service, routes: Router) -> Router {
    routes.layer(trace_layer(service))
}

/// Wraps a service's whole router with trace-kit (here: the bare build, so nothing).
///
/// ```
/// use examples::services::Service;
/// let app = examples::shop::traced(Service::Gateway, examples::services::gateway::router(
///     "http://127.0.0.1:8080", examples::client::HttpClient::new()));
/// # let _: axum::Router = app;
/// ```
#[cfg(not(feature = "instrumented"))]
pub fn traced(_service: Service, routes: Router) -> Router {
    routes
}

/// The gateway, traced, routing to the order service at `order_url`.
///
/// ```
/// let _app: axum::Router = examples::shop::gateway_app("http://127.0.0.1:8080");
/// ```
pub fn gateway_app(order_url: &str) -> Router {
    traced(
        Service::Gateway,
        gateway::router(order_url, HttpClient::new()),
    )
}

/// The order service, traced, calling the user and product services at these URLs.
///
/// ```
/// let _app: axum::Router = examples::shop::order_app("http://127.0.0.1:8060", "http://127.0.0.1:8070");
/// ```
pub fn order_app(user_url: &str, product_url: &str) -> Router {
    let config = OrderConfig {
        user_url: user_url.to_owned(),
        product_url: product_url.to_owned(),
    };
    let layer = handler_layer(Service::Order);
    order::router(config, HttpClient::new(), &layer)
}

/// The user service, traced, over the sample users.
///
/// ```
/// let _app: axum::Router = examples::shop::user_app();
/// ```
pub fn user_app() -> Router {
    user::router(Users::sample(), &handler_layer(Service::User))
}

/// The product service, traced, over the sample products.
///
/// ```
/// let _app: axum::Router = examples::shop::product_app();
/// ```
pub fn product_app() -> Router {
    product::router(Products::sample(), &handler_layer(Service::Product))
}

/// Where the shop's services listen.
///
/// ```
/// let cfg = examples::shop::ShopConfig::default();
/// assert_eq!(cfg.gateway_port, 10001);
/// assert_eq!(examples::shop::ShopConfig::ephemeral().gateway_port, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    /// The address all four listen on (default `127.0.0.1`).
    pub host: IpAddr,
    /// Gateway port (default 10001; 0 picks a free port).
    pub gateway_port: u16,
    /// Order service port (default 8080).
    pub order_port: u16,
    /// User service port (default 8060).
    pub user_port: u16,
    /// Product service port (default 8070).
    pub product_port: u16,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            gateway_port: Service::Gateway.default_port(),
            order_port: Service::Order.default_port(),
            user_port: Service::User.default_port(),
            product_port: Service::Product.default_port(),
        }
    }
}

impl ShopConfig {
    /// All four on free ports picked by the system (for tests).
    ///
    /// ```
    /// assert_eq!(examples::shop::ShopConfig::ephemeral().order_port, 0);
    /// ```
    pub fn ephemeral() -> ShopConfig {
        ShopConfig {
            gateway_port: 0,
            order_port: 0,
            user_port: 0,
            product_port: 0,
            ..ShopConfig::default()
        }
    }
}

/// The four running services.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// let shop = examples::shop::start(&examples::shop::ShopConfig::default()).await?;
/// println!("gateway at {}", shop.gateway.url());
/// shop.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Shop {
    /// The gateway.
    pub gateway: ServiceHandle,
    /// The order service.
    pub order: ServiceHandle,
    /// The user service.
    pub user: ServiceHandle,
    /// The product service.
    pub product: ServiceHandle,
}

/// Starts the four services (inside a tokio runtime). Dropping the [`Shop`] stops them.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// let shop = examples::shop::start(&examples::shop::ShopConfig::ephemeral()).await?;
/// # drop(shop); Ok(()) }
/// ```
pub async fn start(config: &ShopConfig) -> io::Result<Shop> {
    let at = |port| SocketAddr::new(config.host, port);
    let user_l = bind(at(config.user_port), "--user-port").await?;
    let product_l = bind(at(config.product_port), "--product-port").await?;
    let order_l = bind(at(config.order_port), "--order-port").await?;
    let gateway_l = bind(at(config.gateway_port), "--gateway-port").await?;
    let user_url = url_of(user_l.local_addr()?);
    let product_url = url_of(product_l.local_addr()?);
    let order_url = url_of(order_l.local_addr()?);
    Ok(Shop {
        user: serve(Service::User.name(), user_l, user_app())?,
        product: serve(Service::Product.name(), product_l, product_app())?,
        order: serve(
            Service::Order.name(),
            order_l,
            order_app(&user_url, &product_url),
        )?,
        gateway: serve(Service::Gateway.name(), gateway_l, gateway_app(&order_url))?,
    })
}

/// `http://addr`.
fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

impl Shop {
    /// The URL that submits this order through the gateway.
    ///
    /// ```no_run
    /// # fn f(shop: examples::shop::Shop) {
    /// use examples::services::order::OrderRequest;
    /// let url = shop.order_url(OrderRequest { user_id: 1001, product_id: 1001, count: 1 });
    /// assert!(url.ends_with("/server-order/order/submit_order?userId=1001&productId=1001&count=1"));
    /// # }
    /// ```
    pub fn order_url(&self, order: OrderRequest) -> String {
        submit_order_url(&self.gateway.url(), order)
    }

    /// Stops the four services, letting requests in flight finish.
    ///
    /// ```no_run
    /// # async fn f(shop: examples::shop::Shop) -> std::io::Result<()> {
    /// shop.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(self) -> io::Result<()> {
        self.gateway.shutdown().await?;
        self.order.shutdown().await?;
        self.user.shutdown().await?;
        self.product.shutdown().await
    }
}

/// The URL that submits `order` through a gateway at `gateway_url`.
///
/// ```
/// use examples::services::order::OrderRequest;
/// let url = examples::shop::submit_order_url(
///     "http://127.0.0.1:10001",
///     OrderRequest { user_id: 1001, product_id: 1002, count: 2 },
/// );
/// assert_eq!(url, "http://127.0.0.1:10001/server-order/order/submit_order?userId=1001&productId=1002&count=2");
/// ```
pub fn submit_order_url(gateway_url: &str, order: OrderRequest) -> String {
    format!(
        "{}{}/order/submit_order?userId={}&productId={}&count={}",
        gateway_url.trim_end_matches('/'),
        gateway::ROUTE_PREFIX,
        order.user_id,
        order.product_id,
        order.count
    )
}
