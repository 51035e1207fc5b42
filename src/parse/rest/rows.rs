//! The four REST row shapes and their column stores: klines arrays
//! (`[open_time, "open", …, count, …]`, at least 12 fields), aggTrades objects
//! `{a,p,q,f,l,T,m,M}`, trades objects `{id,price,qty,quoteQty|baseQty,time,isBuyerMaker,
//! isBestMatch}` and fundingRate objects `{fundingTime,fundingRate,markPrice}`. Object keys
//! may come in any order, unknown keys are skipped, the last of a repeated key wins (as in
//! `json.loads`); `M`/`isBestMatch` are read on spot only (null columns on futures).
//!
//! Guarantees: a row is appended whole or not at all; columns are built by the archive
//! parser's builders (`columns`), so batches have exactly the archive schema.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::DataType;

use super::json::{self, literal, number, skip_value, string, syntax, unescape, ws, Num};
use super::{Fail, Page};
use crate::error::Result;
use crate::model::dataset::{Dataset, Market};
use crate::parse::columns::{batch, bool_array, f64_array, i64_array, null_array, ts_array, Bits};
use crate::parse::float::{f64_quoted, parse_f64};
use crate::parse::swar::digits16;

/// One dataset's rows of a REST page.
pub(super) trait Rows: Sized {
    fn new(market: Market, page: Page) -> Self;
    /// Parse the row at `p` and append it; the position after the row.
    fn row(&mut self, b: &[u8], p: usize) -> Result<usize, Fail>;
    fn finish(self) -> Result<RecordBatch>;
}

#[cold]
fn shape(s: String) -> Fail {
    Fail::Shape(s)
}

/// The key order every page must keep: strictly increasing, from `min_key` on.
#[derive(Debug)]
struct Order {
    last: Option<i64>,
    min_key: Option<i64>,
    /// Plural for "not strictly increasing" and singular for "before the … asked for".
    many: &'static str,
    one: &'static str,
}

impl Order {
    fn new(page: Page, many: &'static str, one: &'static str) -> Self {
        Order {
            last: None,
            min_key: page.min_key,
            many,
            one,
        }
    }

    #[inline(always)]
    fn next(&mut self, key: i64) -> Result<(), Fail> {
        match self.last {
            Some(last) if key <= last => {
                return Err(shape(format!("{} not strictly increasing", self.many)))
            }
            None => {
                if let Some(min) = self.min_key.filter(|&m| key < m) {
                    return Err(shape(format!(
                        "{} {key} before the {min} asked for",
                        self.one
                    )));
                }
            }
            _ => {}
        }
        self.last = Some(key);
        Ok(())
    }
}

// -- values ----------------------------------------------------------------------------------

/// A JSON integer that fits `i64`.
#[inline(always)]
fn int(b: &[u8], p: usize, what: &str) -> Result<(i64, usize), Fail> {
    if let Some((v, n, term)) = digits16(b, p) {
        if !matches!(term, b'.' | b'e' | b'E') && (n == 1 || b[p] != b'0') {
            return Ok((v as i64, p + n));
        }
    }
    int_slow(b, p, what)
}

#[inline(never)]
fn int_slow(b: &[u8], p: usize, what: &str) -> Result<(i64, usize), Fail> {
    match number(b, p)? {
        Some((Num::Int(v), q)) => Ok((v, q)),
        _ => Err(shape(format!("{what}: not all integers"))),
    }
}

/// An id or count: an integer that is not negative.
#[inline(always)]
fn count(b: &[u8], p: usize, what: &str) -> Result<(i64, usize), Fail> {
    match int(b, p, what)? {
        (v, _) if v < 0 => Err(shape(format!("{what}: negative"))),
        ok => Ok(ok),
    }
}

/// A time in the answer's unit: (µs, raw, position after).
#[inline(always)]
fn time(b: &[u8], p: usize, what: &str, unit: i64) -> Result<(i64, i64, usize), Fail> {
    let (raw, q) = count(b, p, what)?;
    match raw.checked_mul(unit) {
        Some(us) => Ok((us, raw, q)),
        None => Err(shape(format!("{what}: out of range"))),
    }
}

