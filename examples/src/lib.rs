//! # examples
//!
//! Runnable trace-kit programs, and the library they share:
//!
//! * `shop` — the four-service shop of the Spring Cloud walk-through (gateway → order → user,
//!   product), traced end to end: one trace id in every service's log lines, one Zipkin trace,
//!   drawn in the terminal as a waterfall ([`shop`], [`demo`], [`waterfall`]);
//! * `trace-view` — draws the waterfall of a Zipkin v2 JSON file or of a trace fetched from a
//!   Zipkin server ([`zipkin`], [`waterfall`]);
//! * `trace-interop` — a service for the W3C Trace Context conformance suite ([`interop`]).
//!
//! The wiring a service needs is all in [`shop::traced`] and [`telemetry`]: a layer on the
//! router, a middleware on the HTTP client, a subscriber with the log format and the exporter.
//! The handlers in [`services`] know nothing about tracing beyond `tracing::info!`.
//!
//! With the `instrumented` feature off, the same shop runs bare (no layers, no exporter, a
//! plain `reqwest` client), for load comparisons.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! use examples::shop::{start, ShopConfig};
//! use examples::services::order::OrderRequest;
//!
//! let shop = start(&ShopConfig::ephemeral()).await?;
//! let url = shop.order_url(OrderRequest { user_id: 1001, product_id: 1001, count: 1 });
//! let answer = reqwest::get(&url).await.unwrap().text().await.unwrap();
//! println!("{answer}");
//! shop.shutdown().await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod catalog;
pub mod client;
pub mod demo;
#[cfg(feature = "instrumented")]
pub mod interop;
pub mod server;
pub mod services;
pub mod shop;
pub mod telemetry;
pub mod waterfall;
pub mod zipkin;

/// The root README's snippets, compiled and run as doc tests.
#[cfg(all(doctest, feature = "instrumented"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
