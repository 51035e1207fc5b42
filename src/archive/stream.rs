//! `ArchiveStream`: one archive body consumed as it arrives. Every byte is hashed; the local
//! header is read, the member inflated chunk by chunk (each piece checked against the
//! [`ArchiveLimits`] before the parser sees it) and fed straight to the CSV parser; the data
//! descriptor, when there is one, is collected after the deflate stream.
//!
//! Guarantees: memory is bounded by the parser's columns (which grow with the data that has
//! arrived, never with a header's claim) plus fixed buffers; content errors are remembered so
//! the rest of the body is still hashed and a checksum mismatch wins; `finish` verifies the
//! digest, completeness, the end-of-central-directory record, CRC-32 and both sizes (from the
//! local header or the data descriptor).

use flate2::{Crc, Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use super::header::{check_descriptor, parse_local, Actual, Member, DESCRIPTOR_MAX};
use super::limits::ArchiveLimits;
use super::{hex, ArchiveOutput};
use crate::error::{Error, Result};
use crate::model::dataset::Dataset;
use crate::parse::CsvParser;

const INFLATE_CHUNK: usize = 256 * 1024;
/// Bytes kept from the end of the body, where the end-of-central-directory record must be.
const TAIL_KEEP: usize = 1024;

/// Streaming consumer of one archive body.
pub struct ArchiveStream {
    file: String,
    limits: ArchiveLimits,
    sha: Sha256,
    total: u64,
    head: Vec<u8>,
    member: Option<Member>,
    inflater: Decompress,
    crc: Crc,
    out: Vec<u8>,
    /// Member bytes (stored) or CSV bytes (deflated) handled so far.
    stored_done: u64,
    done: bool,
    /// The bytes right after the deflate stream, when a data descriptor is expected there.
    descriptor: Vec<u8>,
    parser: Option<CsvParser>,
    failed: Option<Error>,
    tail: Vec<u8>,
}

impl ArchiveStream {
    /// A consumer for the archive `file` (its name, used in errors) of `dataset`, with the
    /// default limits (what the fetch stage uses).
    pub fn new(dataset: Dataset, file: &str) -> Self {
        Self::with_limits(dataset, file, ArchiveLimits::default())
    }

    /// A consumer with explicit zip-bomb limits.
    pub fn with_limits(dataset: Dataset, file: &str, limits: ArchiveLimits) -> Self {
        let csv_name = file.strip_suffix(".zip").unwrap_or(file);
        ArchiveStream {
            file: file.to_string(),
            limits,
            sha: Sha256::new(),
            total: 0,
            head: Vec::new(),
            member: None,
            inflater: Decompress::new(false),
            crc: Crc::new(),
            out: Vec::with_capacity(INFLATE_CHUNK),
            stored_done: 0,
            done: false,
            descriptor: Vec::new(),
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
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.consume(chunk) {
            self.failed = Some(e);
            self.parser = None; // free the columns now: this archive is lost
        }
    }

    /// CSV bytes handed to the parser so far.
    pub fn inflated_bytes(&self) -> u64 {
        match self.member {
            Some(m) if m.deflated => self.inflater.total_out(),
            _ => self.stored_done,
        }
    }

    /// Bytes reserved by the parser's columns so far (see `CsvParser::reserved_bytes`).
    pub fn reserved_bytes(&self) -> usize {
        self.parser.as_ref().map_or(0, CsvParser::reserved_bytes)
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
        let member = match self.member {
            Some(m) => m,
            None => {
                let before = self.head.len();
                self.head.extend_from_slice(chunk);
                let parsed = parse_local(&self.head).map_err(|r| Error::archive(&self.file, r))?;
                let Some((member, header_len)) = parsed else {
                    return Ok(());
                };
                if !member.descriptor {
                    self.limits
                        .check_claim(&self.file, member.csv_size, member.compressed_size)?;
                    if let Some(parser) = self.parser.as_mut() {
                        // Only a hint: the columns still grow with the data that arrives.
                        parser.size_hint(usize::try_from(member.csv_size).unwrap_or(usize::MAX));
                    }
                }
                self.member = Some(member);
                data = &chunk[header_len.saturating_sub(before)..];
                self.head = Vec::new();
                member
            }
        };
        if self.done {
            return self.collect_descriptor(member, data);
        }
        if member.deflated {
            let rest = self.inflate(data)?;
            self.collect_descriptor(member, rest)
        } else {
            let left = member.compressed_size - self.stored_done;
            let take = left.min(data.len() as u64) as usize;
            self.stored_done += take as u64;
            self.limits
                .check(&self.file, self.stored_done, self.stored_done)?;
            self.crc.update(&data[..take]);
            self.done = self.stored_done == member.compressed_size;
            match self.parser.as_mut() {
                Some(p) => p.feed(&data[..take]),
                None => Ok(()),
            }
        }
    }

    fn collect_descriptor(&mut self, member: Member, rest: &[u8]) -> Result<()> {
        if member.descriptor && self.done {
            let want = DESCRIPTOR_MAX - self.descriptor.len();
            self.descriptor
                .extend_from_slice(&rest[..want.min(rest.len())]);
        }
        Ok(())
    }

    /// Inflate `data` into the parser; returns the bytes after the end of the deflate stream.
    fn inflate<'a>(&mut self, mut data: &'a [u8]) -> Result<&'a [u8]> {
        while !data.is_empty() && !self.done {
            self.out.clear();
            let before_in = self.inflater.total_in();
            let status = self
                .inflater
                .decompress_vec(data, &mut self.out, FlushDecompress::None)
                .map_err(|e| Error::archive(&self.file, format!("bad deflate data: {e}")))?;
            let used = (self.inflater.total_in() - before_in) as usize;
            data = &data[used..];
            // Before the parser takes any memory for this piece.
            self.limits.check(
                &self.file,
                self.inflater.total_out(),
                self.inflater.total_in(),
            )?;
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
        Ok(data)
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
            let reason = match self.total {
                0 => "empty body".to_string(),
                n => format!("truncated in the zip header after {n} bytes"),
            };
            return Err(Error::archive(&self.file, reason));
        };
        let truncated = |what: String| Error::archive(&self.file, format!("truncated: {what}"));
        if !self.done {
            return Err(truncated(format!("body ended after {} bytes", self.total)));
        }
        if !self.has_end_record() {
            return Err(truncated(format!(
                "no end-of-central-directory record in the last bytes of {}",
                self.total
            )));
        }
        let actual = Actual {
            crc32: self.crc.sum(),
            compressed: match member.deflated {
                true => self.inflater.total_in(),
                false => self.stored_done,
            },
            inflated: self.inflated_bytes(),
        };
        self.verify(member, actual)?;
        let parser = self.parser.take().expect("parser present until finish");
        Ok(ArchiveOutput {
            batch: parser.finish()?,
            sha256,
            compressed_bytes: self.total,
            csv_bytes: actual.inflated,
        })
    }

    /// CRC-32 and sizes of the data against the data descriptor or the local header.
    fn verify(&self, member: Member, actual: Actual) -> Result<()> {
        let reason = if member.descriptor {
            check_descriptor(&self.descriptor, actual).err()
        } else if member.csv_size != actual.inflated {
            Some("inflated size differs from header".to_string())
        } else if member.compressed_size != actual.compressed {
            Some("compressed size differs from header".to_string())
        } else if member.crc32 != actual.crc32 {
            Some("CRC-32 mismatch".to_string())
        } else {
            None
        };
        reason.map_or(Ok(()), |r| Err(Error::archive(&self.file, r)))
    }
}
