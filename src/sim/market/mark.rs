//! Futures price series derived from the trades: a mark price, an index price and the
//! premium index, sampled about once a second (a few samples are skipped, as Binance's mark
//! klines show 59 or 60 samples a minute), and the 8-hourly funding rate.
//!
//! The index tracks the last trade with a small deviation; the mark adds a slowly mean-
//! reverting premium; premium index = mark / index − 1, all in 10^-8 units. Seconds inside an
//! outage have no sample, so these klines show the same holes as the trade klines.

use crate::model::interval::{DAY_US, HOUR_US, MINUTE_US, SECOND_US};

use super::catalog::Symbol;
use super::daygen::{minute_path, DayTrades};
use super::exchange::Exchange;
use super::klines::Kline;
use super::rng::{key, Rng};

/// Which derived price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceKind {
    Mark,
    Index,
    Premium,
}

impl PriceKind {
    /// The Vision dataset name.
    pub fn dataset(self) -> &'static str {
        match self {
            PriceKind::Mark => "markPriceKlines",
            PriceKind::Index => "indexPriceKlines",
            PriceKind::Premium => "premiumIndexKlines",
        }
    }
}

/// One day of samples: (second start µs, mark, index, premium), prices in 10^-8.
pub struct Samples(pub Vec<(i64, i64, i64, i64)>);

/// The day's samples, from its trades.
pub fn samples(ex: &Exchange, sym: &Symbol, tr: &DayTrades) -> Samples {
    let start = tr.day * DAY_US;
    let outages = ex.cfg.outages_in(sym.market, start, start + DAY_US);
    let mut r = Rng::new(key(&[ex.cfg.seed, sym.key, tr.day as u64, 5]));
    let to8 = 10f64.powi(8 - sym.price_dp as i32);
    let mut out = Vec::with_capacity(86_400);
    let (mut i, mut last) = (0usize, None);
    let (mut prem, mut dev) = (0.0f64, 0.0f64);
    for s in 0..86_400i64 {
        let t = start + s * SECOND_US;
        while i < tr.time.len() && tr.time[i] < t + SECOND_US {
            last = Some(tr.price[i]);
            i += 1;
        }
        prem = 0.998 * prem + 0.000_01 * r.normal();
        dev = 0.99 * dev + 0.000_003 * r.normal();
        let skip = r.chance(0.02);
        let down = outages.iter().any(|&(a, b)| a <= t && t < b);
        let Some(p) = last else { continue };
        if down || (skip && !out.is_empty()) {
            continue;
        }
        let base = p as f64 * to8;
        let index = (base * (1.0 + dev)).round() as i64;
        let mark = (base * (1.0 + dev + prem + 0.000_05)).round() as i64;
        let premium = ((mark as f64 / index as f64 - 1.0) * 1e8).round() as i64;
        out.push((t, mark, index, premium));
    }
    Samples(out)
}

/// Klines of `kind` with candles of `len_us` (dividing a day) opening in `[from, to)`, up to
/// `now_us`; candles wholly inside an outage are skipped.
pub fn klines(
    s: &Samples,
    kind: PriceKind,
    day: i64,
    len_us: i64,
    range: (i64, i64),
    outages: &[(i64, i64)],
    now_us: i64,
) -> Vec<Kline> {
    let value = |x: &(i64, i64, i64, i64)| match kind {
        PriceKind::Mark => x.1,
        PriceKind::Index => x.2,
        PriceKind::Premium => x.3,
    };
    let day_start = day * DAY_US;
    let from = range.0.max(day_start);
    let from = day_start + (from - day_start + len_us - 1).div_euclid(len_us) * len_us;
    let to = range
        .1
        .min(day_start + DAY_US)
        .min(now_us.saturating_add(1));
    let v = &s.0;
    let mut i = v.partition_point(|x| x.0 < from);
    let n = v.partition_point(|x| x.0 <= now_us);
    let mut prev = v.get(i.saturating_sub(1)).map_or(0, value);
    let mut out = Vec::new();
    let mut o = from;
    while o < to {
        let end = o + len_us;
        if outages.iter().any(|&(a, b)| a <= o && end <= b) {
            o = end;
            continue;
        }
        let mut k = Kline {
            open_us: o,
            end_us: end,
            open: prev,
            high: prev,
            low: prev,
            close: prev,
            volume: 0,
            quote: 0,
            count: 0,
            taker_volume: 0,
            taker_quote: 0,
        };
        while i < n && v[i].0 < end {
            let p = value(&v[i]);
            if k.count == 0 {
                (k.open, k.high, k.low) = (p, p, p);
            }
            k.high = k.high.max(p);
            k.low = k.low.min(p);
            k.close = p;
            k.count += 1;
            i += 1;
        }
        prev = k.close;
        out.push(k);
        o = end;
    }
    out
}

/// One funding event: calc time (ms), rate and mark price (both 10^-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funding {
    pub time_ms: i64,
    pub rate: i64,
    pub mark: i64,
}

/// The funding events of `day` (00:00, 08:00, 16:00 UTC; calc time a few ms late at times).
/// The mark price comes from the day's price path, so it needs no trades.
pub fn funding(ex: &Exchange, sym: &Symbol, day: i64) -> Vec<Funding> {
    if !sym.trades_on(day) {
        return Vec::new();
    }
    let path = minute_path(ex, sym, day);
    let mut r = Rng::new(key(&[ex.cfg.seed, sym.key, day as u64, 6]));
    (0..3)
        .map(|slot| {
            let t = day * DAY_US + slot * 8 * HOUR_US;
            let late = if r.chance(0.5) {
                0
            } else {
                1 + r.below(9) as i64
            };
            let rate = (1e8 * (0.000_06 + 0.000_07 * r.normal())).round() as i64;
            let minute = ((t - day * DAY_US) / MINUTE_US) as usize;
            let mark = (path[minute].exp() * (1.0 + 0.000_05) * 1e8).round() as i64;
            Funding {
                time_ms: t / 1000 + late,
                rate: rate.clamp(-300_000, 300_000),
                mark,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interval::days_from_civil;
    use crate::sim::config::SimConfig;
    use crate::sim::market::catalog::Market;
    use crate::sim::market::daygen::generate;

    #[test]
    fn mark_klines_cover_the_day_with_about_sixty_samples_a_minute() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Um, "BTCUSDT").unwrap();
        let day = days_from_civil(2024, 2, 2);
        let tr = generate(&ex, sym, day);
        let s = samples(&ex, sym, &tr);
        let all = (i64::MIN, i64::MAX);
        let k = klines(&s, PriceKind::Mark, day, MINUTE_US, all, &[], i64::MAX);
        assert_eq!(k.len(), 1440);
        assert!(k
            .iter()
            .all(|k| (50..=60).contains(&k.count) && k.low <= k.open.min(k.close)));
        let p = klines(&s, PriceKind::Premium, day, HOUR_US, all, &[], i64::MAX);
        assert!(p.iter().all(|k| k.high.abs() < 100_000));
        let f = funding(&ex, sym, day);
        assert_eq!(f.len(), 3);
        assert!(f[1].time_ms - (day * DAY_US + 8 * HOUR_US) / 1000 < 10);
    }
}
