//! The zip records around the one member of a Vision archive: the local file header (with its
//! zip64 extra field) before the data, and the data descriptor after it when general-purpose
//! bit 3 says the header carries no CRC-32 or sizes.
//!
//! Guarantees: no panics on any bytes; an encrypted member, an unknown method, a stored member
//! without sizes or a zip64 marker without its extra field is an error with the reason; a data
//! descriptor is accepted only when its CRC-32 and both sizes equal those of the data actually
//! inflated (with or without its signature, 4- or 8-byte sizes).

/// Size of the fixed part of a local file header.
pub(super) const LOCAL_HEADER: usize = 30;
/// Longest data descriptor: signature, CRC-32, two 8-byte zip64 sizes.
pub(super) const DESCRIPTOR_MAX: usize = 24;
const DESCRIPTOR_SIG: &[u8; 4] = b"PK\x07\x08";

/// The member as described by its local header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Member {
    pub deflated: bool,
    /// CRC-32 and sizes from the header; meaningless when `descriptor` is set.
    pub crc32: u32,
    pub csv_size: u64,
    pub compressed_size: u64,
    /// General-purpose bit 3: CRC-32 and sizes follow the data in a data descriptor.
    pub descriptor: bool,
}

/// Parse the local header at the start of `h`: `Ok(None)` until enough bytes have arrived,
/// then the member and the header's length; `Err` with a reason when it is not usable.
pub(super) fn parse_local(h: &[u8]) -> Result<Option<(Member, usize)>, String> {
    if h.len() >= 4 && &h[..4] != b"PK\x03\x04" {
        let shown: String = String::from_utf8_lossy(&h[..h.len().min(60)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        return Err(format!("not a zip archive (body starts with {shown:?})"));
    }
    if h.len() < LOCAL_HEADER {
        return Ok(None);
    }
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let flags = u16_at(6);
    let method = u16_at(8);
    let name_len = u16_at(26) as usize;
    let header_len = LOCAL_HEADER + name_len + u16_at(28) as usize;
    if h.len() < header_len {
        return Ok(None);
    }
    if flags & 1 != 0 {
        return Err("encrypted zip member".into());
    }
    let deflated = match method {
        8 => true,
        0 => false,
        m => return Err(format!("unsupported compression method {m}")),
    };
    let descriptor = flags & 8 != 0;
    let (mut csize, mut usize_) = (u64::from(u32_at(18)), u64::from(u32_at(22)));
    if !descriptor && (csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF) {
        (usize_, csize) =
            zip64_sizes(&h[LOCAL_HEADER + name_len..header_len]).ok_or("zip64 sizes missing")?;
    }
    if !deflated && descriptor {
        return Err("stored member without sizes".into());
    }
    let member = Member {
        deflated,
        crc32: u32_at(14),
        csv_size: usize_,
        compressed_size: csize,
        descriptor,
    };
    Ok(Some((member, header_len)))
}

/// Sizes from a zip64 extended-information extra field: (uncompressed, compressed).
pub(super) fn zip64_sizes(mut extra: &[u8]) -> Option<(u64, u64)> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let body = extra.get(4..4 + len)?;
        if id == 1 && body.len() >= 16 {
            let u = u64::from_le_bytes(body[0..8].try_into().ok()?);
            let c = u64::from_le_bytes(body[8..16].try_into().ok()?);
            return Some((u, c));
        }
        extra = &extra[4 + len..];
    }
    None
}

/// What the data actually was: CRC-32, compressed and inflated sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Actual {
    pub crc32: u32,
    pub compressed: u64,
    pub inflated: u64,
}

