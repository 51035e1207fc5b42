//! Tests of the REST endpoints against the archives.

use super::*;
use crate::model::interval::{days_from_civil, DAY_US};
use crate::sim::config::{Limits, SimConfig};
use crate::sim::market::exchange::Exchange;
use crate::sim::vision::{build_csv, parse_path};

fn setup() -> (Data, Limiter) {
    let now = days_from_civil(2025, 3, 10) * DAY_US + 7_200_000_000;
    let cfg = SimConfig {
        now_us: Some(now),
        ..SimConfig::default()
    };
    (
        Data::new(Exchange::new(cfg), 1 << 28),
        Limiter::new(Limits::default()),
    )
}

fn get(d: &Data, l: &Limiter, url: &str, micro: bool) -> Reply {
    let mut req = Req::get(url);
    if micro {
        req.headers
            .insert("X-MBX-TIME-UNIT", "MICROSECOND".parse().unwrap());
    }
    handle(d, l, &req).expect(url)
}

fn body(r: &Reply) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// CSV rows → the JSON strings of their fields, for comparison with REST.
fn csv_as_json_kline(csv: &str) -> String {
    rows::array(csv.lines().map(|l| {
        let mut s = String::new();
        rows::kline(l, &mut s);
        s
    }))
}

#[test]
fn rest_klines_equal_archive_rows_in_both_time_units() {
    let (d, l) = setup();
    for (day, micro, start) in [
        ("2024-05-02", false, 1_714_608_000_000i64),
        ("2025-01-07", true, 1_736_208_000_000_000),
    ] {
        let path = format!("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-{day}.zip");
        let (id, _) = parse_path(&d.ex, &path).unwrap();
        let csv = String::from_utf8(build_csv(&d, &id)).unwrap();
        let mut json = Vec::new();
        for page in 0..2 {
            let s = start + page * 1000 * if micro { 60_000_000 } else { 60_000 };
            let url = format!("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={s}&limit=1000");
            let r = get(&d, &l, &url, micro);
            assert_eq!(r.status, 200);
            let b = body(&r);
            json.push(b[1..b.len() - 1].to_string());
        }
        let rest = format!("[{}]", json.join(","));
        let first_day: String = csv_as_json_kline(&csv);
        assert!(rest.starts_with(&first_day[..first_day.len() - 1]), "{day}");
    }
}

