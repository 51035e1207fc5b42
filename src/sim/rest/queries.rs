//! The market-data endpoints: klines (trade, mark, index, premium), aggTrades, recent and
//! historical trades, fundingRate — with Binance's parameter semantics (`startTime`,
//! `endTime`, `limit`, `fromId`), answering the same rows the archives hold.

use crate::model::interval::{Interval, DAY_US, HOUR_US};
use crate::sim::market::catalog::{Market, Symbol};
use crate::sim::market::data::Data;
use crate::sim::market::mark::{funding, PriceKind};
use crate::sim::vision::csv::{push_fixed, RowWriter};

use super::params::{ApiError, Params};
use super::rows;

/// A request's context: data, market and the time unit of its params and answers.
pub struct Ctx<'a> {
    pub data: &'a Data,
    pub market: Market,
    /// 1 (µs, spot with `X-MBX-TIME-UNIT: MICROSECOND`) or 1000.
    pub unit: i64,
}

impl Ctx<'_> {
    /// The symbol named by param `name` (`symbol`, or `pair` for index klines).
    pub fn symbol(&self, p: &Params, name: &str) -> Result<&Symbol, ApiError> {
        let v = p.required(name)?;
        let ex = &self.data.ex;
        let today = ex.today();
        let found = if name == "pair" {
            ex.symbols_of(self.market).into_iter().find(|s| s.pair == v)
        } else {
            ex.symbol(self.market, v)
        };
        found
            .filter(|s| s.listed <= today)
            .ok_or_else(ApiError::bad_symbol)
    }

    fn time(&self, p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
        Ok(p.int(name)?.map(|t| t.saturating_mul(self.unit)))
    }

    fn writer<'s>(&self, sym: &'s Symbol) -> RowWriter<'s> {
        RowWriter {
            sym,
            unit_us: self.unit,
        }
    }
}

/// The REST interval names (`1M`, not `1mo`; `1s` on spot only).
fn interval(ctx: &Ctx, name: &str) -> Result<Interval, ApiError> {
    let ok = match name {
        "1s" => ctx.market == Market::Spot,
        "1mo" => false,
        _ => true,
    };
    let bad = || ApiError::new(-1120, "Invalid interval.");
    if !ok {
        return Err(bad());
    }
    name.parse().map_err(|_| bad())
}

/// `klines`, `markPriceKlines`, `indexPriceKlines`, `premiumIndexKlines`.
pub fn klines(ctx: &Ctx, p: &Params, kind: Option<PriceKind>) -> Result<String, ApiError> {
    let sym = ctx.symbol(
        p,
        if kind == Some(PriceKind::Index) {
            "pair"
        } else {
            "symbol"
        },
    )?;
    let iv = interval(ctx, p.required("interval")?)?;
    let limit = p.limit(
        500,
        if ctx.market == Market::Spot {
            1000
        } else {
            1500
        },
    )?;
    let (start, end) = (ctx.time(p, "startTime")?, ctx.time(p, "endTime")?);
    let now = ctx.data.ex.now_us();
    let candles = match (start, end) {
        (Some(s), e) => {
            let to = e.map_or(i64::MAX, |e| e.saturating_add(1));
            ctx.data.klines(sym, kind, iv, (s, to), limit)
        }
        (None, e) => {
            let e = e.unwrap_or(now);
            let span = match iv {
                Interval::Fixed(len) => len,
                Interval::Month => 31 * DAY_US,
            };
            let from = e
                .saturating_sub(span.saturating_mul(limit as i64))
                .saturating_add(1);
            let mut all = ctx
                .data
                .klines(sym, kind, iv, (from, e.saturating_add(1)), usize::MAX);
            let skip = all.len().saturating_sub(limit);
            all.drain(..skip);
            all
        }
    };
    let w = ctx.writer(sym);
    let mut buf = Vec::with_capacity(160);
    Ok(rows::array(candles.iter().map(|k| {
        buf.clear();
        match kind {
            None => w.kline(&mut buf, k),
            Some(_) => w.price_kline(&mut buf, k),
        }
        let mut s = String::with_capacity(200);
        rows::kline(line(&buf), &mut s);
        s
    })))
}

fn line(buf: &[u8]) -> &str {
    std::str::from_utf8(buf)
        .unwrap_or("")
        .trim_end_matches('\n')
}

