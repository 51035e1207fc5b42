//! Field parsers for the four value kinds of Binance CSVs: floats, integers, timestamps (raw
//! digits, the unit is decided by the caller) and booleans.
//!
//! Each parser reads one field starting at `pos` of a byte buffer and returns the value and the
//! position just past the field, or `None` when the field is not a valid value. A field ends at
//! `,`, `\n`, `\r` or the end of the buffer; the terminator itself is not consumed.
//!
//! Guarantees: floats are correctly rounded — bit-identical to `str::parse::<f64>` — and must
//! be finite; integers fit `i64` exactly (overflow is `None`); no parser panics or allocates on
//! any input, and only the rare slow float path looks at UTF-8.

use super::swar::{
    byte_of, digit_prefix_len, digits16, load8, parse8, prefix_value, scan_digits, POW10_U64,
};

/// `10^k` for `k` in `0..=22`: every one is exactly representable in an `f64`.
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer below which every integer is exactly an `f64` (2^53).
const MAX_EXACT: u64 = 1 << 53;

/// True when `c` (the byte after a field, `None` at the end of the buffer) ends a field.
#[inline(always)]
pub(crate) fn is_field_end(c: Option<&u8>) -> bool {
    // Bit set for ',' (44), '\n' (10) and '\r' (13).
    const ENDS: u64 = (1 << b',') | (1 << b'\n') | (1 << b'\r');
    match c {
        None => true,
        Some(&c) => c < 64 && (ENDS >> c) & 1 == 1,
    }
}

/// True when `c`, the byte after a field at `pos` (0 past the end of the buffer), ends it.
#[inline(always)]
fn ends_at(buf: &[u8], pos: usize, c: u8) -> bool {
    if c == 0 {
        pos >= buf.len()
    } else {
        is_field_end(Some(&c))
    }
}

/// Parse a decimal float, correctly rounded (bit-identical to `str::parse::<f64>`).
///
/// Fast path for `[-]d{1,7}[.d{0,8}]`, the shape of nearly every Binance price and quantity:
/// at most three word loads, mantissa `m < 10^15` and `k <= 8` fraction digits, so `m` and
/// `10^k` are exact doubles and `m / 10^k` is the correctly rounded value.
#[inline(always)]
pub(crate) fn parse_f64(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    let mut p = start;
    let mut w = load8(buf, p);
    let neg = w as u8 == b'-';
    if neg {
        p += 1;
        w = load8(buf, p);
    }
    let n1 = digit_prefix_len(w);
    if n1 == 0 || n1 == 8 {
        return parse_f64_general(buf, start);
    }
    let int = prefix_value(w, n1);
    p += n1;
    let mut term = byte_of(w, n1);
    let (mut m, mut k) = (int, 0);
    if term == b'.' {
        p += 1;
        let w2 = load8(buf, p);
        let n2 = digit_prefix_len(w2);
        if n2 < 8 {
            m = int * POW10_U64[n2] + prefix_value(w2, n2);
            (k, term) = (n2, byte_of(w2, n2));
        } else {
            // Eight fraction digits (Binance's usual): only the terminator byte is left.
            match buf.get(p + 8) {
                Some(&c) if !c.is_ascii_digit() => term = c,
                None => term = 0,
                Some(_) => return parse_f64_general(buf, start),
            }
            m = int * 100_000_000 + parse8(w2);
            k = 8;
        }
        p += k;
    }
    if !ends_at(buf, p, term) {
        return parse_f64_general(buf, start);
    }
    // m < 10^15: the signed conversion is exact and a single instruction.
    let v = (m as i64) as f64 / POW10_F64[k];
    Some((if neg { -v } else { v }, p))
}

