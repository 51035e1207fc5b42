//! trades rows: spot `id,price,qty,quote_qty,time,is_buyer_maker,is_best_match` (7 columns) or
//! futures (6 columns, no `is_best_match`) → the trades schema of `crate::model::schema`.
//!
//! Guarantees: the first row fixes the layout (6 or 7 columns) and every later row must match
//! it; on 6-column files `is_best_match` is an all-null column.

use arrow_array::RecordBatch;
use arrow_schema::DataType;

use super::columns::{batch, bool_array, f64_array, i64_array, null_array, ts_array, Bits};
use super::row::{bool_at, count_sep, err, f64_sep, row_end, Kind, RowError, RowSink, TimeState};
use crate::error::Result;
use crate::model::dataset::Dataset;

const NAMES: [&str; 7] = [
    "id",
    "price",
    "qty",
    "quote_qty",
    "time",
    "is_buyer_maker",
    "is_best_match",
];

/// Column store for trades.
#[derive(Debug, Default)]
pub(crate) struct Trades {
    /// 0 until the first row, then 6 or 7.
    cols: u8,
    id: Vec<i64>,
    price: Vec<f64>,
    quantity: Vec<f64>,
    quote_quantity: Vec<f64>,
    time: Vec<i64>,
    buyer_maker: Bits,
    best_match: Bits,
}

impl RowSink for Trades {
    /// USD-M and COIN-M futures files (COIN-M names its fourth column `base_qty`); spot files
    /// have no header.
    const HEADERS: &'static [&'static [u8]] = &[
        b"id,price,qty,quote_qty,time,is_buyer_maker",
        b"id,price,qty,base_qty,time,is_buyer_maker",
    ];

    #[inline(always)]
    fn parse_row(&mut self, b: &[u8], p: usize, t: &mut TimeState) -> Result<usize, RowError> {
        let (id, p) = count_sep(b, p, 0)?;
        let (price, p) = f64_sep(b, p, 1)?;
        let (quantity, p) = f64_sep(b, p, 2)?;
        let (quote_quantity, p) = f64_sep(b, p, 3)?;
        let (time, p) = t.field_sep(b, p, 4)?;
        let (maker, p) = bool_at(b, p, 5)?;
        let (best, p) = if b.get(p) == Some(&b',') {
            let (best, p) = bool_at(b, p + 1, 6)?;
            (Some(best), p)
        } else {
            (None, p)
        };
        let cols = 6 + u8::from(best.is_some());
        let p = row_end(b, p, cols - 1)?;
        if cols != self.cols {
            if self.cols != 0 {
                return Err(err(5, Kind::Columns));
            }
            self.cols = cols;
        }
        self.id.push(id);
        self.price.push(price);
        self.quantity.push(quantity);
        self.quote_quantity.push(quote_quantity);
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
        self.quote_quantity.reserve_exact(n);
        self.time.reserve_exact(n);
        self.buyer_maker.reserve_exact(n);
        if self.cols == 7 {
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
            + self.quote_quantity.capacity()
            + self.time.capacity())
            + self.buyer_maker.reserved_bytes()
            + self.best_match.reserved_bytes()
    }

    fn column_name(&self, col: usize) -> &'static str {
        NAMES.get(col).copied().unwrap_or("?")
    }

    fn column_counts(&self) -> (usize, usize) {
        match self.cols {
            0 => (6, 7),
            n => (n as usize, n as usize),
        }
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.id.len();
        let best = if self.cols == 7 {
            bool_array(self.best_match)
        } else {
            null_array(&DataType::Boolean, n)
        };
        batch(
            Dataset::Trades.schema(),
            vec![
                i64_array(self.id),
                f64_array(self.price),
                f64_array(self.quantity),
                f64_array(self.quote_quantity),
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
    use crate::error::Error;
    use crate::model::dataset::Dataset;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
    use arrow_array::Array;

    // No real trades archive is among the fixtures (see PROVENANCE.md); these rows follow the
    // published layouts.
    const SPOT: &[u8] =
        b"5723703861,87648.21000000,0.08185000,7174.85598850,1767225600039409,True,True\r\n\
5723703862,87648.22000000,0.00013000,11.39426860,1767225600272386,False,True\r\n";
    const UM: &[u8] = b"id,price,qty,quote_qty,time,is_buyer_maker\n\
6805424154,94261.60,0.002,188.52,1735689600041,true\n\
6805424155,94261.60,0.010,942.61,1735689600041,false\n\n";

    #[test]
    fn spot_trades_seven_columns_microseconds() {
        let b = parse_bytes(Dataset::Trades, "spot.csv", SPOT).unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema(), Dataset::Trades.schema());
        assert_eq!(
            b.column(0).as_primitive::<Int64Type>().value(1),
            5_723_703_862
        );
        assert_eq!(
            b.column(3).as_primitive::<Float64Type>().value(0),
            7174.8559885
        );
        let t = b.column(4).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(0), 1_767_225_600_039_409);
        assert_eq!(b.column(6).as_boolean().true_count(), 2);
        assert_eq!(b.column(5).as_boolean().true_count(), 1);
    }

    #[test]
    fn futures_trades_six_columns_header_null_best_match() {
        let b = parse_bytes(Dataset::Trades, "um.csv", UM).unwrap();
        assert_eq!(b.num_rows(), 2);
        let t = b.column(4).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(1), 1_735_689_600_041_000);
        assert_eq!(b.column(6).null_count(), 2);
    }

    #[test]
    fn a_bad_bool_names_its_column_and_line() {
        let csv = b"1,1.0,1.0,1.0,1735689600041,true\n2,1.0,1.0,1.0,1735689600042,yes\n";
        match parse_bytes(Dataset::Trades, "um.csv", csv) {
            Err(Error::Parse {
                line: 2, reason, ..
            }) => {
                assert!(reason.contains("column 6 (is_buyer_maker)"), "{reason}");
                assert!(reason.contains("\"yes\""), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
