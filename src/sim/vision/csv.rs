//! Rows in Binance's exact text: spot prints every price and amount with 8 decimals
//! (`16541.77000000`) and `True/False`; futures klines print prices with the symbol's price
//! precision and amounts with its lot precision (`46235.80`, `253.757`), futures trades print
//! numbers like a float's shortest form (`79936.0`, `542.0`) and `true/false`; COIN-M kline
//! volume is whole contracts. Times are written in the unit asked for (ms or µs).
//!
//! REST rows are made from these same CSV rows (see `rest_rows`), so they are textually equal.

use crate::sim::market::catalog::{Market, Symbol};
use crate::sim::market::daygen::DayTrades;
use crate::sim::market::klines::Kline;

/// The header line of a futures file of `dataset` (spot files never have one).
pub fn header(market: Market, dataset: &str) -> &'static str {
    match (dataset, market) {
        ("aggTrades", _) => {
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker"
        }
        ("trades", Market::Cm) => "id,price,qty,base_qty,time,is_buyer_maker",
        ("trades", _) => "id,price,qty,quote_qty,time,is_buyer_maker",
        ("fundingRate", _) => "calc_time,funding_interval_hours,last_funding_rate",
        _ => "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore",
    }
}

/// Whether a futures daily (or monthly) file for the period starting on `day` carries a
/// header: deterministic by date, about half of them, as on Vision.
pub fn has_header(market: Market, dataset: &str, day: i64) -> bool {
    market.futures()
        && (dataset == "fundingRate" || crate::sim::market::rng::mix(day as u64 ^ 0x4EAD) & 1 == 0)
}

/// Append an integer.
pub fn push_int(buf: &mut Vec<u8>, v: i128) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u(buf, v.unsigned_abs());
}

