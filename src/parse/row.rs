//! What every per-dataset row parser shares: the `RowSink` trait the driver calls once per
//! line, the compact `RowError` the hot path returns, per-file time-unit detection, and the
//! field/separator/terminator helpers (`reason` turns a `RowError` into readable text).
//!
//! Guarantees: a sink either appends a whole row or nothing; time fields are converted to
//! microseconds exactly and a file never mixes units.

use arrow_array::RecordBatch;

use super::float::{f64_comma, parse_f64};
use super::number::{digits_comma, parse_bool, parse_i64, parse_time_digits};
use crate::error::Result;

/// What went wrong in a field, without the text (the cold path recovers that from the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A separator or the line end was not where the column count says it should be.
    Columns,
    Float,
    Int,
    Bool,
    Time,
    /// A time field whose digit count differs from the file's first time field.
    TimeUnit,
    /// Anything else, e.g. a stray `\r` inside the line.
    Value,
    /// A negative count or id.
    Negative,
    /// Zero or negative where only a positive value makes sense (funding interval hours).
    NotPositive,
}

/// A failed row: the 0-based CSV column and what was wrong. Cheap to return on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowError {
    pub col: u8,
    pub kind: Kind,
}

/// Shorthand to build a `RowError`.
#[inline(always)]
pub(crate) fn err(col: u8, kind: Kind) -> RowError {
    RowError { col, kind }
}

/// One dataset's row parser and column store.
pub(crate) trait RowSink {
    /// The header lines Binance writes for this dataset (any market); a first line equal to
    /// one of them is skipped, any other first line is data.
    const HEADERS: &'static [&'static [u8]];
    /// Parse one row starting at `pos` (the first byte of a non-blank line) and append it.
    /// Returns the start of the next line. On error nothing is appended.
    fn parse_row(
        &mut self,
        buf: &[u8],
        pos: usize,
        time: &mut TimeState,
    ) -> Result<usize, RowError>;
    /// Rows appended so far.
    fn len(&self) -> usize;
    /// Make room for exactly `additional` more rows.
    fn reserve_exact(&mut self, additional: usize);
    /// Rows the columns can hold without reallocating.
    fn capacity(&self) -> usize;
    /// Bytes reserved by the columns.
    fn reserved_bytes(&self) -> usize;
    /// CSV name of 0-based column `col`, for error messages.
    fn column_name(&self, col: usize) -> &'static str;
    /// Allowed column counts `(min, max)`; they differ only until the first row fixes the
    /// file's layout (aggTrades 7|8, trades 6|7).
    fn column_counts(&self) -> (usize, usize);
    /// Build the record batch with exactly the dataset's schema.
    fn finish(self) -> Result<RecordBatch>;
}

/// Per-file time unit: decided by the digit count of the first time field (≥ 15 digits is
/// microseconds, otherwise milliseconds); every later time field must have the same count.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimeState {
    /// Digit count of the file's time fields, 0 until the first one is seen.
    pub digits: u32,
    /// Multiplier to microseconds: 1000 for ms files, 1 for µs files.
    scale: i64,
}

impl TimeState {
    /// Parse a time field at `pos` (column `col`), returning µs and the field end.
    pub fn field(&mut self, buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
        let Some((raw, digits, end)) = parse_time_digits(buf, pos) else {
            return Err(err(col, Kind::Time));
        };
        if digits != self.digits {
            self.first_or_mismatch(digits, col)?;
        }
        Ok((raw * self.scale, end))
    }

    /// A time field followed by `,`: µs and the position after the comma.
    #[inline(always)]
    pub fn field_sep(&mut self, buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
        match digits_comma(buf, pos) {
            // At most 16 digits: fits i64; a 13-digit ms value times 1000 too.
            Some((raw, digits, next)) if digits == self.digits => {
                Ok((raw as i64 * self.scale, next))
            }
            _ => self.field_sep_slow(buf, pos, col),
        }
    }

    #[inline(never)]
    fn field_sep_slow(
        &mut self,
        buf: &[u8],
        pos: usize,
        col: u8,
    ) -> Result<(i64, usize), RowError> {
        let (v, end) = self.field(buf, pos, col)?;
        Ok((v, comma(buf, end, col)?))
    }

    #[cold]
    #[inline(never)]
    fn first_or_mismatch(&mut self, digits: u32, col: u8) -> Result<(), RowError> {
        if self.digits != 0 {
            return Err(err(col, Kind::TimeUnit));
        }
        self.digits = digits;
        self.scale = if digits >= 15 { 1 } else { 1000 };
        Ok(())
    }

    /// Human name of the file's unit, for messages.
    pub fn unit_name(&self) -> &'static str {
        if self.digits >= 15 {
            "microseconds"
        } else {
            "milliseconds"
        }
    }
}

