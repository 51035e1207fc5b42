//! The S3 listing of the bucket: `GET /data.binance.vision?prefix=…&delimiter=/&marker=…`
//! answers ListObjects v1 XML (`ListBucketResult`) with at most 1,000 entries a page (keys and
//! common prefixes together, in key order), `IsTruncated` and `NextMarker`.
//!
//! The key tree is virtual: folders come from the catalogue, files from each symbol's published
//! periods, so listing follows the same lag, listing dates and missing days as the archives.
//! `Size` of a zip is an estimate (building every archive to list it would be too slow);
//! `.CHECKSUM` sizes are exact.

use crate::model::interval::{civil_from_days, days_from_civil, Interval, DAY_US};

use super::{datasets, folders, intervals, ArchiveId, Freq};
use crate::sim::market::catalog::Market;
use crate::sim::market::exchange::Exchange;
use crate::sim::market::rng::{mix, str_key};

/// One listed entry: a key (file) or a folder (ends with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub key: String,
    pub size: u64,
    pub day: i64,
}

impl Node {
    fn dir(key: String) -> Self {
        Node {
            key,
            size: 0,
            day: 0,
        }
    }
    fn is_dir(&self) -> bool {
        self.key.ends_with('/')
    }
}

/// The children of folder `dir` (`""`, `"data/"`, …), sorted by key; `None` if no such folder.
pub fn children(ex: &Exchange, dir: &str) -> Option<Vec<Node>> {
    if dir.is_empty() {
        return Some(vec![Node::dir("data/".into())]);
    }
    let parts: Vec<&str> = dir
        .strip_prefix("data/")?
        .strip_suffix('/')
        .unwrap_or("")
        .split('/')
        .collect();
    let parts: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let sub = |names: &[&str]| {
        let mut v: Vec<Node> = names
            .iter()
            .map(|n| Node::dir(format!("{dir}{n}/")))
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        Some(v)
    };
    let (market, rest) = match parts.as_slice() {
        [] => return sub(&["futures", "spot"]),
        ["futures"] => return sub(&["cm", "um"]),
        ["spot", rest @ ..] => (Market::Spot, rest),
        ["futures", "um", rest @ ..] => (Market::Um, rest),
        ["futures", "cm", rest @ ..] => (Market::Cm, rest),
        _ => return None,
    };
    let freq = match rest.first() {
        None => return sub(&["daily", "monthly"]),
        Some(&"daily") => Freq::Daily,
        Some(&"monthly") => Freq::Monthly,
        Some(_) => return None,
    };
    let Some(&dataset) = rest.get(1) else {
        return sub(datasets(market, freq));
    };
    let dataset = *datasets(market, freq).iter().find(|d| **d == dataset)?;
    let all = folders(ex, market, dataset);
    let Some(&folder) = rest.get(2) else {
        let names: Vec<&str> = all.iter().map(|(f, _)| f.as_str()).collect();
        return sub(&names);
    };
    let sym = all.iter().find(|(f, _)| f == folder)?.1;
    let ivs = intervals(market, dataset, freq);
    let interval = match (ivs.is_empty(), rest.get(3)) {
        (false, None) => return sub(ivs),
        (false, Some(i)) if rest.len() == 4 => Some(*ivs.iter().find(|x| *x == i)?),
        (true, None) => None,
        _ => return None,
    };
    let today = ex.today();
    let last = sym.delisted.unwrap_or(today).min(today - 2);
    let mut out = Vec::new();
    let mut day = sym.listed;
    if freq == Freq::Monthly {
        let (y, m, _) = civil_from_days(day);
        day = days_from_civil(y, m, 1);
    }
    while day <= last {
        let next = match freq {
            Freq::Daily => day + 1,
            Freq::Monthly => Interval::Month.next_open(day * DAY_US) / DAY_US,
        };
        let id = ArchiveId {
            market,
            freq,
            dataset,
            folder: folder.to_string(),
            sym,
            interval,
            first_day: day,
            last_day: next - 1,
        };
        if id.published(ex) {
            let key = id.key();
            let lf = u64::from(market.futures());
            let sidecar = 66 + id.file_name().len() as u64 + lf;
            out.push(Node {
                key: format!("{key}.CHECKSUM"),
                size: sidecar,
                day: next,
            });
            out.push(Node {
                size: estimate(ex, &id),
                key,
                day: next,
            });
        }
        day = next;
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Some(out)
}

/// A plausible compressed size of an archive.
fn estimate(ex: &Exchange, id: &ArchiveId) -> u64 {
    let days = (id.last_day - id.first_day + 1) as u64;
    let (rows, row_bytes) = match (id.dataset, id.interval) {
        ("aggTrades" | "trades", _) => {
            let n: i64 = (id.first_day..=id.last_day)
                .map(|d| ex.day_counts(id.sym, d).1)
                .sum();
            (n.max(0) as u64, 28)
        }
        ("fundingRate", _) => (3 * days, 12),
        (_, Some(i)) => {
            let per_day = match i.parse::<Interval>() {
                Ok(Interval::Fixed(len)) => (DAY_US / len).max(1) as u64,
                _ => 1,
            };
            (per_day * days, 45)
        }
        _ => (days, 45),
    };
    rows * row_bytes + 160
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    pub contents: Vec<Node>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    pub next_marker: Option<String>,
}

/// List keys under `prefix` after `marker`, rolling folders into common prefixes when
/// `delimited`, at most `max_keys` entries.
pub fn list(ex: &Exchange, prefix: &str, delimited: bool, marker: &str, max_keys: usize) -> Page {
    let mut page = Page::default();
    let mut count = 0usize;
    walk(
        ex, "", prefix, delimited, marker, max_keys, &mut page, &mut count,
    );
    page
}

#[allow(clippy::too_many_arguments)]
fn walk(
    ex: &Exchange,
    dir: &str,
    prefix: &str,
    delim: bool,
    marker: &str,
    max: usize,
    page: &mut Page,
    count: &mut usize,
) -> bool {
    let Some(nodes) = children(ex, dir) else {
        return false;
    };
    for node in nodes {
        let k = node.key.as_str();
        let inside = k.starts_with(prefix);
        if !inside && !prefix.starts_with(k) {
            continue;
        }
        if node.is_dir() && !(delim && inside && k.len() > prefix.len()) {
            if k < marker && !marker.starts_with(k) {
                continue;
            }
            if walk(ex, k, prefix, delim, marker, max, page, count) {
                return true;
            }
            continue;
        }
        if !inside || k <= marker {
            continue;
        }
        if *count == max {
            page.truncated = true;
            return true;
        }
        *count += 1;
        page.next_marker = Some(k.to_string());
        if node.is_dir() {
            page.prefixes.push(node.key);
        } else {
            page.contents.push(node);
        }
    }
    false
}

/// The page as S3's XML.
pub fn xml(page: &Page, prefix: &str, marker: &str, delimiter: &str, max_keys: usize) -> String {
    let mut s = String::with_capacity(256 + page.contents.len() * 300);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    s.push_str("<Name>data.binance.vision</Name>");
    s += &format!(
        "<Prefix>{}</Prefix><Marker>{}</Marker>",
        esc(prefix),
        esc(marker)
    );
    if page.truncated {
        if let Some(m) = &page.next_marker {
            s += &format!("<NextMarker>{}</NextMarker>", esc(m));
        }
    }
    s += &format!("<MaxKeys>{max_keys}</MaxKeys>");
    if !delimiter.is_empty() {
        s += &format!("<Delimiter>{}</Delimiter>", esc(delimiter));
    }
    s += &format!("<IsTruncated>{}</IsTruncated>", page.truncated);
    for n in &page.contents {
        let (y, m, d) = civil_from_days(n.day);
        let h = mix(str_key(&n.key));
        let (hh, mm, ss) = (1 + h % 8, (h >> 8) % 60, (h >> 16) % 60);
        s += &format!(
            "<Contents><Key>{}</Key><LastModified>{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.000Z</LastModified>\
             <ETag>&quot;{:016x}{:016x}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            esc(&n.key), h, mix(h), n.size
        );
    }
    for p in &page.prefixes {
        s += &format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            esc(p)
        );
    }
    s.push_str("</ListBucketResult>");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests;
