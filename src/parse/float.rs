//! Float fields: correctly rounded decimal parsing (bit-identical to `str::parse::<f64>`),
//! with a three-load fast path for the shape nearly every Binance price and quantity has.
//!
//! Guarantees: every returned value equals `str::parse::<f64>` of the field text and is
//! finite; no panics or allocation on any input; only the rare slow path (exponents, more than
//! 19 significant digits) looks at UTF-8.

use super::number::{ends_at, is_field_end};
use super::swar::{byte_of, digit_prefix_len, load8, parse8, prefix_value, scan_digits, POW10_U64};

/// `10^k` for `k` in `0..=22`: every one is exactly representable in an `f64`.
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer below which every integer is exactly an `f64` (2^53).
const MAX_EXACT: u64 = 1 << 53;

/// The common decimal shape `[-]d{1,7}[.d{0,8}]`, in at most three loads: value, end position
/// and the byte there (0 at the end of the buffer). `None` for any other shape.
///
/// Correctly rounded: the mantissa `m < 10^15` and `10^k` (`k <= 8`) are exact doubles, so
/// the one division `m / 10^k` rounds exactly like `str::parse` does.
#[inline(always)]
fn decimal_fast(buf: &[u8], start: usize) -> Option<(f64, usize, u8)> {
    let mut p = start;
    let mut w = load8(buf, p);
    let neg = w as u8 == b'-';
    if neg {
        p += 1;
        w = load8(buf, p);
    }
    let n1 = digit_prefix_len(w);
    if n1 == 0 || n1 == 8 {
        return None;
    }
    // 1 <= n1 <= 7: plain shifts are in range.
    let int = parse8(w << (64 - 8 * n1));
    p += n1;
    let (m, k, term) = match (w >> (8 * n1)) as u8 {
        b'.' => {
            p += 1;
            let w2 = load8(buf, p);
            let n2 = digit_prefix_len(w2);
            if n2 < 8 {
                let m = int * POW10_U64[n2] + prefix_value(w2, n2);
                (m, n2, byte_of(w2, n2))
            } else {
                // Eight fraction digits (Binance's usual): only the terminator is left.
                let term = buf.get(p + 8).copied().unwrap_or(0);
                (int * 100_000_000 + parse8(w2), 8, term)
            }
        }
        term => (int, 0, term),
    };
    p += k;
    let v = exact_f64(m) / POW10_F64[k & 15];
    Some((if neg { -v } else { v }, p, term))
}

/// `m as f64` for `m < 2^52`, exactly, by placing `m` in the mantissa of `2^52` and
/// subtracting `2^52`. Unlike `cvtsi2sd`, this has no false dependency on the previous value
/// of the target register, which would otherwise chain every field's division to the last.
#[inline(always)]
fn exact_f64(m: u64) -> f64 {
    const TWO_52: u64 = 0x4330_0000_0000_0000;
    debug_assert!(m < 1 << 52);
    f64::from_bits(TWO_52 | m) - f64::from_bits(TWO_52)
}

/// Parse a decimal float, correctly rounded (bit-identical to `str::parse::<f64>`), finite.
#[inline(always)]
pub(crate) fn parse_f64(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    match decimal_fast(buf, start) {
        Some((v, end, term)) if ends_at(buf, end, term) => Some((v, end)),
        _ => parse_f64_general(buf, start),
    }
}

/// The hot case of a float followed by `,`: returns the value and the position after the
/// comma, or `None` when the field is not in the fast shape or not followed by a comma (the
/// caller then uses `parse_f64`, which decides between a slower value and an error).
#[inline(always)]
pub(crate) fn f64_comma(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    match decimal_fast(buf, start) {
        Some((v, end, b',')) => Some((v, end + 1)),
        _ => None,
    }
}

/// A float inside a JSON string (REST answers): the text from `start` up to the closing `"`
/// at `quote` (exclusive), parsed exactly as the same text in an archive field. The common
/// shape takes the three-load fast path; anything else goes through `parse_f64` on the
/// string's text alone. `None` when the text is not entirely one finite float.
#[inline(always)]
pub(crate) fn f64_quoted(buf: &[u8], start: usize, quote: usize) -> Option<f64> {
    match decimal_fast(buf, start) {
        Some((v, end, b'"')) if end == quote => Some(v),
        _ => {
            let text = buf.get(start..quote)?;
            match parse_f64(text, 0) {
                Some((v, end)) if end == text.len() => Some(v),
                _ => None,
            }
        }
    }
}

/// Any decimal float: up to 19 significant digits as `[-]digits[.digits]` exactly (trailing
/// fraction zeros dropped when the mantissa needs more than 53 bits), everything else
/// (exponents, more digits, `+`, `.5`) through `str::parse`.
#[inline(never)]
fn parse_f64_general(buf: &[u8], start: usize) -> Option<(f64, usize)> {
    let neg = buf.get(start) == Some(&b'-');
    let int_start = start + usize::from(neg);
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
        // The comma fast path either declines or agrees, and steps over the comma.
        if let Some((v, next)) = f64_comma(framed.as_bytes(), 2) {
            assert_eq!(Some(v.to_bits()), want.map(f64::to_bits), "{framed:?} fast");
            assert_eq!(next, 3 + s.len());
            FAST_HITS.with(|c| c.set(c.get() + 1));
        }
    }

    thread_local! {
        static FAST_HITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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
        // Most generated strings have the common shape and took the comma fast path.
        assert!(FAST_HITS.with(|c| c.get()) > 50_000);
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
    fn exact_conversion_below_2_pow_52() {
        for m in [
            0u64,
            1,
            7,
            999_999_999_999_999,
            (1 << 52) - 1,
            123_456_789_012_345,
        ] {
            assert_eq!(exact_f64(m).to_bits(), (m as f64).to_bits(), "{m}");
        }
    }

    #[test]
    fn comma_fast_path_declines_what_it_does_not_handle() {
        assert_eq!(f64_comma(b"7195.24000000,1", 0), Some((7195.24, 14)));
        assert_eq!(f64_comma(b"-0.5,", 0), Some((-0.5, 5)));
        assert_eq!(f64_comma(b"42,", 0), Some((42.0, 3)));
        for s in [
            &b"1.5\n"[..],
            b"1.5",
            b"1e5,",
            b"12345678.5,",
            b"1.123456789,",
            b"a,",
            b",",
            b"",
        ] {
            assert_eq!(f64_comma(s, 0), None, "{s:?}");
        }
    }
}