/// Any decimal float: up to 19 significant digits as `[-]digits[.digits]` exactly (trailing
/// fraction zeros dropped when the mantissa needs more than 53 bits), everything else
/// (exponents, more digits, `+`, `.5`) through `str::parse`.
#[inline(never)]
fn parse_f64_general(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    let neg = buf.get(start) == Some(&b'-');
    let int_start = start + neg as usize;
    let (mut m, mut count) = (0u64, 0u32);
    let mut pos = scan_digits(buf, int_start, &mut m, &mut count);
    let int_digits = pos - int_start;
    let mut k = 0usize;
    if buf.get(pos) == Some(&b'.') {
        let frac_start = pos + 1;
        pos = scan_digits(buf, frac_start, &mut m, &mut count);
        k = pos - frac_start;
    }
    if int_digits == 0 || count > 19 || !is_field_end(buf.get(pos)) {
        return parse_f64_slow(buf, start);
    }
    // count <= 19 and int_digits >= 1, so k <= 18 and indexes POW10_F64.
    if m > MAX_EXACT {
        // Trailing fraction zeros do not change the value: drop them to fit 53 bits.
        while k > 0 && m % 10 == 0 {
            m /= 10;
            k -= 1;
        }
        if m > MAX_EXACT && k > 0 {
            return parse_f64_slow(buf, start);
        }
    }
    // With k == 0 the conversion of any u64 is itself correctly rounded.
    let v = m as f64 / POW10_F64[k];
    Some((if neg { -v } else { v }, pos))
}

/// The general float path: find the field end, then `str::parse`. Rejects non-finite results
/// (`NaN`, `inf`, overflowing exponents): market data never holds them.
#[cold]
#[inline(never)]
fn parse_f64_slow(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    let field = buf.get(start..)?;
    let len = field
        .iter()
        .position(|&c| is_field_end(Some(&c)))
        .unwrap_or(field.len());
    let text = std::str::from_utf8(field.get(..len)?).ok()?;
    let v: f64 = text.parse().ok()?;
    v.is_finite().then_some((v, start + len))
}

/// Parse a signed 64-bit integer: an optional `-` then 1 to 19 digits, no overflow.
#[inline(always)]
pub(crate) fn parse_i64(buf: &[u8], start: usize) -> Option<(i64, usize)> {
    if let Some((v, n, term)) = digits16(buf, start) {
        let end = start + n;
        // At most 16 digits: always fits.
        return ends_at(buf, end, term).then_some((v as i64, end));
    }
    parse_i64_general(buf, start)
}

/// `parse_i64` for a sign or more than 16 digits.
#[inline(never)]
fn parse_i64_general(buf: &[u8], start: usize) -> Option<(i64, usize)> {
    let neg = buf.get(start) == Some(&b'-');
    let digits_start = start + neg as usize;
    let (mut m, mut count) = (0u64, 0u32);
    let pos = scan_digits(buf, digits_start, &mut m, &mut count);
    let n = pos - digits_start;
    if n == 0 || n > 19 || !is_field_end(buf.get(pos)) {
        return None;
    }
    let v = if neg {
        // i64::MIN's magnitude is one more than i64::MAX.
        if m > i64::MAX as u64 + 1 {
            return None;
        }
        (m as i64).wrapping_neg()
    } else {
        i64::try_from(m).ok()?
    };
    Some((v, pos))
}

/// Parse an unsigned timestamp of 1 to 18 digits. Returns the raw value, its digit count (the
/// caller decides ms vs µs from it) and the end position.
#[inline(always)]
pub(crate) fn parse_time_digits(buf: &[u8], start: usize) -> Option<(i64, u32, usize)> {
    if let Some((v, n, term)) = digits16(buf, start) {
        let end = start + n;
        return ends_at(buf, end, term).then_some((v as i64, n as u32, end));
    }
    let (mut m, mut count) = (0u64, 0u32);
    let pos = scan_digits(buf, start, &mut m, &mut count);
    let n = pos - start;
    if n == 0 || n > 18 || !is_field_end(buf.get(pos)) {
        return None;
    }
    // 18 digits < 10^18 < i64::MAX.
    Some((m as i64, n as u32, pos))
}

