//! One day of one symbol's trades, generated from its own seeded streams: when (an intraday
//! activity profile with bursts, nothing inside outages), at what price (a per-minute Brownian
//! bridge from this day's anchor to the next day's), which side, and how many fills each taker
//! order has (one aggTrade = consecutive fills at the same time, price and side).
//!
//! Guarantees: exactly `Exchange::day_counts` aggTrades and trades, ids from
//! `Exchange::first_ids`; times non-decreasing, in the file unit (whole ms except spot from
//! 2025); the first active second of a day always holds a trade, so every candle of the day
//! has an in-day previous close.

use crate::model::interval::{DAY_US, MINUTE_US, SECOND_US};

use super::catalog::Symbol;
use super::exchange::Exchange;
use super::rng::{key, Rng};

/// A day of trades in columns. Trade `i` has id `first_trade_id + i`.
#[derive(Debug, Default)]
pub struct DayTrades {
    pub day: i64,
    /// 1 (µs era spot) or 1000: every time is a multiple of it.
    pub unit_us: i64,
    pub first_agg_id: i64,
    pub first_trade_id: i64,
    /// Trade time, µs since the epoch.
    pub time: Vec<i64>,
    /// Price in ticks of 10^-price_dp.
    pub price: Vec<i64>,
    /// Quantity in lots of 10^-qty_dp (contracts on cm).
    pub qty: Vec<i64>,
    pub maker: Vec<bool>,
    /// Index of each aggTrade's first trade, then the number of trades.
    pub agg_start: Vec<u32>,
}

impl DayTrades {
    /// Number of aggTrades.
    pub fn n_aggs(&self) -> usize {
        self.agg_start.len().saturating_sub(1)
    }

    /// Approximate heap size, for cache budgets.
    pub fn bytes(&self) -> usize {
        self.time.len() * 25 + self.agg_start.len() * 4 + 64
    }
}

/// Relative activity per UTC hour (Asia morning, Europe, the US open).
const HOURS: [f64; 24] = [
    0.9, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.0, 0.9, 1.0, 1.3, 1.5, 1.6, 1.4, 1.2, 1.0,
    0.9, 0.9, 0.9, 0.8, 0.8,
];

/// Generate `sym`'s trades on `day`.
pub fn generate(ex: &Exchange, sym: &Symbol, day: i64) -> DayTrades {
    let (n_aggs, n_trades) = ex.day_counts(sym, day);
    let (first_agg_id, first_trade_id) = ex.first_ids(sym, day);
    let unit_us = Exchange::unit_us(sym.market, day);
    let mut out = DayTrades {
        day,
        unit_us,
        first_agg_id,
        first_trade_id,
        ..Default::default()
    };
    if n_aggs == 0 {
        return out;
    }
    let stream = |purpose: u64| Rng::new(key(&[ex.cfg.seed, sym.key, day as u64, purpose]));
    let start = day * DAY_US;
    let times = event_times(ex, sym, day, n_aggs as usize, unit_us, &mut stream(1));
    let path = minute_path(ex, sym, day);

    let mut fills = vec![1u32; n_aggs as usize];
    let mut rf = stream(3);
    for _ in 0..(n_trades - n_aggs) {
        fills[rf.below(n_aggs as u64) as usize] += 1;
    }

    let n = n_trades as usize;
    out.time.reserve_exact(n);
    out.price.reserve_exact(n);
    out.qty.reserve_exact(n);
    out.maker.reserve_exact(n);
    out.agg_start.reserve_exact(n_aggs as usize + 1);
    let mut r = stream(4);
    let scale = 10f64.powi(sym.price_dp as i32);
    let lot = 10f64.powi(sym.qty_dp as i32) * sym.qty_scale / ex.cfg.activity.max(1.0);
    let mut maker = false;
    for (j, &t) in times.iter().enumerate() {
        let since = (t - start) as f64 / MINUTE_US as f64;
        let m = (since as usize).min(1439);
        let f = since - m as f64;
        let mid = (path[m] + f * (path[m + 1] - path[m])).exp() * scale;
        if !r.chance(0.65) {
            maker = r.chance(0.5);
        }
        let offset = i64::from(r.chance(0.4)) + if r.chance(0.1) { r.below(4) as i64 } else { 0 };
        let ticks = if maker {
            mid.floor() as i64 - offset
        } else {
            mid.ceil() as i64 + offset
        };
        let ticks = ticks.max(1);
        out.agg_start.push(out.time.len() as u32);
        for _ in 0..fills[j] {
            let q = (lot * (1.1 * r.normal() - 0.6).exp()).round().max(1.0) as i64;
            out.time.push(t);
            out.price.push(ticks);
            out.qty.push(q);
            out.maker.push(maker);
        }
    }
    out.agg_start.push(out.time.len() as u32);
    out
}