/// A decimal string → a finite float, parsed as the archive parser parses the same text.
#[inline(always)]
fn decimal(b: &[u8], p: usize, what: &str) -> Result<(f64, usize), Fail> {
    if b.get(p) != Some(&b'"') {
        return Err(not_string(b, p, what));
    }
    let (s, e, next, escaped) = string(b, p)?;
    if !escaped {
        if let Some(v) = f64_quoted(b, s, e) {
            return Ok((v, next));
        }
        return Err(bad_decimal(&b[s..e], what));
    }
    let text = unescape(&b[s..e]).unwrap_or_default();
    match parse_f64(&text, 0) {
        Some((v, end)) if end == text.len() => Ok((v, next)),
        _ => Err(bad_decimal(&text, what)),
    }
}

#[cold]
fn not_string(b: &[u8], p: usize, what: &str) -> Fail {
    if b.get(p) == Some(&b'n') {
        if literal(b, p, b"null").is_err() {
            return syntax(b, p, "expecting a value");
        }
        return shape(format!("{what}: missing values"));
    }
    shape(format!("{what}: not all decimal strings"))
}

#[cold]
fn bad_decimal(text: &[u8], what: &str) -> Fail {
    let parsed = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok());
    match parsed {
        Some(v) if !v.is_finite() => shape(format!("{what}: NaN or infinite value")),
        _ => shape(format!("{what}: not a number")),
    }
}

/// `true` or `false`.
#[inline(always)]
fn boolean(b: &[u8], p: usize, what: &str) -> Result<(bool, usize), Fail> {
    match b.get(p) {
        Some(b't') => literal(b, p, b"true").map(|q| (true, q)),
        Some(b'f') => literal(b, p, b"false").map(|q| (false, q)),
        Some(b'n') => {
            literal(b, p, b"null")?;
            Err(shape(format!("{what}: missing values")))
        }
        _ => Err(shape(format!("{what}: not all booleans"))),
    }
}

/// `markPrice`: a decimal string, or `""`/`null` for none.
#[inline(always)]
fn optional_decimal(b: &[u8], p: usize, what: &str) -> Result<(Option<f64>, usize), Fail> {
    if b.get(p..p + 2) == Some(b"\"\"") {
        return Ok((None, p + 2));
    }
    if b.get(p) == Some(&b'n') {
        return literal(b, p, b"null").map(|q| (None, q));
    }
    decimal(b, p, what).map(|(v, q)| (Some(v), q))
}

/// The members of the object at `p`: `value(key, position of its value)` reads or skips each
/// value and returns the position after it. A row that is not an object lacks `first`.
#[inline(always)]
fn members(
    b: &[u8],
    p: usize,
    first: &str,
    mut value: impl FnMut(&[u8], usize) -> Result<usize, Fail>,
) -> Result<usize, Fail> {
    if b.get(p) != Some(&b'{') {
        return Err(shape(format!("a row without '{first}'")));
    }
    let mut q = ws(b, p + 1);
    if b.get(q) == Some(&b'}') {
        return Ok(q + 1);
    }
    loop {
        let (ks, ke, after, escaped) = string(b, q)?;
        q = ws(b, json::expect(b, ws(b, after), b':')?);
        q = if escaped {
            match unescape(&b[ks..ke]) {
                Some(key) => value(&key, q)?,
                None => skip_value(b, q)?,
            }
        } else {
            value(&b[ks..ke], q)?
        };
        q = ws(b, q);
        match b.get(q) {
            Some(b',') => q = ws(b, q + 1),
            Some(b'}') => return Ok(q + 1),
            _ => return Err(syntax(b, q, "expecting ',' or '}'")),
        }
    }
}

/// The first of `names` whose bit is missing from `seen` (all required bits in `need`).
#[cold]
fn missing(seen: u32, need: u32, names: &[&str]) -> Fail {
    let i = (0..names.len())
        .find(|&i| need & (1 << i) != 0 && seen & (1 << i) == 0)
        .unwrap_or(0);
    shape(format!("a row without '{}'", names[i]))
}

/// Step over the `,` between array elements; a `]` there means the row is too short.
#[inline(always)]
fn next_field(b: &[u8], p: usize, short: fn() -> Fail) -> Result<usize, Fail> {
    let q = ws(b, p);
    match b.get(q) {
        Some(b',') => Ok(ws(b, q + 1)),
        Some(b']') => Err(short()),
        _ => Err(syntax(b, q, "expecting ',' or ']'")),
    }
}

