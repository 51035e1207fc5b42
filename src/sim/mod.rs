//! Simulator stage (docs/architecture.md, "Stages"): a seeded, deterministic Binance (Vision
//! archives, the S3 listing and the spot/um/cm REST APIs) on a loopback hyper server, with
//! Binance's quirks and injectable faults, and its truth for tests.
//!
//! - `market`: the instruments and the seeded market — trades are generated first; klines,
//!   aggTrades, mark/index prices and funding all derive from them, so every view agrees.
//! - `vision`: data.binance.vision's layout, archive bytes and the S3 listing.
//! - `rest`: the REST APIs with Binance's weights and rate limits.
//! - `server`: the loopback HTTP server and the `Simulator` handler with its faults.
//! - `truth`: the exact rows the exchange holds, to prove ckv against.
//!
//! Guarantees: everything depends only on the seed and the clock, which only moves forward;
//! only loopback is ever bound. Built only with the `sim` feature.

pub mod config;
pub mod market;
pub mod rest;
pub mod server;
pub mod truth;
pub mod vision;

pub use config::SimConfig;
pub use server::app::{Simulator, LISTING_PATH};
pub use server::{serve, Delivery, Handler, Reply, Req, ServerHandle, StaticRoutes};
