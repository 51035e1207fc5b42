//! `ArchiveStream`: one archive body consumed as it arrives. Every byte is hashed as it comes;
//! the local header is read; then either a small deflated member is held until all its
//! compressed bytes are there and inflated in one shot (`oneshot`, libdeflate), or the member
//! is inflated chunk by chunk (zlib-rs, each piece checked against the [`ArchiveLimits`] before
//! the parser sees it); either way the CSV goes straight to the parser, and the data
//! descriptor, when there is one, is collected after the deflate stream.
//!
//! Guarantees: memory is bounded by the parser's columns (which grow with the data that has
//! arrived, never with a header's claim) plus fixed buffers, plus for a one-shot member its
//! compressed bytes (at most `ONE_SHOT_MAX`) and an output buffer sized from them; content
//! errors are remembered so the rest of the body is still hashed and a checksum mismatch wins;
//! `finish` verifies the digest, completeness, the end-of-central-directory record, CRC-32 and
//! both sizes (from the local header or the data descriptor). Both paths give the same batch
//! and the same error for any body: a one-shot that fails for any reason (bad data, output
//! beyond its buffer, body cut short) streams the held bytes instead, so every error comes
//! from the streaming path.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use super::header::{check_descriptor, parse_local, Actual, Member, DESCRIPTOR_MAX};
use super::limits::ArchiveLimits;
use super::oneshot::Crc32;
use super::parse_thread::ParseThread;
use super::{hex, ArchiveOutput};
use crate::error::{Error, Result};
use crate::model::dataset::Dataset;
use crate::parse::CsvParser;
use hold::Held;

mod hold;

const INFLATE_CHUNK: usize = 256 * 1024;
/// A member is parsed on a thread of its own (see `split_parse`) once this much of it has been
/// inflated: smaller ones are not worth a thread.
pub(super) const SPLIT_AFTER: u64 = 1 << 20;
/// CSV bytes from which a lone archive's member is streamed and split (see `alone`): a cold
/// month of 1m klines (6.7 MB) arrives about 3 ms sooner that way than inflated in one shot
/// (docs/architecture.md, "Where the cold path's time goes"); below a few MiB the inline
/// first `SPLIT_AFTER` leaves little to overlap.
pub(super) const LONE_STREAM_MIN: u64 = 4 << 20;
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
    /// The streaming inflater, made when the first piece is streamed.
    inflater: Option<Decompress>,
    crc: Crc32,
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
    /// Whether a small member may be inflated in one shot (see `oneshot`).
    one_shot: bool,
    /// Set by `alone`: the only archive of its fetch call.
    lone: bool,
    /// The body's declared length (`Content-Length`), when known.
    expected_len: Option<u64>,
    /// The member's bytes so far, while they are held for the one-shot inflate.
    held: Option<Held>,
    /// What the data was, once a one-shot inflate has succeeded.
    whole: Option<Actual>,
}

