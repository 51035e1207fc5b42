//! The rows of the truth from the simulator's market: candles of any interval (final ones
//! only) and the trades or aggTrades of whole days, each written as the exchange writes it
//! (`RowWriter`) and read back by `read`. The size is estimated, and refused past the bounds,
//! before anything is generated.

use crate::error::{Error, Result};
use crate::model::interval::{Interval, DAY_US};

use super::{text, writer, Rows, MAX_ROWS, MAX_TRADE_DAYS};
use crate::sim::market::catalog::Symbol;
use crate::sim::market::mark::PriceKind;
use crate::sim::Simulator;

fn too_many(what: &str, n: i64) -> Error {
    Error::Invalid(format!(
        "the truth of about {n} {what} is too large; ask at most {MAX_ROWS} rows at a time"
    ))
}

/// Final candles of `iv` (trade prices, or `price`) opening in `[from, to)`, `to <= now + 1`.
pub(super) fn klines(
    sim: &Simulator,
    sym: &Symbol,
    price: Option<PriceKind>,
    iv: Interval,
    from: i64,
    to: i64,
) -> Result<Rows> {
    let data = &sim.data;
    let now = data.ex.now_us();
    let span = to - from;
    let (estimate, by_day) = match iv {
        Interval::Fixed(len) => (span / len + 1, len < DAY_US),
        Interval::Month => (span / (28 * DAY_US) + 1, false),
    };
    if estimate > MAX_ROWS {
        return Err(too_many("candles", estimate));
    }
    let mut rows = Rows::klines(estimate.min(1 << 20) as usize);
    let mut buf = Vec::with_capacity(256);
    let mut a = from;
    while a < to {
        // Sub-day candles a day at a time, so only one day's candles are held as `Kline`s.
        let b = if by_day {
            ((a.div_euclid(DAY_US) + 1) * DAY_US).min(to)
        } else {
            to
        };
        for k in data.klines(sym, price, iv, (a, b), usize::MAX) {
            let (w, unit) = writer(sym, k.open_us.div_euclid(DAY_US));
            buf.clear();
            match price {
                None => w.kline(&mut buf, &k),
                Some(_) => w.price_kline(&mut buf, &k),
            }
            rows.push_kline(text(&buf)?, unit)?;
        }
        a = b;
    }
    // Candles come in time order, so only the last ones can still be open.
    let open = rows.ints[0].iter().rev().take_while(|&&c| c >= now).count();
    rows.truncate(rows.key.len() - open);
    rows.retain_key(from, to);
    Ok(rows)
}

/// Trades (`trade`) or aggTrades with time in `[from, to)`, `to <= now + 1`.
pub(super) fn trades(
    sim: &Simulator,
    sym: &Symbol,
    trade: bool,
    from: i64,
    to: i64,
) -> Result<Rows> {
    let ex = &sim.data.ex;
    let (d0, d1) = (from.div_euclid(DAY_US), (to - 1).div_euclid(DAY_US));
    if d1 - d0 + 1 > MAX_TRADE_DAYS {
        return Err(Error::Invalid(format!(
            "the truth of {} days of {} is too large; ask at most {MAX_TRADE_DAYS} days at a time",
            d1 - d0 + 1,
            if trade { "trades" } else { "aggTrades" }
        )));
    }
    let estimate: i64 = (d0..=d1)
        .map(|d| {
            let (aggs, trades) = ex.day_counts(sym, d);
            if trade {
                trades
            } else {
                aggs
            }
        })
        .sum();
    if estimate > MAX_ROWS {
        return Err(too_many(
            if trade { "trades" } else { "aggTrades" },
            estimate,
        ));
    }
    let mut rows = Rows::trades(trade);
    rows.key.reserve(estimate as usize);
    let mut buf = Vec::with_capacity(160);
    for day in d0..=d1 {
        let tr = sim.data.day(sym, day);
        let (w, unit) = writer(sym, day);
        let n = if trade { tr.time.len() } else { tr.n_aggs() };
        // The key as written: the trade's time in the file's unit.
        let key = |j: usize| {
            let t = if trade {
                tr.time[j]
            } else {
                tr.time[tr.agg_start[j] as usize]
            };
            t.div_euclid(unit) * unit
        };
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(mid) < from {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut j = lo;
        while j < n && key(j) < to {
            buf.clear();
            if trade {
                w.trade(&mut buf, &tr, j);
                rows.push_trade(text(&buf)?, unit)?;
            } else {
                w.agg(&mut buf, &tr, j);
                rows.push_agg(text(&buf)?, unit)?;
            }
            j += 1;
        }
    }
    rows.retain_key(from, to);
    Ok(rows)
}
