//! The REST page parser against the archive parser (the same decimal text gives bit-identical
//! floats, the same rows give equal columns), every malformed shape with its reason, and a
//! seeded fuzz of real-shaped pages (no panics, sane rows, heap growing with the input only).

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::{parse_page, Page};
use crate::model::dataset::{Dataset, Market};
use crate::parse::parse_bytes;

/// splitmix64: deterministic, no crates.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A decimal as Binance writes them, sometimes an unusual but valid one.
fn decimal(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => "0".into(),
        1 => format!("{}e-{}", 1 + rng.below(9), rng.below(12)),
        2 => format!(
            "{}.{:019}",
            rng.below(1000),
            rng.next() % 10_000_000_000_000_000_000
        ),
        3 => format!("{}", rng.next() % 100_000_000_000_000_000),
        _ => {
            let int = rng.next() % 10u64.pow(1 + rng.below(7) as u32);
            let places = rng.below(9);
            let frac = rng.next() % 10u64.pow(places as u32);
            if places == 0 {
                format!("{int}")
            } else {
                format!("{int}.{frac:0places$}")
            }
        }
    }
}

const MS: u64 = 1_700_000_000_000;

/// `rows` aggTrades as (CSV, JSON) with the same text; spot has `is_best_match`.
fn agg_pair(rng: &mut Rng, rows: usize, spot: bool) -> (String, String) {
    let (mut csv, mut json) = (String::new(), String::from("["));
    let (mut id, mut trade, mut t) = (1000 + rng.below(1000) as u64, 5000u64, MS);
    for i in 0..rows {
        let (p, q) = (decimal(rng), decimal(rng));
        let n = rng.below(4) as u64;
        let (m, mm) = (rng.below(2) == 1, rng.below(2) == 1);
        let best = if spot {
            format!(",{}", cap(mm))
        } else {
            String::new()
        };
        csv += &format!(
            "{id},{p},{q},{trade},{},{t},{}{best}\n",
            trade + n,
            if spot {
                cap(m).to_string()
            } else {
                m.to_string()
            }
        );
        let best = if spot {
            format!(",\"M\":{mm}")
        } else {
            String::new()
        };
        json += &format!(
            "{}{{\"a\":{id},\"p\":\"{p}\",\"q\":\"{q}\",\"f\":{trade},\"l\":{},\"T\":{t},\"m\":{m}{best}}}",
            if i > 0 { "," } else { "" },
            trade + n
        );
        id += 1;
        trade += n + 1;
        t += rng.below(50) as u64;
    }
    json.push(']');
    (csv, json)
}

