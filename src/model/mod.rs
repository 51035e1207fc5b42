//! Model (docs/architecture.md, "Schemas"): the vocabulary every stage shares — datasets,
//! markets, kline intervals with their UTC calendar arithmetic, and the Arrow output schemas.
//!
//! Guarantees: pure values and functions, no I/O; names Binance uses parse to exactly one
//! variant and anything else is `Error::Invalid`; every time is UTC microseconds, and each
//! dataset has exactly one schema whatever the source of its rows.

pub mod dataset;
pub mod interval;
pub mod schema;