/// Parse `True`/`False` (spot) or `true`/`false` (futures).
#[inline(always)]
pub(crate) fn parse_bool(buf: &[u8], start: usize) -> Option<(bool, usize)> {
    let (v, rest): (bool, &[u8]) = match buf.get(start)? {
        b'T' | b't' => (true, b"rue"),
        b'F' | b'f' => (false, b"alse"),
        _ => return None,
    };
    let end = start + 1 + rest.len();
    if buf.get(start + 1..end)? != rest || !is_field_end(buf.get(end)) {
        return None;
    }
    Some((v, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny xorshift64* PRNG: deterministic, no crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn check(s: &str) {
        let want = s.parse::<f64>().ok().filter(|v| v.is_finite());
        let got = parse_f64(s.as_bytes(), 0).map(|(v, end)| {
            assert_eq!(end, s.len(), "{s:?} end");
            v
        });
        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{s:?}");
        // Same answer with a terminator after the field and text before it.
        let framed = format!("x,{s},9");
        let got2 = parse_f64(framed.as_bytes(), 2).map(|(v, end)| (v.to_bits(), end));
        assert_eq!(got2, want.map(|v| (v.to_bits(), 2 + s.len())), "{framed:?}");
    }

    #[test]
    fn fast_float_path_is_bit_identical_to_str_parse() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300_000 {
            let mut s = String::new();
            if rng.below(4) == 0 {
                s.push('-');
            }
            let int_len = 1 + rng.below(12) as usize;
            for i in 0..int_len {
                let d = rng.below(10) as u8;
                // Mostly no leading zeros, but sometimes "0" or "000".
                s.push(
                    (b'0'
                        + if i == 0 && rng.below(3) > 0 {
                            d.max(1)
                        } else {
                            d
                        }) as char,
                );
            }
            if rng.below(8) > 0 {
                s.push('.');
                let frac_len = rng.below(17) as usize;
                for _ in 0..frac_len {
                    s.push((b'0' + rng.below(10) as u8) as char);
                }
                for _ in 0..rng.below(4) * rng.below(4) {
                    s.push('0');
                }
            }
            check(&s);
        }
    }

    #[test]
    fn special_and_fallback_floats() {
        for s in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "7195.24000000",
            "46210.57",
            "542.0",
            "-0.00003449",
            "-0.00010000",
            "0E-8",
            "1.2e-05",
            "1e22",
            "9007199254740993",
            "9007199254740993.0",
            "90071992547409930.00",
            "12345678901234567890",
            "0.1234567890123456789012",
            "76636658.96208970",
            "99999999999999999999999.9",
            "5.",
            ".5",
            "+5",
            "1e308",
        ] {
            check(s);
        }
        for bad in [
            "", "-", ".", "abc", "1.2.3", "1e400", "NaN", "inf", "-inf", "1 ", "1,2",
        ] {
            let end_at_comma = bad == "1,2";
            assert_eq!(
                parse_f64(bad.as_bytes(), 0).is_none(),
                !end_at_comma,
                "{bad:?}"
            );
        }
        assert!(parse_f64(b"\xff\xfe", 0).is_none());
        assert_eq!(parse_f64(b"1.5\r\n", 0), Some((1.5, 3)));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"493,", 0), Some((493, 3)));
        assert_eq!(parse_i64(b"-7", 0), Some((-7, 2)));
        assert_eq!(parse_i64(b"9223372036854775807", 0), Some((i64::MAX, 19)));
        assert_eq!(parse_i64(b"-9223372036854775808", 0), Some((i64::MIN, 20)));
        for bad in [
            &b"9223372036854775808"[..],
            b"-9223372036854775809",
            b"99999999999999999999",
            b"",
            b"-",
            b"1.0",
            b"12a",
            b" 1",
        ] {
            assert_eq!(parse_i64(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn times_and_bools() {
        assert_eq!(
            parse_time_digits(b"1577836800000,", 0),
            Some((1_577_836_800_000, 13, 13))
        );
        assert_eq!(parse_time_digits(b"-1", 0), None);
        assert_eq!(parse_time_digits(b"1234567890123456789", 0), None);
        assert_eq!(parse_bool(b"True,", 0), Some((true, 4)));
        assert_eq!(parse_bool(b"false", 0), Some((false, 5)));
        assert_eq!(parse_bool(b"x,False\r\n", 2), Some((false, 7)));
        for bad in [&b"TRUE"[..], b"Tru", b"yes", b"1", b"", b"Truex", b"fals"] {
            assert_eq!(parse_bool(bad, 0), None, "{bad:?}");
        }
    }
}
