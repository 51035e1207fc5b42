//! The checks on real Binance files (`$CKV_REAL_FIXTURES`, else `../shared/fixtures/real`): the
//! whole 2023 spot BTCUSDT 1m year has exactly one gap, the real outage of 2023-03-24
//! 12:40–13:59 UTC. Skipped (with a note) when the fixtures are absent.

use std::io::Read;
use std::path::PathBuf;

use super::klines::tests::klines;
use super::{find_gaps, Gap, GapKind};
use crate::model::interval::{days_from_civil, Interval, DAY_US, MINUTE_US};

#[allow(
    clippy::print_stderr,
    reason = "says why the real-fixture tests did nothing"
)]
fn fixtures() -> Option<PathBuf> {
    let dir = crate::parse::testutil::fixtures_root();
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: no real fixtures at {}", dir.display());
        None
    }
}

/// The CSV member of a single-file Vision zip (local header, raw deflate; test-only reader).
fn unzip(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let (method, size) = (u16_at(8), u32_at(18));
    let start = 30 + u16_at(26) + u16_at(28);
    assert_eq!(method, 8, "deflate");
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(&bytes[start..start + size])
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// Open and close times of a kline CSV (the check reads no other column but the prices, which
/// are taken from the file as well).
fn parse(csv: &str) -> (Vec<i64>, Vec<i64>, Vec<[f64; 4]>) {
    let (mut opens, mut closes, mut prices) = (vec![], vec![], vec![]);
    let us = |s: &str| {
        let v: i64 = s.parse().unwrap();
        if s.len() <= 13 {
            v * 1000
        } else {
            v
        }
    };
    for line in csv.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        opens.push(us(f[0]));
        closes.push(us(f[6]));
        let p = |k: usize| f[k].parse::<f64>().unwrap();
        prices.push([p(1), p(2), p(3), p(4)]);
    }
    (opens, closes, prices)
}

#[test]
fn real_2023_btcusdt_1m_year_has_one_gap() {
    let Some(dir) = fixtures() else { return };
    let dir = dir.join("spot_klines_btcusdt_1m_2023");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 365);
    let mut batches = Vec::new();
    let mut rows = 0;
    for name in &names {
        let (opens, closes, prices) = parse(&unzip(&std::fs::read(dir.join(name)).unwrap()));
        rows += opens.len();
        let mut batch = klines(&opens, &closes, &[]);
        // Put the file's prices into open/high/low/close.
        let mut cols = batch.columns().to_vec();
        for (k, col) in cols.iter_mut().enumerate().skip(1).take(4) {
            let v: Vec<f64> = prices.iter().map(|p| p[k - 1]).collect();
            *col = std::sync::Arc::new(arrow_array::Float64Array::from(v));
        }
        batch = arrow_array::RecordBatch::try_new(batch.schema(), cols).unwrap();
        batches.push(batch);
    }
    assert_eq!(rows, 525_520);
    let gaps = find_gaps(&batches, Some(Interval::Fixed(MINUTE_US))).unwrap();
    let day = days_from_civil(2023, 3, 24) * DAY_US;
    let at = |h: i64, m: i64| day + (h * 60 + m) * MINUTE_US;
    let want = Gap {
        kind: GapKind::Missing,
        before: at(12, 39),
        after: at(14, 0),
        missing: 80,
        start: at(12, 40),
        end: at(14, 0),
    };
    assert_eq!(gaps, vec![want]);
}
