//! Klines rows (trade, mark, index and premium-index price klines share one layout):
//! `open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
//! taker_buy_quote_volume,ignore` → the klines schema of `crate::model::schema`.
//!
//! Guarantees: exactly 12 columns per row; both time columns converted to µs with the file's
//! unit; the `ignore` column is checked only for being one field and then dropped.

use arrow_array::RecordBatch;

use super::columns::{batch, f64_array, i64_array, ts_array};
use super::number::is_field_end;
use super::row::{count_sep, f64_sep, row_end, RowError, RowSink, TimeState};
use crate::error::Result;
use crate::model::dataset::Dataset;

const NAMES: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
];

/// Column store for klines.
#[derive(Debug, Default)]
pub(crate) struct Klines {
    open_time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    close_time: Vec<i64>,
    quote_volume: Vec<f64>,
    trades: Vec<i64>,
    taker_base: Vec<f64>,
    taker_quote: Vec<f64>,
}

impl RowSink for Klines {
    /// The header of trade klines, and the one of USD-M mark, index and premium-index price
    /// klines, whose unused columns are all called `ignore`.
    const HEADERS: &'static [&'static [u8]] = &[
        b"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore",
        b"open_time,open,high,low,close,ignore,close_time,ignore,ignore,ignore,ignore,ignore",
    ];

    #[inline(always)]
    fn parse_row(&mut self, b: &[u8], p: usize, t: &mut TimeState) -> Result<usize, RowError> {
        let (open_time, p) = t.field_sep(b, p, 0)?;
        let (open, p) = f64_sep(b, p, 1)?;
        let (high, p) = f64_sep(b, p, 2)?;
        let (low, p) = f64_sep(b, p, 3)?;
        let (close, p) = f64_sep(b, p, 4)?;
        let (volume, p) = f64_sep(b, p, 5)?;
        let (close_time, p) = t.field_sep(b, p, 6)?;
        let (quote_volume, p) = f64_sep(b, p, 7)?;
        let (trades, p) = count_sep(b, p, 8)?;
        let (taker_base, p) = f64_sep(b, p, 9)?;
        let (taker_quote, mut p) = f64_sep(b, p, 10)?;
        // `ignore`: any single field (Binance writes "0").
        if b.get(p) == Some(&b'0') {
            p += 1;
        }
        while !is_field_end(b.get(p)) {
            p += 1;
        }
        let p = row_end(b, p, 11)?;
        self.open_time.push(open_time);
        self.open.push(open);
        self.high.push(high);
        self.low.push(low);
        self.close.push(close);
        self.volume.push(volume);
        self.close_time.push(close_time);
        self.quote_volume.push(quote_volume);
        self.trades.push(trades);
        self.taker_base.push(taker_base);
        self.taker_quote.push(taker_quote);
        Ok(p)
    }

    fn len(&self) -> usize {
        self.open_time.len()
    }

    fn reserve_exact(&mut self, n: usize) {
        self.open_time.reserve_exact(n);
        self.open.reserve_exact(n);
        self.high.reserve_exact(n);
        self.low.reserve_exact(n);
        self.close.reserve_exact(n);
        self.volume.reserve_exact(n);
        self.close_time.reserve_exact(n);
        self.quote_volume.reserve_exact(n);
        self.trades.reserve_exact(n);
        self.taker_base.reserve_exact(n);
        self.taker_quote.reserve_exact(n);
    }

    fn capacity(&self) -> usize {
        self.open_time.capacity()
    }

    fn reserved_bytes(&self) -> usize {
        8 * (self.open_time.capacity()
            + self.open.capacity()
            + self.high.capacity()
            + self.low.capacity()
            + self.close.capacity()
            + self.volume.capacity()
            + self.close_time.capacity()
            + self.quote_volume.capacity()
            + self.trades.capacity()
            + self.taker_base.capacity()
            + self.taker_quote.capacity())
    }

    fn column_name(&self, col: usize) -> &'static str {
        NAMES.get(col).copied().unwrap_or("?")
    }

    fn column_counts(&self) -> (usize, usize) {
        (12, 12)
    }

    fn finish(self) -> Result<RecordBatch> {
        batch(
            Dataset::Klines.schema(),
            vec![
                ts_array(self.open_time),
                f64_array(self.open),
                f64_array(self.high),
                f64_array(self.low),
                f64_array(self.close),
                f64_array(self.volume),
                ts_array(self.close_time),
                f64_array(self.quote_volume),
                i64_array(self.trades),
                f64_array(self.taker_base),
                f64_array(self.taker_quote),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_bytes;
    use super::super::testutil::{fixture_files, read_csv};
    use crate::model::dataset::Dataset;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};

    fn ts(b: &arrow_array::RecordBatch, col: usize) -> Vec<i64> {
        b.column(col)
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .to_vec()
    }

    #[test]
    fn every_spot_kline_fixture_has_its_row_count() {
        let Some(files) = fixture_files("spot_klines", ".zip") else {
            return;
        };
        assert!(files.len() >= 10);
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let want = match () {
                _ if name.contains("-1m-") => 1440,
                _ if name.contains("-15m-") => 96,
                _ if name.contains("-1h-") => 24,
                _ => panic!("unexpected fixture {name}"),
            };
            let b = parse_bytes(Dataset::Klines, &name, &read_csv(&f)).unwrap();
            assert_eq!(b.num_rows(), want, "{name}");
            assert_eq!(b.schema(), Dataset::Klines.schema());
            // Continuity sanity: close_time = open_time + step - 1 unit, in µs.
            let (o, c) = (ts(&b, 0), ts(&b, 6));
            let us_file = name.contains("2026");
            let unit = if us_file { 1 } else { 1000 };
            assert!(
                o.iter()
                    .zip(&c)
                    .all(|(o, c)| (c - o + unit) % 60_000_000 == 0),
                "{name}"
            );
        }
    }

    #[test]
    fn microsecond_and_millisecond_eras() {
        let Some(files) = fixture_files("spot_klines", ".zip") else {
            return;
        };
        let get = |suffix: &str| {
            let f = files.iter().find(|f| f.ends_with(suffix)).unwrap();
            parse_bytes(Dataset::Klines, suffix, &read_csv(f)).unwrap()
        };
        let us = get("BTCUSDT-1h-2026-05-08.zip");
        assert_eq!(ts(&us, 0)[0], 1_778_198_400_000_000);
        assert_eq!(ts(&us, 6)[0] % 1_000_000, 999_999);
        assert_eq!(ts(&us, 6)[0], 1_778_201_999_999_999);
        let ms = get("BTCUSDT-1m-2020-01-01.zip");
        assert_eq!(ts(&ms, 0)[0], 1_577_836_800_000_000);
        assert_eq!(ts(&ms, 6)[0], 1_577_836_859_999_000);
        let open = ms.column(1).as_primitive::<Float64Type>();
        assert_eq!(open.value(0), 7195.24);
        assert_eq!(ms.column(8).as_primitive::<Int64Type>().value(0), 493);
        let tq = ms.column(10).as_primitive::<Float64Type>();
        assert_eq!(tq.value(0), 140888.41428273);
    }

    #[test]
    fn um_kline_csvs_with_and_without_header() {
        let Some(files) = fixture_files("um_klines", ".csv") else {
            return;
        };
        assert_eq!(files.len(), 7);
        for f in files {
            let name = f.display().to_string();
            let b = parse_bytes(Dataset::Klines, &name, &read_csv(&f)).unwrap();
            assert_eq!(b.num_rows(), 1440, "{name}");
        }
    }

    #[test]
    fn a_whole_month_of_um_klines_with_header_flip() {
        let Some(files) = fixture_files("um_klines_btcusdt_1m_2022_03", ".csv") else {
            return;
        };
        assert_eq!(files.len(), 31);
        let mut total = 0;
        for f in &files {
            let data = read_csv(f);
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let day: u32 = name[19..21].parse().unwrap();
            assert_eq!(
                data.first().is_some_and(u8::is_ascii_digit),
                day < 28,
                "{name}"
            );
            total += parse_bytes(Dataset::Klines, &name, &data)
                .unwrap()
                .num_rows();
        }
        assert_eq!(total, 44_640);
    }

    #[test]
    fn a_whole_year_of_spot_klines() {
        let Some(files) = fixture_files("spot_klines_btcusdt_1m_2023", ".zip") else {
            return;
        };
        assert_eq!(files.len(), 365);
        let total: usize = files
            .iter()
            .map(|f| {
                let name = f.display().to_string();
                parse_bytes(Dataset::Klines, &name, &read_csv(f))
                    .unwrap()
                    .num_rows()
            })
            .sum();
        assert_eq!(total, 525_520);
    }

    #[test]
    fn negative_premium_index_values_and_exponents() {
        let csv = b"1577836800000,-0.00010000,0E-8,-1.2e-05,0.0,0,1577836859999,0,0,0,0,0\n";
        let b = parse_bytes(Dataset::Klines, "premium.csv", csv).unwrap();
        let col = |i| b.column(i).as_primitive::<Float64Type>().value(0);
        assert_eq!((col(1), col(2), col(3)), (-0.0001, 0.0, -1.2e-5));
    }
}
