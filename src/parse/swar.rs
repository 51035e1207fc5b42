//! Eight-bytes-at-a-time ("SIMD within a register") digit scanning, the inner loop of every
//! numeric field.
//!
//! Guarantees: every function is total on any input (no panics, no out-of-bounds reads: bytes
//! past the end of the buffer read as `0x00`, which is not a digit), and digit runs are
//! accumulated with wrapping arithmetic, so callers must bound the digit count themselves
//! before trusting the value (19 decimal digits always fit in a `u64`).

/// `10^n` for `n` in `0..=8`, used to shift an accumulator left by `n` decimal digits.
pub(crate) const POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Load the eight bytes at `pos` as a little-endian word (first byte lowest). Bytes past the
/// end of `buf` read as zero.
#[inline(always)]
pub(crate) fn load8(buf: &[u8], pos: usize) -> u64 {
    match buf.get(pos..pos.wrapping_add(8)) {
        Some(&[a, b, c, d, e, f, g, h]) => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => load8_tail(buf, pos),
    }
}

/// `load8` within eight bytes of the end: copy what there is, the rest stays zero.
#[cold]
#[inline(never)]
fn load8_tail(buf: &[u8], pos: usize) -> u64 {
    let mut a = [0u8; 8];
    for (d, s) in a.iter_mut().zip(buf.get(pos..).unwrap_or(&[])) {
        *d = *s;
    }
    u64::from_le_bytes(a)
}

/// Number of leading (lowest-addressed) bytes of `w` that are ASCII digits, `0..=8`.
#[inline(always)]
pub(crate) fn digit_prefix_len(w: u64) -> usize {
    // t = byte ^ '0' is < 10 exactly for the digits '0'..='9'; t + 0x76 sets a byte's high bit
    // when t >= 10, and `| t` when t's own high bit is set. Adding may carry into the next byte,
    // but only out of a non-digit, so the lowest flagged byte is always the first non-digit.
    let t = w ^ 0x3030_3030_3030_3030;
    let non_digit = (t.wrapping_add(0x7676_7676_7676_7676) | t) & 0x8080_8080_8080_8080;
    (non_digit.trailing_zeros() / 8) as usize
}

