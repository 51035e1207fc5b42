//! CSV → Arrow for Binance Vision files: a specialised, incremental, byte-level parser.
//!
//! `CsvParser` takes a file's bytes in chunks split anywhere, finds complete lines, skips the
//! first line when it is one of the headers Binance writes for the dataset, hands each line to the dataset's row parser (`klines`,
//! `agg_trades`, `trades`, `funding`) and finally builds one `RecordBatch` with exactly
//! `dataset.schema()`.
//!
//! Guarantees: no panics on any input; errors are `Error::Parse` with the 1-based physical line
//! number and a reason naming the column and the text found; LF or CRLF endings, a final line
//! with or without newline; blank lines are skipped; a file with no data rows is an error;
//! negative counts and ids, non-positive funding intervals and non-finite numbers are errors;
//! memory reserved is bounded by the bytes fed (see `driver`), never by a size hint alone.
//! Only the partial last line of a chunk is copied (into a small carry buffer).

mod agg_trades;
mod columns;
mod driver;
mod float;
mod funding;
mod klines;
mod number;
mod reason;
pub mod rest;
mod row;
mod swar;
#[cfg(test)]
pub(crate) mod testutil;
mod trades;

use arrow_array::RecordBatch;

use crate::error::Result;
use crate::model::dataset::Dataset;
use driver::Driver;

/// Incremental CSV → Arrow parser for one file.
pub struct CsvParser {
    inner: Inner,
}

/// One driver per dataset, so the per-line loop is monomorphised for each row parser.
enum Inner {
    Klines(Driver<klines::Klines>),
    AggTrades(Driver<agg_trades::AggTrades>),
    Trades(Driver<trades::Trades>),
    Funding(Driver<funding::Funding>),
}

macro_rules! each {
    ($inner:expr, $d:ident => $e:expr) => {
        match $inner {
            Inner::Klines($d) => $e,
            Inner::AggTrades($d) => $e,
            Inner::Trades($d) => $e,
            Inner::Funding($d) => $e,
        }
    };
}

impl CsvParser {
    /// A parser for one file of `dataset`; `file_name` is used in error messages only.
    pub fn new(dataset: Dataset, file_name: &str) -> Self {
        let inner = match dataset {
            Dataset::Klines => Inner::Klines(Driver::new(file_name)),
            Dataset::AggTrades => Inner::AggTrades(Driver::new(file_name)),
            Dataset::Trades => Inner::Trades(Driver::new(file_name)),
            Dataset::FundingRate => Inner::Funding(Driver::new(file_name)),
        };
        CsvParser { inner }
    }

    /// Parse the complete lines of the next chunk; the chunk may end anywhere, even inside a
    /// number or between `\r` and `\n`. After an error the parser must be dropped.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        each!(&mut self.inner, d => d.feed(chunk))
    }

    /// Optional: the file's total size in bytes (e.g. the uncompressed size in the zip's local
    /// header), so that streamed columns grow in a few steps toward it and their last regrowth
    /// happens while they are at most 1/32 full. Only a hint: a forged size costs nothing,
    /// since reservations stay bounded by the bytes that have actually been fed.
    pub fn size_hint(&mut self, total_bytes: usize) {
        each!(&mut self.inner, d => d.set_size_hint(total_bytes));
    }

    /// Bytes reserved so far by the columns and the line carry buffer.
    pub fn reserved_bytes(&self) -> usize {
        each!(&self.inner, d => d.reserved_bytes())
    }

    /// Rows parsed so far.
    pub fn rows(&self) -> usize {
        each!(&self.inner, d => d.rows())
    }

    /// Parse the unterminated last line, if any, and build the batch.
    pub fn finish(self) -> Result<RecordBatch> {
        each!(self.inner, d => d.finish())
    }
}

/// Parse a whole file held in memory.
pub fn parse_bytes(dataset: Dataset, file_name: &str, data: &[u8]) -> Result<RecordBatch> {
    let mut p = CsvParser::new(dataset, file_name);
    p.feed(data)?;
    p.finish()
}

