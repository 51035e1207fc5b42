//! Turning a failed row into the reason of an `Error::Parse`: first a column-count mismatch
//! ("expected 12 columns, found 11"), otherwise the 1-based column, its CSV name and what was
//! found there (`column 3 (high): invalid number "abc"`). Only runs on the error path.
//!
//! Guarantees: never panics on any bytes (lossy UTF-8, excerpts of at most 40 characters);
//! a line of only whitespace is reported as blank, not as an error.

use super::row::{Kind, RowError, RowSink, TimeState};

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
        Kind::Negative => format!("negative value {text} (counts and ids are never negative)"),
        Kind::NotPositive => format!("value {text} must be positive"),
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
    use super::super::klines::Klines;
    use super::*;

    fn reason(line: &[u8], e: RowError) -> String {
        let time = TimeState::default();
        match describe(&Klines::default(), &time, line, 0, e) {
            Failure::Reason(r) => r,
            Failure::Blank(_) => panic!("blank"),
        }
    }

    #[test]
    fn column_count_comes_first() {
        let e = RowError {
            col: 2,
            kind: Kind::Float,
        };
        assert_eq!(reason(b"1,2,x\n", e), "expected 12 columns, found 3");
        assert!(matches!(
            describe(&Klines::default(), &TimeState::default(), b" \t\r\nx", 0, e),
            Failure::Blank(4)
        ));
    }

    #[test]
    fn field_errors_name_the_column() {
        let line = b"1,2,abc,4,5,6,7,8,9,10,11,0\r\n";
        let e = RowError {
            col: 2,
            kind: Kind::Float,
        };
        assert_eq!(reason(line, e), "column 3 (high): invalid number \"abc\"");
        let e = RowError {
            col: 8,
            kind: Kind::Int,
        };
        assert!(reason(line, e).starts_with("column 9 (count): invalid integer \"9\""));
    }

    #[test]
    fn excerpts_are_short_and_lossy() {
        assert_eq!(excerpt(b"abc"), "\"abc\"");
        assert_eq!(excerpt(b"\xff"), "\"\u{fffd}\"");
        assert!(excerpt(&[b'9'; 1000]).chars().count() < 50);
    }
}
