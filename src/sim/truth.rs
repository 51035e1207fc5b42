//! The simulator's truth, for tests that prove ckv against it: the exact rows the exchange
//! holds for one (market, dataset, symbol, interval) with key time (klines: `open_time`, else
//! `time`) in `[start_us, end_us)`, sorted by key, in ckv's output schema (`crate::model::schema`).
//!
//! Guarantees:
//! - No faults, no publication lag, no missing archives: every row the exchange has, but
//!   nothing after the clock's `now` (trades, aggTrades and funding events at or before `now`;
//!   klines only when final, `close_time < now`, so the open candle is never included).
//! - Rows are the simulator's own text (`RowWriter`, the text Binance serves) read back by the
//!   small parser below (split on `,`, `str::parse`), which shares no code with `crate::parse`.
//! - Times keep Binance's unit, converted exactly to µs: the unit of the UTC day the key time
//!   falls on (spot µs from 2025-01-01, else ms), so a ms-era `close_time` ends in `.999000`
//!   and a µs-era one in `.999999`; fundingRate times are always ms.
//! - fundingRate comes in two forms. `Form::Vision` (the monthly archive): interval hours as the
//!   archive says (8), `mark_price` null. `Form::Rest` (`/fapi/v1/fundingRate`): `mark_price`
//!   given, `funding_interval_hours` null, the same times and rates.
//! - Bounded: a request estimated at more than `MAX_ROWS` rows, or spanning more than
//!   `MAX_TRADE_DAYS` days of trades/aggTrades (within the listing and before `now`), is
//!   refused with `Error::Invalid` before anything is generated.

use arrow_array::RecordBatch;

use crate::error::{Error, Result};
use crate::model::interval::{Interval, DAY_US};

use crate::sim::market::catalog::{Market, Symbol};
use crate::sim::market::exchange::Exchange;
use crate::sim::market::mark::{funding, PriceKind};
use crate::sim::vision::csv::{funding_row, push_fixed, push_int, RowWriter};
use crate::sim::Simulator;

/// Most rows one truth request may produce (estimated before generating).
pub const MAX_ROWS: i64 = 50_000_000;
/// Most days of trades or aggTrades one truth request may span.
pub const MAX_TRADE_DAYS: i64 = 400;

/// Which source's fundingRate fields to give (other datasets are the same in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Vision,
    Rest,
}

impl Form {
    /// `vision` or `rest`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "vision" => Ok(Form::Vision),
            "rest" => Ok(Form::Rest),
            _ => Err(Error::Invalid(format!(
                "unknown form {s:?}; expected vision or rest"
            ))),
        }
    }
}

enum Kind {
    Klines(Option<PriceKind>, Interval),
    Aggs,
    Trades,
    Funding,
}

/// The true rows of `dataset` (klines, markPriceKlines, indexPriceKlines, premiumIndexKlines,
/// aggTrades, trades, fundingRate) for `symbol` on `market` with key time in `[start, end)`.
/// `interval` (1s … 1mo) is required for the kline datasets and refused for the others.
#[allow(clippy::too_many_arguments)]
pub fn truth(
    sim: &Simulator,
    market: Market,
    dataset: &str,
    symbol: &str,
    interval: Option<&str>,
    start_us: i64,
    end_us: i64,
    form: Form,
) -> Result<RecordBatch> {
    let kind = kind_of(market, dataset, interval)?;
    let ex = &sim.data.ex;
    let sym = resolve(ex, market, symbol, dataset == "indexPriceKlines")?;
    let now = ex.now_us();
    let first = sym.listed * DAY_US;
    let last_end = sym.delisted.map_or(i64::MAX, |d| (d + 1) * DAY_US);
    let from = start_us.max(first);
    let to = end_us.min(last_end).min(now.saturating_add(1));
    let rows = if from >= to {
        Rows::empty(&kind)
    } else {
        match kind {
            Kind::Klines(price, iv) => gen::klines(sim, sym, price, iv, from, to),
            Kind::Aggs | Kind::Trades => {
                gen::trades(sim, sym, matches!(kind, Kind::Trades), from, to)
            }
            Kind::Funding => funding_rows(ex, sym, from, to, form),
        }?
    };
    rows.batch()
}