fn cap(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `rows` 1m klines as (CSV, JSON) with the same text.
fn kline_pair(rng: &mut Rng, rows: usize) -> (String, String) {
    let (mut csv, mut json) = (String::new(), String::from("["));
    for i in 0..rows {
        let open = MS + 60_000 * i as u64;
        let d: Vec<String> = (0..8).map(|_| decimal(rng)).collect();
        let n = rng.below(5000);
        csv += &format!(
            "{open},{},{},{},{},{},{},{},{n},{},{},0\n",
            d[0],
            d[1],
            d[2],
            d[3],
            d[4],
            open + 59_999,
            d[5],
            d[6],
            d[7]
        );
        json += &format!(
            "{}[{open},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{},\"{}\",{n},\"{}\",\"{}\",\"0\"]",
            if i > 0 { "," } else { "" },
            d[0],
            d[1],
            d[2],
            d[3],
            d[4],
            open + 59_999,
            d[5],
            d[6],
            d[7]
        );
    }
    json.push(']');
    (csv, json)
}

/// `rows` trades as (CSV, JSON) with the same text (`third` names the third quantity).
fn trade_pair(rng: &mut Rng, rows: usize, spot: bool, third: &str) -> (String, String) {
    let (mut csv, mut json) = (String::new(), String::from("["));
    for i in 0..rows {
        let id = 77 + i;
        let (p, q, qq) = (decimal(rng), decimal(rng), decimal(rng));
        let t = MS + i as u64 * 3;
        let (m, mm) = (rng.below(2) == 1, rng.below(2) == 1);
        if spot {
            csv += &format!("{id},{p},{q},{qq},{t},{},{}\n", cap(m), cap(mm));
        } else {
            csv += &format!("{id},{p},{q},{qq},{t},{m}\n");
        }
        let best = if spot {
            format!(",\"isBestMatch\":{mm}")
        } else {
            String::new()
        };
        json += &format!(
            "{}{{\"id\":{id},\"price\":\"{p}\",\"qty\":\"{q}\",\"{third}\":\"{qq}\",\"time\":{t},\
             \"isBuyerMaker\":{m}{best}}}",
            if i > 0 { "," } else { "" },
        );
    }
    json.push(']');
    (csv, json)
}

fn page(unit: i64) -> Page {
    Page {
        unit,
        min_key: None,
    }
}

fn rest(dataset: Dataset, market: Market, json: &str) -> RecordBatch {
    parse_page(dataset, market, json.as_bytes(), page(1000)).unwrap()
}

fn reason(dataset: Dataset, market: Market, body: &str) -> String {
    parse_page(dataset, market, body.as_bytes(), page(1000))
        .unwrap_err()
        .reason
}

#[test]
fn pages_equal_the_archive_parse_of_the_same_text() {
    let mut rng = Rng(11);
    for round in 0..40 {
        let rows = 1 + rng.below(300);
        let spot = round % 2 == 0;
        let market = if spot { Market::Spot } else { Market::Um };
        let (csv, json) = agg_pair(&mut rng, rows, spot);
        let want = parse_bytes(Dataset::AggTrades, "a.csv", csv.as_bytes()).unwrap();
        assert_eq!(
            rest(Dataset::AggTrades, market, &json),
            want,
            "aggTrades {round}"
        );

        let (csv, json) = kline_pair(&mut rng, rows);
        let want = parse_bytes(Dataset::Klines, "k.csv", csv.as_bytes()).unwrap();
        assert_eq!(rest(Dataset::Klines, market, &json), want, "klines {round}");

        let (csv, json) = trade_pair(&mut rng, rows, spot, "quoteQty");
        let want = parse_bytes(Dataset::Trades, "t.csv", csv.as_bytes()).unwrap();
        assert_eq!(rest(Dataset::Trades, market, &json), want, "trades {round}");
    }
    // COIN-M trades name the third quantity baseQty.
    let (csv, json) = trade_pair(&mut rng, 50, false, "baseQty");
    let want = parse_bytes(Dataset::Trades, "t.csv", csv.as_bytes()).unwrap();
    assert_eq!(rest(Dataset::Trades, Market::Cm, &json), want);
}

#[test]
fn microsecond_answers_keep_their_times() {
    let body =
        br#"[{"a":5,"p":"1.5","q":"2","f":1,"l":1,"T":1735689600123456,"m":false,"M":true}]"#;
    let b = parse_page(Dataset::AggTrades, Market::Spot, body, page(1)).unwrap();
    let t = b
        .column(5)
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    assert_eq!(t.value(0), 1_735_689_600_123_456);
    let far = br#"[{"a":5,"p":"1.5","q":"2","f":1,"l":1,"T":9300000000000000,"m":false,"M":true}]"#;
    assert!(parse_page(Dataset::AggTrades, Market::Spot, far, page(1)).is_ok());
    let b = parse_page(Dataset::AggTrades, Market::Spot, far, page(1000));
    assert_eq!(b.unwrap_err().reason, "time: out of range");
}

#[test]
fn funding_mark_price_is_null_when_empty_and_time_is_ms() {
    let body = r#"[{"symbol":"BTCUSDT","fundingTime":1700000000000,"fundingRate":"-0.00003449","markPrice":""},
        {"fundingTime":1700028800001,"fundingRate":"0.0001","markPrice":"37000.12345678","x":[1,{}]},
        {"fundingTime":1700057600000,"fundingRate":"0","markPrice":null}]"#;
    let b = rest(Dataset::FundingRate, Market::Um, body);
    assert_eq!(b.schema(), Dataset::FundingRate.schema());
    let t = b
        .column(0)
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>();
    assert_eq!(t.value(1), 1_700_028_800_001_000);
    assert_eq!(b.column(1).null_count(), 3);
    assert_eq!(
        b.column(2).as_primitive::<Float64Type>().value(0),
        -0.00003449
    );
    let mark = b.column(3).as_primitive::<Float64Type>();
    assert_eq!((mark.null_count(), mark.value(1)), (2, 37000.12345678));
}

