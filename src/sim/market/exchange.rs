//! The seeded market as a whole: which symbols trade when, each day's price anchor, how many
//! trades and aggTrades each day has, and so the first ids of any day — all computable for one
//! day without generating the days before it.
//!
//! Guarantees: ids are continuous across days (day d's first id = day d−1's last id + 1); a
//! day inside an outage has proportionally fewer trades; everything depends only on the seed.
//! The clock (`now_us`) is frozen or the system's; a frozen clock can only be moved forward
//! (`set_now_us`), so whatever was final at one `now` stays final at every later one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::model::interval::{days_from_civil, DAY_US};

use super::catalog::{default_symbols, Market, Symbol};
use super::many::many_symbols;
use super::rng::{key, unit};
use crate::sim::config::SimConfig;

/// Last day the id tables cover (2040-01-01).
const LAST_DAY: i64 = 25_567;

/// First day of the microsecond era of spot files (2025-01-01).
pub const SPOT_US_ERA: i64 = 20_089;

/// `clock` value meaning "the system clock".
const SYSTEM_CLOCK: i64 = i64::MIN;

/// Per-day counts and their running totals for one symbol.
struct Counts {
    aggs: Vec<i64>,
    trades: Vec<i64>,
    /// `agg_prefix[i]` = aggTrades before day `listed + i`.
    agg_prefix: Vec<i64>,
    trade_prefix: Vec<i64>,
}

/// The simulated exchange: configuration, symbols and their id tables.
pub struct Exchange {
    pub cfg: SimConfig,
    pub symbols: Vec<Symbol>,
    index: HashMap<(Market, String), usize>,
    counts: Vec<OnceLock<Counts>>,
    /// Frozen clock (µs), or `SYSTEM_CLOCK`; starts at `cfg.now_us`.
    clock: AtomicI64,
}

