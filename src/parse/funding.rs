//! fundingRate rows (futures, monthly archives): `calc_time,funding_interval_hours,
//! last_funding_rate` → the fundingRate schema of `crate::model::schema` (`time`, `funding_interval_hours`,
//! `funding_rate`, `mark_price`).
//!
//! Guarantees: exactly 3 columns per row; `calc_time` is kept as given (it can be a few ms past
//! the hour); Vision files carry no mark price, so `mark_price` is an all-null column.

use arrow_array::RecordBatch;
use arrow_schema::DataType;

use super::columns::{batch, f64_array, i64_array, null_array, ts_array};
use super::row::{err, f64_at, i64_sep, row_end, Kind, RowError, RowSink, TimeState};
use crate::error::Result;
use crate::model::dataset::Dataset;

const NAMES: [&str; 3] = ["calc_time", "funding_interval_hours", "last_funding_rate"];

/// Column store for fundingRate.
#[derive(Debug, Default)]
pub(crate) struct Funding {
    time: Vec<i64>,
    interval_hours: Vec<i64>,
    rate: Vec<f64>,
}

impl RowSink for Funding {
    const HEADERS: &'static [&'static [u8]] =
        &[b"calc_time,funding_interval_hours,last_funding_rate"];

    #[inline(always)]
    fn parse_row(&mut self, b: &[u8], p: usize, t: &mut TimeState) -> Result<usize, RowError> {
        let (time, p) = t.field_sep(b, p, 0)?;
        let (hours, p) = i64_sep(b, p, 1)?;
        if hours <= 0 {
            return Err(err(1, Kind::NotPositive));
        }
        let (rate, p) = f64_at(b, p, 2)?;
        let p = row_end(b, p, 2)?;
        self.time.push(time);
        self.interval_hours.push(hours);
        self.rate.push(rate);
        Ok(p)
    }

    fn len(&self) -> usize {
        self.time.len()
    }

    fn reserve_exact(&mut self, n: usize) {
        self.time.reserve_exact(n);
        self.interval_hours.reserve_exact(n);
        self.rate.reserve_exact(n);
    }

    fn capacity(&self) -> usize {
        self.time.capacity()
    }

    fn reserved_bytes(&self) -> usize {
        8 * (self.time.capacity() + self.interval_hours.capacity() + self.rate.capacity())
    }

    fn column_name(&self, col: usize) -> &'static str {
        NAMES.get(col).copied().unwrap_or("?")
    }

    fn column_counts(&self) -> (usize, usize) {
        (3, 3)
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.time.len();
        batch(
            Dataset::FundingRate.schema(),
            vec![
                ts_array(self.time),
                i64_array(self.interval_hours),
                f64_array(self.rate),
                null_array(&DataType::Float64, n),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_bytes;
    use super::super::testutil::{fixture_files, read_csv};
    use crate::error::Error;
    use crate::model::dataset::Dataset;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
    use arrow_array::Array;

    #[test]
    fn usd_m_month_parses_with_null_mark_price() {
        let Some(files) = fixture_files("um_fundingRate", ".zip") else {
            return;
        };
        let b = parse_bytes(Dataset::FundingRate, "f.zip", &read_csv(&files[0])).unwrap();
        assert_eq!(b.num_rows(), 90);
        assert_eq!(b.schema(), Dataset::FundingRate.schema());
        let t = b.column(0).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(0), 1_775_001_600_000_000);
        assert_eq!(t.value(3), 1_775_088_000_003_000);
        assert_eq!(
            b.column(2).as_primitive::<Float64Type>().value(2),
            0.00000577
        );
        assert_eq!(b.column(1).as_primitive::<Int64Type>().value(0), 8);
        assert_eq!(
            b.column(2).as_primitive::<Float64Type>().value(0),
            -0.00003449
        );
        assert_eq!(b.column(3).null_count(), 90);
        assert_eq!(b.column(1).null_count(), 0);
    }

    #[test]
    fn wrong_column_count_is_reported() {
        let csv = b"calc_time,funding_interval_hours,last_funding_rate\n1775001600000,8\n";
        match parse_bytes(Dataset::FundingRate, "f.csv", csv) {
            Err(Error::Parse {
                line: 2, reason, ..
            }) => {
                assert_eq!(reason, "expected 3 columns, found 2");
            }
            other => panic!("{other:?}"),
        }
    }
}
