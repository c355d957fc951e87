//! The user service: `GET /user/get/{uid}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use crate::catalog::{User, Users};
use crate::services::{ApiError, HandlerLayer};

/// The user service's routes over this table, with `layer` around each handler.
///
/// ```
/// let layer = examples::services::HandlerLayer::default();
/// let app: axum::Router = examples::services::user::router(examples::catalog::Users::sample(), &layer);
/// # let _ = app;
/// ```
pub fn router(users: Users, layer: &HandlerLayer) -> Router {
    Router::new()
        .route("/user/get/{uid}", get(layered!(layer, get_user)))
        .with_state(Arc::new(users))
}

async fn get_user(
    State(users): State<Arc<Users>>,
    Path(uid): Path<u64>,
) -> Result<Json<User>, ApiError> {
    match users.get(uid) {
        Some(user) => {
            tracing::info!("user {uid} found: {}", user.name);
            Ok(Json(user.clone()))
        }
        None => {
            tracing::warn!("user {uid} not found");
            Err(ApiError::not_found(format!("user {uid} not found")))
        }
    }
}
