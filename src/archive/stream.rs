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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use flate2::{Crc, Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use super::header::{check_descriptor, parse_local, Actual, Member, DESCRIPTOR_MAX};
use super::limits::ArchiveLimits;
use super::parse_thread::ParseThread;
use super::{hex, ArchiveOutput};
use crate::error::{Error, Result};
use crate::model::dataset::Dataset;
use crate::parse::CsvParser;

const INFLATE_CHUNK: usize = 256 * 1024;
/// A member is parsed on a thread of its own (see `split_parse`) once this much of it has been
/// inflated: smaller ones are not worth a thread.
pub(super) const SPLIT_AFTER: u64 = 1 << 20;
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
    /// Whether to time the stages (`CKV_PROFILE`), and the times so far.
    timing: bool,
    cpu: StageCpu,
    /// Set by `split_parse`: this stream counts among the splittable ones.
    split: Option<Splittable>,
    /// The parser when it runs on its own thread (then `parser` is `None`).
    thread: Option<ParseThread>,
    /// Split past `SPLIT_AFTER` whatever else runs (tests).
    forced: bool,
}

/// Streams allowed to split (`split_parse`) that are still alive.
static SPLITTABLE: AtomicUsize = AtomicUsize::new(0);

/// Membership of one stream in `SPLITTABLE`, left when the stream is dropped or finished.
struct Splittable;

impl Splittable {
    fn join() -> Self {
        SPLITTABLE.fetch_add(1, Ordering::Relaxed);
        Splittable
    }
}

