//! Tests of the truth: final candles only, exact units, whole days of trades, both funding
//! forms, the bounds, the listing window, outages, and the forward-only clock with the memo.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};

use super::*;
use crate::interval::{days_from_civil, HOUR_US, MINUTE_US, SECOND_US};
use crate::sim::config::SimConfig;
use crate::sim::vision::tests::unzip;

fn sim_at(now_us: i64) -> Simulator {
    Simulator::new(SimConfig {
        now_us: Some(now_us),
        cache_bytes: 64 << 20,
        ..SimConfig::default()
    })
}

fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY_US
}

fn ts(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<TimestampMicrosecondType>()
        .values()
        .to_vec()
}

fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<Float64Type>().values().to_vec()
}

fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<Int64Type>().values().to_vec()
}

#[allow(clippy::too_many_arguments)]
fn get(
    sim: &Simulator,
    m: Market,
    ds: &str,
    sym: &str,
    iv: Option<&str>,
    a: i64,
    b: i64,
) -> Result<RecordBatch> {
    truth(sim, m, ds, sym, iv, a, b, Form::Vision)
}

#[test]
fn klines_stop_before_the_open_candle_in_the_day_s_unit() {
    let now = day(2025, 2, 3) + 13 * HOUR_US + 37 * MINUTE_US + 21 * SECOND_US + 500_000;
    let sim = sim_at(now);
    let d = day(2025, 2, 3);
    let b = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1m"),
        d,
        d + DAY_US,
    )
    .unwrap();
    assert_eq!(
        b.num_rows(),
        13 * 60 + 37,
        "00:00 … 13:36; 13:37 is still open"
    );
    assert_eq!(b.schema(), Dataset::Klines.schema());
    let close = ts(&b, "close_time");
    assert_eq!(close[0], d + MINUTE_US - 1, "µs era: .999999");
    assert!(close.iter().all(|&c| c < now));
    let sym = sim.data.ex.symbol(Market::Spot, "BTCUSDT").unwrap();
    let all = sim
        .data
        .klines(sym, None, Interval::Fixed(MINUTE_US), (d, d + DAY_US), 2000);
    assert_eq!(
        all.len(),
        b.num_rows() + 1,
        "the simulator itself serves the open one"
    );
    let old = day(2024, 2, 3);
    let b = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1h"),
        old,
        old + DAY_US,
    )
    .unwrap();
    assert_eq!(
        ts(&b, "close_time")[0],
        old + HOUR_US - 1000,
        "ms era: .999000"
    );
    let week = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1w"),
        day(2025, 1, 1),
        now,
    );
    let open = ts(&week.unwrap(), "open_time");
    assert_eq!(
        open.first(),
        Some(&day(2025, 1, 6)),
        "keys in range: Mondays from Jan 6"
    );
    assert_eq!(
        open.last(),
        Some(&day(2025, 1, 27)),
        "the week of Feb 3 is open"
    );
}

#[test]
fn klines_equal_the_served_archive_rows() {
    let sim = sim_at(day(2024, 7, 1));
    let path = "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-24.zip";
    let csv = String::from_utf8(unzip(&sim.vision(path).unwrap())).unwrap();
    let d = day(2023, 3, 24);
    let b = get(
        &sim,
        Market::Spot,
        "klines",
        "BTCUSDT",
        Some("1m"),
        d,
        d + DAY_US,
    )
    .unwrap();
    assert_eq!(
        b.num_rows(),
        1440 - 80,
        "the 12:40-14:00 outage has no candles"
    );
    let (open, close) = (ts(&b, "open_time"), floats(&b, "close"));
    for (i, line) in csv.lines().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0].parse::<i64>().unwrap() * 1000, open[i]);
        assert_eq!(f[4].parse::<f64>().unwrap(), close[i]);
    }
    assert_eq!(csv.lines().count(), b.num_rows());
}

#[test]
fn trades_are_whole_days_in_id_order_up_to_now() {
    let now = day(2024, 5, 2) + 6 * HOUR_US;
    let sim = sim_at(now);
    let d = day(2024, 5, 1);
    let sym = sim.data.ex.symbol(Market::Um, "BTCUSDT").unwrap();
    let (aggs, trades) = sim.data.ex.day_counts(sym, d / DAY_US);
    let t = get(&sim, Market::Um, "trades", "BTCUSDT", None, d, d + DAY_US).unwrap();
    assert_eq!(t.num_rows() as i64, trades);
    let id = ints(&t, "trade_id");
    assert!(id.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(ts(&t, "time").windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        t.column_by_name("is_best_match").unwrap().null_count(),
        t.num_rows()
    );
    let a = get(
        &sim,
        Market::Um,
        "aggTrades",
        "BTCUSDT",
        None,
        d,
        d + DAY_US,
    )
    .unwrap();
    assert_eq!(a.num_rows() as i64, aggs);
    let spot = get(
        &sim,
        Market::Spot,
        "aggTrades",
        "BTCUSDT",
        None,
        d,
        d + DAY_US,
    )
    .unwrap();
    let best = spot.column_by_name("is_best_match").unwrap();
    assert_eq!(best.null_count(), 0);
    assert!(best.as_boolean().iter().all(|v| v == Some(true)));
    let today = get(
        &sim,
        Market::Um,
        "trades",
        "BTCUSDT",
        None,
        now - HOUR_US,
        now + HOUR_US,
    );
    let time = ts(&today.unwrap(), "time");
    assert!(!time.is_empty() && time.iter().all(|&x| x <= now && x >= now - HOUR_US));
}

#[test]
fn funding_has_a_vision_and_a_rest_form() {
    let sim = sim_at(day(2024, 6, 1));
    let (a, b) = (day(2024, 5, 1), day(2024, 5, 3));
    let v = truth(
        &sim,
        Market::Um,
        "fundingRate",
        "BTCUSDT",
        None,
        a,
        b,
        Form::Vision,
    )
    .unwrap();
    let r = truth(
        &sim,
        Market::Um,
        "fundingRate",
        "BTCUSDT",
        None,
        a,
        b,
        Form::Rest,
    )
    .unwrap();
    assert_eq!(v.num_rows(), 6);
    assert_eq!(ts(&v, "time"), ts(&r, "time"));
    assert_eq!(floats(&v, "funding_rate"), floats(&r, "funding_rate"));
    assert_eq!(ints(&v, "funding_interval_hours"), vec![8; 6]);
    assert_eq!(v.column_by_name("mark_price").unwrap().null_count(), 6);
    assert_eq!(
        r.column_by_name("funding_interval_hours")
            .unwrap()
            .null_count(),
        6
    );
    assert!(floats(&r, "mark_price").iter().all(|&p| p > 10_000.0));
    assert!(ts(&v, "time")
        .iter()
        .all(|&t| t % 1000 == 0 && t >= a && t < b));
}

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
