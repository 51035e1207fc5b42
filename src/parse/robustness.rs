//! Tests of the parser's failure modes: every malformed input gives a typed `Error::Parse` with
//! the right 1-based line number and a reason naming the problem, and no input — random bytes,
//! non-UTF-8, mutated real files, very long lines, any chunking — makes it panic. Test-only.

use super::testutil::{fixture_files, read_csv};
use super::{parse_bytes, CsvParser};
use crate::error::Error;
use crate::model::dataset::Dataset;

pub(super) const KLINE: &str =
    "1577836800000,7195.24000000,7196.25000000,7183.14000000,7186.68000000,\
51.64281200,1577836859999,371233.51835535,493,19.59823000,140888.41428273,0";
pub(super) const KLINE2: &str =
    "1577836860000,7187.67000000,7188.06000000,7182.20000000,7184.03000000,\
7.24814800,1577836919999,52080.12778780,135,2.03177200,14599.21192429,0";

/// The (line, reason) of a parse error, panicking on anything else.
pub(super) fn parse_err(dataset: Dataset, data: &[u8]) -> (u64, String) {
    match parse_bytes(dataset, "bad.csv", data) {
        Err(Error::Parse { file, line, reason }) => {
            assert_eq!(file, "bad.csv");
            (line, reason)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn garbage_line_in_the_middle() {
    let csv = format!("{KLINE}\n{KLINE2}\nhello,world\n{KLINE}\n");
    // "hello" starts with a letter but is not the first line, so it is not a header.
    let (line, reason) = parse_err(Dataset::Klines, csv.as_bytes());
    assert_eq!(line, 3);
    assert_eq!(reason, "expected 12 columns, found 2");
    let bad = KLINE2.replace("7188.06000000", "abc");
    let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\n{bad}\n").as_bytes());
    assert_eq!(line, 2);
    assert_eq!(reason, "column 3 (high): invalid number \"abc\"");
    let bad = KLINE2.replace(",135,", ",13.5,");
    let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\r\n{bad}\r\n").as_bytes());
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("column 9 (count): invalid integer \"13.5\""),
        "{reason}"
    );
}

#[test]
fn wrong_column_count() {
    let short = KLINE2.rsplit_once(',').unwrap().0;
    let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\n{short}\n").as_bytes());
    assert_eq!(
        (line, reason.as_str()),
        (2, "expected 12 columns, found 11")
    );
    let long = format!("{KLINE2},0");
    let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\n\n{long}").as_bytes());
    assert_eq!(
        (line, reason.as_str()),
        (3, "expected 12 columns, found 13")
    );
}

#[test]
fn bad_bool() {
    let csv = b"1,1.5,2,10,11,1577836800000,true\n2,1.5,2,12,12,1577836800001,TRUE\n";
    let (line, reason) = parse_err(Dataset::AggTrades, csv);
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("column 7 (is_buyer_maker): invalid boolean \"TRUE\""),
        "{reason}"
    );
}

#[test]
fn empty_input_and_header_only() {
    for (data, want_line) in [
        (&b""[..], 0),
        (b"\n\n", 2),
        (b"calc_time,funding_interval_hours,last_funding_rate\n", 1),
        (b"calc_time,funding_interval_hours,last_funding_rate", 1),
    ] {
        let (line, reason) = parse_err(Dataset::FundingRate, data);
        assert_eq!(
            (line, reason.as_str()),
            (want_line, "no data rows"),
            "{data:?}"
        );
    }
}

#[test]
fn unit_switch_mid_file() {
    let us = KLINE2.replace("1577836860000", "1577836860000000");
    let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\n{us}\n").as_bytes());
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("column 1 (open_time): timestamp \"1577836860000000\" has 16 digits")
    );
    assert!(reason.contains("13 (milliseconds)"), "{reason}");
    // Within one row too: open_time in µs, close_time in ms.
    let mixed = KLINE.replace("1577836800000,", "1577836800000000,");
    let (line, reason) = parse_err(Dataset::Klines, format!("{mixed}\n").as_bytes());
    assert_eq!(line, 1);
    assert!(reason.starts_with("column 7 (close_time)"), "{reason}");
}

