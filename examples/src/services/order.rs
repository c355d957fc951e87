//! The order service: `GET /order/submit_order?userId=&productId=&count=`.
//!
//! It asks the user service who is ordering, the product service what is ordered, then has the
//! product service take the items out of stock: three outgoing calls per order, as in the Java
//! walk-through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::{Product, User};
use crate::client::HttpClient;
use crate::services::{ApiError, HandlerLayer};

/// Where the order service finds the services it calls.
///
/// ```
/// let cfg = examples::services::order::OrderConfig {
///     user_url: "http://127.0.0.1:8060".into(),
///     product_url: "http://127.0.0.1:8070".into(),
/// };
/// let layer = examples::services::HandlerLayer::default();
/// let _app = examples::services::order::router(cfg, examples::client::HttpClient::new(), &layer);
/// ```
#[derive(Debug, Clone)]
pub struct OrderConfig {
    /// Base URL of the user service, e.g. `http://127.0.0.1:8060`.
    pub user_url: String,
    /// Base URL of the product service, e.g. `http://127.0.0.1:8070`.
    pub product_url: String,
}

/// The query of `submit_order`.
///
/// ```
/// let q: examples::services::order::OrderRequest =
///     serde_json::from_str(r#"{"userId":1001,"productId":1002,"count":2}"#).unwrap();
/// assert_eq!(q.product_id, 1002);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    /// Who orders.
    pub user_id: u64,
    /// What is ordered.
    pub product_id: u64,
    /// How many items.
    pub count: u64,
}

/// A placed order, as `submit_order` answers it.
///
/// ```
/// let json = r#"{"orderId":1,"userId":1001,"userName":"alice","address":"a","productId":1001,
///   "productName":"pen","priceCents":100,"count":2,"totalCents":200,"stockLeft":8}"#;
/// let order: examples::services::order::Order = serde_json::from_str(json).unwrap();
/// assert_eq!(order.total_cents, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order number (per order service, from 1).
    pub order_id: u64,
    /// Who ordered.
    pub user_id: u64,
    /// The user's name.
    pub user_name: String,
    /// Where it goes.
    pub address: String,
    /// What was ordered.
    pub product_id: u64,
    /// The product's name.
    pub product_name: String,
    /// Unit price in cents.
    pub price_cents: u64,
    /// How many items.
    pub count: u64,
    /// `price_cents * count`.
    pub total_cents: u64,
    /// Items of the product left in stock after this order.
    pub stock_left: u64,
}

struct OrderState {
    config: OrderConfig,
    client: HttpClient,
    next_id: AtomicU64,
}

/// The order service's routes, calling the other services with `client`, with `layer` around
/// each handler.
///
/// ```
/// let cfg = examples::services::order::OrderConfig {
///     user_url: "http://127.0.0.1:8060".into(),
///     product_url: "http://127.0.0.1:8070".into(),
/// };
/// let layer = examples::services::HandlerLayer::default();
/// let app: axum::Router =
///     examples::services::order::router(cfg, examples::client::HttpClient::new(), &layer);
/// # let _ = app;
/// ```
pub fn router(config: OrderConfig, client: HttpClient, layer: &HandlerLayer) -> Router {
    let state = OrderState {
        config: OrderConfig {
            user_url: config.user_url.trim_end_matches('/').to_owned(),
            product_url: config.product_url.trim_end_matches('/').to_owned(),
        },
        client,
        next_id: AtomicU64::new(1),
    };
    Router::new()
        .route("/order/submit_order", get(layered!(layer, submit_order)))
        .with_state(Arc::new(state))
}

async fn submit_order(
    State(state): State<Arc<OrderState>>,
    Query(req): Query<OrderRequest>,
) -> Result<Json<Order>, ApiError> {
    let OrderRequest {
        user_id,
        product_id,
        count,
    } = req;
    tracing::info!("submit order: user {user_id} buys {count} x product {product_id}");
    if count == 0 {
        tracing::warn!("order refused: count must be at least 1");
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "count must be at least 1",
        ));
    }
    let cfg = &state.config;
    let user: User = call(
        &state.client,
        "user",
        &format!("{}/user/get/{user_id}", cfg.user_url),
    )
    .await?;
    let product: Product = call(
        &state.client,
        "product",
        &format!("{}/product/get/{product_id}", cfg.product_url),
    )
    .await?;
    if product.stock < count {
        tracing::warn!(
            "order refused: {count} x product {product_id} wanted, {} left",
            product.stock
        );
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "product {product_id}: {count} wanted, {} left",
                product.stock
            ),
        ));
    }
    let updated: Product = call(
        &state.client,
        "product",
        &format!(
            "{}/product/update_count/{product_id}/{count}",
            cfg.product_url
        ),
    )
    .await?;
    let order = Order {
        order_id: state.next_id.fetch_add(1, Ordering::Relaxed),
        user_id,
        user_name: user.name,
        address: user.address,
        product_id,
        product_name: product.name,
        price_cents: product.price_cents,
        count,
        total_cents: product.price_cents.saturating_mul(count),
        stock_left: updated.stock,
    };
    tracing::info!(
        "order {} placed: {} x {} for {}, {} left",
        order.order_id,
        order.count,
        order.product_name,
        order.user_name,
        order.stock_left
    );
    Ok(Json(order))
}

/// Calls a service and decodes its JSON answer; an error answer propagates (see
/// [`ApiError::from_downstream`]).
async fn call<T: DeserializeOwned>(
    client: &HttpClient,
    service: &str,
    url: &str,
) -> Result<T, ApiError> {
    let response = client.get(url).await.map_err(|e| {
        tracing::error!("{e}");
        ApiError::bad_gateway(e.to_string())
    })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| {
        tracing::error!("reading the {service} service's answer failed: {e}");
        ApiError::bad_gateway(format!("{service} service: {e}"))
    })?;
    if !status.is_success() {
        let err = ApiError::from_downstream(service, status.as_u16(), &body);
        tracing::warn!(
            "{service} service answered {}: {}",
            status.as_u16(),
            err.error
        );
        return Err(err);
    }
    serde_json::from_slice(&body).map_err(|e| {
        tracing::error!("the {service} service's answer is not what was expected: {e}");
        ApiError::bad_gateway(format!("{service} service: unexpected answer: {e}"))
    })
}
