//! The JSON tokens a REST answer is made of, read in place from the body: whitespace,
//! punctuation, strings (their raw span; escapes are validated and decoded only when present),
//! numbers (integers exactly, anything else classified) and literals, plus a generic skip of
//! any value for the fields and documents the row parsers do not read.
//!
//! Guarantees: RFC 8259 syntax (what Python's `json.loads` accepts, including its `NaN`,
//! `Infinity` and `-Infinity` extensions); no panics or recursion on any input; the only
//! allocation is the nesting stack of `skip_value`, which grows with the input's depth.

use super::Fail;

/// Skip JSON whitespace from `p`.
#[inline(always)]
pub(super) fn ws(b: &[u8], mut p: usize) -> usize {
    while let Some(&c) = b.get(p) {
        if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            break;
        }
        p += 1;
    }
    p
}

/// Expect byte `c` at `p` and step over it.
#[inline(always)]
pub(super) fn expect(b: &[u8], p: usize, c: u8) -> Result<usize, Fail> {
    if b.get(p) == Some(&c) {
        Ok(p + 1)
    } else {
        Err(syntax(b, p, expected(c)))
    }
}

fn expected(c: u8) -> &'static str {
    match c {
        b':' => "expecting ':'",
        b'"' => "expecting a string",
        b'[' => "expecting '['",
        _ => "unexpected character",
    }
}

/// A syntax error at `p` (the end of the body says so).
#[cold]
#[inline(never)]
pub(super) fn syntax(b: &[u8], p: usize, what: &str) -> Fail {
    if p >= b.len() {
        Fail::Syntax(format!("unexpected end of the body at byte {p}"))
    } else {
        Fail::Syntax(format!("{what} at byte {p}"))
    }
}

/// A string starting at `p` (its opening quote): `(start, end, next, escaped)` where
/// `b[start..end]` is the raw text between the quotes and `next` follows the closing quote.
#[inline(always)]
pub(super) fn string(b: &[u8], p: usize) -> Result<(usize, usize, usize, bool), Fail> {
    let start = expect(b, p, b'"')?;
    let mut q = start;
    while let Some(&c) = b.get(q) {
        match c {
            b'"' => return Ok((start, q, q + 1, false)),
            b'\\' | 0..=0x1f => return string_slow(b, start, q),
            _ => q += 1,
        }
    }
    Err(syntax(b, q, "unterminated string"))
}

/// The rest of a string from `q` on, with escapes (or a control character, an error).
#[cold]
#[inline(never)]
fn string_slow(b: &[u8], start: usize, mut q: usize) -> Result<(usize, usize, usize, bool), Fail> {
    let mut escaped = false;
    while let Some(&c) = b.get(q) {
        match c {
            b'"' => return Ok((start, q, q + 1, escaped)),
            b'\\' => {
                escaped = true;
                match b.get(q + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => q += 2,
                    Some(b'u') if hex4(b, q + 2).is_some() => q += 6,
                    _ => return Err(syntax(b, q, "invalid escape in a string")),
                }
            }
            0..=0x1f => return Err(syntax(b, q, "control character in a string")),
            _ => q += 1,
        }
    }
    Err(syntax(b, q, "unterminated string"))
}

fn hex4(b: &[u8], p: usize) -> Option<u32> {
    let s = std::str::from_utf8(b.get(p..p + 4)?).ok()?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// The text of a string span with its escapes decoded (`None` for a lone surrogate, which
/// cannot be text).
#[cold]
pub(super) fn unescape(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *raw.get(i + 1)?;
        i += 2;
        let ch = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i)?;
                i += 4;
                let code = if (0xd800..0xdc00).contains(&hi) && raw.get(i..i + 2) == Some(b"\\u") {
                    let lo = hex4(raw, i + 2).filter(|lo| (0xdc00..0xe000).contains(lo))?;
                    i += 6;
                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                } else {
                    hi
                };
                char::from_u32(code)?
            }
            other => char::from(other),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Some(out)
}

/// A JSON number token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer too large for `i64`, a fraction, an exponent, `NaN` or an infinity.
    Other,
}

