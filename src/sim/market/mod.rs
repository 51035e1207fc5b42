//! The simulated market: instruments (`catalog`, `many`), the seeded exchange as a whole
//! (`exchange`: listing windows, daily anchors, trade counts and first ids, the clock), one day
//! of trades (`daygen`), klines built from them exactly as Binance does (`klines`), futures
//! mark/index/premium prices and funding (`mark`), and the memoised view the servers read
//! (`data`, `memo`), all driven by keyed deterministic randomness (`rng`).
//!
//! Guarantees: any day of any symbol is generated on its own, in any order, always to the same
//! values; ids are continuous across days; nothing after the clock's `now` is produced.

pub mod catalog;
pub mod data;
pub mod daygen;
pub mod exchange;
pub mod klines;
pub mod many;
pub mod mark;
pub mod memo;
pub mod rng;