impl Exchange {
    /// The exchange of `cfg`: the default catalogue plus `cfg.many_symbols` extra symbols.
    pub fn new(cfg: SimConfig) -> Self {
        let mut symbols = default_symbols();
        symbols.extend(many_symbols(cfg.many_symbols));
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.market, s.name.clone()), i))
            .collect();
        let counts = symbols.iter().map(|_| OnceLock::new()).collect();
        let clock = AtomicI64::new(cfg.now_us.map_or(SYSTEM_CLOCK, |t| t.max(SYSTEM_CLOCK + 1)));
        Exchange {
            clock,
            cfg,
            symbols,
            index,
            counts,
        }
    }

    /// The symbol `name` on `market`.
    pub fn symbol(&self, market: Market, name: &str) -> Option<&Symbol> {
        self.index
            .get(&(market, name.to_string()))
            .map(|&i| &self.symbols[i])
    }

    /// Symbols of `market` in name order.
    pub fn symbols_of(&self, market: Market) -> Vec<&Symbol> {
        let mut v: Vec<&Symbol> = self.symbols.iter().filter(|s| s.market == market).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The clock: frozen when configured (or moved by `set_now_us`), else the system time (µs).
    pub fn now_us(&self) -> i64 {
        match self.clock.load(Ordering::Acquire) {
            SYSTEM_CLOCK => system_now_us(),
            t => t,
        }
    }

    /// Freeze the clock at `t_us`, which must not be before the current `now_us()`: a clock
    /// that went back would un-finish candles and un-publish archives already served.
    pub fn set_now_us(&self, t_us: i64) -> Result<()> {
        let mut cur = self.clock.load(Ordering::Acquire);
        loop {
            let now = if cur == SYSTEM_CLOCK {
                system_now_us()
            } else {
                cur
            };
            if t_us < now || t_us == SYSTEM_CLOCK {
                return Err(Error::Invalid(format!(
                    "the simulator's clock only moves forward: {t_us} µs is before now ({now} µs)"
                )));
            }
            match self
                .clock
                .compare_exchange(cur, t_us, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(seen) => cur = seen,
            }
        }
    }

    /// Today (days since the epoch).
    pub fn today(&self) -> i64 {
        self.now_us().div_euclid(DAY_US)
    }

    /// Time unit of `market`'s files and default REST answers on `day`: 1 (µs) or 1000 (ms).
    pub fn unit_us(market: Market, day: i64) -> i64 {
        if market == Market::Spot && day >= SPOT_US_ERA {
            1
        } else {
            1000
        }
    }

    /// The price `sym` trades around at 00:00 UTC of `day`.
    pub fn anchor(&self, sym: &Symbol, day: i64) -> f64 {
        let k = &sym.knots;
        let i = k.partition_point(|&(d, _)| d <= day);
        let base = match i {
            0 => k[0].1.ln(),
            i if i >= k.len() => k[k.len() - 1].1.ln(),
            i => {
                let ((d0, p0), (d1, p1)) = (k[i - 1], k[i]);
                let f = (day - d0) as f64 / (d1 - d0) as f64;
                p0.ln() + f * (p1.ln() - p0.ln())
            }
        };
        let seed = self.cfg.seed;
        let noise: f64 = [(3, 0.04), (11, 0.07), (37, 0.10)]
            .iter()
            .map(|&(scale, amp)| {
                let (c, f) = (
                    day.div_euclid(scale),
                    day.rem_euclid(scale) as f64 / scale as f64,
                );
                let at =
                    |c: i64| unit(key(&[seed, sym.path_key, scale as u64, c as u64])) * 2.0 - 1.0;
                let s = f * f * (3.0 - 2.0 * f);
                amp * (at(c) + s * (at(c + 1) - at(c)))
            })
            .sum();
        (base + sym.vol * noise).exp()
    }

    /// (aggTrades, trades) of `sym` on `day`.
    pub fn day_counts(&self, sym: &Symbol, day: i64) -> (i64, i64) {
        match self.counts_of(sym) {
            Some(c) if day >= sym.listed && day < LAST_DAY => {
                let i = (day - sym.listed) as usize;
                (c.aggs[i], c.trades[i])
            }
            _ => (0, 0),
        }
    }

    /// First (aggTrade id, trade id) of `sym` on `day`.
    pub fn first_ids(&self, sym: &Symbol, day: i64) -> (i64, i64) {
        let (a0, t0) = base_ids(sym);
        let Some(c) = self.counts_of(sym) else {
            return (a0, t0);
        };
        let i = (day.clamp(sym.listed, LAST_DAY) - sym.listed) as usize;
        (a0 + c.agg_prefix[i], t0 + c.trade_prefix[i])
    }

    /// The day holding aggTrade `id` (`trade: false`) or trade `id` (`trade: true`), or the
    /// nearest day after it when `id` precedes the first id.
    pub fn day_of_id(&self, sym: &Symbol, id: i64, trade: bool) -> i64 {
        let (a0, t0) = base_ids(sym);
        let Some(c) = self.counts_of(sym) else {
            return sym.listed;
        };
        let (prefix, rel) = if trade {
            (&c.trade_prefix, id - t0)
        } else {
            (&c.agg_prefix, id - a0)
        };
        // Last day whose first id <= id.
        let i = prefix.partition_point(|&p| p <= rel).saturating_sub(1);
        sym.listed + i.min(prefix.len() - 2) as i64
    }

    fn counts_of(&self, sym: &Symbol) -> Option<&Counts> {
        let i = *self.index.get(&(sym.market, sym.name.clone()))?;
        Some(self.counts[i].get_or_init(|| self.build_counts(sym)))
    }

    fn build_counts(&self, sym: &Symbol) -> Counts {
        let n = (LAST_DAY - sym.listed).max(0) as usize;
        let (mut aggs, mut trades) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut prev = self.anchor(sym, sym.listed);
        for day in sym.listed..LAST_DAY {
            let next = self.anchor(sym, day + 1);
            let (a, t) = if sym.trades_on(day) {
                self.raw_counts(sym, day, prev, next)
            } else {
                (0, 0)
            };
            aggs.push(a);
            trades.push(t);
            prev = next;
        }
        let prefix = |v: &[i64]| {
            let mut p = Vec::with_capacity(v.len() + 1);
            p.push(0);
            for x in v {
                p.push(p[p.len() - 1] + x);
            }
            p
        };
        Counts {
            agg_prefix: prefix(&aggs),
            trade_prefix: prefix(&trades),
            aggs,
            trades,
        }
    }

    fn raw_counts(&self, sym: &Symbol, day: i64, open: f64, close: f64) -> (i64, i64) {
        let k = key(&[self.cfg.seed, sym.key, day as u64, 0xC0]);
        let year = 1970.0 + day as f64 / 365.2425;
        let growth = if year < 2021.0 {
            0.6 + 0.6 * (year - 2020.0)
        } else {
            1.2 - 0.1 * (year - 2021.0).min(2.0)
        };
        let weekday = if matches!((day + 4).rem_euclid(7), 0 | 6) {
            0.75
        } else {
            1.0
        };
        let move_boost = 1.0 + 6.0 * (close / open).ln().abs();
        let noise = 0.75 + 0.5 * unit(k);
        let start = day * DAY_US;
        let down: i64 = self
            .cfg
            .outages_in(sym.market, start, start + DAY_US)
            .iter()
            .map(|(a, b)| b - a)
            .sum();
        let active = (DAY_US - down) as f64 / DAY_US as f64;
        let aggs =
            sym.activity * self.cfg.activity * growth * weekday * move_boost * noise * active;
        let aggs = if active > 0.0 {
            aggs.round().max(1.0) as i64
        } else {
            0
        };
        let extra = (aggs as f64 * (0.45 + 0.5 * unit(k ^ 1))).round() as i64;
        (aggs, aggs + extra)
    }
}