#[cfg(test)]
thread_local! {
    /// Make every new stream of this thread `stream_only` (tests run on both paths).
    pub(super) static STREAM_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether new streams may inflate in one shot.
fn one_shot_default() -> bool {
    #[cfg(test)]
    return !STREAM_ONLY.get();
    #[cfg(not(test))]
    true
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
            inflater: None,
            crc: Crc32::default(),
            out: Vec::new(),
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
            one_shot: one_shot_default(),
            lone: false,
            expected_len: None,
            held: None,
            whole: None,
        }
    }

    /// Never inflate in one shot: stream every member (tests and benchmarks compare the two).
    pub fn stream_only(&mut self) {
        self.one_shot = false;
    }

    /// True when the member was inflated in one shot (tests).
    #[cfg(test)]
    pub(crate) fn was_one_shot(&self) -> bool {
        self.whole.is_some()
    }

    /// The body is declared to be `len` bytes long (`Content-Length`): a small member with a
    /// data descriptor can then be inflated in one shot once the body is all there. A wrong
    /// length only costs the one-shot (the held bytes are streamed).
    pub fn expect_len(&mut self, len: u64) {
        self.expected_len = Some(len);
    }

    /// `split_parse`, but past `SPLIT_AFTER` whatever else runs (tests of the split itself).
    #[cfg(test)]
    pub(crate) fn force_split(&mut self) {
        self.split_parse();
        self.forced = true;
        self.one_shot = false;
    }

    /// Let a large deflated member (past `SPLIT_AFTER` inflated bytes) be parsed on a thread of
    /// its own while this one hashes and inflates, when fewer such streams are alive than there
    /// are cores (with more, the cores are busy anyway). Results and errors are the same.
    pub fn split_parse(&mut self) {
        if self.split.is_none() {
            self.split = Some(Splittable::join());
        }
    }

    /// This stream is the only archive of its fetch call: a member of at least
    /// `LONE_STREAM_MIN` CSV bytes is then streamed, not held for the one-shot inflate, so that
    /// (with `split_parse`, on a machine of two cores or more) its parse runs on the other
    /// core while this one inflates; with other archives working beside it, the cores are busy
    /// anyway and the one-shot's lower CPU wins.
    pub fn alone(&mut self) {
        self.lone = true;
    }

    /// Measure the CPU time of hashing, inflating and parsing from now on.
    pub fn time_stages(&mut self) {
        self.timing = true;
    }

    /// Consume the next piece of the body. Content errors are remembered, not returned, so the
    /// rest of the body is still hashed and a checksum mismatch can be told apart. A piece
    /// held for the one-shot inflate is copied (`push_bytes` holds it without a copy), unless
    /// it holds all of the member.
    pub fn push(&mut self, chunk: &[u8]) {
        self.push_inner(chunk, None);
    }

    /// `push` of a shared buffer, which is held as is when the member is held.
    pub fn push_bytes(&mut self, chunk: &Bytes) {
        self.push_inner(chunk, Some(chunk));
    }

    fn push_inner(&mut self, chunk: &[u8], owned: Option<&Bytes>) {
        let sha = &mut self.sha;
        timed(self.timing, &mut self.cpu.sha, || sha.update(chunk));
        self.total += chunk.len() as u64;
        self.keep_tail(chunk);
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.consume(chunk, owned) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: Error) {
        self.failed = Some(e);
        self.parser = None; // free the columns now: this archive is lost
        self.held = None;
    }

    /// About how many body bytes' worth of inflating and parsing pushing `incoming` more bytes
    /// does (hashing counted as an eighth): all of them when streaming; while a member is held,
    /// only the hashing until the push that completes it, which inflates the whole member.
    pub fn work_ahead(&self, incoming: usize) -> usize {
        match &self.held {
            Some(h) if h.len + incoming >= h.need => h.len + incoming,
            Some(_) => incoming / 8,
            None if self.done || self.failed.is_some() => incoming / 8,
            None => incoming,
        }
    }

    /// CSV bytes handed to the parser so far.
    pub fn inflated_bytes(&self) -> u64 {
        match (self.whole, self.member) {
            (Some(w), _) => w.inflated,
            (None, Some(m)) if m.deflated => {
                self.inflater.as_ref().map_or(0, Decompress::total_out)
            }
            _ => self.stored_done,
        }
    }

    /// Compressed bytes inflated so far.
    fn deflated_bytes(&self) -> u64 {
        match self.whole {
            Some(w) => w.compressed,
            None => self.inflater.as_ref().map_or(0, Decompress::total_in),
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
            || self.inflated_bytes() < SPLIT_AFTER
            || (!self.forced && SPLITTABLE.load(Ordering::Relaxed) >= cores())
        {
            return;
        }
        if let Some(parser) = self.parser.take() {
            let crc = std::mem::take(&mut self.crc);
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

    fn consume(&mut self, chunk: &[u8], owned: Option<&Bytes>) -> Result<()> {
        let mut data = chunk;
        let mut skip = 0;
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
                self.held = self.hold_for(member, header_len as u64);
                skip = header_len.saturating_sub(before);
                data = &chunk[skip..];
                self.head = Vec::new();
                member
            }
        };
        if self.held.is_some() {
            return self.hold(member, data, owned.map(|b| b.slice(skip..)));
        }
        self.stream_member(member, data)
    }

    /// The streaming path: `data` of the member inflated (or stored) piece by piece.
    fn stream_member(&mut self, member: Member, data: &[u8]) -> Result<()> {
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
            // Made on first use: a one-shot member never needs these.
            out.reserve_exact(INFLATE_CHUNK);
            let inflater = self.inflater.get_or_insert_with(|| Decompress::new(false));
            let before_in = inflater.total_in();
            let status = timed(self.timing, &mut self.cpu.inflate, || {
                inflater.decompress_vec(data, &mut out, FlushDecompress::None)
            })
            .map_err(|e| Error::archive(&self.file, format!("bad deflate data: {e}")))?;
            let (total_in, total_out) = (inflater.total_in(), inflater.total_out());
            let used = (total_in - before_in) as usize;
            data = &data[used..];
            // Before the parser takes any memory for this piece.
            self.limits.check(&self.file, total_out, total_in)?;
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
        // A member still held never completed: streamed, it says where the body falls short.
        if let (Some(held), Some(member)) = (self.held.take(), self.member) {
            if let Err(e) = self.replay(member, &held.chunks) {
                self.fail(e);
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
        let actual = self.whole.unwrap_or_else(|| Actual {
            crc32: thread_crc.unwrap_or_else(|| self.crc.sum()),
            compressed: match member.deflated {
                true => self.deflated_bytes(),
                false => self.stored_done,
            },
            inflated: self.inflated_bytes(),
        });
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
