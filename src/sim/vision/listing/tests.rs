//! Tests of the virtual S3 listing.

use super::*;
use crate::sim::config::SimConfig;

fn ex(many: usize) -> Exchange {
    let now = days_from_civil(2024, 3, 10) * DAY_US;
    Exchange::new(SimConfig {
        now_us: Some(now),
        many_symbols: many,
        ..SimConfig::default()
    })
}

#[test]
fn folders_list_as_common_prefixes() {
    let ex = ex(0);
    let p = list(&ex, "data/", true, "", 1000);
    assert_eq!(p.prefixes, vec!["data/futures/", "data/spot/"]);
    let p = list(
        &ex,
        "data/futures/cm/daily/indexPriceKlines/",
        true,
        "",
        1000,
    );
    assert_eq!(p.prefixes.len(), 2);
    assert!(p.prefixes[0].ends_with("/BTCUSD/"));
    let p = list(&ex, "data/spot/daily/klines/BTCUSDT/", true, "", 1000);
    assert_eq!(p.prefixes.len(), 13);
    assert!(p
        .prefixes
        .contains(&"data/spot/daily/klines/BTCUSDT/1s/".to_string()));
    let p = list(&ex, "data/spot/daily/klines/BT", true, "", 1000);
    assert_eq!(p.prefixes, vec!["data/spot/daily/klines/BTCUSDT/"]);
}

#[test]
fn keys_page_by_marker_and_follow_publication() {
    let ex = ex(0);
    let prefix = "data/spot/daily/klines/BTCUSDT/1m/";
    let mut marker = String::new();
    let mut keys = Vec::new();
    loop {
        let p = list(&ex, prefix, true, &marker, 1000);
        assert!(p.prefixes.is_empty());
        keys.extend(p.contents.iter().map(|n| n.key.clone()));
        if !p.truncated {
            break;
        }
        assert_eq!(p.contents.len(), 1000);
        marker = p.next_marker.unwrap();
    }
    let days = (days_from_civil(2024, 3, 8) - days_from_civil(2020, 1, 1) + 1) as usize;
    assert_eq!(keys.len(), 2 * days);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    assert!(keys[0].ends_with("BTCUSDT-1m-2020-01-01.zip"));
    assert!(keys[1].ends_with("BTCUSDT-1m-2020-01-01.zip.CHECKSUM"));
    assert!(keys
        .last()
        .unwrap()
        .ends_with("BTCUSDT-1m-2024-03-08.zip.CHECKSUM"));
    // Without a delimiter the same keys come out of a wider prefix.
    let p = list(&ex, "data/spot/daily/klines/BTCUSDT/", false, "", 5);
    assert!(p.contents[0]
        .key
        .starts_with("data/spot/daily/klines/BTCUSDT/12h/"));
    let x = xml(&p, "data/spot/daily/klines/BTCUSDT/", "", "", 5);
    assert!(x.contains("<IsTruncated>true</IsTruncated>") && x.contains("<NextMarker>"));
}

#[test]
fn many_symbols_page_as_prefixes_with_delisted_ones_stopping() {
    let ex = ex(3000);
    let mut marker = String::new();
    let mut n = 0;
    let mut pages = 0;
    loop {
        let p = list(&ex, "data/spot/daily/klines/", true, &marker, 1000);
        n += p.prefixes.len();
        pages += 1;
        if !p.truncated {
            break;
        }
        marker = p.next_marker.unwrap();
    }
    assert_eq!(n, 3006);
    assert_eq!(pages, 4);
    let gone = ex
        .symbols
        .iter()
        .find(|s| s.delisted.is_some_and(|d| d < days_from_civil(2023, 1, 1)))
        .unwrap();
    let prefix = format!("data/spot/monthly/aggTrades/{}/", gone.name);
    let p = list(&ex, &prefix, true, "", 1000);
    let (y, m, _) = civil_from_days(gone.delisted.unwrap());
    assert!(p
        .contents
        .last()
        .unwrap()
        .key
        .ends_with(&format!("-{y:04}-{m:02}.zip.CHECKSUM")));
}
