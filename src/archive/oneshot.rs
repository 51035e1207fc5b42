//! The one-shot inflate of a small member (docs/architecture.md, "Where the cold path's time
//! goes"): once all of a member's compressed bytes have arrived, libdeflate inflates them in one
//! call into a buffer kept for the next member, and the CSV goes to the parser whole. libdeflate takes
//! less CPU than streaming zlib-rs through a 256 KiB buffer (a real day of 1m klines: ~920
//! against ~600 MB/s; a month: ~680 against ~580 MB/s), and its CRC-32 about a quarter.
//!
//! Guarantees: the output never exceeds the capacity asked for (libdeflate stops with
//! "insufficient space" first), the capacity is chosen by the caller from what has arrived
//! (see `ArchiveStream`) and is at most [`ONE_SHOT_MAX`]; bad data, a too small capacity or a
//! decompressor that cannot be had are one answer, `None`, on which the caller streams the
//! same bytes instead; between calls at most [`KEEP`] output and [`KEEP`] input buffers are
//! kept for the whole process, each of at most `ONE_SHOT_MAX` bytes; no panic, no read of
//! uninitialised memory.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use libdeflate_sys as ld;

use super::limits::RATIO_GRACE;

/// Largest CSV inflated in one shot: the ratio grace of the limits (8 MiB), which covers every
/// daily and monthly klines archive of 1m and longer (a 31-day month of 1m klines is ~7 MB).
/// Up to it the limits check no ratio, so inflating the whole member before looking loses no
/// check that streaming makes piece by piece: both paths accept and refuse the same archives.
/// Beyond it, streaming (bounded memory, the parser on its own thread for a lone large body)
/// is kept, where libdeflate's lead is smaller anyway.
pub(super) const ONE_SHOT_MAX: u64 = RATIO_GRACE;
/// The one-shot buffer is at most this many times the compressed bytes received (plus
/// [`ONE_SHOT_SLACK`]): real Binance CSVs deflate 3-8x, and a header claiming more sends the
/// member down the streaming path, so a forged claim never reserves much.
pub(super) const ONE_SHOT_RATIO: u64 = 16;
/// Allowance over `ONE_SHOT_RATIO` for tiny files (a few rows compress unusually well).
pub(super) const ONE_SHOT_SLACK: u64 = 64 * 1024;

/// A libdeflate decompressor (about 10 KB of tables), one per thread.
struct Decompressor(NonNull<ld::libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: no preconditions; a null return (out of memory) is handled.
        NonNull::new(unsafe { ld::libdeflate_alloc_decompressor() }).map(Decompressor)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `libdeflate_alloc_decompressor` and is freed once.
        unsafe { ld::libdeflate_free_decompressor(self.0.as_ptr()) };
    }
}

thread_local! {
    static DECOMPRESSOR: Cell<Option<Decompressor>> = const { Cell::new(None) };
}

/// Buffers kept between members by the whole process, at most this many in each pool: as many
/// as archives work at once (`net::fetch::Turns`: one per core), and some room.
pub(super) const KEEP: usize = 4;

/// Spare buffers shared by every thread, so that their pages are touched once per process, not
/// once per thread: a monthly archive's work moves between the runtime's threads (each
/// `block_in_place` may continue on another), and a fresh 8 MiB buffer costs ~2,000 page faults.
pub(super) struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    pub(super) const fn new() -> Self {
        Pool(Mutex::new(Vec::new()))
    }

    /// A spare buffer (empty, with whatever capacity it has), or a new empty one.
    pub(super) fn take(&self) -> Vec<u8> {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        buf.as_mut().map(Vec::clear);
        buf.unwrap_or_default()
    }

    /// Keep `buf` for later, unless it is larger than `ONE_SHOT_MAX` or `KEEP` are kept.
    pub(super) fn give(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > ONE_SHOT_MAX as usize {
            return;
        }
        let mut spare = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < KEEP {
            spare.push(buf);
        }
    }
}

/// The output buffers.
static OUT: Pool = Pool::new();
/// The compressed member when it came in several chunks.
static JOINED: Pool = Pool::new();