#[test]
fn agg_trades_page_by_from_id_like_the_archive() {
    let (d, l) = setup();
    let path = "/data/futures/um/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2024-06-01.zip";
    let (id, _) = parse_path(&d.ex, path).unwrap();
    let csv = String::from_utf8(build_csv(&d, &id)).unwrap();
    let rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with("agg")).collect();
    let first: i64 = rows[0].split(',').next().unwrap().parse().unwrap();
    let r = get(
        &d,
        &l,
        &format!("/fapi/v1/aggTrades?symbol=ETHUSDT&fromId={first}&limit=3"),
        false,
    );
    let mut want = String::new();
    rows::agg_trade(rows[0], &mut want);
    assert!(body(&r).starts_with(&format!("[{want},")), "{}", body(&r));
    assert_eq!(body(&r).matches("\"a\":").count(), 3);
    let t0: i64 = rows[0].split(',').nth(5).unwrap().parse().unwrap();
    let r = get(
        &d,
        &l,
        &format!(
            "/fapi/v1/aggTrades?symbol=ETHUSDT&startTime={t0}&endTime={}",
            t0 + 10_000
        ),
        false,
    );
    assert!(body(&r).starts_with(&format!("[{want}")));
    let r = get(
        &d,
        &l,
        &format!(
            "/fapi/v1/aggTrades?symbol=ETHUSDT&startTime={t0}&endTime={}",
            t0 + 7_200_000
        ),
        false,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn errors_weights_and_recent_rows() {
    let (d, l) = setup();
    let r = get(&d, &l, "/api/v3/klines?symbol=NOPE&interval=1m", false);
    assert_eq!(
        (r.status, body(&r).as_str()),
        (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#)
    );
    let r = get(&d, &l, "/api/v3/klines?symbol=BTCUSDT", false);
    assert!(body(&r).contains("-1102"));
    let r = get(&d, &l, "/fapi/v1/klines?symbol=BTCUSDT&interval=1s", false);
    assert!(body(&r).contains("-1120"));
    let r = get(
        &d,
        &l,
        "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001",
        false,
    );
    assert!(body(&r).contains("-1130"));
    let r = get(
        &d,
        &l,
        "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500",
        false,
    );
    assert_eq!(r.status, 200);
    assert_eq!(body(&r).matches('[').count(), 1501);
    let w = r
        .headers
        .iter()
        .find(|(k, _)| k == "X-MBX-USED-WEIGHT-1M")
        .unwrap();
    assert_eq!(
        w.1, "15",
        "5 for the rejected 1s request, 10 for limit 1500"
    );
    let r = get(&d, &l, "/api/v3/trades?symbol=ETHUSDT&limit=7", false);
    assert_eq!(body(&r).matches("\"isBestMatch\":true").count(), 7);
    let r = get(
        &d,
        &l,
        "/dapi/v1/indexPriceKlines?pair=BTCUSD&interval=1h&limit=3",
        false,
    );
    assert_eq!(body(&r).matches('[').count(), 4);
    let r = get(&d, &l, "/fapi/v1/fundingRate?symbol=BTCUSDT&limit=4", false);
    assert_eq!(body(&r).matches("fundingTime").count(), 4);
    let r = get(&d, &l, "/api/v3/exchangeInfo?symbol=BTCUSDT", false);
    assert!(body(&r).contains("\"tickSize\":\"0.01000000\""));
    let r = get(&d, &l, "/api/v3/nothing", false);
    assert_eq!(r.status, 404);
}

#[test]
fn exchange_info_and_weight_headers_follow_the_configured_window() {
    let (d, _) = setup();
    let l = Limiter::new(Limits {
        spot_weight: 600,
        futures_weight: 300,
        window_s: 10,
        ..Limits::default()
    });
    let r = get(&d, &l, "/api/v3/exchangeInfo?symbol=BTCUSDT", false);
    assert!(body(&r).contains(
        r#"{"rateLimitType":"REQUEST_WEIGHT","interval":"SECOND","intervalNum":10,"limit":600}"#
    ));
    let used = |r: &Reply, name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(used(&r, "X-MBX-USED-WEIGHT-10S").as_deref(), Some("20"));
    assert_eq!(used(&r, "X-MBX-USED-WEIGHT-1M"), None);
    let r = get(&d, &l, "/fapi/v1/exchangeInfo", false);
    assert!(body(&r).contains(r#""interval":"SECOND","intervalNum":10,"limit":300}"#));
    let r = get(&d, &l, "/api/v3/aggTrades?symbol=BTCUSDT&limit=1", false);
    assert_eq!(used(&r, "X-MBX-USED-WEIGHT-10S").as_deref(), Some("24"));
    assert_eq!(interval_name(120), ("MINUTE", 2, 'M'));
    assert_eq!(interval_name(3600), ("HOUR", 1, 'H'));
    assert_eq!(used_weight_header(60), "X-MBX-USED-WEIGHT-1M");
}

#[test]
fn malformed_faults_break_the_real_answer_but_keep_its_weight() {
    use crate::sim::server::app::apply;
    use crate::sim::server::faults::{FaultKind, FaultParams, MALFORMED_KINDS};
    let (d, l) = setup();
    let url = "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3";
    let real = body(&get(&d, &l, url, false));
    for name in MALFORMED_KINDS {
        let kind = FaultKind::parse(name, FaultParams::default()).unwrap();
        let r = apply(kind, get(&d, &l, url, false), "/api/v3/klines");
        assert_eq!(r.status, 200, "{name}");
        assert!(r.headers.iter().any(|(k, _)| k == "X-MBX-USED-WEIGHT-1M"));
        assert_ne!(body(&r), real, "{name} changes the body");
    }
}
