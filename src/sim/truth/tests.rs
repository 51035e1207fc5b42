//! Tests of the truth: final candles only, exact units, whole days of trades, both funding
//! forms (`tests_edges`: bounds, bad input, listing, outages, the clock and the memo).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};

use super::*;
use crate::model::dataset::Dataset;
use crate::model::interval::{days_from_civil, HOUR_US, MINUTE_US, SECOND_US};
use crate::sim::config::SimConfig;
use crate::sim::vision::tests::unzip;

pub(super) fn sim_at(now_us: i64) -> Simulator {
    Simulator::new(SimConfig {
        now_us: Some(now_us),
        cache_bytes: 64 << 20,
        ..SimConfig::default()
    })
}

pub(super) fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY_US
}

pub(super) fn ts(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<TimestampMicrosecondType>()
        .values()
        .to_vec()
}

pub(super) fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<Float64Type>().values().to_vec()
}

pub(super) fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).unwrap();
    c.as_primitive::<Int64Type>().values().to_vec()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn get(
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
