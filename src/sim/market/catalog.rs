//! The simulated exchange's instruments: markets, symbols and their trading rules (tick and
//! lot decimals, contract size), listing dates and the long-run price path they follow.
//!
//! The default catalogue mirrors Binance's majors with roughly real prices from 2020 on; an
//! optional "many symbols" extension adds thousands of small symbols, some delisted, so the S3
//! listing can be paged across thousands of keys.

use crate::error::{Error, Result};
use crate::model::interval::days_from_civil;

use super::rng::{key, str_key};

/// A Binance market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Market {
    Spot,
    Um,
    Cm,
}

impl Market {
    /// Every market, in Vision listing order of their folders.
    pub const ALL: [Market; 3] = [Market::Spot, Market::Um, Market::Cm];

    /// `spot`, `um` or `cm`.
    pub fn name(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Um => "um",
            Market::Cm => "cm",
        }
    }

    /// The Vision folder: `spot`, `futures/um` or `futures/cm`.
    pub fn path(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Um => "futures/um",
            Market::Cm => "futures/cm",
        }
    }

    /// Parse `spot`, `um` or `cm`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "spot" => Ok(Market::Spot),
            "um" => Ok(Market::Um),
            "cm" => Ok(Market::Cm),
            _ => Err(Error::Invalid(format!(
                "unknown market {s:?}; expected spot, um or cm"
            ))),
        }
    }

    /// Whether this is a futures market (ms timestamps, lowercase booleans, headers).
    pub fn futures(self) -> bool {
        self != Market::Spot
    }
}

/// One tradable symbol and its rules.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub market: Market,
    pub base: String,
    pub quote: String,
    /// Index pair (futures): `BTCUSDT` on um, `BTCUSD` on cm; the name itself on spot.
    pub pair: String,
    /// Decimals of the trade price (tick = 10^-price_dp).
    pub price_dp: u32,
    /// Decimals kline prices are printed with on futures (spot always prints 8).
    pub kline_dp: u32,
    /// Decimals of the quantity (lot = 10^-qty_dp); contracts on cm (0).
    pub qty_dp: u32,
    /// USD per contract on cm, 0 elsewhere.
    pub contract_size: i64,
    /// Base aggTrades per day at activity 1.
    pub activity: f64,
    /// Typical taker quantity in base units (contracts on cm).
    pub qty_scale: f64,
    /// Size of the random deviation from the price knots (1 = a volatile coin).
    pub vol: f64,
    /// First and last day (days since 1970-01-01) with trades; `None` = still listed.
    pub listed: i64,
    pub delisted: Option<i64>,
    /// Long-run price path: (day, price) knots, interpolated in log space.
    pub knots: Vec<(i64, f64)>,
    /// Key of the shared daily price path (same for BTC on every market).
    pub path_key: u64,
    /// Key of this symbol's own streams.
    pub key: u64,
}

impl Symbol {
    /// Whether the symbol trades on `day`.
    pub fn trades_on(&self, day: i64) -> bool {
        day >= self.listed && self.delisted.is_none_or(|d| day <= d)
    }
}

/// Days since the epoch of a civil date.
pub(crate) fn d(y: i64, m: u32, dd: u32) -> i64 {
    days_from_civil(y, m, dd)
}

/// Long-run price knots (`YYYY-MM-DD price`), roughly the real history.
const BTC: &str =
    "2019-12-01 7500, 2020-01-01 7200, 2020-02-12 10300, 2020-03-13 4900, 2020-05-01 8800,\
     2020-08-01 11500, 2020-10-01 10700, 2020-12-31 29000, 2021-02-21 57000,\
     2021-04-14 63500, 2021-06-22 32000, 2021-09-06 52000, 2021-11-10 67000,\
     2022-01-24 35000, 2022-03-28 47000, 2022-06-18 19000, 2022-08-14 24500,\
     2022-11-09 16000, 2022-12-31 16500, 2023-04-14 30500, 2023-09-11 25000,\
     2023-12-31 42300, 2024-03-14 73000, 2024-08-05 54000, 2024-11-12 88000,\
     2024-12-17 106000, 2025-04-07 76000, 2025-05-22 111000, 2025-08-14 123000,\
     2025-10-06 125000, 2025-11-21 82000, 2026-01-01 87600, 2026-05-08 80000,\
     2028-01-01 90000";
const ETH: &str = "2019-12-01 150, 2020-01-01 130, 2020-03-13 110, 2020-09-01 480, 2020-12-31 740,\
     2021-05-12 4200, 2021-06-22 1800, 2021-11-10 4800, 2022-06-18 990,\
     2022-08-14 1950, 2022-12-31 1200, 2023-04-14 2100, 2023-10-12 1550,\
     2024-03-12 4000, 2024-08-05 2200, 2024-12-16 4000, 2025-04-09 1470,\
     2025-08-24 4900, 2025-11-21 2700, 2026-05-08 2300, 2028-01-01 2500";
const BNB: &str = "2019-12-01 15, 2020-03-13 10, 2020-12-31 38, 2021-05-10 680, 2021-07-20 270,\
     2021-11-20 620, 2022-06-18 200, 2022-12-31 245, 2023-12-31 310, 2024-06-06 710,\
     2024-12-04 790, 2025-04-07 530, 2025-10-13 1300, 2026-05-08 650, 2028-01-01 700";
