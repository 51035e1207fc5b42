//! Archive stage: a Binance Vision zip consumed as it arrives. Every byte is hashed (SHA-256,
//! compared with the `.CHECKSUM` sidecar), the one member is inflated chunk by chunk (CRC-32 and
//! size checked against the local header) and fed straight to the CSV parser, so the whole
//! archive is never held in memory. Wrong magic (an XML/HTML error body), truncation and bad
//! deflate data are `Error::Archive`; a digest mismatch is `Error::Checksum` and wins over any
//! other error, since it names the root cause.

use arrow_array::RecordBatch;
use flate2::{Crc, Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::parse::CsvParser;
use crate::schema::Dataset;

const LOCAL_HEADER: usize = 30;
const INFLATE_CHUNK: usize = 256 * 1024;

/// What a fully consumed archive gives.
#[derive(Debug)]
pub struct ArchiveOutput {
    pub batch: RecordBatch,
    /// Lower-case hex SHA-256 of the archive bytes.
    pub sha256: String,
    pub compressed_bytes: u64,
    pub csv_bytes: u64,
}

/// The zip member as described by its local header.
#[derive(Debug, Clone, Copy)]
struct Member {
    deflated: bool,
    crc32: u32,
    /// From the header, `None` when a data descriptor follows instead.
    csv_size: Option<u64>,
    compressed_size: Option<u64>,
}

/// Streaming consumer of one archive body.
pub struct ArchiveStream {
    file: String,
    sha: Sha256,
    total: u64,
    head: Vec<u8>,
    member: Option<Member>,
    inflater: Decompress,
    crc: Crc,
    out: Vec<u8>,
    stored_left: u64,
    done: bool,
    parser: Option<CsvParser>,
    failed: Option<Error>,
    /// The last bytes of the body, where the end-of-central-directory record must be.
    tail: Vec<u8>,
}

const TAIL_KEEP: usize = 1024;

impl ArchiveStream {
    /// A consumer for the archive `file` (its name, used in errors) of `dataset`.
    pub fn new(dataset: Dataset, file: &str) -> Self {
        let csv_name = file.strip_suffix(".zip").unwrap_or(file);
        ArchiveStream {
            file: file.to_string(),
            sha: Sha256::new(),
            total: 0,
            head: Vec::new(),
            member: None,
            inflater: Decompress::new(false),
            crc: Crc::new(),
            out: Vec::with_capacity(INFLATE_CHUNK),
            stored_left: 0,
            done: false,
            parser: Some(CsvParser::new(dataset, &format!("{csv_name}.csv"))),
            failed: None,
            tail: Vec::with_capacity(2 * TAIL_KEEP),
        }
    }

    /// Consume the next piece of the body. Content errors are remembered, not returned, so the
    /// rest of the body is still hashed and a checksum mismatch can be told apart.
    pub fn push(&mut self, chunk: &[u8]) {
        self.sha.update(chunk);
        self.total += chunk.len() as u64;
        self.keep_tail(chunk);
        if self.failed.is_some() || self.done {
            return;
        }
        if let Err(e) = self.consume(chunk) {
            self.failed = Some(e);
        }
    }

    fn keep_tail(&mut self, chunk: &[u8]) {
        if chunk.len() >= TAIL_KEEP {
            self.tail.clear();
            self.tail
                .extend_from_slice(&chunk[chunk.len() - TAIL_KEEP..]);
        } else {
            self.tail.extend_from_slice(chunk);
            if self.tail.len() > 2 * TAIL_KEEP {
                self.tail.drain(..self.tail.len() - TAIL_KEEP);
            }
        }
    }

    /// True when the body ends with an end-of-central-directory record whose comment length
    /// accounts exactly for the bytes after it.
    fn has_end_record(&self) -> bool {
        let t = &self.tail;
        (0..t.len().saturating_sub(21)).rev().any(|i| {
            t[i..].starts_with(b"PK\x05\x06")
                && usize::from(u16::from_le_bytes([t[i + 20], t[i + 21]])) == t.len() - i - 22
        })
    }

    fn consume(&mut self, chunk: &[u8]) -> Result<()> {
        let mut data = chunk;
        if self.member.is_none() {
            let before = self.head.len();
            self.head.extend_from_slice(chunk);
            let Some((member, header_len)) = self.parse_header()? else {
                return Ok(());
            };
            self.member = Some(member);
            if let (Some(size), Some(parser)) = (member.csv_size, self.parser.as_mut()) {
                parser.size_hint(usize::try_from(size).unwrap_or(usize::MAX));
            }
            self.stored_left = member.compressed_size.unwrap_or(u64::MAX);
            data = &chunk[header_len.saturating_sub(before)..];
            self.head = Vec::new();
        }
        let member = self.member.expect("set above");
        if member.deflated {
            self.inflate(data)
        } else {
            let take = (self.stored_left.min(data.len() as u64)) as usize;
            self.stored_left -= take as u64;
            self.crc.update(&data[..take]);
            if self.stored_left == 0 {
                self.done = true;
            }
            self.parser_feed(take, data)
        }
    }

    fn parser_feed(&mut self, take: usize, data: &[u8]) -> Result<()> {
        match self.parser.as_mut() {
            Some(p) => p.feed(&data[..take]),
            None => Ok(()),
        }
    }

    /// Parse the local file header once enough bytes have arrived.
    fn parse_header(&self) -> Result<Option<(Member, usize)>> {
        let h = &self.head;
        if h.len() >= 4 && &h[..4] != b"PK\x03\x04" {
            let shown: String = String::from_utf8_lossy(&h[..h.len().min(60)])
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(Error::archive(
                &self.file,
                format!("not a zip archive (body starts with {shown:?})"),
            ));
        }
        if h.len() < LOCAL_HEADER {
            return Ok(None);
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let flags = u16_at(6);
        let method = u16_at(8);
        let name_len = u16_at(26) as usize;
        let extra_len = u16_at(28) as usize;
        let header_len = LOCAL_HEADER + name_len + extra_len;
        if h.len() < header_len {
            return Ok(None);
        }
        if flags & 1 != 0 {
            return Err(Error::archive(&self.file, "encrypted zip member"));
        }
        let deflated = match method {
            8 => true,
            0 => false,
            m => {
                return Err(Error::archive(
                    &self.file,
                    format!("unsupported compression method {m}"),
                ))
            }
        };
        let descriptor = flags & 8 != 0;
        let (mut csize, mut usize_) = (u64::from(u32_at(18)), u64::from(u32_at(22)));
        if csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF {
            (usize_, csize) = zip64_sizes(&h[LOCAL_HEADER + name_len..header_len])
                .ok_or_else(|| Error::archive(&self.file, "zip64 sizes missing"))?;
        }
        if !deflated && descriptor {
            return Err(Error::archive(&self.file, "stored member without sizes"));
        }
        let member = Member {
            deflated,
            crc32: u32_at(14),
            csv_size: (!descriptor).then_some(usize_),
            compressed_size: (!descriptor).then_some(csize),
        };
        Ok(Some((member, header_len)))
    }

    fn inflate(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() && !self.done {
            self.out.clear();
            let before_in = self.inflater.total_in();
            let status = self
                .inflater
                .decompress_vec(data, &mut self.out, FlushDecompress::None)
                .map_err(|e| Error::archive(&self.file, format!("bad deflate data: {e}")))?;
            let used = (self.inflater.total_in() - before_in) as usize;
            data = &data[used..];
            self.crc.update(&self.out);
            if let Some(p) = self.parser.as_mut() {
                p.feed(&self.out)?;
            }
            if status == Status::StreamEnd {
                self.done = true;
            } else if used == 0 && self.out.is_empty() {
                return Err(Error::archive(&self.file, "deflate stream stalled"));
            }
        }
        Ok(())
    }

    /// Finish: verify digest (when `expected_sha256` is given), completeness, CRC and sizes,
    /// then build the batch.
    pub fn finish(mut self, expected_sha256: Option<&str>) -> Result<ArchiveOutput> {
        let sha256 = hex(&self.sha.finalize_reset());
        if let Some(expected) = expected_sha256 {
            if !expected.eq_ignore_ascii_case(&sha256) {
                return Err(Error::Checksum {
                    file: self.file,
                    expected: expected.to_ascii_lowercase(),
                    actual: sha256,
                });
            }
        }
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let Some(member) = self.member else {
            let reason = if self.total == 0 {
                "empty body".to_string()
            } else {
                format!("truncated in the zip header after {} bytes", self.total)
            };
            return Err(Error::archive(&self.file, reason));
        };
        if !self.done {
            return Err(Error::archive(
                &self.file,
                format!("truncated: body ended after {} bytes", self.total),
            ));
        }
        if !self.has_end_record() {
            return Err(Error::archive(
                &self.file,
                format!(
                    "truncated: no end-of-central-directory record in the last bytes of {}",
                    self.total
                ),
            ));
        }
        let csv_bytes = match member.deflated {
            true => self.inflater.total_out(),
            false => member.compressed_size.unwrap_or(0),
        };
        if member.csv_size.is_some_and(|n| n != csv_bytes) {
            return Err(Error::archive(
                &self.file,
                "inflated size differs from header",
            ));
        }
        if member.csv_size.is_some() && self.crc.sum() != member.crc32 {
            return Err(Error::archive(&self.file, "CRC-32 mismatch"));
        }
        let parser = self.parser.take().expect("parser present until finish");
        Ok(ArchiveOutput {
            batch: parser.finish()?,
            sha256,
            compressed_bytes: self.total,
            csv_bytes,
        })
    }
}

/// Sizes from a zip64 extended-information extra field: (uncompressed, compressed).
fn zip64_sizes(mut extra: &[u8]) -> Option<(u64, u64)> {
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

/// Parse a `.CHECKSUM` sidecar: `<64 hex>  <file name>`, with or without a trailing LF.
pub fn parse_checksum(file: &str, body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body).unwrap_or("");
    let digest = text.split_whitespace().next().unwrap_or("");
    if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digest.to_ascii_lowercase())
    } else {
        Err(Error::archive(
            file,
            format!(
                "unreadable CHECKSUM sidecar ({:?})",
                &text.chars().take(60).collect::<String>()
            ),
        ))
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Consume a whole archive held in memory (files on disk, tests).
pub fn read_archive(
    dataset: Dataset,
    file: &str,
    body: &[u8],
    expected_sha256: Option<&str>,
) -> Result<ArchiveOutput> {
    let mut stream = ArchiveStream::new(dataset, file);
    for chunk in body.chunks(64 * 1024) {
        stream.push(chunk);
    }
    stream.finish(expected_sha256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zipwrite::zip_one;

    const ROW: &[u8] = b"1672531200000,1.0,2.0,0.5,1.5,10.0,1672531259999,15.0,7,5.0,7.5,0\n";

    fn archive(rows: usize) -> Vec<u8> {
        zip_one("BTCUSDT-1m-2023-01-01.csv", &ROW.repeat(rows), 6)
    }

    fn sha(body: &[u8]) -> String {
        hex(&Sha256::digest(body))
    }

    #[test]
    fn good_archive_in_any_chunking() {
        let body = archive(500);
        for size in [1, 13, 4096, body.len()] {
            let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
            for c in body.chunks(size) {
                s.push(c);
            }
            let out = s.finish(Some(&sha(&body))).unwrap();
            assert_eq!(out.batch.num_rows(), 500);
            assert_eq!(out.csv_bytes, (ROW.len() * 500) as u64);
            assert_eq!(out.compressed_bytes, body.len() as u64);
        }
    }

    #[test]
    fn truncation_at_every_stage_is_an_archive_error() {
        let body = archive(2000);
        for cut in [0, 3, 20, 40, body.len() / 2, body.len() - 1] {
            let err = read_archive(Dataset::Klines, "a.zip", &body[..cut], None).unwrap_err();
            assert!(matches!(err, Error::Archive { .. }), "cut {cut}: {err}");
        }
    }

    #[test]
    fn xml_body_is_named_in_the_error() {
        let xml = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>";
        let err = read_archive(Dataset::Klines, "a.zip", xml, None).unwrap_err();
        assert!(err.to_string().contains("<?xml"), "{err}");
    }

    #[test]
    fn checksum_mismatch_wins_over_content_errors() {
        let body = archive(10);
        let err = read_archive(Dataset::Klines, "a.zip", &body[..40], Some(&sha(&body)));
        assert!(matches!(err, Err(Error::Checksum { .. })));
        let ok = read_archive(
            Dataset::Klines,
            "a.zip",
            &body,
            Some(&sha(&body).to_uppercase()),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn corrupted_deflate_or_crc_is_detected() {
        let body = archive(3000);
        let mut bad = body.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        bad[mid + 1] ^= 0xAA;
        let err = read_archive(Dataset::Klines, "a.zip", &bad, None).unwrap_err();
        assert!(
            matches!(err, Error::Archive { .. } | Error::Parse { .. }),
            "{err}"
        );
    }

    #[test]
    fn checksum_sidecar_formats() {
        let d = "ab".repeat(32);
        assert_eq!(
            parse_checksum("f", format!("{d}  f.zip").as_bytes()).unwrap(),
            d
        );
        assert_eq!(
            parse_checksum("f", format!("{d}  f.zip\n").as_bytes()).unwrap(),
            d
        );
        assert!(parse_checksum("f", b"<Error/>").is_err());
    }

    #[test]
    fn zip64_extra_field_gives_sizes() {
        let mut extra = vec![1, 0, 16, 0];
        extra.extend_from_slice(&5_000_000_000u64.to_le_bytes());
        extra.extend_from_slice(&700_000_000u64.to_le_bytes());
        assert_eq!(zip64_sizes(&extra), Some((5_000_000_000, 700_000_000)));
        assert_eq!(zip64_sizes(&[9, 0, 2, 0, 1, 1]), None);
    }
}
