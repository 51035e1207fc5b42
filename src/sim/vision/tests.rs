//! Tests of the Vision layout and archive bytes.

use super::*;
use crate::sim::config::SimConfig;
use crate::sim::market::data::Data;
use std::io::Read;

/// The member of a one-member zip.
pub(crate) fn unzip(z: &[u8]) -> Vec<u8> {
    let le16 = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
    let csize = u32::from_le_bytes(z[18..22].try_into().unwrap()) as usize;
    let start = 30 + le16(26) + le16(28);
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(&z[start..start + csize])
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn data(now: (i64, u32, u32)) -> Data {
    let now_us = days_from_civil(now.0, now.1, now.2) * DAY_US + 3_600_000_000;
    let cfg = SimConfig {
        now_us: Some(now_us),
        ..SimConfig::default()
    };
    Data::new(Exchange::new(cfg), 1 << 28)
}

fn csv_of(d: &Data, path: &str) -> String {
    let (id, _) = parse_path(&d.ex, path).expect(path);
    assert!(id.published(&d.ex), "{path}");
    assert_eq!(format!("/{}", id.key()), path);
    String::from_utf8(build_csv(d, &id)).unwrap()
}

#[test]
fn paths_parse_only_when_they_name_an_archive() {
    let d = data((2025, 6, 1));
    let ok = [
        "/data/spot/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-02-29.zip",
        "/data/futures/cm/monthly/indexPriceKlines/BTCUSD/1w/BTCUSD-1w-2023-01.zip.CHECKSUM",
        "/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-02.zip",
        "/data/futures/um/daily/trades/ETHUSDT/ETHUSDT-trades-2024-02-01.zip",
    ];
    for p in ok {
        assert!(parse_path(&d.ex, p).is_some(), "{p}");
    }
    let bad = [
        "/data/spot/daily/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-02-01.zip",
        "/data/futures/um/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-02-01.zip",
        "/data/futures/um/daily/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-02-01.zip",
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-02-30.zip",
        "/data/spot/daily/klines/NOPEUSDT/1m/NOPEUSDT-1m-2023-02-01.zip",
        "/data/spot/daily/klines/BTCUSDT/1m/ETHUSDT-1m-2023-02-01.zip",
        "/data/spot/daily/aggTrades",
        "/data/spot",
    ];
    for p in bad {
        assert!(parse_path(&d.ex, p).is_none(), "{p}");
    }
}

#[test]
fn publication_lag() {
    let d = data((2024, 3, 10));
    let p = |path: &str| parse_path(&d.ex, path).unwrap().0.published(&d.ex);
    assert!(p(
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-08.zip"
    ));
    assert!(!p(
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-09.zip"
    ));
    assert!(!p(
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-10.zip"
    ));
    assert!(p(
        "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02.zip"
    ));
    assert!(!p(
        "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03.zip"
    ));
    assert!(!p(
        "/data/spot/daily/klines/SOLUSDT/1m/SOLUSDT-1m-2020-08-10.zip"
    ));
    assert!(p(
        "/data/spot/daily/klines/SOLUSDT/1m/SOLUSDT-1m-2020-08-11.zip"
    ));
    assert!(!p(
        "/data/spot/daily/klines/BUSDUSDT/1m/BUSDUSDT-1m-2023-12-16.zip"
    ));
}

#[test]
fn spot_files_switch_to_microseconds_in_2025_and_have_no_header() {
    let d = data((2025, 6, 1));
    let ms = csv_of(
        &d,
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-12-31.zip",
    );
    let us = csv_of(
        &d,
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip",
    );
    assert_eq!(ms.lines().count(), 1440);
    assert_eq!(
        ms.lines().next().unwrap().split(',').next().unwrap().len(),
        13
    );
    assert_eq!(
        us.lines().next().unwrap().split(',').next().unwrap().len(),
        16
    );
    assert!(us
        .lines()
        .next()
        .unwrap()
        .split(',')
        .nth(6)
        .unwrap()
        .ends_with("999999"));
    let fields: Vec<&str> = ms.lines().next().unwrap().split(',').collect();
    assert_eq!(fields.len(), 12);
    assert_eq!(fields[1].split('.').nth(1).unwrap().len(), 8);
    let agg = csv_of(
        &d,
        "/data/spot/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2025-01-02.zip",
    );
    assert!(agg.lines().next().unwrap().ends_with(",True") && agg.ends_with('\n'));
}

#[test]
fn futures_headers_vary_by_date_and_checksums_end_with_lf() {
    let d = data((2024, 6, 1));
    let mut with = 0;
    for day in 1..=20 {
        let p = format!("/data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-{day:02}.zip");
        let csv = csv_of(&d, &p);
        if csv.starts_with("open_time,") {
            with += 1;
            assert_eq!(csv.lines().count(), 25);
        } else {
            assert_eq!(csv.lines().count(), 24);
        }
    }
    assert!(with > 2 && with < 18, "{with} of 20 days with a header");
    let (id, _) = parse_path(
        &d.ex,
        "/data/futures/cm/daily/aggTrades/BTCUSD_PERP/BTCUSD_PERP-aggTrades-2024-01-05.zip",
    )
    .unwrap();
    let a = build(&d, &id, 6);
    assert!(a
        .checksum
        .ends_with(b"  BTCUSD_PERP-aggTrades-2024-01-05.zip\n"));
    assert_eq!(a.checksum.len(), 64 + 2 + 36 + 1);
    let text = String::from_utf8(unzip(&a.zip)).unwrap();
    let row = text.lines().find(|l| !l.starts_with("agg")).unwrap();
    assert!(row.ends_with(",true") || row.ends_with(",false"));
    assert!(
        row.split(',').nth(2).unwrap().ends_with(".0"),
        "contracts print as floats: {row}"
    );
}
