//! Tests of what the parser accepts as a header and as a value: a first line is skipped only
//! when it is exactly one of the headers Binance writes for the dataset (a corrupted first row
//! is a `ParseError` at line 1), and negative counts or ids, non-positive funding intervals and
//! non-finite numbers are `ParseError`s. Test-only.

use super::parse_bytes;
use super::robustness::{parse_err, KLINE, KLINE2};
use crate::model::dataset::Dataset;

/// The first line is skipped only when it is exactly one of the dataset's Binance headers.
#[test]
fn only_binance_headers_are_headers() {
    let kh = "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
              taker_buy_volume,taker_buy_quote_volume,ignore";
    let mark = "open_time,open,high,low,close,ignore,close_time,ignore,ignore,ignore,ignore,ignore";
    for head in [kh, mark, &format!("\u{feff}{kh}"), &format!("{kh}\r")] {
        let csv = format!("{head}\n{KLINE}\n{KLINE2}\n");
        let b = parse_bytes(Dataset::Klines, "x", csv.as_bytes()).unwrap();
        assert_eq!(b.num_rows(), 2, "{head:?}");
    }
    // A corrupted first row is no longer dropped as if it were a header.
    for first in [
        KLINE.replacen('1', "x", 1),
        format!(" {KLINE}"),
        format!("-{KLINE}"),
        kh.replace("open_time", "Open_time"),
        format!("{kh},"),
        "calc_time,funding_interval_hours,last_funding_rate".into(),
    ] {
        let csv = format!("{first}\n{KLINE2}\n");
        let (line, reason) = parse_err(Dataset::Klines, csv.as_bytes());
        assert_eq!(line, 1, "{first:?}: {reason}");
    }
    let cases = [
        (
            Dataset::AggTrades,
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
            "1,1.5,2,10,11,1577836800000,true",
        ),
        (
            Dataset::Trades,
            "id,price,qty,quote_qty,time,is_buyer_maker",
            "1,1.0,1.0,1.0,1735689600041,true",
        ),
        (
            Dataset::Trades,
            "id,price,qty,base_qty,time,is_buyer_maker",
            "1,1.0,1.0,1.0,1735689600041,true",
        ),
        (
            Dataset::FundingRate,
            "calc_time,funding_interval_hours,last_funding_rate",
            "1775001600000,8,0.0001",
        ),
    ];
    for (dataset, header, row) in cases {
        let csv = format!("{header}\r\n{row}\r\n");
        assert_eq!(
            parse_bytes(dataset, "x", csv.as_bytes())
                .unwrap()
                .num_rows(),
            1
        );
        // Another dataset's header is not this one's.
        let csv = format!("{kh}\n{row}\n");
        assert_eq!(parse_err(dataset, csv.as_bytes()).0, 1, "{dataset:?}");
    }
}

/// Counts and ids are never negative, funding intervals are positive, numbers are finite.
#[test]
fn out_of_domain_values_are_errors() {
    let bad_count = KLINE2.replace(",135,", ",-135,");
    let (line, reason) = parse_err(
        Dataset::Klines,
        format!("{KLINE}\n{bad_count}\n").as_bytes(),
    );
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("column 9 (count): negative value \"-135\""),
        "{reason}"
    );
    let agg = [
        "-1,1.5,2,10,11,1577836800000,true",
        "1,1.5,2,-10,11,1577836800000,true",
        "1,1.5,2,10,-11,1577836800000,true",
    ];
    for (col, row) in [1, 4, 5].into_iter().zip(agg) {
        let (line, reason) = parse_err(Dataset::AggTrades, format!("{row}\n").as_bytes());
        assert_eq!(line, 1);
        assert!(reason.starts_with(&format!("column {col} ")), "{reason}");
        assert!(reason.contains("negative value"), "{reason}");
    }
    let (_, reason) = parse_err(Dataset::Trades, b"-5,1.0,1.0,1.0,1735689600041,true\n");
    assert!(
        reason.starts_with("column 1 (id): negative value"),
        "{reason}"
    );
    for hours in ["0", "-8", "-0"] {
        let csv = format!("1775001600000,8,0.1\n1775030400000,{hours},0.1\n");
        let (line, reason) = parse_err(Dataset::FundingRate, csv.as_bytes());
        assert_eq!(line, 2);
        assert_eq!(
            reason,
            format!("column 2 (funding_interval_hours): value \"{hours}\" must be positive")
        );
    }
    for word in ["NaN", "nan", "inf", "-inf", "infinity", "1e999", "-1e400"] {
        let bad = KLINE2.replace("7188.06000000", word);
        let (line, reason) = parse_err(Dataset::Klines, format!("{KLINE}\n{bad}\n").as_bytes());
        assert_eq!(line, 2, "{word}");
        assert!(
            reason.starts_with("column 3 (high): invalid number"),
            "{word}: {reason}"
        );
    }
    // Zero counts and ids and negative prices (premium index) are fine.
    let zero = KLINE2
        .replace(",135,", ",0,")
        .replace("7187.67000000", "-0.0001");
    assert_eq!(
        parse_bytes(Dataset::Klines, "x", format!("{zero}\n").as_bytes())
            .unwrap()
            .num_rows(),
        1
    );
}