fn kind_of(market: Market, dataset: &str, interval: Option<&str>) -> Result<Kind> {
    let price = match dataset {
        "klines" => None,
        "markPriceKlines" => Some(PriceKind::Mark),
        "indexPriceKlines" => Some(PriceKind::Index),
        "premiumIndexKlines" => Some(PriceKind::Premium),
        other => {
            if interval.is_some() {
                return Err(Error::Invalid(format!(
                    "{other} takes no interval (only the kline datasets do)"
                )));
            }
            return match other {
                "aggTrades" => Ok(Kind::Aggs),
                "trades" => Ok(Kind::Trades),
                "fundingRate" if market.futures() => Ok(Kind::Funding),
                "fundingRate" => Err(Error::Invalid(
                    "fundingRate exists on um and cm only".into(),
                )),
                _ => Err(Error::Invalid(format!(
                    "unknown dataset {other:?}; expected klines, markPriceKlines, \
                     indexPriceKlines, premiumIndexKlines, aggTrades, trades or fundingRate"
                ))),
            };
        }
    };
    if price.is_some() && !market.futures() {
        return Err(Error::Invalid(format!(
            "{dataset} exists on um and cm only"
        )));
    }
    let name = interval.ok_or_else(|| Error::Invalid(format!("{dataset} needs an interval")))?;
    if name == "1s" && market.futures() {
        return Err(Error::Invalid("1s klines exist on spot only".into()));
    }
    Ok(Kind::Klines(price, name.parse()?))
}

/// The symbol `name` of `market`; for index klines also a pair, resolved like Vision's folder
/// (the first symbol of that pair).
pub fn resolve<'a>(
    ex: &'a Exchange,
    market: Market,
    name: &str,
    index: bool,
) -> Result<&'a Symbol> {
    let sym = ex.symbol(market, name);
    let sym = if index {
        let pair = sym.map_or(name, |s| s.pair.as_str());
        ex.symbols
            .iter()
            .find(|s| s.market == market && s.pair == pair)
    } else {
        sym
    };
    sym.ok_or_else(|| Error::Invalid(format!("unknown symbol {name:?} on {}", market.name())))
}

/// (first UTC day with data, last day with data if delisted), as µs of the day's start.
pub fn listing(sim: &Simulator, market: Market, symbol: &str) -> Result<(i64, Option<i64>)> {
    let ex = &sim.data.ex;
    let sym = resolve(ex, market, symbol, false)?;
    let has_data = |d: i64| ex.day_counts(sym, d).0 > 0;
    let last = sym.delisted;
    let bound = last.unwrap_or(sym.listed + 3660);
    let first = (sym.listed..=bound)
        .find(|&d| has_data(d))
        .unwrap_or(sym.listed);
    let last = last.map(|d| (first..=d).rev().find(|&x| has_data(x)).unwrap_or(d));
    Ok((first * DAY_US, last.map(|d| d * DAY_US)))
}

/// The merged windows `[a, b)` (µs, whole seconds) without trading on `market` that overlap
/// `[start_us, end_us)`, clipped to it: the exchange's true gaps (not clipped to `now`).
pub fn outages(sim: &Simulator, market: Market, start_us: i64, end_us: i64) -> Vec<(i64, i64)> {
    sim.data.ex.cfg.outages_in(market, start_us, end_us)
}

fn funding_rows(ex: &Exchange, sym: &Symbol, from: i64, to: i64, form: Form) -> Result<Rows> {
    let mut rows = Rows::empty(&Kind::Funding);
    let mut buf = Vec::with_capacity(64);
    for day in from.div_euclid(DAY_US)..=(to - 1).div_euclid(DAY_US) {
        for f in funding(ex, sym, day) {
            buf.clear();
            match form {
                Form::Vision => funding_row(&mut buf, f.time_ms, f.rate),
                Form::Rest => {
                    push_int(&mut buf, i128::from(f.time_ms));
                    buf.extend_from_slice(b",,");
                    push_fixed(&mut buf, i128::from(f.rate), 8, 8);
                    buf.push(b',');
                    push_fixed(&mut buf, i128::from(f.mark), 8, 8);
                }
            }
            rows.push_funding(text(&buf)?)?;
        }
    }
    rows.retain_key(from, to);
    Ok(rows)
}

/// A row buffer as text without its line end.
pub(crate) fn text(buf: &[u8]) -> Result<&str> {
    std::str::from_utf8(buf)
        .map(|s| s.trim_end_matches('\n'))
        .map_err(|e| Error::parse("truth", 0, e))
}

/// The simulator's row writer for `sym` at the exchange's unit of `day`.
pub(crate) fn writer(sym: &Symbol, day: i64) -> (RowWriter<'_>, i64) {
    let unit = Exchange::unit_us(sym.market, day);
    (RowWriter { sym, unit_us: unit }, unit)
}

mod gen;
mod read;
mod rows;

pub(crate) use rows::Rows;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edges;
