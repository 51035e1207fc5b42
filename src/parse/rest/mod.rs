//! REST JSON → Arrow: one Binance REST answer (a page of klines arrays, aggTrades, trades or
//! fundingRate objects) parsed in one pass over its bytes into a record batch with exactly the
//! archive schema of `crate::model::schema`.
//!
//! Decimal strings go through the archive parser's float code (`float::f64_quoted` → the same
//! fast path and fallbacks as `parse_f64`), so a value is bit-identical to the archive parse of
//! the same text; integers are exact; times are multiplied by the answer's unit (1000 for ms
//! answers, 1 for µs ones: `X-MBX-TIME-UNIT`) with overflow checked. Within the page the key
//! (open time, id, funding time) must be strictly increasing and, when asked, start at or
//! after `min_key` (in the answer's unit), so paging always advances.
//!
//! Guarantees: anything else — not JSON, an HTML page, `null`, an object, rows of the wrong
//! shape, non-numeric, negative ids or counts, NaN/inf, a truncated body — is a `Malformed`
//! whose reason uses the words of the Python checks it replaces; a syntax error anywhere wins
//! over a shape error (as `json.loads` would fail first). No panics; nothing is reserved from
//! what an answer claims: columns grow with the rows actually read.

mod json;
mod rows;
#[cfg(test)]
mod tests;

use arrow_array::RecordBatch;

use crate::error::Error;
use crate::model::dataset::{Dataset, Market};
use json::{kind_at, top_member, valid_document, ws};

/// A REST answer that breaks the protocol; `reason` says how (e.g. `price: not a number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub reason: String,
}

impl Malformed {
    /// As the core's error for the answer of `url`.
    pub fn into_error(self, url: &str) -> Error {
        Error::Protocol {
            url: url.to_string(),
            reason: self.reason,
        }
    }
}

/// Why parsing stopped: a syntax error (reported as such), or a well-formed value of the
/// wrong shape (reported only if the whole document is valid JSON).
#[derive(Debug)]
pub(super) enum Fail {
    Syntax(String),
    Shape(String),
    /// Said before any JSON is read (an empty body, an HTML page): reported as it is.
    Plain(String),
}

/// What a page is asked for: the answer's time unit and the first key it may hold.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// µs per time unit of the answer: 1000 (ms) or 1 (µs).
    pub unit: i64,
    /// The smallest first key allowed (in the answer's unit), if any.
    pub min_key: Option<i64>,
}

/// Parse one REST answer of `dataset` from `market` into a batch of the archive schema.
pub fn parse_page(
    dataset: Dataset,
    market: Market,
    body: &[u8],
    page: Page,
) -> Result<RecordBatch, Malformed> {
    if !matches!(page.unit, 1 | 1000) {
        return Err(Malformed {
            reason: format!("time unit must be 1 or 1000 µs, not {}", page.unit),
        });
    }
    let out = match dataset {
        Dataset::Klines => run::<rows::Klines>(body, market, page),
        Dataset::AggTrades => run::<rows::AggTrades>(body, market, page),
        Dataset::Trades => run::<rows::Trades>(body, market, page),
        Dataset::FundingRate => run::<rows::Funding>(body, market, Page { unit: 1000, ..page }),
    };
    out.map_err(|f| Malformed {
        reason: reason(body, f),
    })
}

/// The reason of a failure: a shape error only when the body is valid JSON.
#[cold]
fn reason(body: &[u8], f: Fail) -> String {
    let f = match f {
        Fail::Shape(s) => match valid_document(body) {
            Ok(()) => return s,
            Err(e) => e,
        },
        f => f,
    };
    match f {
        Fail::Syntax(s) => format!("not valid JSON ({s})"),
        Fail::Shape(s) | Fail::Plain(s) => s,
    }
}

fn run<R: rows::Rows>(b: &[u8], market: Market, page: Page) -> Result<RecordBatch, Fail> {
    let p = ws(b, 0);
    match b.get(p) {
        None => return Err(Fail::Plain("empty body".into())),
        Some(b'<') => return Err(Fail::Plain("an HTML/XML page instead of JSON".into())),
        Some(b'[') => {}
        Some(_) => return Err(not_a_list(b, p)),
    }
    if let Err(e) = std::str::from_utf8(b) {
        let at = e.valid_up_to();
        return Err(Fail::Syntax(format!("not UTF-8 at byte {at}")));
    }
    let mut sink = R::new(market, page);
    let mut q = ws(b, p + 1);
    if b.get(q) == Some(&b']') {
        q += 1;
    } else {
        loop {
            q = ws(b, sink.row(b, q)?);
            match b.get(q) {
                Some(b',') => q = ws(b, q + 1),
                Some(b']') => {
                    q += 1;
                    break;
                }
                _ => return Err(json::syntax(b, q, "expecting ',' or ']'")),
            }
        }
    }
    let q = ws(b, q);
    if q < b.len() {
        return Err(json::syntax(b, q, "extra data"));
    }
    sink.finish().map_err(|e| Fail::Shape(e.to_string()))
}

/// A body whose value is not a list: Binance's error object, or the kind of value it is.
#[cold]
fn not_a_list(b: &[u8], p: usize) -> Fail {
    if let Err(e) = valid_document(b) {
        return e;
    }
    if b[p] == b'{' {
        if let (true, _) = top_member(b, p, b"code") {
            let msg = top_member(b, p, b"msg").1;
            let shown = msg.as_deref().map_or_else(|| "None".to_string(), py_repr);
            return Fail::Shape(format!("an error object with status 200: {shown}"));
        }
    }
    Fail::Shape(format!(
        "a JSON {} instead of a list of rows",
        kind_at(b, p)
    ))
}

/// Python's `repr` of a string, as the Python checks showed a message.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
