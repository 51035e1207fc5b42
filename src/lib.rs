//! ckv core: Binance Vision archives → verified Arrow batches → memory-mapped IPC caches.
//!
//! Each pipeline stage lives in its own module and is pure Rust returning
//! `Result<_, Error>`; only `py` (behind the default `python` feature) touches Python.

pub mod archive;
pub mod cache;
pub mod check;
pub mod error;
pub mod fetch;
pub mod http;
pub mod interval;
pub mod parse;
pub mod runtime;
pub mod schema;
pub mod sim;
pub mod zipwrite;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};
