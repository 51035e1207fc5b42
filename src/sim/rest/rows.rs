//! REST rows made from the archive's CSV rows, field for field, so REST and Vision agree
//! textually: kline arrays `[open_time,"open",…,count,…,"0"]`, aggTrade objects
//! `{"a":…,"p":"…",…}`, trade objects `{"id":…,"price":"…",…}`. Times and counts are numbers,
//! every other number a string; booleans are JSON `true/false`.

use crate::sim::market::catalog::Market;

/// JSON for a CSV kline row (12 fields).
pub fn kline(line: &str, out: &mut String) {
    out.push('[');
    for (i, f) in line.split(',').enumerate() {
        if i > 0 {
            out.push(',');
        }
        if matches!(i, 0 | 6 | 8) {
            out.push_str(f);
        } else {
            quoted(f, out);
        }
    }
    out.push(']');
}

/// JSON for a CSV aggTrade row.
pub fn agg_trade(line: &str, out: &mut String) {
    const KEYS: [&str; 8] = ["a", "p", "q", "f", "l", "T", "m", "M"];
    object(line, &KEYS, &[1, 2], out);
}

/// JSON for a CSV trade row of `market`.
pub fn trade(line: &str, market: Market, out: &mut String) {
    let third = if market == Market::Cm {
        "baseQty"
    } else {
        "quoteQty"
    };
    let keys = [
        "id",
        "price",
        "qty",
        third,
        "time",
        "isBuyerMaker",
        "isBestMatch",
    ];
    object(line, &keys, &[1, 2, 3], out);
}

fn object(line: &str, keys: &[&str], strings: &[usize], out: &mut String) {
    out.push('{');
    for (i, f) in line.split(',').enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(keys[i]);
        out.push_str("\":");
        if strings.contains(&i) {
            quoted(f, out);
        } else if f.eq_ignore_ascii_case("true") {
            out.push_str("true");
        } else if f.eq_ignore_ascii_case("false") {
            out.push_str("false");
        } else {
            out.push_str(f);
        }
    }
    out.push('}');
}

fn quoted(f: &str, out: &mut String) {
    out.push('"');
    out.push_str(f);
    out.push('"');
}

/// `[` + items joined by `,` + `]`.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    let mut s = String::from("[");
    for (i, it) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&it);
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_binance_json() {
        let mut s = String::new();
        kline("1,2.0,3.0,1.0,2.5,10,59999,25,7,5,12.5,0", &mut s);
        assert_eq!(
            s,
            r#"[1,"2.0","3.0","1.0","2.5","10",59999,"25",7,"5","12.5","0"]"#
        );
        s.clear();
        agg_trade(
            "26129,0.01633102,4.70443515,27781,27781,1498793709153,True,True",
            &mut s,
        );
        assert_eq!(
            s,
            r#"{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}"#
        );
        s.clear();
        trade(
            "1,78526.1,83.0,0.10569734,1788220802731,true",
            Market::Cm,
            &mut s,
        );
        assert_eq!(
            s,
            r#"{"id":1,"price":"78526.1","qty":"83.0","baseQty":"0.10569734","time":1788220802731,"isBuyerMaker":true}"#
        );
    }
}
