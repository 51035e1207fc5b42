//! Test-only zip assembly for hostile archives: any local-header claim (flags, CRC-32, sizes,
//! zip64 extra field), a data descriptor in any layout, and deflate bombs built from one
//! full-flushed piece repeated (valid deflate, about 1000x, built in milliseconds).
//!
//! Guarantees: `build` writes a structurally complete zip (local header, data, descriptor,
//! central directory, end record), so only the claims under test are wrong.

use flate2::{Compress, Compression, Crc, FlushCompress};

/// What the local header (and the central directory copy of it) says.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub flags: u16,
    pub crc: u32,
    pub csize: u32,
    pub usize: u32,
    pub extra: Vec<u8>,
}

/// Raw deflate of `csv` and its CRC-32.
pub(super) fn deflate(csv: &[u8]) -> (Vec<u8>, u32) {
    let mut crc = Crc::new();
    crc.update(csv);
    (crate::archive::write::deflate_raw(csv, 6), crc.sum())
}

/// The honest header of a deflated member.
pub(super) fn honest(data: &[u8], crc: u32, csv_len: usize) -> Spec {
    Spec {
        flags: 0,
        crc,
        csize: data.len() as u32,
        usize: csv_len as u32,
        extra: Vec::new(),
    }
}

/// A zip64 extended-information extra field claiming `inflated` and `compressed` bytes.
pub(super) fn zip64_extra(inflated: u64, compressed: u64) -> Vec<u8> {
    let mut e = vec![1, 0, 16, 0];
    e.extend_from_slice(&inflated.to_le_bytes());
    e.extend_from_slice(&compressed.to_le_bytes());
    e
}

/// A data descriptor: optional signature, CRC-32, then sizes of 4 or 8 (`wide`) bytes.
pub(super) fn descriptor(
    sig: bool,
    wide: bool,
    crc: u32,
    compressed: u64,
    inflated: u64,
) -> Vec<u8> {
    let mut d = if sig {
        b"PK\x07\x08".to_vec()
    } else {
        Vec::new()
    };
    d.extend_from_slice(&crc.to_le_bytes());
    for v in [compressed, inflated] {
        match wide {
            true => d.extend_from_slice(&v.to_le_bytes()),
            false => d.extend_from_slice(&(v as u32).to_le_bytes()),
        }
    }
    d
}

/// A zip whose one deflated member `name` is `data` followed by `desc`, described by `spec`.
pub(super) fn build(name: &str, spec: &Spec, data: &[u8], desc: &[u8]) -> Vec<u8> {
    let name = name.as_bytes();
    let le16 =
        |z: &mut Vec<u8>, v: &[u16]| v.iter().for_each(|x| z.extend_from_slice(&x.to_le_bytes()));
    let le32 =
        |z: &mut Vec<u8>, v: &[u32]| v.iter().for_each(|x| z.extend_from_slice(&x.to_le_bytes()));
    let mut z = Vec::with_capacity(data.len() + 256);
    z.extend_from_slice(b"PK\x03\x04");
    le16(&mut z, &[45, spec.flags, 8, 0, 0x21]);
    le32(&mut z, &[spec.crc, spec.csize, spec.usize]);
    le16(&mut z, &[name.len() as u16, spec.extra.len() as u16]);
    z.extend_from_slice(name);
    z.extend_from_slice(&spec.extra);
    z.extend_from_slice(data);
    z.extend_from_slice(desc);
    let cd_start = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02");
    le16(&mut z, &[45, 45, spec.flags, 8, 0, 0x21]);
    le32(&mut z, &[spec.crc, spec.csize, spec.usize]);
    le16(
        &mut z,
        &[name.len() as u16, spec.extra.len() as u16, 0, 0, 0],
    );
    le32(&mut z, &[0, 0]);
    z.extend_from_slice(name);
    z.extend_from_slice(&spec.extra);
    let cd_len = z.len() as u32 - cd_start;
    z.extend_from_slice(b"PK\x05\x06");
    le16(&mut z, &[0, 0, 1, 1]);
    le32(&mut z, &[cd_len, cd_start]);
    le16(&mut z, &[0]);
    z
}

/// A deflate bomb: `piece_csv` (whole lines) repeated `times`, as the raw deflate stream and
/// the CRC-32 and length of what it inflates to.
pub(super) fn bomb(piece_csv: &[u8], times: usize) -> (Vec<u8>, u32, u64) {
    let mut c = Compress::new(Compression::best(), false);
    let mut piece = Vec::with_capacity(piece_csv.len() / 100 + 1024);
    // A full flush resets the window, so the piece refers to nothing before it and repeating
    // it is a valid stream.
    c.compress_vec(piece_csv, &mut piece, FlushCompress::Full)
        .expect("deflate");
    assert_eq!(
        c.total_in() as usize,
        piece_csv.len(),
        "piece fits its buffer"
    );
    let mut stream = Vec::with_capacity(piece.len() * times + 2);
    let mut crc = Crc::new();
    for _ in 0..times {
        stream.extend_from_slice(&piece);
        crc.update(piece_csv);
    }
    stream.extend_from_slice(&[0x03, 0x00]); // empty final block
    (stream, crc.sum(), (piece_csv.len() * times) as u64)
}
