//! data.binance.vision's layout: which archives exist (markets, datasets, intervals, symbol
//! folders, listing dates, publication lag, missing days) and their names and sidecar text.
//! `build` makes their bytes (`csv`: rows in Binance's exact text, `zip`: Binance-shaped zips);
//! `listing` answers the S3 listing of the same virtual key tree.
//!
//! Publication: a daily archive appears once its day is at least two days old (none for today
//! or yesterday); a monthly one once its last day is. Days wholly inside an outage have no
//! daily archive; configured missing days answer 404 though their data is in the monthly file.

pub mod build;
pub mod csv;
pub mod listing;
pub mod zip;

use sha2::{Digest, Sha256};

use crate::model::interval::{civil_from_days, days_from_civil, Interval, DAY_US};

use crate::sim::market::catalog::{Market, Symbol};
use crate::sim::market::exchange::Exchange;

/// Daily or monthly archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Monthly,
}

impl Freq {
    /// `daily` or `monthly`.
    pub fn name(self) -> &'static str {
        match self {
            Freq::Daily => "daily",
            Freq::Monthly => "monthly",
        }
    }
}

/// The datasets of a market's folder, in listing order.
pub fn datasets(market: Market, freq: Freq) -> &'static [&'static str] {
    match (market, freq) {
        (Market::Spot, _) => &["aggTrades", "klines", "trades"],
        (_, Freq::Daily) => &[
            "aggTrades",
            "indexPriceKlines",
            "klines",
            "markPriceKlines",
            "premiumIndexKlines",
            "trades",
        ],
        (_, Freq::Monthly) => &[
            "aggTrades",
            "fundingRate",
            "indexPriceKlines",
            "klines",
            "markPriceKlines",
            "premiumIndexKlines",
            "trades",
        ],
    }
}

/// Kline intervals of a folder (empty for trade datasets).
pub fn intervals(market: Market, dataset: &str, freq: Freq) -> &'static [&'static str] {
    const DAILY: &[&str] = &[
        "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d",
    ];
    const MONTHLY: &[&str] = &[
        "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
        "1mo",
    ];
    const SPOT_DAILY: &[&str] = &[
        "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d",
    ];
    const SPOT_MONTHLY: &[&str] = &[
        "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
        "1w", "1mo",
    ];
    if !dataset.ends_with("lines") {
        return &[];
    }
    match (market, freq) {
        (Market::Spot, Freq::Daily) => SPOT_DAILY,
        (Market::Spot, Freq::Monthly) => SPOT_MONTHLY,
        (_, Freq::Daily) => DAILY,
        (_, Freq::Monthly) => MONTHLY,
    }
}