/// Value of eight ASCII digits packed in `w` (first digit in the lowest byte). Zero bytes
/// count as leading zeros, so `parse8(w << 8 * (8 - n))` reads the first `n` digits of `w`.
#[inline(always)]
pub(crate) fn parse8(w: u64) -> u64 {
    // Pairs of digits into 16-bit lanes (10a + b), then quads into 32-bit lanes, then all
    // eight: each multiply adds a lane, scaled, to its upper neighbour.
    let v = (w & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(10 << 8 | 1) >> 8;
    let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(100 << 16 | 1) >> 16;
    (v & 0x0000_ffff_0000_ffff).wrapping_mul(10_000 << 32 | 1) >> 32
}

/// Value of the first `n` (`0..=7`) digits of `w`.
#[inline(always)]
pub(crate) fn prefix_value(w: u64, n: usize) -> u64 {
    // Shift the other 8 - n bytes out; two shifts keep each count below 64, also for n = 0.
    parse8((w << (63 - 8 * (n as u32 & 7))) << 1)
}

/// Byte `i` (`0..=7`) of `w`.
#[inline(always)]
pub(crate) fn byte_of(w: u64, i: usize) -> u8 {
    w.wrapping_shr(8 * i as u32) as u8
}

/// A run of 1 to 16 digits at `pos`, read with at most three word loads: returns the value,
/// the digit count and the byte after the run (0 past the end of `buf`). `None` when there is
/// no digit or more than 16 (callers then use `scan_digits`).
#[inline(always)]
pub(crate) fn digits16(buf: &[u8], pos: usize) -> Option<(u64, usize, u8)> {
    let w1 = load8(buf, pos);
    let n1 = digit_prefix_len(w1);
    if n1 < 8 {
        return (n1 > 0).then(|| (prefix_value(w1, n1), n1, byte_of(w1, n1)));
    }
    let w2 = load8(buf, pos + 8);
    let n2 = digit_prefix_len(w2);
    let hi = parse8(w1);
    if n2 < 8 {
        return Some((
            hi * POW10_U64[n2] + prefix_value(w2, n2),
            8 + n2,
            byte_of(w2, n2),
        ));
    }
    match buf.get(pos + 16) {
        Some(c) if c.is_ascii_digit() => None,
        c => Some((hi * 100_000_000 + parse8(w2), 16, c.copied().unwrap_or(0))),
    }
}

/// Scan the run of ASCII digits starting at `pos`, folding them into `acc` (wrapping) and
/// adding their number to `count`. Returns the position of the first non-digit byte (or the
/// end of `buf`).
#[inline(always)]
pub(crate) fn scan_digits(buf: &[u8], mut pos: usize, acc: &mut u64, count: &mut u32) -> usize {
    loop {
        let w = load8(buf, pos);
        let n = digit_prefix_len(w);
        if n == 8 {
            *acc = acc.wrapping_mul(100_000_000).wrapping_add(parse8(w));
            *count = count.wrapping_add(8);
            pos += 8;
            continue;
        }
        if n > 0 {
            let shifted = w << (8 * (8 - n));
            *acc = acc.wrapping_mul(POW10_U64[n]).wrapping_add(parse8(shifted));
            *count = count.wrapping_add(n as u32);
            pos += n;
        }
        return pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_prefix(s: &[u8]) -> usize {
        s.iter().take(8).take_while(|b| b.is_ascii_digit()).count()
    }

    #[test]
    fn digit_prefix_matches_naive_for_every_byte_in_every_position() {
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut a = *b"12345678";
                a[pos] = b;
                let w = u64::from_le_bytes(a);
                assert_eq!(
                    digit_prefix_len(w),
                    naive_prefix(&a),
                    "byte {b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn digit_prefix_matches_naive_on_random_words() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly digits, with some separators and arbitrary bytes.
            let a: [u8; 8] = std::array::from_fn(|i| match (x >> (8 * i)) as u8 % 8 {
                0 => (x >> (4 * i)) as u8,
                1 => b",.\n\r-e\xff\x00"[(x >> (3 * i)) as usize % 8],
                d => b'0' + d + (i as u8 % 3),
            });
            assert_eq!(
                digit_prefix_len(u64::from_le_bytes(a)),
                naive_prefix(&a),
                "{a:?}"
            );
        }
    }

    #[test]
    fn parse8_reads_prefixes() {
        let w = u64::from_le_bytes(*b"98765432");
        assert_eq!(parse8(w), 98_765_432);
        for n in 1..=8 {
            assert_eq!(
                parse8(w << (8 * (8 - n))),
                "98765432"[..n].parse::<u64>().unwrap()
            );
        }
        assert_eq!(parse8(u64::from_le_bytes(*b"00000000")), 0);
        assert_eq!(parse8(u64::from_le_bytes(*b"99999999")), 99_999_999);
    }

    #[test]
    fn load8_pads_past_the_end() {
        assert_eq!(load8(b"12", 0), u64::from_le_bytes(*b"12\0\0\0\0\0\0"));
        assert_eq!(load8(b"12", 2), 0);
        assert_eq!(load8(b"12", 99), 0);
        assert_eq!(load8(b"0123456789", 2), u64::from_le_bytes(*b"23456789"));
    }

    #[test]
    fn digits16_agrees_with_scan_digits() {
        let mut s = Vec::new();
        for len in 0..20 {
            for tail in [&b""[..], b",", b"\n9", b"x"] {
                s.clear();
                s.extend((0..len).map(|i| b"9081726354"[i % 10]));
                s.extend_from_slice(tail);
                let (mut acc, mut count) = (0u64, 0u32);
                let end = scan_digits(&s, 0, &mut acc, &mut count);
                let want = (1..=16)
                    .contains(&len)
                    .then(|| (acc, end, s.get(end).copied().unwrap_or(0)));
                assert_eq!(digits16(&s, 0), want, "{s:?}");
            }
        }
    }

    #[test]
    fn scan_digits_runs() {
        let cases: &[(&[u8], u64, u32)] = &[
            (b"", 0, 0),
            (b",", 0, 0),
            (b"7", 7, 1),
            (b"1577836800000,", 1_577_836_800_000, 13),
            (b"1778198400000000", 1_778_198_400_000_000, 16),
            (b"0000000000000000001x", 1, 19),
            (b"12345678", 12_345_678, 8),
            (b"123456789\n", 123_456_789, 9),
        ];
        for &(s, v, c) in cases {
            let (mut acc, mut count) = (0u64, 0u32);
            let end = scan_digits(s, 0, &mut acc, &mut count);
            assert_eq!((acc, count, end), (v, c, c as usize), "{s:?}");
        }
    }
}