/// Expect a `,` at `pos` and step over it.
#[inline(always)]
pub(crate) fn comma(buf: &[u8], pos: usize, col: u8) -> Result<usize, RowError> {
    if buf.get(pos) == Some(&b',') {
        Ok(pos + 1)
    } else {
        Err(err(col, Kind::Columns))
    }
}

/// Expect the end of the row at `pos` (`\n`, `\r\n`, or the end of the buffer, also after a
/// lone final `\r`) and return the start of the next line.
#[inline(always)]
pub(crate) fn row_end(buf: &[u8], pos: usize, col: u8) -> Result<usize, RowError> {
    match buf.get(pos) {
        Some(b'\n') => Ok(pos + 1),
        None => Ok(pos),
        Some(b'\r') => match buf.get(pos + 1) {
            Some(b'\n') => Ok(pos + 2),
            None => Ok(pos + 1),
            Some(_) => Err(err(col, Kind::Value)),
        },
        Some(b',') => Err(err(col, Kind::Columns)),
        Some(_) => Err(err(col, Kind::Value)),
    }
}

/// A float field followed by `,`: the value and the position after the comma.
#[inline(always)]
pub(crate) fn f64_sep(buf: &[u8], pos: usize, col: u8) -> Result<(f64, usize), RowError> {
    match f64_comma(buf, pos) {
        Some(r) => Ok(r),
        None => f64_sep_slow(buf, pos, col),
    }
}

#[inline(never)]
fn f64_sep_slow(buf: &[u8], pos: usize, col: u8) -> Result<(f64, usize), RowError> {
    match parse_f64(buf, pos) {
        Some((v, end)) => Ok((v, comma(buf, end, col)?)),
        None => Err(err(col, Kind::Float)),
    }
}

/// A float field (not followed by a separator).
#[inline(always)]
pub(crate) fn f64_at(buf: &[u8], pos: usize, col: u8) -> Result<(f64, usize), RowError> {
    parse_f64(buf, pos).ok_or(err(col, Kind::Float))
}

/// An integer field followed by `,`: the value and the position after the comma.
#[inline(always)]
pub(crate) fn i64_sep(buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
    match digits_comma(buf, pos) {
        // At most 16 digits: fits i64.
        Some((v, _, next)) => Ok((v as i64, next)),
        None => i64_sep_slow(buf, pos, col),
    }
}

#[inline(never)]
fn i64_sep_slow(buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
    match parse_i64(buf, pos) {
        Some((v, end)) => Ok((v, comma(buf, end, col)?)),
        None => Err(err(col, Kind::Int)),
    }
}

/// A count or id followed by `,`: an integer that must not be negative.
#[inline(always)]
pub(crate) fn count_sep(buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
    match digits_comma(buf, pos) {
        // Digits only, at most 16: fits i64 and is not negative.
        Some((v, _, next)) => Ok((v as i64, next)),
        None => match i64_sep_slow(buf, pos, col)? {
            (v, _) if v < 0 => Err(err(col, Kind::Negative)),
            ok => Ok(ok),
        },
    }
}

/// A boolean field (not followed by a separator).
#[inline(always)]
pub(crate) fn bool_at(buf: &[u8], pos: usize, col: u8) -> Result<(bool, usize), RowError> {
    parse_bool(buf, pos).ok_or(err(col, Kind::Bool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_unit_is_decided_once() {
        let mut t = TimeState::default();
        assert_eq!(
            t.field(b"1577836800000,", 0, 0),
            Ok((1_577_836_800_000_000, 13))
        );
        assert_eq!(t.unit_name(), "milliseconds");
        assert_eq!(
            t.field(b"1577836859999", 0, 6),
            Ok((1_577_836_859_999_000, 13))
        );
        assert_eq!(
            t.field(b"1778198400000000", 0, 6),
            Err(err(6, Kind::TimeUnit))
        );
        let mut us = TimeState::default();
        assert_eq!(
            us.field(b"1778201999999999\n", 0, 0),
            Ok((1_778_201_999_999_999, 16))
        );
        assert_eq!(
            us.field(b"1778198400000", 0, 0),
            Err(err(0, Kind::TimeUnit))
        );
        assert_eq!(us.field(b"17781984x", 0, 3), Err(err(3, Kind::Time)));
    }

    #[test]
    fn row_ends() {
        assert_eq!(row_end(b"\nx", 0, 0), Ok(1));
        assert_eq!(row_end(b"\r\nx", 0, 0), Ok(2));
        assert_eq!(row_end(b"\r", 0, 0), Ok(1));
        assert_eq!(row_end(b"", 0, 0), Ok(0));
        assert_eq!(row_end(b",", 0, 2), Err(err(2, Kind::Columns)));
        assert_eq!(row_end(b"\rx", 0, 2), Err(err(2, Kind::Value)));
        assert_eq!(comma(b"1", 0, 1), Err(err(1, Kind::Columns)));
    }
}
