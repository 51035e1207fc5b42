//! Trades → klines, exactly as Binance builds them: open = first trade, close = last, volume and
//! quote volume summed per trade, `count` = number of trades, taker-buy sums over trades whose
//! buyer is the taker. A candle with no trades still exists (volume 0, every price = the
//! previous close) unless it lies wholly inside an exchange outage, where Binance publishes
//! none. Multi-day candles (3d, 1w, 1mo) are merged from daily candles.
//!
//! All amounts are integers (ticks, lots, quote units), so any grouping gives the same sums.

use crate::model::interval::{civil_from_days, days_from_civil, Interval, DAY_US};

use super::catalog::{Market, Symbol};
use super::daygen::DayTrades;

/// One candle in integer units. `end_us` is exclusive; `close_time = end_us - unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kline {
    pub open_us: i64,
    pub end_us: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
    /// Quote volume: 10^-(price_dp+qty_dp) units, or 10^-8 base units on cm.
    pub quote: i128,
    pub count: i64,
    pub taker_volume: i64,
    pub taker_quote: i128,
}

impl Kline {
    fn empty(open_us: i64, end_us: i64, price: i64) -> Self {
        Kline {
            open_us,
            end_us,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 0,
            quote: 0,
            count: 0,
            taker_volume: 0,
            taker_quote: 0,
        }
    }

    /// Fold the later candle `b` (same or adjacent span) into `self`.
    pub fn merge(&mut self, b: &Kline) {
        if b.count > 0 {
            if self.count == 0 {
                self.open = b.open;
                self.high = b.high;
                self.low = b.low;
            } else {
                self.high = self.high.max(b.high);
                self.low = self.low.min(b.low);
            }
        }
        self.close = b.close;
        self.volume += b.volume;
        self.quote += b.quote;
        self.count += b.count;
        self.taker_volume += b.taker_volume;
        self.taker_quote += b.taker_quote;
    }
}

/// Quote amount of one trade: price × qty (spot, um), or on cm the base-asset amount
/// `qty × contract_size / price` rounded half-up to 10^-8.
#[inline]
pub fn quote_units(sym: &Symbol, price: i64, qty: i64) -> i128 {
    if sym.market == Market::Cm {
        let num = i128::from(qty) * i128::from(sym.contract_size) * 10i128.pow(8 + sym.price_dp);
        let den = i128::from(price);
        (2 * num + den) / (2 * den)
    } else {
        i128::from(price) * i128::from(qty)
    }
}

/// Open time of the candle of `interval` holding `t`: fixed steps from the epoch, except 3d
/// (aligned like Binance's first candles, 2017-08-17) and 1w (Mondays); 1mo on the 1st.
pub fn candle_open(interval: Interval, t: i64) -> i64 {
    match interval {
        Interval::Fixed(len) => {
            let off = match len / DAY_US {
                3 if len % DAY_US == 0 => DAY_US,
                7 if len % DAY_US == 0 => 4 * DAY_US,
                _ => 0,
            };
            (t - off).div_euclid(len) * len + off
        }
        Interval::Month => {
            let (y, m, _) = civil_from_days(t.div_euclid(DAY_US));
            days_from_civil(y, m, 1) * DAY_US
        }
    }
}

