//! Kline checks: open times step by exactly one interval (calendar-aware for `1w`/`1mo`),
//! `close_time = open_time + interval − 1 unit` of the file (1 µs for µs-era files, 1 ms for
//! ms-era ones; both are accepted since a month can span both eras), and `low`/`high` bracket
//! `open`/`close`.
//!
//! A candle closed early by a trading halt (`open_time ≤ close_time` < the full close) is real
//! Binance data (spot BTCUSDT 1m 2023-03-24 12:39 closes at 12:39:41.646, then 80 candles are
//! missing): it is accepted when no candle follows it directly (a hole or the end of the data
//! comes next), since the `Missing` gap already reports the outage; otherwise it is `CloseTime`.

use arrow_array::RecordBatch;

use super::{f64_column, i64_column, scan_chunks, Gap, GapKind};
use crate::error::Result;
use crate::model::interval::Interval;

/// Open times beyond ±2^60 µs (±36,000 years) are garbage; they get no calendar arithmetic,
/// which could overflow.
const SANE: i64 = 1 << 60;

fn sane(t: i64) -> bool {
    (-SANE..SANE).contains(&t)
}

/// The columns a kline check reads, sliced to one length.
struct Cols<'a> {
    open_time: &'a [i64],
    close_time: &'a [i64],
    open: &'a [f64],
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
}

impl<'a> Cols<'a> {
    fn of(batch: &'a RecordBatch) -> Result<Self> {
        let n = batch.num_rows();
        Ok(Cols {
            open_time: &i64_column(batch, "open_time")?[..n],
            close_time: &i64_column(batch, "close_time")?[..n],
            open: &f64_column(batch, "open")?[..n],
            high: &f64_column(batch, "high")?[..n],
            low: &f64_column(batch, "low")?[..n],
            close: &f64_column(batch, "close")?[..n],
        })
    }

    /// `low ≤ min(open, close)` and `high ≥ max(open, close)`; false on NaN.
    #[inline(always)]
    fn ohlc_ok(&self, j: usize) -> bool {
        let (o, h, l, c) = (self.open[j], self.high[j], self.low[j], self.close[j]);
        (l <= o) & (l <= c) & (h >= o) & (h >= c)
    }
}

/// `close − open` is the candle length less one µs (µs-era) or one ms (ms-era).
#[inline(always)]
fn close_ok(span: i64, open: i64, close: i64) -> bool {
    let d = close.wrapping_sub(open);
    (d == span - 1) | (d == span - 1000)
}

/// Appends the problems between two consecutive open times `a` then `b`.
fn step_gap(interval: Interval, a: i64, b: i64, gaps: &mut Vec<Gap>) {
    if b <= a {
        gaps.push(Gap {
            kind: GapKind::Overlap,
            before: a,
            after: b,
            missing: 0,
            start: b,
            end: a,
        });
        return;
    }
    let steps = if sane(a) && sane(b) {
        interval.steps_between(a, b)
    } else {
        None
    };
    match steps {
        Some(1) => {}
        Some(n) => gaps.push(Gap {
            kind: GapKind::Missing,
            before: a,
            after: b,
            missing: n - 1,
            start: interval.next_open(a),
            end: b,
        }),
        None => gaps.push(Gap {
            kind: GapKind::Misaligned,
            before: a,
            after: b,
            missing: 0,
            start: a,
            end: b,
        }),
    }
}

/// Appends every problem of row `j` (its step from the row before it in the same batch, its
/// close time, its prices). An early close on the batch's last row is left in `pending` for the
/// next batch's first row to settle.
fn row_gaps(
    interval: Interval,
    c: &Cols,
    j: usize,
    gaps: &mut Vec<Gap>,
    pending: &mut Option<i64>,
) {
    let open = c.open_time[j];
    if j > 0 {
        step_gap(interval, c.open_time[j - 1], open, gaps);
    }
    if !sane(open) {
        gaps.push(Gap::at_row(GapKind::CloseTime, open));
        return;
    }
    let next_open = interval.next_open(open);
    let close = c.close_time[j];
    if !close_ok(next_open - open, open, close) {
        let early = open <= close && close < next_open - 1;
        match c.open_time.get(j + 1) {
            Some(&next) if early => settle_early(open, next_open, next, gaps),
            None if early => *pending = Some(open),
            _ => gaps.push(Gap::at_row(GapKind::CloseTime, open)),
        }
    }
    if !c.ohlc_ok(j) {
        gaps.push(Gap::at_row(GapKind::Ohlc, open));
    }
}

/// An early-closed candle at `open` is fine when the next candle (at `next`) does not follow it
/// directly; otherwise it is a `CloseTime` problem.
fn settle_early(open: i64, next_open: i64, next: i64, gaps: &mut Vec<Gap>) {
    if next <= next_open {
        gaps.push(Gap::at_row(GapKind::CloseTime, open));
    }
}

/// Scans kline batches in order; `prev` (the last open time) and an unsettled early close
/// carry across batches.
pub(super) fn scan(batches: &[RecordBatch], interval: Interval, gaps: &mut Vec<Gap>) -> Result<()> {
    let mut prev: Option<i64> = None;
    let mut pending: Option<i64> = None;
    for batch in batches {
        let c = Cols::of(batch)?;
        let n = c.open_time.len();
        if n == 0 {
            continue;
        }
        if let Some(open) = pending.take() {
            // `open` passed `sane` in `row_gaps`.
            settle_early(open, interval.next_open(open), c.open_time[0], gaps);
        }
        if let Some(a) = prev {
            step_gap(interval, a, c.open_time[0], gaps);
        }
        match interval {
            Interval::Fixed(step) => {
                let ok = |j: usize| {
                    let open = c.open_time[j];
                    let step_ok = j == 0 || open.wrapping_sub(c.open_time[j - 1]) == step;
                    step_ok & close_ok(step, open, c.close_time[j]) & c.ohlc_ok(j)
                };
                scan_chunks(0..n, ok, |j| row_gaps(interval, &c, j, gaps, &mut pending));
            }
            Interval::Month => (0..n).for_each(|j| row_gaps(interval, &c, j, gaps, &mut pending)),
        }
        prev = Some(c.open_time[n - 1]);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