fn push_u(buf: &mut Vec<u8>, n: u128) {
    let mut tmp = [0u8; 40];
    let mut i = tmp.len();
    if let Ok(mut n) = u64::try_from(n) {
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
    } else {
        let mut n = n;
        while n > 0 {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Append `units × 10^-dp` with exactly `out` decimals (`out >= dp`).
pub fn push_fixed(buf: &mut Vec<u8>, units: i128, dp: u32, out: u32) {
    let v = units * 10i128.pow(out - dp);
    if v < 0 {
        buf.push(b'-');
    }
    let a = v.unsigned_abs();
    let (int, mut f) = match u64::try_from(a) {
        Ok(a) if out <= 19 => {
            let p = 10u64.pow(out);
            (u128::from(a / p), a % p)
        }
        _ => {
            let p = 10u128.pow(out);
            (a / p, (a % p) as u64)
        }
    };
    push_u(buf, int);
    if out > 0 {
        buf.push(b'.');
        let start = buf.len();
        buf.resize(start + out as usize, b'0');
        for c in buf[start..].iter_mut().rev() {
            *c = b'0' + (f % 10) as u8;
            f /= 10;
        }
    }
}

/// Append `units × 10^-dp` in a float's shortest form: trailing zeros dropped, at least one
/// decimal (`542.0`, `0.024`).
pub fn push_trim(buf: &mut Vec<u8>, units: i128, dp: u32) {
    let start = buf.len();
    push_fixed(buf, units, dp, dp.max(1));
    while buf.len() > start + 1 && buf[buf.len() - 1] == b'0' && buf[buf.len() - 2] != b'.' {
        buf.pop();
    }
}

/// Writes rows of one symbol with times in `unit_us` (1 = µs, 1000 = ms).
pub struct RowWriter<'a> {
    pub sym: &'a Symbol,
    pub unit_us: i64,
}

impl RowWriter<'_> {
    fn time(&self, buf: &mut Vec<u8>, t_us: i64) {
        push_int(buf, i128::from(t_us.div_euclid(self.unit_us)));
    }

    fn flag(&self, buf: &mut Vec<u8>, v: bool) {
        let s: &[u8] = match (self.sym.market.futures(), v) {
            (false, true) => b"True",
            (false, false) => b"False",
            (true, true) => b"true",
            (true, false) => b"false",
        };
        buf.extend_from_slice(s);
    }

    fn spot(&self) -> bool {
        self.sym.market == Market::Spot
    }

    /// A price in ticks as a kline/spot field.
    fn price(&self, buf: &mut Vec<u8>, ticks: i64) {
        let out = if self.spot() { 8 } else { self.sym.kline_dp };
        push_fixed(buf, i128::from(ticks), self.sym.price_dp, out);
    }

    /// A trade/kline amount: quantity (`quote: false`) or quote amount.
    fn amount(&self, buf: &mut Vec<u8>, units: i128, quote: bool, kline: bool) {
        let s = self.sym;
        let dp = match (quote, s.market) {
            (true, Market::Cm) => 8,
            (true, _) => s.price_dp + s.qty_dp,
            (false, _) => s.qty_dp,
        };
        match (s.market, kline) {
            (Market::Spot, _) => push_fixed(buf, units, dp, 8),
            (Market::Um, true) => {
                let out = if quote {
                    s.kline_dp + s.qty_dp
                } else {
                    s.qty_dp
                };
                push_fixed(buf, units, dp, out);
            }
            (Market::Cm, true) => push_fixed(buf, units, dp, dp),
            (_, false) => push_trim(buf, units, dp),
        }
    }

    /// A trade-price kline (klines dataset).
    pub fn kline(&self, buf: &mut Vec<u8>, k: &Kline) {
        self.time(buf, k.open_us);
        for p in [k.open, k.high, k.low, k.close] {
            buf.push(b',');
            self.price(buf, p);
        }
        buf.push(b',');
        self.amount(buf, i128::from(k.volume), false, true);
        buf.push(b',');
        self.time(buf, k.end_us - self.unit_us);
        buf.push(b',');
        self.amount(buf, k.quote, true, true);
        buf.push(b',');
        push_int(buf, i128::from(k.count));
        buf.push(b',');
        self.amount(buf, i128::from(k.taker_volume), false, true);
        buf.push(b',');
        self.amount(buf, k.taker_quote, true, true);
        buf.extend_from_slice(b",0\n");
    }

    /// A mark/index/premium kline: prices in 10^-8 units, `count` samples, the rest zero.
    pub fn price_kline(&self, buf: &mut Vec<u8>, k: &Kline) {
        self.time(buf, k.open_us);
        for p in [k.open, k.high, k.low, k.close] {
            buf.push(b',');
            push_fixed(buf, i128::from(p), 8, 8);
        }
        buf.extend_from_slice(b",0,");
        self.time(buf, k.end_us - self.unit_us);
        buf.extend_from_slice(b",0,");
        push_int(buf, i128::from(k.count));
        buf.extend_from_slice(b",0,0,0\n");
    }

    /// AggTrade `j` of the day.
    pub fn agg(&self, buf: &mut Vec<u8>, tr: &DayTrades, j: usize) {
        let (a, b) = (tr.agg_start[j] as usize, tr.agg_start[j + 1] as usize);
        let qty: i64 = tr.qty[a..b].iter().sum();
        push_int(buf, i128::from(tr.first_agg_id + j as i64));
        buf.push(b',');
        self.trade_price(buf, tr.price[a]);
        buf.push(b',');
        self.amount(buf, i128::from(qty), false, false);
        buf.push(b',');
        push_int(buf, i128::from(tr.first_trade_id + a as i64));
        buf.push(b',');
        push_int(buf, i128::from(tr.first_trade_id + b as i64 - 1));
        buf.push(b',');
        self.time(buf, tr.time[a]);
        buf.push(b',');
        self.flag(buf, tr.maker[a]);
        if self.spot() {
            buf.extend_from_slice(b",True");
        }
        buf.push(b'\n');
    }

    /// Trade `i` of the day.
    pub fn trade(&self, buf: &mut Vec<u8>, tr: &DayTrades, i: usize) {
        let (p, q) = (tr.price[i], tr.qty[i]);
        push_int(buf, i128::from(tr.first_trade_id + i as i64));
        buf.push(b',');
        self.trade_price(buf, p);
        buf.push(b',');
        self.amount(buf, i128::from(q), false, false);
        buf.push(b',');
        self.amount(
            buf,
            crate::sim::market::klines::quote_units(self.sym, p, q),
            true,
            false,
        );
        buf.push(b',');
        self.time(buf, tr.time[i]);
        buf.push(b',');
        self.flag(buf, tr.maker[i]);
        if self.spot() {
            buf.extend_from_slice(b",True");
        }
        buf.push(b'\n');
    }

    fn trade_price(&self, buf: &mut Vec<u8>, ticks: i64) {
        if self.spot() {
            push_fixed(buf, i128::from(ticks), self.sym.price_dp, 8);
        } else {
            push_trim(buf, i128::from(ticks), self.sym.price_dp);
        }
    }
}

/// A fundingRate row: calc time (ms), interval hours, rate in 10^-8.
pub fn funding_row(buf: &mut Vec<u8>, time_ms: i64, rate: i64) {
    push_int(buf, i128::from(time_ms));
    buf.extend_from_slice(b",8,");
    push_fixed(buf, i128::from(rate), 8, 8);
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_print_like_binance() {
        assert_eq!(s(|b| push_fixed(b, 1_654_177, 2, 8)), "16541.77000000");
        assert_eq!(s(|b| push_fixed(b, -3449, 8, 8)), "-0.00003449");
        assert_eq!(s(|b| push_fixed(b, 462_358, 1, 2)), "46235.80");
        assert_eq!(s(|b| push_fixed(b, 206, 0, 0)), "206");
        assert_eq!(s(|b| push_trim(b, 542, 0)), "542.0");
        assert_eq!(s(|b| push_trim(b, 799_360, 1)), "79936.0");
        assert_eq!(s(|b| push_trim(b, 24, 3)), "0.024");
        assert_eq!(s(|b| push_trim(b, 16_416_624, 4)), "1641.6624");
        assert_eq!(s(|b| push_int(b, 0)), "0");
    }
}
