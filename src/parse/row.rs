//! What every per-dataset row parser shares: the `RowSink` trait the driver calls once per
//! line, the compact `RowError` the hot path returns, per-file time-unit detection, the
//! separator/terminator helpers, and the (cold) code that turns a `RowError` into a readable
//! reason naming the column and the text found.
//!
//! Guarantees: a sink either appends a whole row or nothing; time fields are converted to
//! microseconds exactly and a file never mixes units; error descriptions never panic on any
//! bytes (lossy UTF-8, truncated to a short excerpt).

use arrow_array::RecordBatch;

use super::number::{parse_bool, parse_f64, parse_i64, parse_time_digits};
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
    /// Make room for `additional` more rows.
    fn reserve(&mut self, additional: usize);
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
    #[inline(always)]
    pub fn field(&mut self, buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
        let Some((raw, digits, end)) = parse_time_digits(buf, pos) else {
            return Err(err(col, Kind::Time));
        };
        if digits != self.digits {
            self.first_or_mismatch(digits, col)?;
        }
        Ok((raw * self.scale, end))
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

/// A float field followed by `,`.
#[inline(always)]
pub(crate) fn f64_sep(buf: &[u8], pos: usize, col: u8) -> Result<(f64, usize), RowError> {
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

/// An integer field followed by `,`.
#[inline(always)]
pub(crate) fn i64_sep(buf: &[u8], pos: usize, col: u8) -> Result<(i64, usize), RowError> {
    match parse_i64(buf, pos) {
        Some((v, end)) => Ok((v, comma(buf, end, col)?)),
        None => Err(err(col, Kind::Int)),
    }
}

/// A boolean field (not followed by a separator).
#[inline(always)]
pub(crate) fn bool_at(buf: &[u8], pos: usize, col: u8) -> Result<(bool, usize), RowError> {
    parse_bool(buf, pos).ok_or(err(col, Kind::Bool))
}

/// Result of examining a line that failed to parse.
pub(crate) enum Failure {
    /// The line is only whitespace: treat it as blank and continue at this position.
    Blank(usize),
    /// A real error, with the reason text.
    Reason(String),
}

/// Explain why the line starting at `pos` failed with `e`: a column-count mismatch first,
/// otherwise the column, its name and an excerpt of the text found.
#[cold]
#[inline(never)]
pub(crate) fn describe<S: RowSink>(
    sink: &S,
    time: &TimeState,
    buf: &[u8],
    pos: usize,
    e: RowError,
) -> Failure {
    let rest = buf.get(pos..).unwrap_or(&[]);
    let nl = rest.iter().position(|&c| c == b'\n');
    let mut line = nl.map_or(rest, |i| &rest[..i]);
    if line.iter().all(|c| c.is_ascii_whitespace()) {
        return Failure::Blank(pos + nl.map_or(rest.len(), |i| i + 1));
    }
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    let found = line.iter().filter(|&&c| c == b',').count() + 1;
    let (min, max) = sink.column_counts();
    if found < min || found > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("{min} or {max}")
        };
        return Failure::Reason(format!("expected {expected} columns, found {found}"));
    }
    let col = e.col as usize;
    let field = line.split(|&c| c == b',').nth(col).unwrap_or(&[]);
    let text = excerpt(field);
    let what = match e.kind {
        Kind::Float => format!("invalid number {text}"),
        Kind::Int => format!("invalid integer {text} (digits only, must fit in 64 bits)"),
        Kind::Bool => format!("invalid boolean {text} (expected True/False or true/false)"),
        Kind::Time => format!("invalid timestamp {text} (expected 1 to 18 digits)"),
        Kind::TimeUnit => format!(
            "timestamp {text} has {} digits but this file's first timestamp has {} ({}); \
             a file never mixes time units",
            field.len(),
            time.digits,
            time.unit_name()
        ),
        Kind::Columns | Kind::Value => format!("unexpected value {text}"),
    };
    Failure::Reason(format!(
        "column {} ({}): {what}",
        col + 1,
        sink.column_name(col)
    ))
}

/// The field as a quoted, lossily decoded excerpt of at most 40 characters.
fn excerpt(field: &[u8]) -> String {
    let s = String::from_utf8_lossy(field);
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(40).collect();
        format!("{cut:?}…")
    } else {
        format!("{s:?}")
    }
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

    #[test]
    fn excerpts_are_short_and_lossy() {
        assert_eq!(excerpt(b"abc"), "\"abc\"");
        assert_eq!(excerpt(b"\xff"), "\"\u{fffd}\"");
        assert!(excerpt(&[b'9'; 1000]).chars().count() < 50);
    }
}
