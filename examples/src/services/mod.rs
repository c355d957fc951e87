//! The four shop services as plain axum routers: handlers and state, no tracing wiring.
//!
//! [`crate::shop`] adds the trace-kit layers around them; keeping the two apart shows that the
//! business code needs no change to be traced.

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