fn system_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// First ids of `sym` at its listing (realistic magnitudes, distinct per symbol).
fn base_ids(sym: &Symbol) -> (i64, i64) {
    let a = 10_000_000 + (sym.key % 90) as i64 * 1_000_000;
    (a, a * 3 / 2)
}

/// 2020-01-01 as days since the epoch.
pub fn day_2020() -> i64 {
    days_from_civil(2020, 1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_continuous_and_searchable() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Spot, "BTCUSDT").unwrap();
        let d = days_from_civil(2023, 5, 1);
        let (a, t) = ex.first_ids(sym, d);
        let (na, nt) = ex.day_counts(sym, d);
        assert!(na > 1000 && nt > na);
        assert_eq!(ex.first_ids(sym, d + 1), (a + na, t + nt));
        assert_eq!(ex.day_of_id(sym, a, false), d);
        assert_eq!(ex.day_of_id(sym, a + na - 1, false), d);
        assert_eq!(ex.day_of_id(sym, t + nt, true), d + 1);
        assert_eq!(days_from_civil(2025, 1, 1), SPOT_US_ERA);
        assert_eq!(days_from_civil(2040, 1, 1), LAST_DAY);
    }

    #[test]
    fn activity_100_makes_btcusdt_sized_days() {
        let ex = Exchange::new(SimConfig {
            activity: 100.0,
            ..SimConfig::default()
        });
        let sym = ex.symbol(Market::Spot, "BTCUSDT").unwrap();
        let days = days_from_civil(2021, 1, 1)..days_from_civil(2027, 1, 1);
        let min = days.map(|d| ex.day_counts(sym, d).0).min().unwrap();
        assert!(min > 1_000_000, "{min}");
    }

    #[test]
    fn anchors_look_like_btc() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Spot, "BTCUSDT").unwrap();
        let p = ex.anchor(sym, days_from_civil(2021, 11, 10));
        assert!(p > 40_000.0 && p < 100_000.0, "{p}");
        let outage_day = days_from_civil(2023, 3, 24);
        let (full, _) = ex.day_counts(sym, outage_day - 7);
        let (cut, _) = ex.day_counts(sym, outage_day);
        assert!(cut > 0 && full > 0);
    }
}
