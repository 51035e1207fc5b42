//! The market's data as the servers need it: days of trades and price samples (memoised within
//! a byte budget), and klines of any interval over any time range, for archives and REST alike.
//!
//! Guarantees: candles shorter than a day come straight from the trades of their day; 1d
//! candles too (memoised once the day is over), and 3d, 1w and 1mo candles merge them; nothing
//! after `now` is ever produced, and the candle open at `now` holds the trades up to `now`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::interval::{Interval, DAY_US};

use super::catalog::Symbol;
use super::daygen::{generate, DayTrades};
use super::exchange::Exchange;
use super::klines::{candle_open, from_trades, Kline};
use super::mark::{self, PriceKind, Samples};
use super::memo::Memo;

/// Exchange + memoised days.
pub struct Data {
    pub ex: Exchange,
    days: Memo<Arc<DayTrades>>,
    samples: Memo<Arc<Samples>>,
    /// Daily candles (for 3d/1w/1mo), keyed by (symbol key, day, price kind code).
    daily: Mutex<HashMap<(u64, i64, u8), Option<Kline>>>,
}

impl Data {
    /// Wrap `ex`; `budget` bytes are shared by the memos.
    pub fn new(ex: Exchange, budget: usize) -> Self {
        Data {
            ex,
            days: Memo::new(budget / 2),
            samples: Memo::new(budget / 4),
            daily: Mutex::new(HashMap::new()),
        }
    }

    /// `sym`'s trades on `day` (shared).
    pub fn day(&self, sym: &Symbol, day: i64) -> Arc<DayTrades> {
        let k = format!("{}/{}/{day}", sym.market.name(), sym.name);
        self.days
            .get_or_build(&k, || Arc::new(generate(&self.ex, sym, day)), |d| d.bytes())
    }

    /// `sym`'s mark/index/premium samples on `day` (shared).
    pub fn samples(&self, sym: &Symbol, day: i64) -> Arc<Samples> {
        let k = format!("{}/{}/{day}", sym.market.name(), sym.name);
        self.samples.get_or_build(
            &k,
            || Arc::new(mark::samples(&self.ex, sym, &self.day(sym, day))),
            |s| s.0.len() * 32,
        )
    }

    /// Up to `limit` candles of `interval` for trade prices (`kind: None`) or a derived price,
    /// opening in `[from_us, to_us)`, in time order.
    pub fn klines(
        &self,
        sym: &Symbol,
        kind: Option<PriceKind>,
        interval: Interval,
        (from_us, to_us): (i64, i64),
        limit: usize,
    ) -> Vec<Kline> {
        let now = self.ex.now_us();
        let first = sym.listed * DAY_US;
        let last = sym.delisted.map_or(now, |d| (d + 1) * DAY_US - 1).min(now);
        let (from, to) = (from_us.max(first), to_us.min(last.saturating_add(1)));
        let mut out = Vec::new();
        if from >= to || limit == 0 {
            return out;
        }
        match interval {
            Interval::Fixed(len) if DAY_US % len == 0 && len < DAY_US => {
                let mut day = from.div_euclid(DAY_US);
                while out.len() < limit && day * DAY_US < to {
                    out.extend(self.day_klines(sym, kind, day, len, (from, to), now));
                    day += 1;
                }
            }
            _ => {
                let mut open = candle_open(interval, from);
                if open < from {
                    open = interval.next_open(open);
                }
                while out.len() < limit && open < to {
                    let end = interval.next_open(open);
                    let mut k: Option<Kline> = None;
                    for day in open / DAY_US..end / DAY_US {
                        if day * DAY_US > now {
                            break;
                        }
                        if let Some(d) = self.daily_kline(sym, kind, day, now) {
                            match k.as_mut() {
                                Some(k) => k.merge(&d),
                                None => k = Some(d),
                            }
                        }
                    }
                    if let Some(mut k) = k {
                        (k.open_us, k.end_us) = (open, end);
                        out.push(k);
                    }
                    open = end;
                }
            }
        }
        out.truncate(limit);
        out
    }

    /// Candles of `len` on one day, opening in `range`.
    fn day_klines(
        &self,
        sym: &Symbol,
        kind: Option<PriceKind>,
        day: i64,
        len: i64,
        range: (i64, i64),
        now: i64,
    ) -> Vec<Kline> {
        if !sym.trades_on(day) || self.ex.day_counts(sym, day).0 == 0 {
            return Vec::new();
        }
        let start = day * DAY_US;
        let outages = self.ex.cfg.outages_in(sym.market, start, start + DAY_US);
        match kind {
            None => from_trades(sym, &self.day(sym, day), len, range, &outages, now),
            Some(k) => mark::klines(&self.samples(sym, day), k, day, len, range, &outages, now),
        }
    }

    /// The daily candle of `day` (memoised once the day is over).
    fn daily_kline(
        &self,
        sym: &Symbol,
        kind: Option<PriceKind>,
        day: i64,
        now: i64,
    ) -> Option<Kline> {
        let code = kind.map_or(0, |k| k as u8 + 1);
        let key = (sym.key, day, code);
        if let Some(k) = self
            .daily
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return *k;
        }
        let k = self
            .day_klines(sym, kind, day, DAY_US, (i64::MIN, i64::MAX), now)
            .first()
            .copied();
        if (day + 1) * DAY_US <= now {
            self.daily
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, k);
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interval::{days_from_civil, HOUR_US, MINUTE_US};
    use crate::sim::config::SimConfig;
    use crate::sim::market::catalog::Market;
    use crate::sim::market::klines::regroup;

    #[test]
    fn ranges_span_days_and_stop_at_now() {
        let now = days_from_civil(2024, 3, 10) * DAY_US + 5 * HOUR_US + 30 * MINUTE_US + 7;
        let cfg = SimConfig {
            now_us: Some(now),
            ..SimConfig::default()
        };
        let data = Data::new(Exchange::new(cfg), 1 << 28);
        let sym = data.ex.symbol(Market::Spot, "ETHUSDT").unwrap();
        let start = days_from_civil(2024, 3, 9) * DAY_US + 23 * HOUR_US;
        let k = data.klines(
            sym,
            None,
            Interval::Fixed(MINUTE_US),
            (start, i64::MAX),
            1000,
        );
        assert_eq!(
            k.len(),
            60 + 5 * 60 + 31,
            "up to and including the open candle"
        );
        assert!(k.windows(2).all(|w| w[1].open_us == w[0].end_us));
        let feb = days_from_civil(2024, 2, 1) * DAY_US;
        let month = data.klines(sym, None, Interval::Month, (feb, feb + 1), 10);
        let days = data.klines(
            sym,
            None,
            Interval::Fixed(DAY_US),
            (feb, feb + 29 * DAY_US),
            100,
        );
        assert_eq!(days.len(), 29);
        assert_eq!(month, regroup(Interval::Month, &days));
    }
}