/// The folder names of `dataset` on `market`: symbols, or index pairs for indexPriceKlines.
pub fn folders<'a>(ex: &'a Exchange, market: Market, dataset: &str) -> Vec<(String, &'a Symbol)> {
    let mut v: Vec<(String, &Symbol)> = ex
        .symbols_of(market)
        .into_iter()
        .map(|s| {
            (
                if dataset == "indexPriceKlines" {
                    s.pair.clone()
                } else {
                    s.name.clone()
                },
                s,
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

/// One archive.
#[derive(Debug, Clone)]
pub struct ArchiveId<'a> {
    pub market: Market,
    pub freq: Freq,
    pub dataset: &'static str,
    pub folder: String,
    pub sym: &'a Symbol,
    pub interval: Option<&'static str>,
    pub first_day: i64,
    pub last_day: i64,
}

impl ArchiveId<'_> {
    /// `BTCUSDT-1m-2023-01-01.zip`
    pub fn file_name(&self) -> String {
        let (y, m, d) = civil_from_days(self.first_day);
        let stamp = match self.freq {
            Freq::Daily => format!("{y:04}-{m:02}-{d:02}"),
            Freq::Monthly => format!("{y:04}-{m:02}"),
        };
        format!(
            "{}-{}-{stamp}.zip",
            self.folder,
            self.interval.unwrap_or(self.dataset)
        )
    }

    /// The key under the bucket: `data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-01-01.zip`.
    pub fn key(&self) -> String {
        let sub = self.interval.map_or(String::new(), |i| format!("{i}/"));
        let (m, f, ds) = (self.market.path(), self.freq.name(), self.dataset);
        format!(
            "data/{m}/{f}/{ds}/{}/{sub}{}",
            self.folder,
            self.file_name()
        )
    }

    /// Whether Vision publishes it (listing dates, lag, outages, missing days).
    pub fn published(&self, ex: &Exchange) -> bool {
        let today = ex.today();
        let sym = self.sym;
        if self.last_day > today - 2 {
            return false;
        }
        match self.freq {
            Freq::Daily => {
                sym.trades_on(self.first_day)
                    && ex.day_counts(sym, self.first_day).0 > 0
                    && !ex
                        .cfg
                        .day_missing(self.market, &self.folder, self.first_day)
            }
            Freq::Monthly => (self.first_day..=self.last_day).any(|d| sym.trades_on(d)),
        }
    }

    /// The sidecar text: `<sha256>  <name>`, with a trailing LF on futures.
    pub fn checksum_text(&self, zip: &[u8]) -> Vec<u8> {
        let hex: String = Sha256::digest(zip)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let lf = if self.market.futures() { "\n" } else { "" };
        format!("{hex}  {}{lf}", self.file_name()).into_bytes()
    }
}

/// Parse a Vision path (`/data/...zip` or `.zip.CHECKSUM`); `None` if it names no archive of
/// this exchange (unknown symbol, dataset, interval, or a malformed name).
pub fn parse_path<'a>(ex: &'a Exchange, path: &str) -> Option<(ArchiveId<'a>, bool)> {
    let rest = path.strip_prefix("/data/")?;
    let (rest, sidecar) = match rest.strip_suffix(".CHECKSUM") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (market, rest) = if let Some(r) = rest.strip_prefix("spot/") {
        (Market::Spot, r)
    } else if let Some(r) = rest.strip_prefix("futures/um/") {
        (Market::Um, r)
    } else {
        (Market::Cm, rest.strip_prefix("futures/cm/")?)
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let freq = match *parts.first()? {
        "daily" => Freq::Daily,
        "monthly" => Freq::Monthly,
        _ => return None,
    };
    let dataset = *datasets(market, freq)
        .iter()
        .find(|d| Some(**d) == parts.get(1).copied())?;
    let ivs = intervals(market, dataset, freq);
    let (folder, interval, file) = match (ivs.is_empty(), parts.len()) {
        (true, 4) => (parts[2], None, parts[3]),
        (false, 5) => (
            parts[2],
            Some(*ivs.iter().find(|i| **i == parts[3])?),
            parts[4],
        ),
        _ => return None,
    };
    let sym = if dataset == "indexPriceKlines" {
        ex.symbols
            .iter()
            .find(|s| s.market == market && s.pair == folder)?
    } else {
        ex.symbol(market, folder)?
    };
    let stamp = file
        .strip_prefix(folder)?
        .strip_prefix('-')?
        .strip_prefix(interval.unwrap_or(dataset))?
        .strip_prefix('-')?
        .strip_suffix(".zip")?;
    let (first_day, last_day) = parse_stamp(stamp, freq)?;
    let id = ArchiveId {
        market,
        freq,
        dataset,
        folder: folder.to_string(),
        sym,
        interval,
        first_day,
        last_day,
    };
    Some((id, sidecar))
}

fn parse_stamp(stamp: &str, freq: Freq) -> Option<(i64, i64)> {
    let num = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (y, m) = (num(stamp.get(0..4)?)?, num(stamp.get(5..7)?)? as u32);
    if stamp.as_bytes()[4] != b'-' || !(1..=12).contains(&m) {
        return None;
    }
    let month_start = days_from_civil(y, m, 1);
    let next = Interval::Month.next_open(month_start * DAY_US) / DAY_US;
    match (freq, stamp.len()) {
        (Freq::Monthly, 7) => Some((month_start, next - 1)),
        (Freq::Daily, 10) if stamp.as_bytes()[7] == b'-' => {
            let d = num(stamp.get(8..10)?)?;
            let day = month_start + d - 1;
            (d >= 1 && day < next).then_some((day, day))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests;

pub use crate::sim::vision::build::{build, build_csv, Archive};
