//! The oracle's own reader of the simulator's row text: split on `,`, `str::parse::<i64>` and
//! `str::parse::<f64>`, booleans spelt `True`/`False` (spot) or `true`/`false` (futures),
//! times multiplied exactly by their unit. It shares no code with `crate::parse` on purpose:
//! ckv's parser is then checked against an independent reading of the same text.
//!
//! Guarantees: a row with too few or too many fields, a non-number, a non-finite float or a
//! time that overflows µs is an `Error::Parse` naming the line, never a panic.

use crate::error::{Error, Result};

use super::Rows;

struct Fields<'a> {
    it: std::str::Split<'a, char>,
    line: &'a str,
    n: usize,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str) -> Self {
        Fields {
            it: line.split(','),
            line,
            n: 0,
        }
    }

    fn err(&self, reason: impl std::fmt::Display) -> Error {
        Error::parse("truth", 0, format!("{reason} in row {:?}", self.line))
    }

    fn next(&mut self) -> Result<&'a str> {
        self.n += 1;
        match self.it.next() {
            Some(f) => Ok(f),
            None => Err(self.err(format!("missing field {}", self.n))),
        }
    }

    fn int(&mut self) -> Result<i64> {
        let f = self.next()?;
        f.parse::<i64>()
            .map_err(|_| self.err(format!("field {} ({f:?}) is not an integer", self.n)))
    }

    fn float(&mut self) -> Result<f64> {
        let f = self.next()?;
        match f.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.err(format!("field {} ({f:?}) is not a number", self.n))),
        }
    }

    /// A time in `unit` µs (1 or 1000), as µs.
    fn time(&mut self, unit: i64) -> Result<i64> {
        let t = self.int()?;
        t.checked_mul(unit)
            .ok_or_else(|| self.err(format!("time {t} overflows µs")))
    }

    fn flag(&mut self) -> Result<bool> {
        match self.next()? {
            "True" | "true" => Ok(true),
            "False" | "false" => Ok(false),
            f => Err(self.err(format!("field {} ({f:?}) is not a boolean", self.n))),
        }
    }

    /// A trailing boolean that only some markets write (spot's `is_best_match`).
    fn opt_flag(&mut self) -> Result<Option<bool>> {
        match self.it.clone().next() {
            Some(_) => self.flag().map(Some),
            None => Ok(None),
        }
    }

    fn end(mut self) -> Result<()> {
        match self.it.next() {
            Some(_) => Err(self.err("too many fields")),
            None => Ok(()),
        }
    }
}

impl Rows {
    /// A kline row (12 fields, the last ignored) with times in `unit`.
    pub(crate) fn push_kline(&mut self, line: &str, unit: i64) -> Result<()> {
        let mut f = Fields::new(line);
        let open_time = f.time(unit)?;
        let (o, h, l, c, v) = (f.float()?, f.float()?, f.float()?, f.float()?, f.float()?);
        let close_time = f.time(unit)?;
        let (q, n, tb, tq) = (f.float()?, f.int()?, f.float()?, f.float()?);
        f.next()?;
        f.end()?;
        self.key.push(open_time);
        self.ints[0].push(close_time);
        self.ints[1].push(n);
        for (col, x) in self.floats.iter_mut().zip([o, h, l, c, v, q, tb, tq]) {
            col.push(x);
        }
        Ok(())
    }

    /// An aggTrade row: id, price, qty, first id, last id, time, maker[, best match].
    pub(crate) fn push_agg(&mut self, line: &str, unit: i64) -> Result<()> {
        let mut f = Fields::new(line);
        let (id, price, qty) = (f.int()?, f.float()?, f.float()?);
        let (first, last) = (f.int()?, f.int()?);
        let (time, maker, best) = (f.time(unit)?, f.flag()?, f.opt_flag()?);
        f.end()?;
        self.key.push(time);
        for (col, x) in self.ints.iter_mut().zip([id, first, last]) {
            col.push(x);
        }
        self.floats[0].push(price);
        self.floats[1].push(qty);
        self.flags.push(maker);
        self.opt_flags.push(best);
        Ok(())
    }

    /// A trade row: id, price, qty, quote (base on cm) qty, time, maker[, best match].
    pub(crate) fn push_trade(&mut self, line: &str, unit: i64) -> Result<()> {
        let mut f = Fields::new(line);
        let (id, price, qty, quote) = (f.int()?, f.float()?, f.float()?, f.float()?);
        let (time, maker, best) = (f.time(unit)?, f.flag()?, f.opt_flag()?);
        f.end()?;
        self.key.push(time);
        self.ints[0].push(id);
        for (col, x) in self.floats.iter_mut().zip([price, qty, quote]) {
            col.push(x);
        }
        self.flags.push(maker);
        self.opt_flags.push(best);
        Ok(())
    }

    /// A funding row: time (ms), interval hours (may be empty), rate[, mark price].
    pub(crate) fn push_funding(&mut self, line: &str) -> Result<()> {
        let mut f = Fields::new(line);
        let time = f.time(1000)?;
        let hours = match f.it.clone().next() {
            Some("") => {
                f.next()?;
                None
            }
            _ => Some(f.int()?),
        };
        let rate = f.float()?;
        let mark = match f.it.clone().next() {
            Some(_) => Some(f.float()?),
            None => None,
        };
        f.end()?;
        self.key.push(time);
        self.opt_ints.push(hours);
        self.floats[0].push(rate);
        self.opt_floats.push(mark);
        Ok(())
    }
}