/// The number token at `p`: its kind and the position after it; `None` when `p` does not
/// start a number.
#[inline(always)]
pub(super) fn number(b: &[u8], p: usize) -> Result<Option<(Num, usize)>, Fail> {
    let neg = b.get(p) == Some(&b'-');
    let d = p + usize::from(neg);
    match b.get(d) {
        Some(b'1'..=b'9') => {}
        Some(b'0') => {}
        Some(b'N') if !neg => return literal(b, p, b"NaN").map(|q| Some((Num::Other, q))),
        Some(b'I') => return literal(b, d, b"Infinity").map(|q| Some((Num::Other, q))),
        _ if neg => return Err(syntax(b, d, "expecting a digit")),
        _ => return Ok(None),
    }
    let mut q = d;
    let mut v: u64 = 0;
    let mut fits = true;
    while let Some(&c) = b.get(q) {
        if !c.is_ascii_digit() {
            break;
        }
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
        {
            Some(n) => v = n,
            None => fits = false,
        }
        q += 1;
    }
    if b[d] == b'0' && q > d + 1 {
        return Err(syntax(b, d + 1, "a number with a leading zero"));
    }
    let mut int = true;
    if b.get(q) == Some(&b'.') {
        int = false;
        q = digits1(b, q + 1)?;
    }
    if matches!(b.get(q), Some(b'e' | b'E')) {
        int = false;
        q += 1;
        if matches!(b.get(q), Some(b'+' | b'-')) {
            q += 1;
        }
        q = digits1(b, q)?;
    }
    let num = if !int || !fits {
        Num::Other
    } else if neg {
        match v {
            v if v <= i64::MAX as u64 => Num::Int(-(v as i64)),
            v if v == i64::MAX as u64 + 1 => Num::Int(i64::MIN),
            _ => Num::Other,
        }
    } else {
        i64::try_from(v).map_or(Num::Other, Num::Int)
    };
    Ok(Some((num, q)))
}

/// At least one digit at `p`; the position after the run.
fn digits1(b: &[u8], p: usize) -> Result<usize, Fail> {
    let mut q = p;
    while b.get(q).is_some_and(u8::is_ascii_digit) {
        q += 1;
    }
    if q == p {
        return Err(syntax(b, p, "expecting a digit"));
    }
    Ok(q)
}

/// The literal `word` at `p`; the position after it.
#[inline(always)]
pub(super) fn literal(b: &[u8], p: usize, word: &[u8]) -> Result<usize, Fail> {
    if b.get(p..p + word.len()) == Some(word) {
        Ok(p + word.len())
    } else {
        Err(syntax(b, p, "unexpected character"))
    }
}

/// The kind of value starting at `p`, named as Python's `json` would type it.
pub(super) fn kind_at(b: &[u8], p: usize) -> &'static str {
    match b.get(p) {
        Some(b'[') => "list",
        Some(b'{') => "object",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// Skip one JSON value of any kind starting at `p`; the position after it.
pub(super) fn skip_value(b: &[u8], p: usize) -> Result<usize, Fail> {
    // Closers of the open arrays and objects, innermost last; grows with the input only.
    let mut open: Vec<u8> = Vec::new();
    let mut p = ws(b, p);
    loop {
        // A value at p.
        match b.get(p) {
            Some(b'[' | b'{') => {
                let close = if b[p] == b'[' { b']' } else { b'}' };
                p = ws(b, p + 1);
                if b.get(p) == Some(&close) {
                    p += 1;
                } else {
                    open.push(close);
                    if close == b'}' {
                        p = member_key(b, p)?;
                    }
                    continue;
                }
            }
            Some(b'"') => p = string(b, p)?.2,
            Some(b't') => p = literal(b, p, b"true")?,
            Some(b'f') => p = literal(b, p, b"false")?,
            Some(b'n') => p = literal(b, p, b"null")?,
            _ => match number(b, p)? {
                Some((_, q)) => p = q,
                None => return Err(syntax(b, p, "expecting a value")),
            },
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&close) = open.last() else {
                return Ok(p);
            };
            p = ws(b, p);
            match b.get(p) {
                Some(b',') => {
                    p = ws(b, p + 1);
                    if close == b'}' {
                        p = member_key(b, p)?;
                    }
                    break;
                }
                Some(&c) if c == close => {
                    open.pop();
                    p += 1;
                }
                _ => return Err(syntax(b, p, "expecting ',' or a closing bracket")),
            }
        }
    }
}

/// An object member's `"key" :` at `p`; the position of its value.
fn member_key(b: &[u8], p: usize) -> Result<usize, Fail> {
    let (_, _, q, _) = string(b, p)?;
    let q = expect(b, ws(b, q), b':')?;
    Ok(ws(b, q))
}

