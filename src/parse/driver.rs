//! The per-file driver around one row parser: splits chunks into lines (carrying a partial
//! last line over to the next chunk), recognises the optional header on the first line, skips
//! blank lines, counts physical lines for error messages and sizes the column vectors.
//!
//! Guarantees: lines are handed to the row parser whole and in order, whatever the chunking;
//! only a chunk's partial last line is copied; a row error becomes `Error::Parse` with the
//! 1-based line number; a file without data rows is an error. The first line is a header only
//! when it is exactly one that Binance writes for the dataset (docs/architecture.md, "Stages");
//! any other first line is data and must parse. Column reservations are bounded by the bytes
//! that have arrived (at most `GROW * STEP` = 64 times their rows), never by a size hint alone.

use arrow_array::RecordBatch;

use super::reason::{describe, Failure};
use super::row::{RowSink, TimeState};
use crate::error::{Error, Result};

/// Longest line buffered across chunks.
const MAX_LINE: usize = 1 << 20;

/// Reservations are made for at least `GROW` times the bytes arrived so far; with a size hint
/// they step along `hint / STEP^k`, so a streamed file regrows its columns only a few times,
/// its last regrowth happens while they are at most `1 / STEP` full, and the earlier, smaller
/// column blocks (which the allocator may keep resident) add about `1 / (STEP - 1)` of the
/// table to the peak: measured on a 473 MiB CSV, a peak of 1.10x the table against 1.06x
/// when the columns were sized from the header at once.
const GROW: usize = 2;
const STEP: usize = 32;

/// Line splitting, header recognition and line counting around one row parser.
pub(crate) struct Driver<S> {
    sink: S,
    file: String,
    time: TimeState,
    /// The partial last line of the previous chunk.
    carry: Vec<u8>,
    /// Physical lines consumed so far (header and blank lines included).
    lines: u64,
    /// Line number of the first non-blank line (the header candidate), 0 until seen.
    first_line: u64,
    /// Expected total bytes of the file (0 if unknown) and bytes handed to `run` so far.
    size_hint: usize,
    consumed: usize,
}

impl<S: RowSink + Default> Driver<S> {
    /// A driver for one file; `file` names it in errors.
    pub fn new(file: &str) -> Self {
        Driver {
            sink: S::default(),
            file: file.to_string(),
            time: TimeState::default(),
            carry: Vec::new(),
            lines: 0,
            first_line: 0,
            size_hint: 0,
            consumed: 0,
        }
    }

    /// Rows parsed so far.
    pub fn rows(&self) -> usize {
        self.sink.len()
    }

    /// Bytes reserved by the columns and the carry buffer.
    pub fn reserved_bytes(&self) -> usize {
        self.sink.reserved_bytes() + self.carry.capacity()
    }

    /// Expected total size of the file in bytes: lets the columns grow in few steps. Only a
    /// hint: reservations stay bounded by the bytes that have actually arrived.
    pub fn set_size_hint(&mut self, total_bytes: usize) {
        self.size_hint = total_bytes;
    }

    /// Parse the complete lines of `chunk`, keeping its unterminated tail for the next call.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            // Complete the carried line with the head of this chunk, parse it on its own.
            let Some(nl) = rest.iter().position(|&c| c == b'\n') else {
                return self.keep(rest);
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
                self.keep(tail)
            }
            None => self.keep(rest),
        }
    }

    /// Carry an unterminated line over to the next chunk; refuse to buffer absurdly long ones
    /// (a Binance line is under 200 bytes).
    fn keep(&mut self, part: &[u8]) -> Result<()> {
        if self.carry.len() + part.len() > MAX_LINE {
            let reason = format!("line longer than {MAX_LINE} bytes");
            return Err(Error::parse(&self.file, self.lines + 1, reason));
        }
        self.carry.extend_from_slice(part);
        Ok(())
    }

    /// Parse the carried last line, if any, and build the batch.
    pub fn finish(mut self) -> Result<RecordBatch> {
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
            if self.first_line == 0 {
                self.first_line = self.lines + 1;
                if buf.get(pos..pos + 3) == Some(&b"\xEF\xBB\xBF"[..]) {
                    pos += 3; // UTF-8 byte order mark
                }
                if is_header(S::HEADERS, buf, pos) {
                    pos = skip_line(buf, pos);
                    self.lines += 1;
                    continue;
                }
            }
            match self.sink.parse_row(buf, pos, &mut self.time) {
                Ok(next) => {
                    if reserve_pending {
                        reserve_pending = false;
                        self.grow(next - pos, buf.len() - next, buf.len());
                    }
                    pos = next;
                }
                Err(e) => match describe(&self.sink, &self.time, buf, pos, e) {
                    Failure::Blank(next) => pos = next,
                    Failure::Reason(r) => return Err(self.row_error(buf, pos, r)),
                },
            }
            self.lines += 1;
        }
        self.consumed += buf.len();
        Ok(())
    }

    /// The error for the line at `pos`; a failing first line that is not a number says that
    /// it is not one of the dataset's headers either.
    #[cold]
    fn row_error(&self, buf: &[u8], pos: usize, mut reason: String) -> Error {
        let line = self.lines + 1;
        if line == self.first_line && !buf.get(pos).is_some_and(u8::is_ascii_digit) {
            reason.push_str(" (and the first line is not a header Binance writes for this file)");
        }
        Error::parse(&self.file, line, reason)
    }

    /// Make room for the rows of the rest of this buffer (`left` bytes after a first row of
    /// `row_len` bytes). With a size hint the columns step along `hint / STEP^k` up to the
    /// hint, each step at least `GROW` and less than `STEP * GROW` times the bytes arrived;
    /// without one (or past it) they double, like a `Vec`.
    fn grow(&mut self, row_len: usize, left: usize, buf_len: usize) {
        let len = self.sink.len();
        // The file's average line length once it is known, else this row's.
        let before = len.saturating_sub(1);
        let row_len = if before >= 64 {
            self.consumed / before
        } else {
            row_len
        }
        .max(1);
        let need = len + left / row_len;
        let cap = self.sink.capacity();
        if need <= cap {
            return;
        }
        let arrived = self.consumed + buf_len;
        let target = if self.size_hint > arrived {
            let floor = arrived.saturating_mul(GROW);
            let mut bytes = self.size_hint;
            while bytes / STEP >= floor {
                bytes /= STEP;
            }
            bytes / row_len
        } else {
            cap.saturating_mul(2)
        };
        let target = target.max(need);
        self.sink.reserve_exact(target + target / 8 + 8 - len);
    }
}

