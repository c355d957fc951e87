//! The product service: `GET /product/get/{pid}` and `GET /product/update_count/{pid}/{count}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use crate::catalog::{Product, Products, StockError};
use crate::services::{ApiError, HandlerLayer};

/// The product service's routes over this table, with `layer` around each handler.
///
/// ```
/// let layer = examples::services::HandlerLayer::default();
/// let app: axum::Router =
///     examples::services::product::router(examples::catalog::Products::sample(), &layer);
/// # let _ = app;
/// ```
pub fn router(products: Products, layer: &HandlerLayer) -> Router {
    Router::new()
        .route("/product/get/{pid}", get(layered!(layer, get_product)))
        .route(
            "/product/update_count/{pid}/{count}",
            get(layered!(layer, update_count)),
        )
        .with_state(Arc::new(products))
}

async fn get_product(
    State(products): State<Arc<Products>>,
    Path(pid): Path<u64>,
) -> Result<Json<Product>, ApiError> {
    match products.get(pid) {
        Some(product) => {
            tracing::info!(
                "product {pid} found: {} ({} in stock)",
                product.name,
                product.stock
            );
            Ok(Json(product))
        }
        None => {
            tracing::warn!("product {pid} not found");
            Err(ApiError::not_found(format!("product {pid} not found")))
        }
    }
}

async fn update_count(
    State(products): State<Arc<Products>>,
    Path((pid, count)): Path<(u64, u64)>,
) -> Result<Json<Product>, ApiError> {
    match products.take(pid, count) {
        Ok(product) => {
            tracing::info!(
                "stock of product {pid} reduced by {count}: {} left",
                product.stock
            );
            Ok(Json(product))
        }
        Err(e) => {
            tracing::warn!("stock of product {pid} not changed: {e}");
            let status = match e {
                StockError::UnknownProduct(_) => StatusCode::NOT_FOUND,
                StockError::Insufficient { .. } => StatusCode::CONFLICT,
                StockError::ZeroCount => StatusCode::BAD_REQUEST,
            };
            Err(ApiError::new(status, e.to_string()))
        }
    }
}