/// Check the data descriptor at the start of `d` (the bytes right after the deflate stream,
/// up to [`DESCRIPTOR_MAX`] of them) against what the data was.
pub(super) fn check_descriptor(d: &[u8], actual: Actual) -> Result<(), String> {
    let mut complete = false;
    for (sig, wide) in [(true, false), (true, true), (false, false), (false, true)] {
        let start = if sig { 4 } else { 0 };
        let need = start + if wide { 20 } else { 12 };
        if d.len() < need || (sig && &d[..4] != DESCRIPTOR_SIG) {
            continue;
        }
        complete = true;
        let crc = u32::from_le_bytes(d[start..start + 4].try_into().expect("4 bytes"));
        let (c, u) = if wide {
            let at = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().expect("8 bytes"));
            (at(start + 4), at(start + 12))
        } else {
            let at = |i: usize| u32::from_le_bytes(d[i..i + 4].try_into().expect("4 bytes"));
            (u64::from(at(start + 4)), u64::from(at(start + 8)))
        };
        if (crc, c, u) == (actual.crc32, actual.compressed, actual.inflated) {
            return Ok(());
        }
    }
    Err(match complete {
        true => "data descriptor does not match the data (CRC-32 or sizes)".into(),
        false => format!("truncated in the data descriptor ({} bytes)", d.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip64_extra_field_gives_sizes() {
        let mut extra = vec![1, 0, 16, 0];
        extra.extend_from_slice(&5_000_000_000u64.to_le_bytes());
        extra.extend_from_slice(&700_000_000u64.to_le_bytes());
        assert_eq!(zip64_sizes(&extra), Some((5_000_000_000, 700_000_000)));
        assert_eq!(zip64_sizes(&[9, 0, 2, 0, 1, 1]), None);
        assert_eq!(zip64_sizes(&[9, 0, 200, 0, 1, 1]), None);
    }

    #[test]
    fn header_needs_all_its_bytes_and_names_bad_ones() {
        let z = crate::archive::write::zip_one("a.csv", b"1,8,0.1\n", 6);
        for cut in 0..35 {
            assert_eq!(parse_local(&z[..cut]), Ok(None), "cut {cut}");
        }
        let (m, len) = parse_local(&z).unwrap().unwrap();
        assert_eq!(
            (len, m.csv_size, m.deflated, m.descriptor),
            (35, 8, true, false)
        );
        let mut enc = z.clone();
        enc[6] |= 1;
        assert_eq!(parse_local(&enc).unwrap_err(), "encrypted zip member");
        let mut method = z.clone();
        method[8] = 12;
        assert!(parse_local(&method).unwrap_err().contains("method 12"));
        let mut stored = z.clone();
        (stored[6], stored[8]) = (8, 0);
        assert_eq!(
            parse_local(&stored).unwrap_err(),
            "stored member without sizes"
        );
        let mut z64 = z;
        z64[22..26].copy_from_slice(&[0xFF; 4]);
        assert_eq!(parse_local(&z64).unwrap_err(), "zip64 sizes missing");
        assert!(parse_local(b"<html>").unwrap_err().contains("<html>"));
    }

    #[test]
    fn descriptor_in_each_layout() {
        let actual = Actual {
            crc32: 0xDEAD_BEEF,
            compressed: 1234,
            inflated: 99_999,
        };
        let narrow = |sig: bool, crc: u32, c: u32, u: u32| {
            let mut d = if sig { DESCRIPTOR_SIG.to_vec() } else { vec![] };
            for v in [crc, c, u] {
                d.extend_from_slice(&v.to_le_bytes());
            }
            d.extend_from_slice(b"PK\x01\x02 central directory");
            d
        };
        let mut wide = DESCRIPTOR_SIG.to_vec();
        wide.extend_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        wide.extend_from_slice(&1234u64.to_le_bytes());
        wide.extend_from_slice(&99_999u64.to_le_bytes());
        for d in [
            narrow(true, 0xDEAD_BEEF, 1234, 99_999),
            narrow(false, 0xDEAD_BEEF, 1234, 99_999),
            wide.clone(),
            wide[4..].to_vec(),
        ] {
            assert_eq!(check_descriptor(&d[..d.len().min(24)], actual), Ok(()));
        }
        for d in [
            narrow(true, 0xDEAD_BEEE, 1234, 99_999),
            narrow(true, 0xDEAD_BEEF, 1235, 99_999),
            narrow(false, 0xDEAD_BEEF, 1234, 99_998),
        ] {
            let err = check_descriptor(&d[..24], actual).unwrap_err();
            assert!(err.contains("does not match"), "{err}");
        }
        let err = check_descriptor(&wide[..11], actual).unwrap_err();
        assert!(err.contains("truncated in the data descriptor"), "{err}");
    }
}