// -- klines ----------------------------------------------------------------------------------

const KLINE_FIELDS: usize = 12;

#[cold]
fn short_kline() -> Fail {
    shape(format!(
        "a kline row is not a list of {KLINE_FIELDS} fields"
    ))
}

pub(super) struct Klines {
    unit: i64,
    order: Order,
    open_time: Vec<i64>,
    close_time: Vec<i64>,
    trades: Vec<i64>,
    /// open, high, low, close, volume, quote volume, taker buy base, taker buy quote.
    f: [Vec<f64>; 8],
}

const KLINE_DECIMALS: [&str; 8] = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote volume",
    "taker buy volume",
    "taker buy quote volume",
];

impl Rows for Klines {
    fn new(_: Market, page: Page) -> Self {
        Klines {
            unit: page.unit,
            order: Order::new(page, "open times", "kline open time"),
            open_time: Vec::new(),
            close_time: Vec::new(),
            trades: Vec::new(),
            f: Default::default(),
        }
    }

    #[inline(always)]
    fn row(&mut self, b: &[u8], p: usize) -> Result<usize, Fail> {
        if b.get(p) != Some(&b'[') {
            return Err(short_kline());
        }
        let mut v = [0f64; 8];
        let q = ws(b, p + 1);
        if b.get(q) == Some(&b']') {
            return Err(short_kline());
        }
        let (open, raw, q) = time(b, q, "open time", self.unit)?;
        let mut q = next_field(b, q, short_kline)?;
        for (i, slot) in v.iter_mut().enumerate().take(5) {
            let (x, r) = decimal(b, q, KLINE_DECIMALS[i])?;
            *slot = x;
            q = next_field(b, r, short_kline)?;
        }
        let (close, _, r) = time(b, q, "close time", self.unit)?;
        q = next_field(b, r, short_kline)?;
        (v[5], q) = decimal(b, q, KLINE_DECIMALS[5])?;
        q = next_field(b, q, short_kline)?;
        let (trades, r) = count(b, q, "trade count")?;
        q = next_field(b, r, short_kline)?;
        (v[6], q) = decimal(b, q, KLINE_DECIMALS[6])?;
        q = next_field(b, q, short_kline)?;
        (v[7], q) = decimal(b, q, KLINE_DECIMALS[7])?;
        // Field 12 (unused) and any later ones: present, of any kind.
        q = next_field(b, q, short_kline)?;
        loop {
            q = ws(b, skip_value(b, q)?);
            match b.get(q) {
                Some(b',') => q = ws(b, q + 1),
                Some(b']') => break,
                _ => return Err(syntax(b, q, "expecting ',' or ']'")),
            }
        }
        self.order.next(raw)?;
        self.open_time.push(open);
        self.close_time.push(close);
        self.trades.push(trades);
        for (col, x) in self.f.iter_mut().zip(v) {
            col.push(x);
        }
        Ok(q + 1)
    }

    fn finish(self) -> Result<RecordBatch> {
        let [o, h, l, c, vol, qv, tb, tq] = self.f;
        batch(
            Dataset::Klines.schema(),
            vec![
                ts_array(self.open_time),
                f64_array(o),
                f64_array(h),
                f64_array(l),
                f64_array(c),
                f64_array(vol),
                ts_array(self.close_time),
                f64_array(qv),
                i64_array(self.trades),
                f64_array(tb),
                f64_array(tq),
            ],
        )
    }
}

// -- aggTrades -------------------------------------------------------------------------------

const AGG_KEYS: [&str; 8] = ["a", "p", "q", "f", "l", "T", "m", "M"];

pub(super) struct AggTrades {
    unit: i64,
    spot: bool,
    order: Order,
    id: Vec<i64>,
    price: Vec<f64>,
    quantity: Vec<f64>,
    first_id: Vec<i64>,
    last_id: Vec<i64>,
    time: Vec<i64>,
    maker: Bits,
    best: Bits,
}

