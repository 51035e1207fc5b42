//! The simulator's settings: seed, clock, activity, exchange outages, missing archives, cache
//! budget and REST rate limits. Everything has a Binance-like default.

use crate::model::interval::{days_from_civil, DAY_US, HOUR_US, MINUTE_US};

use crate::sim::market::catalog::Market;

/// A window with no trading at all (an exchange outage), `[start_us, end_us)`, rounded to whole
/// seconds. `market: None` = every market. It shows up in trades, aggTrades, every kline
/// dataset and REST alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub market: Option<Market>,
    pub start_us: i64,
    pub end_us: i64,
}

/// A day whose *daily* archives Vision lacks (404), though the data exists (monthly archive,
/// REST). `market`/`symbol` `None` = all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDay {
    pub market: Option<Market>,
    pub symbol: Option<String>,
    pub day: i64,
}

/// REST weight budget per market and window, and the ban that follows ignored 429s.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Weight per window on spot (Binance: 6000 a minute).
    pub spot_weight: u32,
    /// Weight per window on um and cm (Binance: 2400 a minute).
    pub futures_weight: u32,
    /// Window length in seconds (Binance: 60).
    pub window_s: u64,
    /// 429s within one window before the client is banned (418).
    pub ban_after: u32,
    /// Ban length in seconds.
    pub ban_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            spot_weight: 6000,
            futures_weight: 2400,
            window_s: 60,
            ban_after: 3,
            ban_s: 120,
        }
    }
}

/// Everything the simulator needs to know.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the whole market: same seed, same bytes.
    pub seed: u64,
    /// Frozen clock in µs since the epoch; `None` = the system clock.
    pub now_us: Option<i64>,
    /// Multiplier of the number of trades per day (1 ≈ 20k aggTrades a day on BTCUSDT;
    /// 100 makes every spot BTCUSDT day from 2021 on hold over 1 M aggTrades). Quantities
    /// shrink with it, so daily volumes stay realistic.
    pub activity: f64,
    /// Extra synthetic spot symbols (for listing tests).
    pub many_symbols: usize,
    pub outages: Vec<Outage>,
    pub missing_days: Vec<MissingDay>,
    /// Deflate level of generated archives.
    pub compression_level: u32,
    /// Memory budget of the generated-archive cache, in bytes.
    pub cache_bytes: usize,
    pub limits: Limits,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            now_us: None,
            activity: 1.0,
            many_symbols: 0,
            outages: vec![default_outage()],
            missing_days: Vec::new(),
            compression_level: 6,
            cache_bytes: 768 << 20,
            limits: Limits::default(),
        }
    }
}

/// The real spot outage of 2023-03-24: no 1m candles from 12:40 to 13:59 UTC.
pub fn default_outage() -> Outage {
    let day = days_from_civil(2023, 3, 24) * DAY_US;
    Outage {
        market: Some(Market::Spot),
        start_us: day + 12 * HOUR_US + 40 * MINUTE_US,
        end_us: day + 14 * HOUR_US,
    }
}

impl SimConfig {
    /// Outage windows of `market` overlapping `[from, to)`, clipped, sorted and merged.
    pub fn outages_in(&self, market: Market, from: i64, to: i64) -> Vec<(i64, i64)> {
        let sec = 1_000_000;
        let mut w: Vec<(i64, i64)> = self
            .outages
            .iter()
            .filter(|o| o.market.is_none_or(|m| m == market))
            .map(|o| {
                (
                    o.start_us.div_euclid(sec) * sec,
                    o.end_us.div_euclid(sec) * sec,
                )
            })
            .map(|(a, b)| (a.max(from), b.min(to)))
            .filter(|(a, b)| a < b)
            .collect();
        w.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(w.len());
        for (a, b) in w {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    /// Whether the daily archives of `symbol` on `market` are withheld on `day`.
    pub fn day_missing(&self, market: Market, symbol: &str, day: i64) -> bool {
        self.missing_days.iter().any(|m| {
            m.day == day
                && m.market.is_none_or(|x| x == market)
                && m.symbol.as_deref().is_none_or(|s| s == symbol)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_merge_and_clip() {
        let cfg = SimConfig {
            outages: vec![
                Outage {
                    market: None,
                    start_us: 10_500_000,
                    end_us: 20_000_000,
                },
                Outage {
                    market: Some(Market::Um),
                    start_us: 15_000_000,
                    end_us: 30_000_000,
                },
                Outage {
                    market: Some(Market::Cm),
                    start_us: 0,
                    end_us: 99_000_000,
                },
            ],
            ..SimConfig::default()
        };
        assert_eq!(
            cfg.outages_in(Market::Um, 0, 25_000_000),
            vec![(10_000_000, 25_000_000)]
        );
        assert_eq!(
            cfg.outages_in(Market::Spot, 0, 100_000_000),
            vec![(10_000_000, 20_000_000)]
        );
    }
}
