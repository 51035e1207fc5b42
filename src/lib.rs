//! ckv core: Binance Vision archives → verified Arrow batches → memory-mapped IPC caches.
//!
//! The modules follow the stages of docs/architecture.md ("Stages"): `model` (datasets,
//! intervals, schemas), `net` (HTTP, fetch), `archive`, `parse`, `check`, `cache`, and `sim`
//! (the simulated exchange, behind the default `sim` feature). Each is pure Rust returning
//! `Result<_, Error>`; only `py` (behind the default `python` feature) touches Python.

pub mod archive;
pub mod cache;
pub mod check;
pub mod error;
pub mod model;
pub mod net;
pub mod parse;
#[cfg(feature = "sim")]
pub mod sim;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};