impl Rows for AggTrades {
    fn new(market: Market, page: Page) -> Self {
        AggTrades {
            unit: page.unit,
            spot: market == Market::Spot,
            order: Order::new(page, "aggregate trade ids", "id"),
            id: Vec::new(),
            price: Vec::new(),
            quantity: Vec::new(),
            first_id: Vec::new(),
            last_id: Vec::new(),
            time: Vec::new(),
            maker: Bits::default(),
            best: Bits::default(),
        }
    }

    #[inline(always)]
    fn row(&mut self, b: &[u8], p: usize) -> Result<usize, Fail> {
        let (mut id, mut price, mut qty, mut first, mut last, mut t) = (0, 0.0, 0.0, 0, 0, 0);
        let (mut maker, mut best, mut seen) = (false, false, 0u32);
        let (unit, spot) = (self.unit, self.spot);
        let q = members(b, p, "a", |key, q| {
            let (bit, r) = match key {
                b"a" => count(b, q, "aggregate trade id").map(|(v, r)| {
                    id = v;
                    (0, r)
                })?,
                b"p" => decimal(b, q, "price").map(|(v, r)| {
                    price = v;
                    (1, r)
                })?,
                b"q" => decimal(b, q, "quantity").map(|(v, r)| {
                    qty = v;
                    (2, r)
                })?,
                b"f" => count(b, q, "first trade id").map(|(v, r)| {
                    first = v;
                    (3, r)
                })?,
                b"l" => count(b, q, "last trade id").map(|(v, r)| {
                    last = v;
                    (4, r)
                })?,
                b"T" => time(b, q, "time", unit).map(|(v, _, r)| {
                    t = v;
                    (5, r)
                })?,
                b"m" => boolean(b, q, "is buyer maker").map(|(v, r)| {
                    maker = v;
                    (6, r)
                })?,
                b"M" if spot => boolean(b, q, "is best match").map(|(v, r)| {
                    best = v;
                    (7, r)
                })?,
                _ => return skip_value(b, q),
            };
            seen |= 1 << bit;
            Ok(r)
        })?;
        let need = if spot { 0xff } else { 0x7f };
        if seen & need != need {
            return Err(missing(seen, need, &AGG_KEYS));
        }
        self.order.next(id)?;
        self.id.push(id);
        self.price.push(price);
        self.quantity.push(qty);
        self.first_id.push(first);
        self.last_id.push(last);
        self.time.push(t);
        self.maker.push(maker);
        if spot {
            self.best.push(best);
        }
        Ok(q)
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.id.len();
        let best = if self.spot {
            bool_array(self.best)
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
                bool_array(self.maker),
                best,
            ],
        )
    }
}

// -- trades ----------------------------------------------------------------------------------

pub(super) struct Trades {
    unit: i64,
    spot: bool,
    /// `quoteQty`, or `baseQty` on COIN-M.
    third: &'static str,
    order: Order,
    id: Vec<i64>,
    price: Vec<f64>,
    quantity: Vec<f64>,
    quote: Vec<f64>,
    time: Vec<i64>,
    maker: Bits,
    best: Bits,
}

impl Rows for Trades {
    fn new(market: Market, page: Page) -> Self {
        Trades {
            unit: page.unit,
            spot: market == Market::Spot,
            third: if market == Market::Cm {
                "baseQty"
            } else {
                "quoteQty"
            },
            order: Order::new(page, "trade ids", "id"),
            id: Vec::new(),
            price: Vec::new(),
            quantity: Vec::new(),
            quote: Vec::new(),
            time: Vec::new(),
            maker: Bits::default(),
            best: Bits::default(),
        }
    }