#[cfg(test)]
mod domain_tests;
#[cfg(test)]
mod robustness;

#[cfg(test)]
mod tests {
    use super::testutil::{fixture_files, read_csv};
    use super::*;

    fn chunked(dataset: Dataset, data: &[u8], size: usize) -> RecordBatch {
        let mut p = CsvParser::new(dataset, "chunked.csv");
        for c in data.chunks(size) {
            p.feed(c).unwrap();
        }
        p.finish().unwrap()
    }

    fn fixtures() -> Option<Vec<(Dataset, Vec<u8>)>> {
        let pick = |dir: &str, suffix: &str| {
            let files = fixture_files(dir, suffix)?;
            Some(read_csv(files.first()?))
        };
        Some(vec![
            (
                Dataset::Klines,
                pick("um_klines", "BTCUSDT-1m-2022-01-01.csv")?,
            ),
            (
                Dataset::Klines,
                pick("spot_klines", "BTCUSDT-1h-2026-05-08.zip")?,
            ),
            (Dataset::AggTrades, pick("spot_aggTrades", ".csv")?),
            (Dataset::FundingRate, pick("um_fundingRate", ".zip")?),
        ])
    }

    #[test]
    fn chunks_of_any_size_give_the_same_batch() {
        let Some(files) = fixtures() else { return };
        for (dataset, data) in files {
            let whole = parse_bytes(dataset, "whole.csv", &data).unwrap();
            for size in [1, 7, 4096] {
                assert_eq!(
                    chunked(dataset, &data, size),
                    whole,
                    "{dataset:?} chunk {size}"
                );
            }
        }
    }

    #[test]
    fn crlf_and_missing_final_newline_give_the_same_batch() {
        let Some(files) = fixtures() else { return };
        for (dataset, data) in files {
            let whole = parse_bytes(dataset, "lf.csv", &data).unwrap();
            let mut crlf = Vec::new();
            for &c in &data {
                if c == b'\n' {
                    crlf.push(b'\r');
                }
                crlf.push(c);
            }
            assert_eq!(parse_bytes(dataset, "crlf.csv", &crlf).unwrap(), whole);
            for size in [1, 7, 4096] {
                assert_eq!(chunked(dataset, &crlf, size), whole, "crlf chunk {size}");
            }
            let trimmed = data.strip_suffix(b"\n").unwrap_or(&data);
            assert_eq!(parse_bytes(dataset, "nofinal.csv", trimmed).unwrap(), whole);
            let mut blank_tail = data.clone();
            blank_tail.extend_from_slice(b"\n\r\n\n");
            assert_eq!(
                parse_bytes(dataset, "blank.csv", &blank_tail).unwrap(),
                whole
            );
        }
    }

    #[test]
    fn size_hint_changes_nothing_but_allocation() {
        let Some(files) = fixtures() else { return };
        for (dataset, data) in files {
            let whole = parse_bytes(dataset, "whole.csv", &data).unwrap();
            for hint in [0, 10, data.len(), usize::MAX] {
                let mut p = CsvParser::new(dataset, "hinted.csv");
                p.size_hint(hint);
                for c in data.chunks(1000) {
                    p.feed(c).unwrap();
                }
                assert_eq!(p.finish().unwrap(), whole);
            }
        }
    }

    #[test]
    fn rows_counts_while_feeding() {
        let csv = b"1577836800000,8,-0.00003449\n1577865600000,8,0.0001\n1577894400000,8,0";
        let mut p = CsvParser::new(Dataset::FundingRate, "f.csv");
        p.feed(&csv[..30]).unwrap();
        assert_eq!(p.rows(), 1);
        p.feed(&csv[30..]).unwrap();
        assert_eq!(p.rows(), 2);
        assert_eq!(p.finish().unwrap().num_rows(), 3);
    }
}
