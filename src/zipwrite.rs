//! Writes zips shaped like Binance's: one deflated member named like the zip, sizes and CRC in
//! the local header (no data descriptor), then the central directory. Used by the simulator and
//! by tests that need archives.

use flate2::{Compress, Compression, Crc, FlushCompress};

/// Zip `data` as a single deflated member called `name`.
pub fn zip_one(name: &str, data: &[u8], level: u32) -> Vec<u8> {
    assemble(name, data, &[deflate_raw(data, level)])
}

/// The zip around `deflated` (the raw deflate stream of `data`, possibly in parts):
/// local header, the stream, central directory, end record.
pub fn assemble(name: &str, data: &[u8], deflated: &[Vec<u8>]) -> Vec<u8> {
    let mut crc = Crc::new();
    crc.update(data);
    let deflated_len: usize = deflated.iter().map(Vec::len).sum();
    let name = name.as_bytes();
    let (crc, csize, usize_) = (crc.sum(), deflated_len as u32, data.len() as u32);
    let mut z = Vec::with_capacity(deflated_len + 2 * name.len() + 120);
    // Local file header.
    z.extend_from_slice(b"PK\x03\x04");
    push16(&mut z, &[20, 0, 8, 0, 0x21]); // version, flags, method, mod time, mod date
    push32(&mut z, &[crc, csize, usize_]);
    push16(&mut z, &[name.len() as u16, 0]);
    z.extend_from_slice(name);
    for part in deflated {
        z.extend_from_slice(part);
    }
    // Central directory.
    let cd_start = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02");
    push16(&mut z, &[20, 20, 0, 8, 0, 0x21]);
    push32(&mut z, &[crc, csize, usize_]);
    push16(&mut z, &[name.len() as u16, 0, 0, 0, 0]);
    push32(&mut z, &[0, 0]); // external attributes, local header offset
    z.extend_from_slice(name);
    let cd_len = z.len() as u32 - cd_start;
    // End of central directory.
    z.extend_from_slice(b"PK\x05\x06");
    push16(&mut z, &[0, 0, 1, 1]);
    push32(&mut z, &[cd_len, cd_start]);
    push16(&mut z, &[0]);
    z
}

/// Raw (headerless) deflate of `data`.
pub fn deflate_raw(data: &[u8], level: u32) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 1024);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .expect("deflate into a growing buffer cannot fail");
        if status == flate2::Status::StreamEnd {
            return out;
        }
    }
}

fn push16(z: &mut Vec<u8>, v: &[u16]) {
    for x in v {
        z.extend_from_slice(&x.to_le_bytes());
    }
}

fn push32(z: &mut Vec<u8>, v: &[u32]) {
    for x in v {
        z.extend_from_slice(&x.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_header_carries_name_and_sizes() {
        let z = zip_one("BTCUSDT-1m-2024-01-01.csv", b"a,b\n", 6);
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([z[8], z[9]]), 8, "deflate method");
        assert_eq!(u32::from_le_bytes(z[22..26].try_into().unwrap()), 4);
        assert_eq!(u16::from_le_bytes([z[26], z[27]]) as usize, 25);
        assert_eq!(&z[30..55], b"BTCUSDT-1m-2024-01-01.csv");
        assert_eq!(&z[z.len() - 22..z.len() - 18], b"PK\x05\x06");
    }
}
