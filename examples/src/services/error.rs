//! The JSON error every service answers with, and how a downstream error propagates.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// An error answer: `{"status": 404, "error": "user 7 not found"}` with that HTTP status.
///
/// ```
/// use axum::response::IntoResponse;
/// let e = examples::services::ApiError::not_found("user 7 not found");
/// assert_eq!(e.into_response().status(), axum::http::StatusCode::NOT_FOUND);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a human.
    pub error: String,
}

impl ApiError {
    /// An error with this status.
    ///
    /// ```
    /// let e = examples::services::ApiError::new(axum::http::StatusCode::CONFLICT, "sold out");
    /// assert_eq!(e.status, 409);
    /// ```
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status: status.as_u16(),
            error: error.into(),
        }
    }

    /// A 404.
    ///
    /// ```
    /// assert_eq!(examples::services::ApiError::not_found("x").status, 404);
    /// ```
    pub fn not_found(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, error)
    }

    /// A 502: a service this one depends on could not be reached or failed.
    ///
    /// ```
    /// assert_eq!(examples::services::ApiError::bad_gateway("x").status, 502);
    /// ```
    pub fn bad_gateway(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_GATEWAY, error)
    }

    /// The error to answer with when a downstream service answered `status` with `body`:
    /// a client error (4xx, e.g. an unknown id) propagates as is, with the downstream message;
    /// anything else becomes a 502.
    ///
    /// ```
    /// use examples::services::ApiError;
    /// let body = br#"{"status":404,"error":"product 9 not found"}"#;
    /// let e = ApiError::from_downstream("product", 404, body);
    /// assert_eq!(e, ApiError { status: 404, error: "product 9 not found".into() });
    /// assert_eq!(ApiError::from_downstream("user", 500, b"boom").status, 502);
    /// ```
    pub fn from_downstream(service: &str, status: u16, body: &[u8]) -> ApiError {
        let message = serde_json::from_slice::<ApiError>(body)
            .map(|e| e.error)
            .unwrap_or_else(|_| format!("{service} service answered {status}"));
        if (400..500).contains(&status) {
            ApiError {
                status,
                error: message,
            }
        } else {
            ApiError::bad_gateway(format!("{service} service failed: {message}"))
        }
    }

    /// The status as a [`StatusCode`] (500 if out of range).
    ///
    /// ```
    /// assert_eq!(examples::services::ApiError::not_found("x").status_code().as_u16(), 404);
    /// ```
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.error)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status_code(), Json(self)).into_response()
    }
}
