//! Field parsers for integers, timestamps (raw digits; the unit is decided by the caller) and
//! booleans, and the field-end rule shared with `float`.
//!
//! Each parser reads one field starting at `pos` of a byte buffer and returns the value and the
//! position just past the field, or `None` when the field is not a valid value. A field ends at
//! `,`, `\n`, `\r` or the end of the buffer; the terminator itself is not consumed.
//!
//! Guarantees: integers fit `i64` exactly (overflow is `None`); no parser panics or allocates
//! on any input.

use super::swar::{byte_of, digits16, load8, scan_digits};

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
pub(crate) fn ends_at(buf: &[u8], pos: usize, c: u8) -> bool {
    if c == 0 {
        pos >= buf.len()
    } else {
        is_field_end(Some(&c))
    }
}

/// The hot case of 1 to 16 digits followed by `,`: value, digit count and the position after
/// the comma; `None` otherwise (the caller falls back to the general parsers).
#[inline(always)]
pub(crate) fn digits_comma(buf: &[u8], start: usize) -> Option<(u64, u32, usize)> {
    match digits16(buf, start) {
        Some((v, n, b',')) => Some((v, n as u32, start + n + 1)),
        _ => None,
    }
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
    let digits_start = start + usize::from(neg);
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

/// Parse `True`/`False` (spot) or `true`/`false` (futures). Branch-free on the value, so
/// random buy/sell flags cost no mispredictions.
#[inline(always)]
pub(crate) fn parse_bool(buf: &[u8], start: usize) -> Option<(bool, usize)> {
    const TRUE: u64 = u32::from_le_bytes(*b"true") as u64;
    const FALSE: u64 = u64::from_le_bytes(*b"false\0\0\0");
    // `| 0x20` lower-cases the first letter only: 'T' and 't' both become 't' (same for F).
    let w = load8(buf, start) | 0x20;
    let is_true = w & 0xffff_ffff == TRUE;
    let is_false = w & 0xff_ffff_ffff == FALSE;
    let end = start + 4 + usize::from(is_false);
    let term = byte_of(w, 4 + usize::from(is_false));
    ((is_true | is_false) && ends_at(buf, end, term)).then_some((is_true, end))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn digits_comma_declines_what_it_does_not_handle() {
        assert_eq!(
            digits_comma(b"1577836800000,", 0),
            Some((1_577_836_800_000, 13, 14))
        );
        assert_eq!(digits_comma(b"493,2", 0), Some((493, 3, 4)));
        for s in [
            &b"493\n"[..],
            b"493",
            b"-1,",
            b"12345678901234567,",
            b",",
            b"1a,",
        ] {
            assert_eq!(digits_comma(s, 0), None, "{s:?}");
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