#[test]
fn non_utf8_bytes() {
    let bad = KLINE2.replace("7184.03000000", "7184.0\u{0}3");
    let mut csv = format!("{KLINE}\n{bad}\n").into_bytes();
    let at = csv.iter().position(|&c| c == 0).unwrap();
    csv[at] = 0xff;
    let (line, reason) = parse_err(Dataset::Klines, &csv);
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("column 5 (close): invalid number \"7184.0\u{fffd}3\""),
        "{reason}"
    );
    // A non-UTF-8 first line is not a header: it is a bad first row.
    let csv = format!("\u{0}\u{0}header\n{KLINE}\n").replace('\u{0}', "\u{ff}");
    let mut csv = csv.into_bytes();
    csv[0] = 0xfe;
    let (line, reason) = parse_err(Dataset::Klines, &csv);
    assert_eq!(line, 1);
    assert!(reason.contains("not a header Binance writes"), "{reason}");
}

#[test]
fn whitespace_lines_and_bom_are_tolerated() {
    let csv = format!("\u{feff}{KLINE}\n  \n\t\r\n{KLINE2}\n \n");
    assert_eq!(
        parse_bytes(Dataset::Klines, "x", csv.as_bytes())
            .unwrap()
            .num_rows(),
        2
    );
}

#[test]
fn very_long_lines_do_not_panic() {
    let long_number = format!("1577836800000,{}.5,1", "9".repeat(100_000));
    let (line, reason) = parse_err(Dataset::Klines, long_number.as_bytes());
    assert_eq!(line, 1);
    assert!(reason.len() < 200, "{reason}");
    let long_line = vec![b'7'; 1 << 20];
    let (_, reason) = parse_err(Dataset::Trades, &long_line);
    assert!(reason.len() < 200);
    let commas = vec![b','; 1 << 16];
    assert!(parse_bytes(Dataset::AggTrades, "x", &commas).is_err());
}

/// xorshift64*, deterministic.
fn rng(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Parse in random chunks; any outcome but a panic (or a non-parse error) is fine.
fn must_not_panic(dataset: Dataset, data: &[u8], seed: &mut u64) {
    let mut p = CsvParser::new(dataset, "fuzz");
    let mut rest = data;
    while !rest.is_empty() {
        let n = (1 + rng(seed) % 300) as usize;
        let (c, r) = rest.split_at(n.min(rest.len()));
        rest = r;
        if let Err(e) = p.feed(c) {
            assert!(matches!(e, Error::Parse { .. }), "{e}");
            return;
        }
    }
    if let Err(e) = p.finish() {
        assert!(matches!(e, Error::Parse { .. }), "{e}");
    }
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let datasets = [
        Dataset::Klines,
        Dataset::AggTrades,
        Dataset::Trades,
        Dataset::FundingRate,
    ];
    for i in 0..2000 {
        let len = (rng(&mut seed) % 400) as usize;
        let alphabet = b"0123456789.,-eE\r\nTtrueFfals\xff\x00";
        let data: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng(&mut seed);
                if i % 2 == 0 {
                    alphabet[(r % alphabet.len() as u64) as usize]
                } else {
                    r as u8
                }
            })
            .collect();
        must_not_panic(datasets[i % 4], &data, &mut seed);
    }
    // Real files with a few bytes flipped, inserted or deleted.
    let mut real = vec![(Dataset::Klines, format!("{KLINE}\n{KLINE2}\n").into_bytes())];
    if let Some(f) = fixture_files("spot_aggTrades", ".csv") {
        real.push((Dataset::AggTrades, read_csv(&f[0])[..20_000].to_vec()));
    }
    if let Some(f) = fixture_files("um_klines", "2022-01-01.csv") {
        real.push((Dataset::Klines, read_csv(&f[0])[..20_000].to_vec()));
    }
    for (dataset, data) in &real {
        for _ in 0..300 {
            let mut d = data.clone();
            for _ in 0..=(rng(&mut seed) % 4) {
                let at = (rng(&mut seed) % d.len() as u64) as usize;
                match rng(&mut seed) % 3 {
                    0 => d[at] = rng(&mut seed) as u8,
                    1 => d.insert(at, b",\n\r-.e\xff0"[(rng(&mut seed) % 8) as usize]),
                    _ => {
                        d.remove(at);
                    }
                }
            }
            must_not_panic(*dataset, &d, &mut seed);
        }
    }
}