/// Whether the whole body is one valid JSON value (with surrounding whitespace).
pub(super) fn valid_document(b: &[u8]) -> Result<(), Fail> {
    let p = skip_value(b, 0)?;
    let p = ws(b, p);
    if p < b.len() {
        return Err(syntax(b, p, "extra data"));
    }
    Ok(())
}

/// The string value of the top-level key `key` of the object at `p` (`None` if absent or not
/// a string), and whether the key is present at all.
pub(super) fn top_member(b: &[u8], p: usize, key: &[u8]) -> (bool, Option<String>) {
    let mut found = (false, None);
    let Ok(mut q) = expect(b, ws(b, p), b'{') else {
        return found;
    };
    q = ws(b, q);
    if b.get(q) == Some(&b'}') {
        return found;
    }
    loop {
        let Ok((ks, ke, after, esc)) = string(b, q) else {
            return found;
        };
        let Ok(v) = expect(b, ws(b, after), b':').map(|v| ws(b, v)) else {
            return found;
        };
        let name = if esc {
            unescape(&b[ks..ke])
        } else {
            Some(b[ks..ke].to_vec())
        };
        if name.as_deref() == Some(key) {
            let text = match string(b, v) {
                Ok((s, e, _, esc)) => {
                    let raw = if esc {
                        unescape(&b[s..e])
                    } else {
                        Some(b[s..e].to_vec())
                    };
                    raw.map(|r| String::from_utf8_lossy(&r).into_owned())
                }
                Err(_) => None,
            };
            found = (true, text);
        }
        let Ok(end) = skip_value(b, v) else {
            return found;
        };
        q = ws(b, end);
        match b.get(q) {
            Some(b',') => q = ws(b, q + 1),
            _ => return found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(s: &str) -> Result<usize, Fail> {
        skip_value(s.as_bytes(), 0)
    }

    #[test]
    fn values_are_skipped_whole() {
        for s in [
            "1",
            "-0.5e+3",
            "\"a\\\"b\\u00e9\"",
            "[]",
            "{}",
            "[1,[2,{\"a\":[3,{}]}],\"x\"]",
            "{\"a\" : { \"b\" : [ true , false , null ] } }",
            "NaN",
            "-Infinity",
        ] {
            assert_eq!(skip(s).ok(), Some(s.len()), "{s}");
            assert!(valid_document(format!(" {s}\n").as_bytes()).is_ok(), "{s}");
        }
        for s in [
            "",
            "[",
            "[1,]",
            "{\"a\"}",
            "{\"a\":}",
            "01",
            "1.",
            "-",
            "[1 2]",
            "{1:2}",
            "\"\\x\"",
            "\"a",
            "tru",
            "[}",
            "{]",
            "\"\u{1}\"",
        ] {
            assert!(valid_document(s.as_bytes()).is_err(), "{s:?}");
        }
        assert!(valid_document(b"1 2").is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(valid_document(deep.as_bytes()).is_ok());
        assert!(valid_document(&deep.as_bytes()[..150_000]).is_err());
    }

    #[test]
    fn numbers_are_classified() {
        let n = |s: &str| number(s.as_bytes(), 0).unwrap().map(|(n, _)| n);
        assert_eq!(n("123,"), Some(Num::Int(123)));
        assert_eq!(n("-9223372036854775808"), Some(Num::Int(i64::MIN)));
        assert_eq!(n("9223372036854775807"), Some(Num::Int(i64::MAX)));
        assert_eq!(n("9223372036854775808"), Some(Num::Other));
        assert_eq!(n("99999999999999999999999"), Some(Num::Other));
        assert_eq!(n("1.0"), Some(Num::Other));
        assert_eq!(n("1e3"), Some(Num::Other));
        assert_eq!(n("x"), None);
        assert!(number(b"-x", 0).is_err());
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(unescape(br"a\u0062\n\\").unwrap(), b"ab\n\\");
        assert_eq!(unescape(br"\ud83d\ude00").unwrap(), "😀".as_bytes());
        assert_eq!(unescape(br"\ud83d"), None);
        let b = br#"{"code":-1121,"msg":"Invalid \"symbol\"."}"#;
        assert_eq!(
            top_member(b, 0, b"msg"),
            (true, Some("Invalid \"symbol\".".to_string()))
        );
        assert_eq!(top_member(b, 0, b"code"), (true, None));
        assert_eq!(top_member(b, 0, b"nope"), (false, None));
    }
}