/// `n` sorted event times over the day's active seconds, weighted by the activity profile.
fn event_times(
    ex: &Exchange,
    sym: &Symbol,
    day: i64,
    n: usize,
    unit: i64,
    r: &mut Rng,
) -> Vec<i64> {
    let start = day * DAY_US;
    let outages = ex.cfg.outages_in(sym.market, start, start + DAY_US);
    let mut cum = Vec::with_capacity(86_401);
    cum.push(0.0f64);
    let mut first_active = None;
    let mut o = outages.iter().peekable();
    for minute in 0..1440 {
        let burst = if r.chance(0.01) { 4.0 } else { 1.0 };
        let w = HOURS[minute / 60] * burst * (0.5 * r.normal()).exp();
        for s in 0..60 {
            let t = start + (minute * 60 + s) as i64 * SECOND_US;
            while o.peek().is_some_and(|&&(_, b)| b <= t) {
                o.next();
            }
            let down = o.peek().is_some_and(|&&(a, _)| a <= t);
            if !down && first_active.is_none() {
                first_active = Some(minute * 60 + s);
            }
            cum.push(cum[cum.len() - 1] + if down { 0.0 } else { w });
        }
    }
    let total = cum[86_400];
    let mut times = Vec::with_capacity(n);
    let mut s = 0usize;
    for j in 0..n {
        let v = (j as f64 + r.f64()) / n as f64 * total;
        while s < 86_399 && cum[s + 1] <= v {
            s += 1;
        }
        let w = cum[s + 1] - cum[s];
        let f = if w > 0.0 {
            ((v - cum[s]) / w).clamp(0.0, 0.999_999)
        } else {
            0.0
        };
        let t = start + s as i64 * SECOND_US + (f * SECOND_US as f64) as i64;
        times.push(t - t.rem_euclid(unit));
    }
    if let (Some(s0), Some(t0)) = (first_active, times.first_mut()) {
        let sec0 = start + s0 as i64 * SECOND_US;
        if *t0 >= sec0 + SECOND_US {
            let t = sec0 + t0.rem_euclid(SECOND_US);
            *t0 = t - t.rem_euclid(unit);
        }
    }
    times
}

/// Log price at each minute boundary (1441 points): a Brownian bridge from this day's anchor
/// to the next day's.
pub fn minute_path(ex: &Exchange, sym: &Symbol, day: i64) -> Vec<f64> {
    let r = &mut Rng::new(key(&[ex.cfg.seed, sym.key, day as u64, 2]));
    let a0 = ex.anchor(sym, day).ln();
    let a1 = ex.anchor(sym, day + 1).ln();
    let sigma = 0.035 * sym.vol / (1440f64).sqrt();
    let mut walk = Vec::with_capacity(1441);
    walk.push(0.0f64);
    for _ in 0..1440 {
        walk.push(walk[walk.len() - 1] + sigma * r.normal());
    }
    let end = walk[1440];
    walk.iter()
        .enumerate()
        .map(|(m, w)| a0 + w - m as f64 / 1440.0 * (end - (a1 - a0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interval::days_from_civil;
    use crate::sim::config::SimConfig;
    use crate::sim::market::catalog::Market;

    #[test]
    fn a_day_has_its_counts_sorted_times_and_a_first_second_trade() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Spot, "BTCUSDT").unwrap();
        for day in [days_from_civil(2023, 3, 24), days_from_civil(2025, 6, 1)] {
            let t = generate(&ex, sym, day);
            let (na, nt) = ex.day_counts(sym, day);
            assert_eq!((t.n_aggs() as i64, t.time.len() as i64), (na, nt));
            assert!(t.time.windows(2).all(|w| w[0] <= w[1]));
            assert!(t.time[0] < day * DAY_US + SECOND_US);
            assert!(t.time.iter().all(|x| x % t.unit_us == 0));
            let p = t.price[0] as f64 / 100.0;
            assert!(p > 10_000.0 && p < 200_000.0, "{p}");
        }
        let day = days_from_civil(2023, 3, 24);
        let t = generate(&ex, sym, day);
        let (a, b) = ex
            .cfg
            .outages_in(Market::Spot, day * DAY_US, (day + 1) * DAY_US)[0];
        assert!(!t.time.iter().any(|&x| x >= a && x < b));
        let again = generate(&ex, sym, day);
        assert_eq!(t.price, again.price);
    }
}