const SOL: &str = "2020-08-11 3, 2020-12-31 1.5, 2021-09-09 210, 2021-11-06 255, 2022-06-18 30,\
     2022-12-29 9.9, 2023-12-25 115, 2024-03-18 200, 2025-01-19 270, 2025-04-07 100,\
     2026-05-08 150, 2028-01-01 160";
const XRP: &str =
    "2019-12-01 0.22, 2020-03-13 0.14, 2020-11-24 0.7, 2020-12-29 0.2, 2021-04-14 1.9,\
     2021-07-20 0.52, 2022-06-18 0.3, 2023-07-13 0.8, 2024-10-31 0.5, 2025-01-16 3.2,\
     2025-07-18 3.6, 2026-05-08 2.1, 2028-01-01 2.2";
const STABLE: &str = "2019-12-01 1, 2028-01-01 1";

struct Spec {
    name: &'static str,
    market: Market,
    base: &'static str,
    quote: &'static str,
    dp: (u32, u32, u32),
    contract_size: i64,
    activity: f64,
    qty_scale: f64,
    vol: f64,
    listed: (i64, u32, u32),
    delisted: Option<(i64, u32, u32)>,
    knots: &'static str,
}

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    spec("BTCUSDT", Market::Spot, "BTC", "USDT", (2, 8, 5), 20_000.0, 0.4, BTC),
    spec("ETHUSDT", Market::Spot, "ETH", "USDT", (2, 8, 4), 15_000.0, 6.0, ETH),
    spec("BNBUSDT", Market::Spot, "BNB", "USDT", (2, 8, 3), 6_000.0, 20.0, BNB),
    Spec { listed: (2020, 8, 11), ..spec("SOLUSDT", Market::Spot, "SOL", "USDT", (2, 8, 3), 6_000.0, 60.0, SOL) },
    spec("XRPUSDT", Market::Spot, "XRP", "USDT", (4, 8, 0), 6_000.0, 4000.0, XRP),
    Spec {
        vol: 0.002,
        delisted: Some((2023, 12, 15)),
        ..spec("BUSDUSDT", Market::Spot, "BUSD", "USDT", (4, 8, 0), 2_000.0, 20_000.0, STABLE)
    },
    spec("BTCUSDT", Market::Um, "BTC", "USDT", (1, 2, 3), 20_000.0, 0.4, BTC),
    spec("ETHUSDT", Market::Um, "ETH", "USDT", (2, 2, 3), 15_000.0, 6.0, ETH),
    Spec { contract_size: 100, ..spec("BTCUSD_PERP", Market::Cm, "BTC", "USD", (1, 1, 0), 8_000.0, 40.0, BTC) },
    Spec { contract_size: 10, ..spec("ETHUSD_PERP", Market::Cm, "ETH", "USD", (2, 2, 0), 5_000.0, 60.0, ETH) },
];

#[allow(clippy::too_many_arguments)]
const fn spec(
    name: &'static str,
    market: Market,
    base: &'static str,
    quote: &'static str,
    dp: (u32, u32, u32),
    activity: f64,
    qty_scale: f64,
    knots: &'static str,
) -> Spec {
    Spec {
        name,
        market,
        base,
        quote,
        dp,
        contract_size: 0,
        activity,
        qty_scale,
        vol: 1.0,
        listed: (2020, 1, 1),
        delisted: None,
        knots,
    }
}

/// `"2020-01-01 7200, 2020-02-12 10300"` → (day, price) pairs.
fn parse_knots(text: &str) -> Vec<(i64, f64)> {
    text.split(',')
        .filter_map(|k| {
            let (date, price) = k.trim().split_once(' ')?;
            let mut ymd = date.split('-').map(|x| x.parse::<i64>().ok());
            let (y, m, dd) = (ymd.next()??, ymd.next()??, ymd.next()??);
            Some((d(y, m as u32, dd as u32), price.parse().ok()?))
        })
        .collect()
}

/// The default catalogue: majors on spot, BTC/ETH on um and cm.
pub fn default_symbols() -> Vec<Symbol> {
    SPECS
        .iter()
        .map(|s| {
            let pair = match s.market {
                Market::Spot => s.name.to_string(),
                Market::Um => format!("{}{}", s.base, s.quote),
                Market::Cm => format!("{}USD", s.base),
            };
            Symbol {
                name: s.name.to_string(),
                market: s.market,
                base: s.base.into(),
                quote: s.quote.into(),
                pair,
                price_dp: s.dp.0,
                kline_dp: s.dp.1,
                qty_dp: s.dp.2,
                contract_size: s.contract_size,
                activity: s.activity,
                qty_scale: s.qty_scale,
                vol: s.vol,
                listed: d(s.listed.0, s.listed.1, s.listed.2),
                delisted: s.delisted.map(|(y, m, dd)| d(y, m, dd)),
                knots: parse_knots(s.knots),
                path_key: str_key(s.base),
                key: key(&[str_key(s.market.name()), str_key(s.name)]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_amounts_fit_eight_decimals() {
        for s in default_symbols()
            .iter()
            .chain(crate::sim::market::many::many_symbols(500).iter())
        {
            assert!(s.price_dp + s.qty_dp <= 8, "{}", s.name);
            assert!(s.knots.windows(2).all(|w| w[0].0 < w[1].0), "{}", s.name);
        }
    }
}