impl Drop for Splittable {
    fn drop(&mut self) {
        SPLITTABLE.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(super) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// CPU time of the archive stage's work on one body, accumulated chunk by chunk (measured only
/// when asked, see `ArchiveStream::time_stages`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StageCpu {
    pub sha: Duration,
    pub inflate: Duration,
    pub parse: Duration,
}

/// Run `f`, adding the CPU time it took (of this thread; elapsed time where there is no
/// thread clock) to `acc` when `on`.
#[inline]
fn timed<T>(on: bool, acc: &mut Duration, f: impl FnOnce() -> T) -> T {
    if !on {
        return f();
    }
    let t = thread_clock();
    let out = f();
    *acc += thread_clock().saturating_sub(t);
    out
}

/// This thread's CPU time (a figure that load on other threads does not inflate).
#[cfg(target_os = "linux")]
pub(super) fn thread_clock() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into; the clock id is a constant of the OS.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Elapsed time since the first call, where there is no thread CPU clock.
#[cfg(not(target_os = "linux"))]
pub(super) fn thread_clock() -> Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
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
            timing: false,
            cpu: StageCpu::default(),
            split: None,
            thread: None,
            forced: false,
        }
    }

    /// `split_parse`, but past `SPLIT_AFTER` whatever else runs (tests of the split itself).
    #[cfg(test)]
    pub(crate) fn force_split(&mut self) {
        self.split_parse();
        self.forced = true;
    }

    /// Let a large deflated member (past `SPLIT_AFTER` inflated bytes) be parsed on a thread of
    /// its own while this one hashes and inflates, when fewer such streams are alive than there
    /// are cores (with more, the cores are busy anyway). Results and errors are the same.
    pub fn split_parse(&mut self) {
        if self.split.is_none() {
            self.split = Some(Splittable::join());
        }
    }

    /// Measure the CPU time of hashing, inflating and parsing from now on.
    pub fn time_stages(&mut self) {
        self.timing = true;
    }

    /// Consume the next piece of the body. Content errors are remembered, not returned, so the
    /// rest of the body is still hashed and a checksum mismatch can be told apart.
    pub fn push(&mut self, chunk: &[u8]) {
        let sha = &mut self.sha;
        timed(self.timing, &mut self.cpu.sha, || sha.update(chunk));
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

    /// Bytes reserved by the parser's columns so far (see `CsvParser::reserved_bytes`; 0 while
    /// the parser runs on its own thread).
    pub fn reserved_bytes(&self) -> usize {
        self.parser.as_ref().map_or(0, CsvParser::reserved_bytes)
    }

    /// True when the parser runs on its own thread.
    pub fn is_split(&self) -> bool {
        self.thread.is_some()
    }

    /// Move the parser to its own thread if `split_parse` allows it and it is worth it now.
    fn maybe_split(&mut self) {
        if self.split.is_none()
            || self.inflater.total_out() < SPLIT_AFTER
            || (!self.forced && SPLITTABLE.load(Ordering::Relaxed) >= cores())
        {
            return;
        }
        if let Some(parser) = self.parser.take() {
            let crc = std::mem::replace(&mut self.crc, Crc::new());
            match ParseThread::start(parser, crc, INFLATE_CHUNK) {
                Ok(t) => {
                    self.thread = Some(t);
                    self.out = Vec::new(); // pieces now travel in the thread's buffers
                }
                Err(back) => {
                    let (parser, crc) = *back;
                    self.parser = Some(parser);
                    self.crc = crc;
                }
            }
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
    /// With the parser on its own thread, each piece goes there in a buffer of its own.
    fn inflate<'a>(&mut self, mut data: &'a [u8]) -> Result<&'a [u8]> {
        while !data.is_empty() && !self.done {
            if self.thread.is_none() {
                self.maybe_split();
            }
            let mut out = match &self.thread {
                Some(t) => t.buffer(),
                None => std::mem::take(&mut self.out),
            };
            out.clear();
            let before_in = self.inflater.total_in();
            let inflater = &mut self.inflater;
            let status = timed(self.timing, &mut self.cpu.inflate, || {
                inflater.decompress_vec(data, &mut out, FlushDecompress::None)
            })
            .map_err(|e| Error::archive(&self.file, format!("bad deflate data: {e}")))?;
            let used = (self.inflater.total_in() - before_in) as usize;
            data = &data[used..];
            // Before the parser takes any memory for this piece.
            self.limits.check(
                &self.file,
                self.inflater.total_out(),
                self.inflater.total_in(),
            )?;
            let stalled = used == 0 && out.is_empty();
            match &self.thread {
                Some(t) => {
                    if !out.is_empty() {
                        t.send(out);
                    }
                    if t.failed() {
                        // The parser's error is taken from its thread by `finish`.
                        return Err(Error::Internal("the parser failed on its thread".into()));
                    }
                }
                None => {
                    let crc = &mut self.crc;
                    timed(self.timing, &mut self.cpu.inflate, || crc.update(&out));
                    if let Some(p) = self.parser.as_mut() {
                        let fed = timed(self.timing, &mut self.cpu.parse, || p.feed(&out));
                        self.out = out;
                        fed?;
                    } else {
                        self.out = out;
                    }
                }
            }
            if status == Status::StreamEnd {
                self.done = true;
            } else if stalled {
                return Err(Error::archive(&self.file, "deflate stream stalled"));
            }
        }
        Ok(data)
    }

    /// Finish: verify digest (when `expected_sha256` is given), completeness, CRC and sizes,
    /// then build the batch.
    pub fn finish(self, expected_sha256: Option<&str>) -> Result<ArchiveOutput> {
        self.finish_timed(expected_sha256).0
    }

    /// `finish`, and the CPU time of the stages so far (the parser's thread included; zero
    /// unless `time_stages` was called).
    pub fn finish_timed(
        mut self,
        expected_sha256: Option<&str>,
    ) -> (Result<ArchiveOutput>, StageCpu) {
        let out = self.finish_mut(expected_sha256);
        (out, self.cpu)
    }

    fn finish_mut(&mut self, expected_sha256: Option<&str>) -> Result<ArchiveOutput> {
        let sha256 = hex(&self.sha.finalize_reset());
        if let Some(expected) = expected_sha256 {
            if !expected.eq_ignore_ascii_case(&sha256) {
                return Err(Error::Checksum {
                    file: std::mem::take(&mut self.file),
                    expected: expected.to_ascii_lowercase(),
                    actual: sha256,
                });
            }
        }
        // The parser on its own thread comes back; its first error came before any of ours.
        let mut thread_crc = None;
        if let Some((parser, crc, cpu)) = self.thread.take().map(ParseThread::finish) {
            self.cpu.parse += cpu;
            self.parser = Some(parser?);
            thread_crc = Some(crc);
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
            crc32: thread_crc.unwrap_or_else(|| self.crc.sum()),
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