/// Inflate the raw deflate stream at the start of `input` into at most `cap` bytes. On
/// success, `then` gets the output (still in the pool's buffer) and the input bytes the
/// stream took, and its result comes back; `None` when the data is bad, the output would
/// exceed `cap` or no decompressor could be had (`then` is not called).
pub(super) fn inflate<R>(
    input: &[u8],
    cap: usize,
    then: impl FnOnce(&[u8], usize) -> R,
) -> Option<R> {
    let cap = cap.min(ONE_SHOT_MAX as usize);
    let dec = DECOMPRESSOR.take().or_else(Decompressor::new)?;
    let mut out = OUT.take();
    if out.capacity() < cap {
        // A fresh block rather than `reserve` (which may copy the old one's bytes); a power of
        // two so that archives of about the same size reuse it.
        out = Vec::with_capacity(cap.next_power_of_two().min(ONE_SHOT_MAX as usize).max(cap));
    }
    let (mut used, mut written) = (0usize, 0usize);
    // SAFETY: `input` is readable for its length and `out` writable for `cap` bytes (its
    // capacity is at least `cap`); libdeflate writes only there, and on success reports in
    // `written` how many bytes it wrote from the start, which are then initialised.
    let rc = unsafe {
        ld::libdeflate_deflate_decompress_ex(
            dec.0.as_ptr(),
            input.as_ptr().cast(),
            input.len(),
            out.as_mut_ptr().cast(),
            cap,
            &raw mut used,
            &raw mut written,
        )
    };
    let got =
        (rc == ld::libdeflate_result_LIBDEFLATE_SUCCESS && written <= cap && used <= input.len())
            .then(|| {
                // SAFETY: see above: the first `written` bytes were written by libdeflate.
                unsafe { out.set_len(written) };
                then(&out, used)
            });
    DECOMPRESSOR.set(Some(dec));
    OUT.give(out);
    got
}

/// The first `len` bytes of `chunks` (which hold at least that many) as one slice: the first
/// chunk itself when it holds them all, else a copy in a pooled buffer.
pub(super) fn joined<R>(chunks: &[Bytes], len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    if let Some(first) = chunks.first().filter(|c| c.len() >= len) {
        return f(&first[..len]);
    }
    let mut buf = JOINED.take();
    if buf.capacity() < len {
        buf = Vec::with_capacity(len.next_power_of_two().max(len));
    }
    for c in chunks {
        let take = (len - buf.len()).min(c.len());
        buf.extend_from_slice(&c[..take]);
    }
    let out = f(&buf);
    JOINED.give(buf);
    out
}

/// CRC-32 (the zip one) of `data`, libdeflate's (PCLMULQDQ/VPCLMULQDQ where the CPU has them).
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::default();
    c.update(data);
    c.sum()
}

/// A running CRC-32 of libdeflate's, for both paths: about four times as fast here as zlib-rs's
/// (60 against 15 GB/s on this machine's AVX-512 cores).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Crc32(u32);

impl Crc32 {
    /// Add `data`.
    pub fn update(&mut self, data: &[u8]) {
        // SAFETY: `data` is readable for its length.
        self.0 = unsafe { ld::libdeflate_crc32(self.0, data.as_ptr().cast(), data.len()) };
    }

    /// The CRC-32 of everything added.
    pub fn sum(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::write::deflate_raw;

    #[test]
    fn inflates_within_the_capacity_or_says_none() {
        let csv = b"1,2,3\n".repeat(10_000);
        let mut data = deflate_raw(&csv, 6);
        let n = data.len();
        data.extend_from_slice(b"PK\x07\x08 after the stream");
        let got = inflate(&data, csv.len(), |out, used| (out.to_vec(), used));
        assert_eq!(got, Some((csv.clone(), n)));
        assert_eq!(
            inflate(&data, csv.len() - 1, |_, _| ()),
            None,
            "one byte short"
        );
        assert_eq!(
            inflate(&data[..n - 1], csv.len(), |_, _| ()),
            None,
            "truncated"
        );
        let mut bad = data.clone();
        bad[0] |= 0b110; // block type 3: reserved
        assert_eq!(inflate(&bad, csv.len(), |_, _| ()), None);
        assert_eq!(inflate(&[], 10, |_, _| ()), None);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut c = Crc32::default();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.sum(), 0xCBF4_3926);
    }

    #[test]
    fn a_pool_keeps_at_most_keep_buffers_of_at_most_one_shot_max() {
        let pool = Pool::new();
        assert_eq!(
            pool.take().capacity(),
            0,
            "an empty pool gives a new buffer"
        );
        let mut used = Vec::with_capacity(1000);
        used.extend_from_slice(b"old bytes");
        pool.give(used);
        let again = pool.take();
        assert!(
            again.is_empty() && again.capacity() >= 1000,
            "kept, and emptied"
        );
        pool.give(Vec::with_capacity(ONE_SHOT_MAX as usize + 1));
        assert_eq!(
            pool.take().capacity(),
            0,
            "a buffer above ONE_SHOT_MAX is let go"
        );
        for _ in 0..KEEP + 3 {
            pool.give(Vec::with_capacity(64));
        }
        let kept = std::iter::from_fn(|| Some(pool.take()))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, KEEP);
    }

    #[test]
    fn joined_copies_only_when_the_first_chunk_is_short() {
        let chunks = [Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh")];
        assert_eq!(joined(&chunks, 3, <[u8]>::to_vec), b"abc");
        assert_eq!(joined(&chunks, 6, <[u8]>::to_vec), b"abcdef");
        assert_eq!(joined(&chunks, 8, <[u8]>::to_vec), b"abcdefgh");
    }
}
