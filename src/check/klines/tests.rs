//! Kline check tests: every kind with exact before/after/missing/start/end, joins between
//! batches, halts, calendar months and Monday weeks.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};

use super::*;
use crate::check::find_gaps;
use crate::model::dataset::Dataset;
use crate::model::interval::{days_from_civil, DAY_US, MINUTE_US};

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

#[test]
fn garbage_times_are_reported_not_panicked_on() {
    let opens = [i64::MIN, 0, i64::MAX, i64::MAX - 5];
    let closes = [i64::MAX, -1, i64::MIN, 0];
    for interval in [M1, Interval::Month] {
        let gaps = find_gaps(&[klines(&opens, &closes, &[])], Some(interval)).unwrap();
        let kinds: Vec<_> = gaps.iter().map(|g| g.kind).collect();
        assert!(kinds.contains(&GapKind::Misaligned) && kinds.contains(&GapKind::Overlap));
        assert_eq!(
            kinds.iter().filter(|&&k| k == GapKind::CloseTime).count(),
            4
        );
    }
}
