//! Malformed REST bodies for fault injection: each [`Malform`] turns a real 200 answer into
//! one a broken proxy or server could send (status and weight headers kept). Row-level kinds
//! work on the simulator's own JSON (a list of arrays or objects whose strings hold no
//! brackets, commas or quotes); a body that is not a list of rows is left as it is.

use bytes::Bytes;

use crate::sim::server::faults::Malform;
use crate::sim::server::Reply;

const HTML: &str = "<!DOCTYPE html>\n<html><head><title>Network access required</title></head>\
<body><h1>Please sign in to continue</h1><p>This network requires you to accept its terms \
before you can browse.</p></body></html>\n";

/// `reply` with its body made malformed as `m` says; replies other than 200 pass unchanged.
pub fn mangle(m: Malform, mut reply: Reply) -> Reply {
    if reply.status != 200 {
        return reply;
    }
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    let body: String = match m {
        Malform::JsonTruncate { fraction } => {
            let keep = ((text.len() as f64 * fraction) as usize).min(text.len().saturating_sub(1));
            let mut cut = keep;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        Malform::Html => {
            set_content_type(&mut reply, "text/html; charset=utf-8");
            HTML.to_string()
        }
        Malform::Null => "null".into(),
        Malform::Object => format!("{{\"data\":{text}}}"),
        Malform::Empty => String::new(),
        Malform::ShortRows => map_rows(&text, |_, _, row| {
            let (open, close, fields) = split_row(row)?;
            let kept = &fields[..fields.len().saturating_sub(1)];
            Some(format!("{open}{}{close}", kept.join(",")))
        })
        .unwrap_or(text),
        Malform::BadNumber => replace_last(&text, 1, "\"abc\"").unwrap_or(text),
        Malform::NanNumber => replace_last(&text, 2, "\"NaN\"").unwrap_or(text),
        Malform::InfNumber => replace_last(&text, 2, "\"Infinity\"").unwrap_or(text),
    };
    reply.body = Bytes::from(body);
    reply
}

fn set_content_type(reply: &mut Reply, value: &str) {
    reply
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    reply.headers.push(("content-type".into(), value.into()));
}

/// The value of field `field` of the last row replaced by `value` (JSON text).
fn replace_last(text: &str, field: usize, value: &str) -> Option<String> {
    map_rows(text, |i, n, row| {
        if i + 1 < n {
            return Some(row.to_string());
        }
        let (open, close, mut fields) = split_row(row)?;
        let f = fields.get_mut(field)?;
        *f = match f.split_once(':') {
            Some((key, _)) if open == "{" => format!("{key}:{value}"),
            _ => value.to_string(),
        };
        Some(format!("{open}{}{close}", fields.join(",")))
    })
}

/// Rebuild a JSON list with `f(index, count, row)` applied to each row; `None` when `text` is
/// not a list or `f` gives up on a row.
fn map_rows(text: &str, f: impl Fn(usize, usize, &str) -> Option<String>) -> Option<String> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let rows = split_top(inner);
    let n = rows.len();
    let out: Option<Vec<String>> = rows.iter().enumerate().map(|(i, r)| f(i, n, r)).collect();
    Some(format!("[{}]", out?.join(",")))
}

/// A row `[a,b,…]` or `{"k":v,…}` as its brackets and fields.
fn split_row(row: &str) -> Option<(&'static str, &'static str, Vec<String>)> {
    let row = row.trim();
    let (open, close) = match row.as_bytes().first()? {
        b'[' => ("[", "]"),
        b'{' => ("{", "}"),
        _ => return None,
    };
    let inner = row.get(1..row.len().checked_sub(1)?)?;
    let fields = split_top(inner).into_iter().map(str::to_string).collect();
    Some((open, close, fields))
}

/// `s` split at the commas outside brackets and strings (empty `s` → no items).
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    if s.trim().is_empty() {
        return out;
    }
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'[' | b'{' if !quoted => depth += 1,
            b']' | b'}' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: Malform, body: &str) -> String {
        let r = mangle(m, Reply::new(200, "application/json", body.to_string()));
        String::from_utf8(r.body.to_vec()).unwrap()
    }

    const KLINES: &str = r#"[[1,"2.0","3.0",4],[5,"6.0","7.0",8]]"#;
    const AGGS: &str =
        r#"[{"a":1,"p":"2.5","q":"3","m":true},{"a":2,"p":"2.6","q":"4","m":false}]"#;

    #[test]
    fn rows_lose_fields_or_get_bad_numbers_in_the_last_row() {
        assert_eq!(
            run(Malform::ShortRows, KLINES),
            r#"[[1,"2.0","3.0"],[5,"6.0","7.0"]]"#
        );
        assert_eq!(
            run(Malform::ShortRows, AGGS),
            r#"[{"a":1,"p":"2.5","q":"3"},{"a":2,"p":"2.6","q":"4"}]"#
        );
        assert_eq!(
            run(Malform::BadNumber, KLINES),
            r#"[[1,"2.0","3.0",4],[5,"abc","7.0",8]]"#
        );
        assert_eq!(
            run(Malform::NanNumber, AGGS),
            r#"[{"a":1,"p":"2.5","q":"3","m":true},{"a":2,"p":"2.6","q":"NaN","m":false}]"#
        );
        assert!(run(Malform::InfNumber, KLINES).ends_with(r#"[5,"6.0","Infinity",8]]"#));
        assert_eq!(
            run(Malform::BadNumber, "[]"),
            "[]",
            "no rows, nothing to break"
        );
        assert_eq!(
            run(Malform::BadNumber, r#"{"serverTime":1}"#),
            r#"{"serverTime":1}"#
        );
    }

    #[test]
    fn whole_body_kinds() {
        let cut = run(Malform::JsonTruncate { fraction: 1.0 }, KLINES);
        assert_eq!(
            cut.len(),
            KLINES.len() - 1,
            "always at least one byte short"
        );
        assert_eq!(run(Malform::JsonTruncate { fraction: 0.5 }, "[]"), "[");
        assert_eq!(run(Malform::Null, KLINES), "null");
        assert_eq!(run(Malform::Object, "[]"), r#"{"data":[]}"#);
        assert_eq!(run(Malform::Empty, KLINES), "");
        let html = mangle(Malform::Html, Reply::new(200, "application/json", "[]"));
        assert!(html.body.starts_with(b"<!DOCTYPE html>"));
        assert_eq!(
            html.headers,
            vec![(
                "content-type".to_string(),
                "text/html; charset=utf-8".to_string()
            )]
        );
        let err = Reply::new(400, "application/json", r#"{"code":-1121}"#);
        assert_eq!(
            mangle(Malform::Null, err).body.as_ref(),
            br#"{"code":-1121}"#
        );
    }
}