    #[inline(always)]
    fn row(&mut self, b: &[u8], p: usize) -> Result<usize, Fail> {
        let (mut id, mut price, mut qty, mut quote, mut t) = (0, 0.0, 0.0, 0.0, 0);
        let (mut maker, mut best, mut seen) = (false, false, 0u32);
        let (unit, spot, third) = (self.unit, self.spot, self.third);
        let q = members(b, p, "id", |key, q| {
            let (bit, r) = match key {
                b"id" => count(b, q, "trade id").map(|(v, r)| {
                    id = v;
                    (0, r)
                })?,
                b"price" => decimal(b, q, "price").map(|(v, r)| {
                    price = v;
                    (1, r)
                })?,
                b"qty" => decimal(b, q, "quantity").map(|(v, r)| {
                    qty = v;
                    (2, r)
                })?,
                k if k == third.as_bytes() => decimal(b, q, third).map(|(v, r)| {
                    quote = v;
                    (3, r)
                })?,
                b"time" => time(b, q, "time", unit).map(|(v, _, r)| {
                    t = v;
                    (4, r)
                })?,
                b"isBuyerMaker" => boolean(b, q, "is buyer maker").map(|(v, r)| {
                    maker = v;
                    (5, r)
                })?,
                b"isBestMatch" if spot => boolean(b, q, "is best match").map(|(v, r)| {
                    best = v;
                    (6, r)
                })?,
                _ => return skip_value(b, q),
            };
            seen |= 1 << bit;
            Ok(r)
        })?;
        let need = if spot { 0x7f } else { 0x3f };
        if seen & need != need {
            let names = [
                "id",
                "price",
                "qty",
                third,
                "time",
                "isBuyerMaker",
                "isBestMatch",
            ];
            return Err(missing(seen, need, &names));
        }
        self.order.next(id)?;
        self.id.push(id);
        self.price.push(price);
        self.quantity.push(qty);
        self.quote.push(quote);
        self.time.push(t);
        self.maker.push(maker);
        if spot {
            self.best.push(best);
        }
        Ok(q)
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.id.len();
        let best = if self.spot {
            bool_array(self.best)
        } else {
            null_array(&DataType::Boolean, n)
        };
        batch(
            Dataset::Trades.schema(),
            vec![
                i64_array(self.id),
                f64_array(self.price),
                f64_array(self.quantity),
                f64_array(self.quote),
                ts_array(self.time),
                bool_array(self.maker),
                best,
            ],
        )
    }
}

// -- fundingRate -----------------------------------------------------------------------------

const FUNDING_KEYS: [&str; 3] = ["fundingTime", "fundingRate", "markPrice"];

pub(super) struct Funding {
    order: Order,
    time: Vec<i64>,
    rate: Vec<f64>,
    mark: Vec<f64>,
    /// Validity of `mark` (false: no mark price in the answer).
    has_mark: Bits,
}

impl Rows for Funding {
    fn new(_: Market, page: Page) -> Self {
        Funding {
            order: Order::new(page, "funding times", "funding time"),
            time: Vec::new(),
            rate: Vec::new(),
            mark: Vec::new(),
            has_mark: Bits::default(),
        }
    }

    #[inline(always)]
    fn row(&mut self, b: &[u8], p: usize) -> Result<usize, Fail> {
        let (mut t, mut raw, mut rate, mut mark, mut seen) = (0, 0, 0.0, None, 0u32);
        let q = members(b, p, "fundingTime", |key, q| {
            let (bit, r) = match key {
                b"fundingTime" => time(b, q, "funding time", 1000).map(|(v, w, r)| {
                    (t, raw) = (v, w);
                    (0, r)
                })?,
                b"fundingRate" => decimal(b, q, "funding rate").map(|(v, r)| {
                    rate = v;
                    (1, r)
                })?,
                b"markPrice" => optional_decimal(b, q, "mark price").map(|(v, r)| {
                    mark = v;
                    (2, r)
                })?,
                _ => return skip_value(b, q),
            };
            seen |= 1 << bit;
            Ok(r)
        })?;
        if seen != 0b111 {
            return Err(missing(seen, 0b111, &FUNDING_KEYS));
        }
        self.order.next(raw)?;
        self.time.push(t);
        self.rate.push(rate);
        self.mark.push(mark.unwrap_or(0.0));
        self.has_mark.push(mark.is_some());
        Ok(q)
    }

    fn finish(self) -> Result<RecordBatch> {
        let n = self.time.len();
        let valid = NullBuffer::new(self.has_mark.finish());
        let mark: ArrayRef = Arc::new(Float64Array::new(
            ScalarBuffer::from(self.mark),
            (valid.null_count() > 0).then_some(valid),
        ));
        batch(
            Dataset::FundingRate.schema(),
            vec![
                ts_array(self.time),
                null_array(&DataType::Int64, n),
                f64_array(self.rate),
                mark,
            ],
        )
    }
}
