//! UTC days of a sorted batch: `(day_start_us, lo, hi)` row ranges found by binary search, so
//! the planner can cut an archive into its days without scanning the time column in Python
//! (docs/architecture.md, "The boundary").

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

use crate::model::dataset::Dataset;

/// One UTC day in microseconds.
pub const DAY_US: i64 = 86_400_000_000;

/// One day's rows: the day's start (UTC µs) and the row range `[lo, hi)` of the batch.
pub type DayRows = (i64, usize, usize);

/// The column a dataset's range applies to (the one days are cut by).
pub fn time_column(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Klines => "open_time",
        Dataset::AggTrades | Dataset::Trades | Dataset::FundingRate => "time",
    }
}

/// The column a dataset's rows are unique and sorted by.
pub fn key_column(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Klines => "open_time",
        Dataset::AggTrades => "agg_trade_id",
        Dataset::Trades => "trade_id",
        Dataset::FundingRate => "time",
    }
}

/// The values of a non-null `int64` or `timestamp[us]` column named `name`, if there is one.
pub fn i64_values<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a [i64]> {
    let col = batch.column_by_name(name)?;
    if col.null_count() > 0 {
        return None;
    }
    match col.data_type() {
        DataType::Int64 => Some(col.as_primitive::<Int64Type>().values()),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Some(col.as_primitive::<TimestampMicrosecondType>().values())
        }
        _ => None,
    }
}

/// The UTC days of `times` (µs, non-decreasing) with their row ranges, in order; days without
/// rows are absent. One binary search per day: O(days · log rows). `None` when `times` is not
/// sorted (the caller then has no day ranges to trust).
pub fn day_offsets(times: &[i64]) -> Option<Vec<DayRows>> {
    if !times.windows(2).all(|w| w[0] <= w[1]) {
        return None;
    }
    let mut out = Vec::new();
    let mut lo = 0;
    while lo < times.len() {
        let start = times[lo].saturating_sub(times[lo].rem_euclid(DAY_US));
        let hi = match start.checked_add(DAY_US) {
            Some(end) => lo + times[lo..].partition_point(|&t| t < end),
            None => times.len(), // the last representable day
        };
        out.push((start, lo, hi));
        lo = hi;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    #[test]
    fn empty_has_no_days() {
        assert_eq!(day_offsets(&[]), Some(vec![]));
    }

    #[test]
    fn one_day() {
        let t: Vec<i64> = (0..1440).map(|i| 3 * DAY_US + i * MIN).collect();
        assert_eq!(day_offsets(&t), Some(vec![(3 * DAY_US, 0, 1440)]));
    }

    #[test]
    fn days_split_at_midnight_and_skip_empty_days() {
        let t = [
            DAY_US - 1,
            DAY_US,
            DAY_US + 5,
            3 * DAY_US + 7, // day 2 has no rows
            4 * DAY_US - 1,
            4 * DAY_US,
        ];
        assert_eq!(
            day_offsets(&t),
            Some(vec![
                (0, 0, 1),
                (DAY_US, 1, 3),
                (3 * DAY_US, 3, 5),
                (4 * DAY_US, 5, 6)
            ])
        );
    }

    #[test]
    fn equal_times_stay_in_one_day() {
        let t = [DAY_US, DAY_US, DAY_US, 2 * DAY_US];
        assert_eq!(
            day_offsets(&t),
            Some(vec![(DAY_US, 0, 3), (2 * DAY_US, 3, 4)])
        );
    }

    #[test]
    fn before_the_epoch_days_floor() {
        let t = [-1, 0];
        assert_eq!(day_offsets(&t), Some(vec![(-DAY_US, 0, 1), (0, 1, 2)]));
    }

    #[test]
    fn unsorted_times_give_none() {
        assert_eq!(day_offsets(&[2 * DAY_US, DAY_US]), None);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let t = [i64::MAX - 1, i64::MAX];
        let days = day_offsets(&t).unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!((days[0].1, days[0].2), (0, 2));
        let t = [i64::MIN, i64::MIN + 1];
        let days = day_offsets(&t).unwrap();
        assert_eq!(days.len(), 1);
    }

    #[test]
    fn columns_by_dataset() {
        assert_eq!(time_column(Dataset::Trades), "time");
        assert_eq!(key_column(Dataset::Trades), "trade_id");
        assert_eq!(key_column(Dataset::Klines), time_column(Dataset::Klines));
    }
}
