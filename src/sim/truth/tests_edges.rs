//! Tests of the bounds and bad input, the listing window, the outages, and the forward-only
//! clock with the archive memo.

use super::tests::{day, get, ints, sim_at, ts};
use super::*;
use crate::model::dataset::Dataset;
use crate::model::interval::{HOUR_US, MINUTE_US};
use crate::sim::vision::tests::unzip;

#[test]
fn bad_or_huge_requests_are_refused() {
    let sim = sim_at(day(2025, 6, 1));
    let (a, b) = (day(2023, 1, 1), day(2024, 3, 1));
    let bad = |r: Result<RecordBatch>| matches!(r, Err(Error::Invalid(_)));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "trades",
        "BTCUSDT",
        None,
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1s"),
        day(2021, 1, 1),
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Um,
        "klines",
        "BTCUSDT",
        Some("1s"),
        a,
        a + 60
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "markPriceKlines",
        "BTCUSDT",
        Some("1m"),
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "fundingRate",
        "BTCUSDT",
        None,
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        None,
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "trades",
        "BTCUSDT",
        Some("1m"),
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "bookTicker",
        "BTCUSDT",
        None,
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "klines",
        "NOPE",
        Some("1m"),
        a,
        b
    )));
    assert!(bad(get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("7m"),
        a,
        b
    )));
    let empty = get(&sim, Market::Spot, "trades", "BTCUSDT", None, b, a).unwrap();
    assert_eq!(empty.num_rows(), 0);
    assert_eq!(empty.schema(), Dataset::Trades.schema());
    let mut rows = Rows::trades(true);
    assert!(matches!(
        rows.push_trade("1,2.0,3.0", 1000),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        rows.push_trade("1,x,3,4,5,true", 1000),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        rows.push_trade("1,2,3,4,5,yes", 1000),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        rows.push_trade("1,inf,3,4,5,true", 1000),
        Err(Error::Parse { .. })
    ));
    let t = format!("1,2,3,4,{},true", i64::MAX / 10);
    assert!(matches!(
        rows.push_trade(&t, 1000),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        rows.push_trade("1,2,3,4,5,true,True,0", 1),
        Err(Error::Parse { .. })
    ));
}

#[test]
fn listing_windows_and_outages() {
    let sim = sim_at(day(2025, 6, 1));
    let l = |s: &str| listing(&sim, Market::Spot, s).unwrap();
    assert_eq!(l("BUSDUSDT"), (day(2020, 1, 1), Some(day(2023, 12, 15))));
    assert_eq!(l("SOLUSDT"), (day(2020, 8, 11), None));
    assert_eq!(l("BTCUSDT"), (day(2020, 1, 1), None));
    assert!(listing(&sim, Market::Cm, "BTCUSDT").is_err());
    let d = day(2023, 3, 24);
    let o = outages(&sim, Market::Spot, d, d + DAY_US);
    assert_eq!(
        o,
        vec![(d + 12 * HOUR_US + 40 * MINUTE_US, d + 14 * HOUR_US)]
    );
    assert!(outages(&sim, Market::Um, d, d + DAY_US).is_empty());
    let after = day(2023, 12, 16);
    let none = get(
        &sim,
        Market::Spot,
        "klines",
        "BUSDUSDT",
        Some("1d"),
        after,
        after + DAY_US,
    );
    assert_eq!(none.unwrap().num_rows(), 0);
}

#[test]
fn the_clock_moves_forward_only_and_the_memo_follows_it() {
    let now = day(2024, 6, 2) + 12 * HOUR_US;
    let sim = sim_at(now);
    let path = "/data/spot/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-05.zip";
    let early = unzip(&sim.vision(path).unwrap());
    assert_eq!(sim.vision(path).map(|z| unzip(&z)), Some(early.clone()));
    assert!(sim
        .vision("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-06-01.zip")
        .is_none());
    let (may27, jun3) = (day(2024, 5, 27), day(2024, 6, 3));
    let t = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1w"),
        may27,
        jun3,
    )
    .unwrap();
    assert_eq!(t.num_rows(), 0, "the week of May 27 is still open");
    assert!(matches!(sim.set_now_us(now - 1), Err(Error::Invalid(_))));
    sim.set_now_us(day(2024, 6, 4)).unwrap();
    assert_eq!(sim.data.ex.now_us(), day(2024, 6, 4));
    let late = unzip(&sim.vision(path).unwrap());
    assert_ne!(
        late, early,
        "the last week's candle is rebuilt once the clock moved"
    );
    let t = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1w"),
        may27,
        jun3,
    )
    .unwrap();
    let last = String::from_utf8(late).unwrap();
    let last: Vec<&str> = last.lines().last().unwrap().split(',').collect();
    assert_eq!(
        last[0].parse::<i64>().unwrap() * 1000,
        ts(&t, "open_time")[0]
    );
    assert_eq!(last[8].parse::<i64>().unwrap(), ints(&t, "trades")[0]);
    assert!(sim
        .vision("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-06-01.zip")
        .is_some());
}
