//! Archive bytes: the CSV in Binance's text (header only where Binance writes one), zipped as
//! one deflated member named like the zip, and the `.CHECKSUM` sidecar of the zip's sha256.
//! Monthly files are their days' rows back to back; 3d/1w/1mo candles span their whole interval.

use crate::model::interval::{Interval, DAY_US};

use super::csv::{funding_row, has_header, header, RowWriter};
use super::zip::zip_member;
use super::ArchiveId;
use crate::sim::market::data::Data;
use crate::sim::market::exchange::Exchange;
use crate::sim::market::mark::{funding, PriceKind};

/// The CSV of an archive, header included when Binance would write one.
pub fn build_csv(data: &Data, id: &ArchiveId) -> Vec<u8> {
    let (sym, market) = (id.sym, id.market);
    let first = id.first_day.max(sym.listed);
    let last = sym.delisted.map_or(id.last_day, |d| d.min(id.last_day));
    let w = RowWriter {
        sym,
        unit_us: Exchange::unit_us(market, id.first_day),
    };
    let mut buf = Vec::new();
    if has_header(market, id.dataset, id.first_day) {
        buf.extend_from_slice(header(market, id.dataset).as_bytes());
        buf.push(b'\n');
    }
    match id.dataset {
        "aggTrades" | "trades" => {
            for day in first..=last {
                let tr = data.day(sym, day);
                buf.reserve(tr.time.len() * 72);
                if id.dataset == "trades" {
                    (0..tr.time.len()).for_each(|i| w.trade(&mut buf, &tr, i));
                } else {
                    (0..tr.n_aggs()).for_each(|j| w.agg(&mut buf, &tr, j));
                }
            }
        }
        "fundingRate" => {
            for day in first..=last {
                for f in funding(&data.ex, sym, day) {
                    funding_row(&mut buf, f.time_ms, f.rate);
                }
            }
        }
        kind => {
            let kind = match kind {
                "markPriceKlines" => Some(PriceKind::Mark),
                "indexPriceKlines" => Some(PriceKind::Index),
                "premiumIndexKlines" => Some(PriceKind::Premium),
                _ => None,
            };
            let iv: Interval = id
                .interval
                .unwrap_or("1d")
                .parse()
                .unwrap_or(Interval::Month);
            let range = (first * DAY_US, (last + 1) * DAY_US);
            for k in data.klines(sym, kind, iv, range, usize::MAX) {
                match kind {
                    None => w.kline(&mut buf, &k),
                    Some(_) => w.price_kline(&mut buf, &k),
                }
            }
        }
    }
    buf
}

/// A built archive: the zip and its sidecar.
pub struct Archive {
    pub zip: bytes::Bytes,
    pub checksum: bytes::Bytes,
}

/// Build the archive `id` (CSV → zip → sha256).
pub fn build(data: &Data, id: &ArchiveId, level: u32) -> Archive {
    let csv = build_csv(data, id);
    let member = id.file_name().replace(".zip", ".csv");
    let zip = zip_member(&member, &csv, level);
    let checksum = id.checksum_text(&zip);
    Archive {
        zip: zip.into(),
        checksum: checksum.into(),
    }
}