/// `aggTrades` (`trade: false`), `trades` and `historicalTrades` (`trade: true`).
pub fn trades(ctx: &Ctx, p: &Params, trade: bool, recent: bool) -> Result<String, ApiError> {
    let sym = ctx.symbol(p, "symbol")?;
    let limit = p.limit(500, 1000)?;
    let from_id = if recent { None } else { p.int("fromId")? };
    let (start, end) = if trade {
        (None, None)
    } else {
        (ctx.time(p, "startTime")?, ctx.time(p, "endTime")?)
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e - s > HOUR_US || e < s {
            return Err(ApiError::new(
                -1127,
                "More than 1 hours between startTime and endTime.",
            ));
        }
    }
    let ex = &ctx.data.ex;
    let now = ex.now_us();
    let (lo, hi) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + HOUR_US - 1),
        (None, Some(e)) => (e - HOUR_US + 1, e),
        (None, None) => (i64::MIN, now),
    };
    let hi = hi.min(now);
    let w = ctx.writer(sym);
    let mut buf = Vec::with_capacity(128);
    let mut out: Vec<String> = Vec::new();
    let mut emit = |tr: &crate::sim::market::daygen::DayTrades, j: usize, out: &mut Vec<String>| {
        buf.clear();
        let mut s = String::with_capacity(160);
        if trade {
            w.trade(&mut buf, tr, j);
            rows::trade(line(&buf), ctx.market, &mut s);
        } else {
            w.agg(&mut buf, tr, j);
            rows::agg_trade(line(&buf), &mut s);
        }
        out.push(s);
    };
    let time_of = |tr: &crate::sim::market::daygen::DayTrades, j: usize| {
        if trade {
            tr.time[j]
        } else {
            tr.time[tr.agg_start[j] as usize]
        }
    };
    let count = |tr: &crate::sim::market::daygen::DayTrades| {
        if trade {
            tr.time.len()
        } else {
            tr.n_aggs()
        }
    };
    let last_day = hi.div_euclid(DAY_US).min(ex.today());
    if from_id.is_some() || start.is_some() {
        // Forward from an id or a time.
        let (mut day, mut j) = match from_id {
            Some(id) => {
                let day = ex.day_of_id(sym, id, trade);
                let (a0, t0) = ex.first_ids(sym, day);
                (day, (id - if trade { t0 } else { a0 }).max(0) as usize)
            }
            None => (lo.div_euclid(DAY_US).max(sym.listed), 0),
        };
        while out.len() < limit && day <= last_day {
            let tr = ctx.data.day(sym, day);
            while j < count(&tr) && out.len() < limit {
                let t = time_of(&tr, j);
                if t > hi {
                    return Ok(rows::array(out));
                }
                if t >= lo {
                    emit(&tr, j, &mut out);
                }
                j += 1;
            }
            (day, j) = (day + 1, 0);
        }
        return Ok(rows::array(out));
    }
    // Backward: the last `limit` rows at or before `hi`.
    let mut day = last_day;
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut have = 0;
    while have < limit && day >= sym.listed {
        let tr = ctx.data.day(sym, day);
        let n = count(&tr);
        let end = (0..n)
            .rev()
            .find(|&j| time_of(&tr, j) <= hi)
            .map_or(0, |j| j + 1);
        let mut chunk = Vec::new();
        let mut j = end;
        while j > 0 && have + chunk.len() < limit {
            j -= 1;
            if time_of(&tr, j) < lo {
                break;
            }
            emit(&tr, j, &mut chunk);
        }
        have += chunk.len();
        chunk.reverse();
        chunks.push(chunk);
        if day * DAY_US <= lo {
            break;
        }
        day -= 1;
    }
    Ok(rows::array(chunks.into_iter().rev().flatten()))
}

/// `fundingRate`: events in `[startTime, endTime]`, oldest first (latest `limit` by default).
pub fn funding_rate(ctx: &Ctx, p: &Params) -> Result<String, ApiError> {
    let sym = ctx.symbol(p, "symbol")?;
    let limit = p.limit(100, 1000)?;
    let ex = &ctx.data.ex;
    let now_ms = ex.now_us() / 1000;
    let start = p.int("startTime")?;
    let end = p.int("endTime")?.unwrap_or(now_ms).min(now_ms);
    let mut events = Vec::new();
    match start {
        Some(s) => {
            let mut day = (s * 1000).div_euclid(DAY_US).max(sym.listed);
            while events.len() < limit && day * DAY_US / 1000 <= end {
                events.extend(
                    funding(ex, sym, day)
                        .into_iter()
                        .filter(|f| f.time_ms >= s && f.time_ms <= end),
                );
                day += 1;
            }
            events.truncate(limit);
        }
        None => {
            let mut day = (end * 1000).div_euclid(DAY_US);
            while events.len() < limit && day >= sym.listed {
                let mut v: Vec<_> = funding(ex, sym, day)
                    .into_iter()
                    .filter(|f| f.time_ms <= end)
                    .collect();
                v.reverse();
                events.extend(v);
                day -= 1;
            }
            events.truncate(limit);
            events.reverse();
        }
    }
    Ok(rows::array(events.iter().map(|f| {
        let mut rate = Vec::new();
        push_fixed(&mut rate, i128::from(f.rate), 8, 8);
        let mut mark = Vec::new();
        push_fixed(&mut mark, i128::from(f.mark), 8, 8);
        format!(
            "{{\"symbol\":\"{}\",\"fundingTime\":{},\"fundingRate\":\"{}\",\"markPrice\":\"{}\"}}",
            sym.name,
            f.time_ms,
            line(&rate),
            line(&mark)
        )
    })))
}
