//! Writes zips shaped like Binance's: one deflated member named like the zip, sizes and CRC in
//! the local header (no data descriptor), then the central directory. Used by the simulator and
//! by tests that need archives.

use flate2::{Compress, Compression, Crc, FlushCompress};

/// Zip `data` as a single deflated member called `name`.
pub fn zip_one(name: &str, data: &[u8], level: u32) -> Vec<u8> {
    assemble(name, data, &[deflate_raw(data, level)])
}

/// The zip around `deflated` (the raw deflate stream of `data`, possibly in parts):
/// local header, the stream, central directory, end record. Members of 4 GiB or more get
/// zip64 size fields, as Binance's large monthly archives do.
pub fn assemble(name: &str, data: &[u8], deflated: &[Vec<u8>]) -> Vec<u8> {
    let csize: usize = deflated.iter().map(Vec::len).sum();
    let zip64 = data.len() >= 0xFFFF_FFFF || csize >= 0xFFFF_FFFF;
    assemble_as(name, data, deflated, zip64)
}

fn assemble_as(name: &str, data: &[u8], deflated: &[Vec<u8>], zip64: bool) -> Vec<u8> {
    let mut crc = Crc::new();
    crc.update(data);
    let crc = crc.sum();
    let (csize, usize_) = (
        deflated.iter().map(Vec::len).sum::<usize>() as u64,
        data.len() as u64,
    );
    let name = name.as_bytes();
    let version = if zip64 { 45 } else { 20 };
    let small = |n: u64| if zip64 { 0xFFFF_FFFF } else { n as u32 };
    let extra: Vec<u8> = if zip64 {
        let mut e = vec![1, 0, 16, 0]; // zip64 extended information: 16 bytes
        e.extend_from_slice(&usize_.to_le_bytes());
        e.extend_from_slice(&csize.to_le_bytes());
        e
    } else {
        Vec::new()
    };
    let mut z = Vec::with_capacity(csize as usize + 2 * name.len() + 200);
    // Local file header.
    z.extend_from_slice(b"PK\x03\x04");
    push16(&mut z, &[version, 0, 8, 0, 0x21]); // version, flags, method, mod time, mod date
    push32(&mut z, &[crc, small(csize), small(usize_)]);
    push16(&mut z, &[name.len() as u16, extra.len() as u16]);
    z.extend_from_slice(name);
    z.extend_from_slice(&extra);
    for part in deflated {
        z.extend_from_slice(part);
    }
    // Central directory.
    let cd_start = z.len() as u64;
    z.extend_from_slice(b"PK\x01\x02");
    push16(&mut z, &[version, version, 0, 8, 0, 0x21]);
    push32(&mut z, &[crc, small(csize), small(usize_)]);
    push16(&mut z, &[name.len() as u16, extra.len() as u16, 0, 0, 0]);
    push32(&mut z, &[0, 0]); // external attributes, local header offset
    z.extend_from_slice(name);
    z.extend_from_slice(&extra);
    let cd_len = z.len() as u64 - cd_start;
    if zip64 {
        // Zip64 end of central directory record, then its locator.
        let eocd64 = z.len() as u64;
        z.extend_from_slice(b"PK\x06\x06");
        z.extend_from_slice(&44u64.to_le_bytes());
        push16(&mut z, &[45, 45]);
        push32(&mut z, &[0, 0]);
        for v in [1u64, 1, cd_len, cd_start] {
            z.extend_from_slice(&v.to_le_bytes());
        }
        z.extend_from_slice(b"PK\x06\x07");
        push32(&mut z, &[0]);
        z.extend_from_slice(&eocd64.to_le_bytes());
        push32(&mut z, &[1]);
    }
    // End of central directory.
    let clamp = |n: u64| u32::try_from(n).unwrap_or(0xFFFF_FFFF);
    z.extend_from_slice(b"PK\x05\x06");
    push16(&mut z, &[0, 0, 1, 1]);
    push32(&mut z, &[clamp(cd_len), clamp(cd_start)]);
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
    fn zip64_members_read_back() {
        let csv = b"1672531200000,1.0,2.0,0.5,1.5,10.0,1672531259999,15.0,7,5.0,7.5,0\n".repeat(50);
        let z = assemble_as("a.csv", &csv, &[deflate_raw(&csv, 6)], true);
        assert_eq!(
            u32::from_le_bytes(z[18..22].try_into().unwrap()),
            0xFFFF_FFFF
        );
        let out =
            crate::archive::read_archive(crate::model::dataset::Dataset::Klines, "a.zip", &z, None)
                .expect("zip64 archive");
        assert_eq!(
            (out.batch.num_rows(), out.csv_bytes),
            (50, csv.len() as u64)
        );
    }

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
