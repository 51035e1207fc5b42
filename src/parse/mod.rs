//! CSV → Arrow for Binance Vision files: a specialised, incremental, byte-level parser.
//!
//! `CsvParser` takes a file's bytes in chunks split anywhere, finds complete lines, sniffs an
//! optional header on the first line, hands each line to the dataset's row parser (`klines`,
//! `agg_trades`, `trades`, `funding`) and finally builds one `RecordBatch` with exactly
//! `dataset.schema()`.
//!
//! Guarantees: no panics on any input; errors are `Error::Parse` with the 1-based physical line
//! number and a reason naming the column and the text found; LF or CRLF endings, a final line
//! with or without newline; blank lines are skipped; a file with no data rows is an error.
//! Only the partial last line of a chunk is copied (into a small carry buffer).

mod agg_trades;
mod columns;
mod funding;
mod klines;
mod number;
mod row;
mod swar;
#[cfg(test)]
pub(crate) mod testutil;
mod trades;

use arrow_array::RecordBatch;

use crate::error::{Error, Result};
use crate::schema::Dataset;
use row::{describe, Failure, RowSink, TimeState};

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

    /// Rows parsed so far.
    pub fn rows(&self) -> usize {
        each!(&self.inner, d => d.sink.len())
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

/// Line splitting, header sniffing and line counting around one row parser.
struct Driver<S> {
    sink: S,
    file: String,
    time: TimeState,
    /// The partial last line of the previous chunk.
    carry: Vec<u8>,
    /// Physical lines consumed so far (header and blank lines included).
    lines: u64,
    /// Whether the first non-blank line (the header candidate) has been seen.
    started: bool,
}

impl<S: RowSink + Default> Driver<S> {
    fn new(file: &str) -> Self {
        Driver {
            sink: S::default(),
            file: file.to_string(),
            time: TimeState::default(),
            carry: Vec::new(),
            lines: 0,
            started: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            // Complete the carried line with the head of this chunk, parse it on its own.
            let Some(nl) = rest.iter().position(|&c| c == b'\n') else {
                self.carry.extend_from_slice(rest);
                return Ok(());
            };
            let (head, tail) = rest.split_at(nl + 1);
            self.carry.extend_from_slice(head);
            let line = std::mem::take(&mut self.carry);
            let res = self.run(&line);
            self.carry = line;
            self.carry.clear();
            res?;
            rest = tail;
        }
        match rest.iter().rposition(|&c| c == b'\n') {
            Some(nl) => {
                let (body, tail) = rest.split_at(nl + 1);
                self.run(body)?;
                self.carry.extend_from_slice(tail);
            }
            None => self.carry.extend_from_slice(rest),
        }
        Ok(())
    }

    fn finish(mut self) -> Result<RecordBatch> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.run(&line)?;
        }
        if self.sink.len() == 0 {
            return Err(Error::parse(&self.file, self.lines, "no data rows"));
        }
        self.sink.finish()
    }

    /// Parse every line of `buf`, whose lines are all complete except possibly a final
    /// unterminated one at the end of the file.
    fn run(&mut self, buf: &[u8]) -> Result<()> {
        let mut pos = 0;
        let mut reserve_pending = true;
        while let Some(&first) = buf.get(pos) {
            if first == b'\n' || (first == b'\r' && matches!(buf.get(pos + 1), None | Some(b'\n')))
            {
                pos = skip_line(buf, pos);
                self.lines += 1;
                continue;
            }
            if !self.started {
                self.started = true;
                if buf.get(pos..pos + 3) == Some(&b"\xEF\xBB\xBF"[..]) {
                    pos += 3; // UTF-8 byte order mark
                }
                if !buf.get(pos).is_some_and(u8::is_ascii_digit) {
                    pos = skip_line(buf, pos); // header
                    self.lines += 1;
                    continue;
                }
            }
            match self.sink.parse_row(buf, pos, &mut self.time) {
                Ok(next) => {
                    if reserve_pending {
                        reserve_pending = false;
                        // Size the columns from this row's length: one allocation per chunk.
                        let row_len = (next - pos).max(1);
                        let est = (buf.len() - next) / row_len;
                        self.sink.reserve(est + est / 8 + 8);
                    }
                    pos = next;
                }
                Err(e) => match describe(&self.sink, &self.time, buf, pos, e) {
                    Failure::Blank(next) => pos = next,
                    Failure::Reason(r) => return Err(Error::parse(&self.file, self.lines + 1, r)),
                },
            }
            self.lines += 1;
        }
        Ok(())
    }
}

/// Position just past the `\n` ending the line at `pos` (or the end of `buf`).
fn skip_line(buf: &[u8], pos: usize) -> usize {
    let rest = buf.get(pos..).unwrap_or(&[]);
    pos + rest
        .iter()
        .position(|&c| c == b'\n')
        .map_or(rest.len(), |i| i + 1)
}

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
