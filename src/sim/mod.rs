//! The exchange simulator: a seeded, deterministic Binance (Vision archives, the S3 listing and
//! the spot/um/cm REST APIs) on a loopback hyper server, with Binance's quirks and injectable
//! faults. Trades are generated first; klines, aggTrades, archives and REST all derive from
//! them, so every view of the market agrees.

pub mod app;
pub mod body;
pub mod build;
pub mod catalog;
pub mod config;
pub mod csv;
pub mod data;
pub mod daygen;
pub mod faults;
pub mod klines;
pub mod limits;
pub mod listing;
pub mod many;
pub mod mark;
pub mod market;
pub mod memo;
pub mod rest;
pub mod rng;
pub mod server;
pub mod truth;
pub mod vision;
pub mod zip;

pub use app::{Simulator, LISTING_PATH};
pub use config::SimConfig;
pub use server::{serve, Delivery, Handler, Reply, Req, ServerHandle, StaticRoutes};
