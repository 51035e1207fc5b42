//! aggTrades rows: spot `agg_trade_id,price,quantity,first_trade_id,last_trade_id,
//! transact_time,is_buyer_maker,is_best_match` (8 columns) or futures (7 columns, no
//! `is_best_match`) → the aggTrades schema of `crate::model::schema`.
//!
//! Guarantees: the first row fixes the layout (7 or 8 columns) and every later row must match
//! it; on 7-column files `is_best_match` is an all-null column.

use arrow_array::RecordBatch;
use arrow_schema::DataType;

use super::columns::{batch, bool_array, f64_array, i64_array, null_array, ts_array, Bits};
use super::row::{bool_at, count_sep, err, f64_sep, row_end, Kind, RowError, RowSink, TimeState};
use crate::error::Result;
use crate::model::dataset::Dataset;

const NAMES: [&str; 8] = [
    "agg_trade_id",
    "price",
    "quantity",
    "first_trade_id",
    "last_trade_id",
    "transact_time",
    "is_buyer_maker",
    "is_best_match",
];

/// Column store for aggTrades.
#[derive(Debug, Default)]
pub(crate) struct AggTrades {
    /// 0 until the first row, then 7 or 8.
    cols: u8,
    id: Vec<i64>,
    price: Vec<f64>,
    quantity: Vec<f64>,
    first_id: Vec<i64>,
    last_id: Vec<i64>,
    time: Vec<i64>,
    buyer_maker: Bits,
    best_match: Bits,
}

impl RowSink for AggTrades {
    /// Futures files (USD-M and COIN-M); spot files have no header.
    const HEADERS: &'static [&'static [u8]] = &[
        b"agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
    ];

    #[inline(always)]
    fn parse_row(&mut self, b: &[u8], p: usize, t: &mut TimeState) -> Result<usize, RowError> {
        let (id, p) = count_sep(b, p, 0)?;
        let (price, p) = f64_sep(b, p, 1)?;
        let (quantity, p) = f64_sep(b, p, 2)?;
        let (first_id, p) = count_sep(b, p, 3)?;
        let (last_id, p) = count_sep(b, p, 4)?;
        let (time, p) = t.field_sep(b, p, 5)?;
        let (maker, p) = bool_at(b, p, 6)?;
        let (best, p) = if b.get(p) == Some(&b',') {
            let (best, p) = bool_at(b, p + 1, 7)?;
            (Some(best), p)
        } else {
            (None, p)
        };
        let cols = 7 + u8::from(best.is_some());
        let p = row_end(b, p, cols - 1)?;
        if cols != self.cols {
            if self.cols != 0 {
                return Err(err(6, Kind::Columns));
            }
            self.cols = cols;
        }
        self.id.push(id);
        self.price.push(price);
        self.quantity.push(quantity);
        self.first_id.push(first_id);
        self.last_id.push(last_id);
        self.time.push(time);
        self.buyer_maker.push(maker);
        if let Some(best) = best {
            self.best_match.push(best);
        }
        Ok(p)
    }

    fn len(&self) -> usize {
        self.id.len()
    }

    fn reserve_exact(&mut self, n: usize) {
        self.id.reserve_exact(n);
        self.price.reserve_exact(n);
        self.quantity.reserve_exact(n);
        self.first_id.reserve_exact(n);
        self.last_id.reserve_exact(n);
        self.time.reserve_exact(n);
        self.buyer_maker.reserve_exact(n);
        if self.cols == 8 {
            self.best_match.reserve_exact(n);
        }
    }

    fn capacity(&self) -> usize {
        self.id.capacity()
    }

    fn reserved_bytes(&self) -> usize {
        8 * (self.id.capacity()
            + self.price.capacity()
            + self.quantity.capacity()
            + self.first_id.capacity()
            + self.last_id.capacity()
            + self.time.capacity())
            + self.buyer_maker.reserved_bytes()
            + self.best_match.reserved_bytes()
    }

    fn column_name(&self, col: usize) -> &'static str {
        NAMES.get(col).copied().unwrap_or("?")
    }

    fn column_counts(&self) -> (usize, usize) {
        match self.cols {
            0 => (7, 8),
            n => (n as usize, n as usize),
        }
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.id.len();
        let best = if self.cols == 8 {
            bool_array(self.best_match)
        } else {
            null_array(&DataType::Boolean, n)
        };
        batch(
            Dataset::AggTrades.schema(),
            vec![
                i64_array(self.id),
                f64_array(self.price),
                f64_array(self.quantity),
                i64_array(self.first_id),
                i64_array(self.last_id),
                ts_array(self.time),
                bool_array(self.buyer_maker),
                best,
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
    fn coin_m_day_has_header_ms_and_null_best_match() {
        let Some(files) = fixture_files("cm_aggTrades", ".zip") else {
            return;
        };
        let data = read_csv(&files[0]);
        let b = parse_bytes(Dataset::AggTrades, "cm.zip", &data).unwrap();
        assert_eq!(b.num_rows(), 105_280);
        assert_eq!(b.schema(), Dataset::AggTrades.schema());
        assert_eq!(b.column(7).null_count(), 105_280);
        assert_eq!(
            b.column(0).as_primitive::<Int64Type>().value(0),
            480_537_903
        );
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 79972.8);
        let t = b.column(5).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(0), 1_778_198_400_020_000);
        assert!(!b.column(6).as_boolean().value(0));
    }

    #[test]
    fn spot_sample_is_microseconds_with_capitalised_bools() {
        let Some(files) = fixture_files("spot_aggTrades", ".csv") else {
            return;
        };
        let b = parse_bytes(Dataset::AggTrades, "spot.csv", &read_csv(&files[0])).unwrap();
        assert_eq!(b.num_rows(), 5000);
        let t = b.column(5).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(0), 1_767_225_600_039_409);
        let maker = b.column(6).as_boolean();
        assert!(maker.value(0) && !maker.value(1));
        let best = b.column(7).as_boolean();
        assert_eq!((best.null_count(), best.true_count()), (0, 5000));
    }

    #[test]
    fn layout_is_fixed_by_the_first_row() {
        let csv = b"1,1.5,2,10,11,1577836800000,true\n2,1.5,2,12,12,1577836800001,false,true\n";
        match parse_bytes(Dataset::AggTrades, "x.csv", csv) {
            Err(Error::Parse {
                line: 2, reason, ..
            }) => {
                assert!(reason.contains("expected 7 columns, found 8"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let csv = b"1,1.5,2,10,11,1577836800000,true,True,x\n";
        match parse_bytes(Dataset::AggTrades, "x.csv", csv) {
            Err(Error::Parse {
                line: 1, reason, ..
            }) => {
                assert!(
                    reason.contains("expected 7 or 8 columns, found 9"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