/// True when the line at `pos` of `buf` is, without its line end, one of `headers`.
fn is_header(headers: &[&[u8]], buf: &[u8], pos: usize) -> bool {
    let rest = buf.get(pos..).unwrap_or(&[]);
    let mut line = &rest[..rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())];
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    headers.contains(&line)
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
mod tests {
    use super::super::funding::Funding;
    use super::super::klines::Klines;
    use super::*;

    #[test]
    fn skip_line_stops_after_the_newline_or_at_the_end() {
        assert_eq!(skip_line(b"ab\ncd", 0), 3);
        assert_eq!(skip_line(b"ab\ncd", 3), 5);
        assert_eq!(skip_line(b"ab", 5), 5);
    }

    #[test]
    fn lines_are_counted_through_headers_and_blanks() {
        let mut d = Driver::<Funding>::new("f.csv");
        d.feed(b"calc_time,funding_interval_hours,last_funding_rate\r\n\r\n17750016")
            .unwrap();
        d.feed(b"00000,8,-0.00003449\n\n1775030400000,8,x\n")
            .unwrap_err();
        assert_eq!((d.lines, d.sink.len()), (4, 1));
    }

    #[test]
    fn an_endless_line_is_refused_while_streaming() {
        let mut d = Driver::<Funding>::new("f.csv");
        d.feed(b"1775001600000,8,0.1\n").unwrap();
        let chunk = [b'7'; 65536];
        let err = (0..100).find_map(|_| d.feed(&chunk).err()).unwrap();
        assert!(matches!(err, Error::Parse { line: 2, .. }), "{err}");
    }

    /// Whatever the hint, capacity stays within `GROW * STEP` times the rows fed (plus the
    /// slack); with a true hint the columns end at the hint after a few regrowths.
    #[test]
    fn reservations_follow_the_bytes_fed_not_the_hint() {
        let row = b"1577836800000,1.0,2.0,0.5,1.5,10.0,1577836859999,15.0,7,5.0,7.5,0\n";
        let chunk = row.repeat(4000);
        let total = 100 * chunk.len();
        for hint in [0, total, 16 << 30, usize::MAX] {
            let mut d = Driver::<Klines>::new("k.csv");
            d.set_size_hint(hint);
            let (mut fed, mut caps) = (0, vec![]);
            for _ in 0..100 {
                d.feed(&chunk).unwrap();
                fed += chunk.len();
                let rows = fed / row.len();
                let cap = d.sink.capacity();
                assert!(
                    cap <= (GROW * STEP * rows) * 9 / 8 + 8,
                    "hint {hint}: {cap} for {rows}"
                );
                if caps.last() != Some(&cap) {
                    caps.push(cap);
                }
            }
            if hint == total {
                let rows = total / row.len();
                assert!(caps.len() <= 3, "{caps:?}");
                assert!(
                    (rows..rows * 6 / 5).contains(&caps[caps.len() - 1]),
                    "{caps:?}"
                );
            }
        }
    }

    #[test]
    fn header_only_and_empty_files_have_no_rows() {
        for (data, line) in [
            (&b""[..], 0),
            (b"calc_time,funding_interval_hours,last_funding_rate\n", 1),
            (b"\n\n", 2),
        ] {
            let mut d = Driver::<Funding>::new("f.csv");
            d.feed(data).unwrap();
            match d.finish() {
                Err(Error::Parse {
                    line: l, reason, ..
                }) => {
                    assert_eq!((l, reason.as_str()), (line, "no data rows"));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