#[test]
fn keys_in_any_order_unknown_keys_skipped_last_repeat_wins() {
    let a = r#"[{"M":true,"T":1700000000000,"x":"y","l":3,"f":2,"q":"1","p":"9","m":false,"a":1,"p":"2.5"}]"#;
    let b = rest(Dataset::AggTrades, Market::Spot, a);
    assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 2.5);
    let esc =
        r#"[{"\u0061":1,"p":"2\u002e5","q":"1","f":2,"l":3,"T":1700000000000,"m":false,"M":true}]"#;
    assert_eq!(rest(Dataset::AggTrades, Market::Spot, esc), b);
    // Futures pages have no M: it is skipped if present, and the column is null.
    let f = rest(Dataset::AggTrades, Market::Um, a);
    assert_eq!(f.column(7).null_count(), 1);
    assert_eq!(rest(Dataset::Klines, Market::Spot, " [ ] ").num_rows(), 0);
    let k = r#"[[1700000000000,"1","2","0.5","1.5","10",1700000059999,"15",7,"5","7.5","0",{"more":[]}]]"#;
    assert_eq!(rest(Dataset::Klines, Market::Spot, k).num_rows(), 1);
}

#[test]
fn malformed_pages_say_what_is_wrong() {
    use Dataset::{AggTrades, FundingRate, Klines, Trades};
    use Market::{Cm, Spot, Um};
    let agg = r#"{"a":1,"p":"1.5","q":"2","f":1,"l":1,"T":1700000000000,"m":false,"M":true}"#;
    let kl = r#"[1700000000000,"1","2","0.5","1.5","10",1700000059999,"15",7,"5","7.5","0"]"#;
    let cases: Vec<(Dataset, Market, String, &str)> = vec![
        (AggTrades, Spot, String::new(), "empty body"),
        (AggTrades, Spot, " \n ".into(), "empty body"),
        (AggTrades, Spot, "<!DOCTYPE html><html>".into(), "an HTML/XML page instead of JSON"),
        (AggTrades, Spot, "null".into(), "a JSON null instead of a list of rows"),
        (AggTrades, Spot, "true".into(), "a JSON boolean instead of a list of rows"),
        (AggTrades, Spot, "\"x\"".into(), "a JSON string instead of a list of rows"),
        (AggTrades, Spot, "12".into(), "a JSON number instead of a list of rows"),
        (AggTrades, Spot, format!("{{\"data\":[{agg}]}}"), "a JSON object instead of a list of rows"),
        (
            AggTrades,
            Spot,
            r#"{"code":-1121,"msg":"Invalid symbol."}"#.into(),
            "an error object with status 200: 'Invalid symbol.'",
        ),
        (AggTrades, Spot, format!("[{agg}"), "not valid JSON (unexpected end of the body"),
        (AggTrades, Spot, format!("[{}", &agg[..30]), "not valid JSON (unexpected end"),
        (AggTrades, Spot, format!("[{agg}] x"), "not valid JSON (extra data at byte"),
        (AggTrades, Spot, format!("[{agg},]"), "not valid JSON"),
        (AggTrades, Spot, "[1, 2]".into(), "a row without 'a'"),
        (AggTrades, Spot, format!("[{}]", agg.replace(",\"M\":true", "")), "a row without 'M'"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"1.5\"", "\"abc\"")), "price: not a number"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"1.5\"", "\"NaN\"")), "price: NaN or infinite value"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"2\"", "\"Infinity\"")), "quantity: NaN or infinite value"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"2\"", "\"1e999\"")), "quantity: NaN or infinite value"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"1.5\"", "1.5")), "price: not all decimal strings"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"1.5\"", "null")), "price: missing values"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"a\":1", "\"a\":1.0")), "aggregate trade id: not all integers"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"a\":1", "\"a\":\"1\"")), "aggregate trade id: not all integers"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"a\":1", "\"a\":-1")), "aggregate trade id: negative"),
        (AggTrades, Spot, format!("[{}]", agg.replace("\"a\":1", "\"a\":99999999999999999999")), "aggregate trade id: not all integers"),
        (AggTrades, Spot, format!("[{}]", agg.replace("false", "0")), "is buyer maker: not all booleans"),
        (AggTrades, Spot, format!("[{agg},{agg}]"), "aggregate trade ids not strictly increasing"),
        (AggTrades, Spot, format!("[{agg}, 5] trailing"), "not valid JSON (extra data"),
        (AggTrades, Spot, format!("[{agg}]").replace("\"p\"", "\"p\\q\""), "not valid JSON (invalid escape"),
        (Klines, Spot, format!("[{}]", kl.replace(",\"0\"]", "]")), "a kline row is not a list of 12 fields"),
        (Klines, Spot, "[{}]".into(), "a kline row is not a list of 12 fields"),
        (Klines, Spot, "[[]]".into(), "a kline row is not a list of 12 fields"),
        (Klines, Spot, format!("[{}]", kl.replacen(",7,", ",-7,", 1)), "trade count: negative"),
        (Klines, Spot, format!("[{}]", kl.replacen("\"15\"", "\"1,5\"", 1)), "quote volume: not a number"),
        (Klines, Spot, format!("[{kl},{kl}]"), "open times not strictly increasing"),
        (Trades, Spot, r#"[{"id":1,"price":"1","qty":"1","quoteQty":"1","time":1700000000000,"isBuyerMaker":true}]"#.into(), "a row without 'isBestMatch'"),
        (Trades, Cm, r#"[{"id":1,"price":"1","qty":"1","quoteQty":"1","time":1700000000000,"isBuyerMaker":true}]"#.into(), "a row without 'baseQty'"),
        (Trades, Um, r#"[{"id":1,"price":"1","qty":"1","quoteQty":"1","time":1,"isBuyerMaker":null}]"#.into(), "is buyer maker: missing values"),
        (FundingRate, Um, r#"[{"fundingTime":1,"fundingRate":"0.1"}]"#.into(), "a row without 'markPrice'"),
        (FundingRate, Um, r#"[{"fundingTime":1,"fundingRate":"Infinity","markPrice":""}]"#.into(), "funding rate: NaN or infinite value"),
        (FundingRate, Um, r#"[{"fundingTime":1,"fundingRate":"1","markPrice":"x"}]"#.into(), "mark price: not a number"),
        // A syntax error anywhere wins over a shape error before it, as json.loads fails first.
        (AggTrades, Spot, "[1, {".into(), "not valid JSON"),
        (AggTrades, Spot, "[\"\u{1}\"]".into(), "not valid JSON (control character"),
    ];
    for (dataset, market, body, want) in cases {
        let got = reason(dataset, market, &body);
        assert!(
            got.starts_with(want),
            "{body:?}: {got:?} does not start with {want:?}"
        );
    }
    let bad = parse_page(AggTrades, Spot, b"[\xff]", page(1000)).unwrap_err();
    assert!(
        bad.reason.starts_with("not valid JSON (not UTF-8"),
        "{bad:?}"
    );
}

#[test]
fn the_first_key_must_not_precede_the_page_start() {
    let body = br#"[{"a":41,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true,"M":true}]"#;
    let at = |min| {
        parse_page(
            Dataset::AggTrades,
            Market::Spot,
            body,
            Page {
                unit: 1000,
                min_key: Some(min),
            },
        )
    };
    assert_eq!(at(41).unwrap().num_rows(), 1);
    assert_eq!(at(42).unwrap_err().reason, "id 41 before the 42 asked for");
    let k = br#"[[1700000000000,"1","2","0.5","1.5","10",1700000059999,"15",7,"5","7.5","0"]]"#;
    let p = Page {
        unit: 1000,
        min_key: Some(1_700_000_000_001),
    };
    let e = parse_page(Dataset::Klines, Market::Um, k, p).unwrap_err();
    assert_eq!(
        e.reason,
        "kline open time 1700000000000 before the 1700000000001 asked for"
    );
    let e = parse_page(Dataset::Klines, Market::Um, k, page(7)).unwrap_err();
    assert!(e.reason.contains("time unit"), "{e:?}");
}

// -- fuzz ------------------------------------------------------------------------------------

/// Mutated pages per dataset.
const CASES: usize = 4000;
/// Heap allowed per byte of body, plus a fixed allowance (error texts, column headers).
const PER_BYTE: usize = 16;
const FIXED: usize = 64 << 10;

fn mutate(d: &mut Vec<u8>, rng: &mut Rng) {
    const BYTES: &[u8] = b"[]{},:\"\\-.eE019 \n\xff\x00tfn";
    const WORDS: &[&[u8]] = &[
        b"NaN",
        b"Infinity",
        b"\"NaN\"",
        b"null",
        b"-1",
        b"1e999",
        b"\"\"",
        b"[[[[",
        b"}}}",
        b"99999999999999999999",
        b"\"\\u00",
        b"true",
        b"{\"a\":",
        b"\"1.5\"",
    ];
    for _ in 0..=rng.below(4) {
        if d.is_empty() {
            d.push(b'[');
        }
        let at = rng.below(d.len());
        match rng.below(8) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => d[at] = BYTES[rng.below(BYTES.len())],
            2 => d.insert(at, BYTES[rng.below(BYTES.len())]),
            3 => {
                d.remove(at);
            }
            4 => {
                let end = (at + 1 + rng.below(300)).min(d.len());
                let piece = d[at..end].to_vec();
                d.splice(at..at, piece);
            }
            5 => {
                let end = (at + 1 + rng.below(300)).min(d.len());
                d.drain(at..end);
            }
            6 => d.truncate(at),
            _ => {
                let w = WORDS[rng.below(WORDS.len())];
                let end = (at + rng.below(6)).min(d.len());
                d.splice(at..end, w.iter().copied());
            }
        }
    }
}

/// Peak heap of `f` on this thread (0 in the `python` build, which has no probe).
fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    #[cfg(not(feature = "python"))]
    return crate::archive::probe::peak_during(f);
    #[cfg(feature = "python")]
    return (f(), 0);
}

fn check_ok(dataset: Dataset, b: &RecordBatch, len: usize) {
    assert_eq!(b.schema(), dataset.schema());
    assert!(
        b.num_rows() <= len / 10 + 1,
        "{} rows from {len} bytes",
        b.num_rows()
    );
    for (field, col) in b.schema().fields().iter().zip(b.columns()) {
        if col.data_type() == &DataType::Float64 {
            let a = col.as_primitive::<Float64Type>();
            assert!(a.iter().flatten().all(f64::is_finite), "{}", field.name());
        }
        if col.data_type() == &DataType::Int64 && col.null_count() == 0 {
            let v = col.as_primitive::<Int64Type>().values();
            assert!(v.iter().all(|&x| x >= 0), "{}", field.name());
            if field.name().ends_with("id") && field.name() == b.schema().field(0).name() {
                assert!(v.windows(2).all(|w| w[0] < w[1]), "{}", field.name());
            }
        }
    }
}

#[test]
fn fuzzed_pages_never_panic_and_allocate_with_the_input() {
    let mut rng = Rng(0x5eed);
    let seeds: Vec<(Dataset, Market, String)> = vec![
        (Dataset::AggTrades, Market::Spot, agg_pair(&mut rng, 40, true).1),
        (Dataset::AggTrades, Market::Um, agg_pair(&mut rng, 40, false).1),
        (Dataset::Klines, Market::Spot, kline_pair(&mut rng, 30).1),
        (Dataset::Trades, Market::Spot, trade_pair(&mut rng, 40, true, "quoteQty").1),
        (Dataset::Trades, Market::Cm, trade_pair(&mut rng, 40, false, "baseQty").1),
        (
            Dataset::FundingRate,
            Market::Um,
            r#"[{"symbol":"BTCUSDT","fundingTime":1700000000000,"fundingRate":"0.0001","markPrice":""},{"symbol":"BTCUSDT","fundingTime":1700028800000,"fundingRate":"-0.00003449","markPrice":"37000.1"}]"#.into(),
        ),
    ];
    let (mut ok, mut bad) = (0, 0);
    for (dataset, market, seed) in &seeds {
        for _ in 0..CASES {
            let mut body = seed.clone().into_bytes();
            mutate(&mut body, &mut rng);
            let unit = if rng.below(4) == 0 { 1 } else { 1000 };
            let len = body.len();
            let out = catch_unwind(AssertUnwindSafe(|| {
                peak(|| parse_page(*dataset, *market, &body, page(unit)))
            }));
            let Ok((res, heap)) = out else {
                panic!("panic on {:?}", String::from_utf8_lossy(&body));
            };
            assert!(
                heap <= PER_BYTE * len + FIXED,
                "{heap} B of heap for {len} B"
            );
            match res {
                Ok(b) => {
                    check_ok(*dataset, &b, len);
                    ok += 1;
                }
                Err(e) => {
                    assert!(!e.reason.is_empty());
                    bad += 1;
                }
            }
        }
    }
    // Both outcomes are exercised: mutations that keep a valid page and ones that break it.
    assert!(ok > 500 && bad > 5000, "{ok} ok, {bad} malformed");
}
