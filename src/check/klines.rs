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
use crate::interval::Interval;

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
    match interval.steps_between(a, b) {
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
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};

    use super::*;
    use crate::check::find_gaps;
    use crate::interval::{days_from_civil, DAY_US, MINUTE_US};
    use crate::schema::Dataset;

    const M1: Interval = Interval::Fixed(MINUTE_US);

    /// A klines batch with the given open/close times; prices 10/12/9/11 unless `bad_ohlc` holds.
    pub(crate) fn klines(opens: &[i64], closes: &[i64], bad_ohlc: &[usize]) -> RecordBatch {
        let n = opens.len();
        let ts = |v: &[i64]| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(v.to_vec()).with_timezone("UTC"))
        };
        let f = |x: f64| -> ArrayRef { Arc::new(Float64Array::from(vec![x; n])) };
        let low: Vec<f64> = (0..n)
            .map(|j| if bad_ohlc.contains(&j) { 11.5 } else { 9.0 })
            .collect();
        let cols = vec![
            ts(opens),
            f(10.0),
            f(12.0),
            Arc::new(Float64Array::from(low)) as ArrayRef,
            f(11.0),
            f(1.0),
            ts(closes),
            f(1.0),
            Arc::new(Int64Array::from(vec![1; n])) as ArrayRef,
            f(0.5),
            f(0.5),
        ];
        RecordBatch::try_new(Dataset::Klines.schema(), cols).unwrap()
    }

    /// Clean klines at the given open times with ms-era close times for `interval`.
    pub(crate) fn clean(interval: Interval, opens: &[i64]) -> RecordBatch {
        let closes: Vec<i64> = opens
            .iter()
            .map(|&o| interval.next_open(o) - 1000)
            .collect();
        klines(opens, &closes, &[])
    }

    fn day(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * DAY_US
    }

    /// Open times of one whole day of 1m candles.
    fn minutes_of(day_start: i64) -> Vec<i64> {
        (0..1440).map(|k| day_start + k * MINUTE_US).collect()
    }

    #[test]
    fn a_clean_day_has_no_gaps() {
        let opens = minutes_of(day(2024, 6, 24));
        assert_eq!(find_gaps(&[clean(M1, &opens)], Some(M1)).unwrap(), vec![]);
    }

    #[test]
    fn missing_candles_are_counted() {
        let mut opens = minutes_of(day(2023, 3, 24));
        let t = |h: i64, m: i64| day(2023, 3, 24) + h * 60 * MINUTE_US + m * MINUTE_US;
        opens.retain(|&o| o < t(12, 40) || o >= t(14, 0));
        let gaps = find_gaps(&[clean(M1, &opens)], Some(M1)).unwrap();
        let want = Gap {
            kind: GapKind::Missing,
            before: t(12, 39),
            after: t(14, 0),
            missing: 80,
            start: t(12, 40),
            end: t(14, 0),
        };
        assert_eq!(gaps, vec![want]);
    }

    #[test]
    fn overlap_and_misaligned() {
        let m = MINUTE_US;
        let gaps = find_gaps(
            &[clean(M1, &[0, m, m, 2 * m, 2 * m + 7, 3 * m + 7])],
            Some(M1),
        );
        let gaps = gaps.unwrap();
        assert_eq!(gaps.len(), 2);
        assert_eq!(
            gaps[0],
            Gap {
                kind: GapKind::Overlap,
                before: m,
                after: m,
                missing: 0,
                start: m,
                end: m
            }
        );
        assert_eq!(gaps[1].kind, GapKind::Misaligned);
        assert_eq!((gaps[1].before, gaps[1].after), (2 * m, 2 * m + 7));
    }

    #[test]
    fn close_time_and_ohlc_are_reported_per_row() {
        let m = MINUTE_US;
        let opens = [0, m, 2 * m, 3 * m];
        // µs-era, ms-era, wrong, ms-era
        let closes = [m - 1, 2 * m - 1000, 3 * m, 4 * m - 1000];
        let gaps = find_gaps(&[klines(&opens, &closes, &[3])], Some(M1)).unwrap();
        assert_eq!(
            gaps,
            vec![
                Gap::at_row(GapKind::CloseTime, 2 * m),
                Gap::at_row(GapKind::Ohlc, 3 * m)
            ]
        );
    }

    #[test]
    fn an_early_close_is_fine_only_before_a_hole() {
        let m = MINUTE_US;
        // Halt: 2m closes at 2m + 41.646 s, then 3m..4m are missing (as on 2023-03-24).
        let opens = [0, m, 2 * m, 5 * m];
        let closes = [m - 1000, 2 * m - 1000, 2 * m + 41_646_000, 6 * m - 1000];
        let gaps = find_gaps(&[klines(&opens, &closes, &[])], Some(M1)).unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].kind, gaps[0].missing), (GapKind::Missing, 2));
        // The same halt split at the batch join, and at the end of the data.
        let split = [
            klines(&opens[..3], &closes[..3], &[]),
            klines(&opens[3..], &closes[3..], &[]),
        ];
        assert_eq!(find_gaps(&split, Some(M1)).unwrap().len(), 1);
        assert!(
            find_gaps(&[klines(&opens[..3], &closes[..3], &[])], Some(M1))
                .unwrap()
                .is_empty()
        );
        // Followed directly by the next candle, in the same batch or the next one: reported.
        let opens = [0, m, 2 * m, 3 * m];
        let closes = [m - 1000, m + 5, 3 * m - 1000, 4 * m - 1000];
        let want = vec![Gap::at_row(GapKind::CloseTime, m)];
        assert_eq!(
            find_gaps(&[klines(&opens, &closes, &[])], Some(M1)).unwrap(),
            want
        );
        let split = [
            klines(&opens[..2], &closes[..2], &[]),
            klines(&opens[2..], &closes[2..], &[]),
        ];
        assert_eq!(find_gaps(&split, Some(M1)).unwrap(), want);
    }

    #[test]
    fn state_carries_across_batches() {
        let opens = minutes_of(day(2024, 1, 1));
        let (a, b) = opens.split_at(700);
        let joined = [clean(M1, a), clean(M1, b)];
        assert!(find_gaps(&joined, Some(M1)).unwrap().is_empty());

        // A hole exactly at the join: the second batch starts 3 candles late.
        let split = [clean(M1, a), clean(M1, &b[3..])];
        let gaps = find_gaps(&split, Some(M1)).unwrap();
        let want = Gap {
            kind: GapKind::Missing,
            before: a[699],
            after: b[3],
            missing: 3,
            start: b[0],
            end: b[3],
        };
        assert_eq!(gaps, vec![want]);

        // An empty batch in between changes nothing; a repeated batch is an overlap.
        let empty = RecordBatch::new_empty(Dataset::Klines.schema());
        let gaps = find_gaps(&[clean(M1, a), empty, clean(M1, a)], Some(M1)).unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(
            (gaps[0].kind, gaps[0].before, gaps[0].after),
            (GapKind::Overlap, a[699], a[0])
        );
    }

    #[test]
    fn gaps_in_late_chunks_are_found() {
        let mut opens: Vec<i64> = (0..5000).map(|k| k * MINUTE_US).collect();
        opens.remove(4321);
        let gaps = find_gaps(&[clean(M1, &opens)], Some(M1)).unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].start, gaps[0].missing), (4321 * MINUTE_US, 1));
    }

    #[test]
    fn months_follow_the_calendar() {
        let mo = Interval::Month;
        let opens = [day(2024, 1, 1), day(2024, 3, 1), day(2024, 4, 1)];
        let gaps = find_gaps(&[clean(mo, &opens)], Some(mo)).unwrap();
        let want = Gap {
            kind: GapKind::Missing,
            before: day(2024, 1, 1),
            after: day(2024, 3, 1),
            missing: 1,
            start: day(2024, 2, 1),
            end: day(2024, 3, 1),
        };
        assert_eq!(gaps, vec![want]);
        // February's close time is 29 days after its open in 2024, not 30 or 31.
        let feb = [day(2024, 2, 1)];
        assert!(
            find_gaps(&[klines(&feb, &[day(2024, 3, 1) - 1], &[])], Some(mo))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            find_gaps(&[klines(&feb, &[day(2024, 3, 2) - 1], &[])], Some(mo))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn weeks_open_on_mondays() {
        let w = Interval::Fixed(7 * DAY_US);
        let mondays: Vec<i64> = (0..6).map(|k| day(2024, 1, 1) + k * 7 * DAY_US).collect();
        assert!(find_gaps(&[clean(w, &mondays)], Some(w))
            .unwrap()
            .is_empty());
        let skip = [mondays[0], mondays[1], mondays[4]];
        let gaps = find_gaps(&[clean(w, &skip)], Some(w)).unwrap();
        assert_eq!((gaps[0].missing, gaps[0].start), (2, mondays[2]));
        let tuesday = [mondays[0], mondays[1] + DAY_US];
        assert_eq!(
            find_gaps(&[clean(w, &tuesday)], Some(w)).unwrap()[0].kind,
            GapKind::Misaligned
        );
    }
}