/// The candles of length `len_us` (dividing a day) that open in `[from_us, to_us)` within the
/// trades' day, skipping those wholly inside `outages`. Trades after `now_us` are ignored and
/// candles opening after it are not produced (the open candle is).
pub fn from_trades(
    sym: &Symbol,
    tr: &DayTrades,
    len_us: i64,
    range: (i64, i64),
    outages: &[(i64, i64)],
    now_us: i64,
) -> Vec<Kline> {
    let day_start = tr.day * DAY_US;
    let from = range.0.max(day_start);
    let from = day_start + (from - day_start + len_us - 1).div_euclid(len_us) * len_us;
    let to = range
        .1
        .min(day_start + DAY_US)
        .min(now_us.saturating_add(1));
    let mut out = Vec::with_capacity(((to - from).max(0) / len_us) as usize);
    let mut i = tr.time.partition_point(|&t| t < from);
    let mut prev = if i > 0 {
        tr.price[i - 1]
    } else {
        tr.price.get(i).copied().unwrap_or(0)
    };
    let n = tr.time.partition_point(|&t| t <= now_us);
    let mut o = from;
    while o < to {
        let end = o + len_us;
        if outages.iter().any(|&(a, b)| a <= o && end <= b) {
            o = end;
            continue;
        }
        let mut k = Kline::empty(o, end, prev);
        while i < n && tr.time[i] < end {
            let (p, q) = (tr.price[i], tr.qty[i]);
            let quote = quote_units(sym, p, q);
            if k.count == 0 {
                k.open = p;
                k.high = p;
                k.low = p;
            } else if p > k.high {
                k.high = p;
            } else if p < k.low {
                k.low = p;
            }
            k.close = p;
            k.count += 1;
            k.volume += q;
            k.quote += quote;
            if !tr.maker[i] {
                k.taker_volume += q;
                k.taker_quote += quote;
            }
            i += 1;
        }
        prev = k.close;
        out.push(k);
        o = end;
    }
    out
}

/// Merge consecutive candles into the candles of `interval` (used for 3d, 1w and 1mo from
/// daily candles). Input must be sorted; each output candle spans its whole interval.
pub fn regroup(interval: Interval, candles: &[Kline]) -> Vec<Kline> {
    let mut out: Vec<Kline> = Vec::new();
    for c in candles {
        let open = candle_open(interval, c.open_us);
        match out.last_mut() {
            Some(last) if last.open_us == open => last.merge(c),
            _ => {
                let end = interval.next_open(open);
                out.push(Kline {
                    open_us: open,
                    end_us: end,
                    ..*c
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interval::{HOUR_US, MINUTE_US};
    use crate::sim::config::SimConfig;
    use crate::sim::market::daygen::generate;
    use crate::sim::market::exchange::Exchange;

    #[test]
    fn hourly_from_trades_equals_merged_minutes_and_outage_has_no_candles() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Spot, "BTCUSDT").unwrap();
        let day = days_from_civil(2023, 3, 24);
        let tr = generate(&ex, sym, day);
        let out = ex
            .cfg
            .outages_in(Market::Spot, day * DAY_US, (day + 1) * DAY_US);
        let all = (i64::MIN, i64::MAX);
        let minutes = from_trades(sym, &tr, MINUTE_US, all, &out, i64::MAX);
        assert_eq!(minutes.len(), 1440 - 80);
        let hours = from_trades(sym, &tr, HOUR_US, all, &out, i64::MAX);
        assert_eq!(hours.len(), 23, "13:00 lies wholly inside the outage");
        let merged = regroup(Interval::Fixed(HOUR_US), &minutes);
        assert_eq!(merged, hours);
        let count: i64 = minutes.iter().map(|k| k.count).sum();
        assert_eq!(count as usize, tr.time.len());
        let day_k = regroup(Interval::Fixed(DAY_US), &hours);
        assert_eq!(day_k, from_trades(sym, &tr, DAY_US, all, &out, i64::MAX));
    }

    #[test]
    fn weeks_open_on_monday_and_months_on_the_first() {
        let t = days_from_civil(2024, 1, 10) * DAY_US + 5;
        assert_eq!(
            candle_open(Interval::Fixed(7 * DAY_US), t),
            days_from_civil(2024, 1, 8) * DAY_US
        );
        assert_eq!(
            candle_open(Interval::Month, t),
            days_from_civil(2024, 1, 1) * DAY_US
        );
        let btc_first = days_from_civil(2017, 8, 17) * DAY_US;
        assert_eq!(
            candle_open(Interval::Fixed(3 * DAY_US), btc_first + 7),
            btc_first
        );
    }

    #[test]
    fn cm_quote_is_rounded_base_amount() {
        let ex = Exchange::new(SimConfig::default());
        let sym = ex.symbol(Market::Cm, "BTCUSD_PERP").unwrap();
        // 83 contracts at 78526.1 → 0.10569734 BTC
        assert_eq!(quote_units(sym, 785_261, 83), 10_569_734);
    }
}
