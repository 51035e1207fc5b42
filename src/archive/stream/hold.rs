//! The one-shot side of `ArchiveStream`: which members are held, holding their pieces, the
//! one-shot inflate (`oneshot`) once they are complete, and the replay through the streaming
//! path when it fails.
//!
//! Guarantees: a member is held only when deflated and small (`ONE_SHOT_MAX`, claiming at most
//! `ONE_SHOT_RATIO` times compression, or with a data descriptor ending within `ONE_SHOT_MAX`
//! of the body's declared end), so the held bytes and the output buffer stay within
//! `ONE_SHOT_MAX` each; the pieces are held as they came, so a replay makes the very calls
//! streaming would have made, and fails with the same error.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::{cores, thread_clock, timed, ArchiveStream, LONE_STREAM_MIN};
use crate::archive::header::{Actual, Member};
use crate::archive::oneshot::{self, ONE_SHOT_MAX, ONE_SHOT_RATIO, ONE_SHOT_SLACK};
use crate::error::Result;

/// A member held for the one-shot inflate.
pub(super) struct Held {
    pub chunks: Vec<Bytes>,
    /// The free end of the block that pieces pushed as slices are copied into.
    copied: BytesMut,
    pub len: usize,
    /// Member bytes to hold before inflating: its compressed size, or with a data descriptor,
    /// everything up to the declared end of the body.
    pub need: usize,
    /// Capacity of the output buffer.
    cap: usize,
}

impl Held {
    /// A copy of `data`, packed with the other copied pieces into blocks of 64 KiB or more
    /// (pieces stay apart: a replay pushes them as they came, so it fails as streaming would).
    fn copy(&mut self, data: &[u8]) -> Bytes {
        if self.copied.capacity() < data.len() {
            self.copied = BytesMut::with_capacity(data.len().max(64 * 1024));
        }
        self.copied.extend_from_slice(data);
        self.copied.split().freeze()
    }
}

impl ArchiveStream {
    /// Whether to hold `member` (whose data starts at body offset `start`) for the one-shot
    /// inflate: deflated, and its CSV at most `ONE_SHOT_MAX` bytes; with sizes in the header,
    /// when they claim no more than `ONE_SHOT_RATIO` times compression (the buffer is then the
    /// claimed size); with a data descriptor, when the body's declared end is that close (the
    /// buffer is then what `ONE_SHOT_RATIO` and the limits allow for the bytes up to it).
    pub(super) fn hold_for(&self, member: Member, start: u64) -> Option<Held> {
        if !self.one_shot || !member.deflated || self.splits_alone(member, start) {
            return None;
        }
        let (need, cap) = if member.descriptor {
            let rest = self.expected_len?.checked_sub(start)?;
            let cap = (ONE_SHOT_RATIO
                .saturating_mul(rest)
                .saturating_add(ONE_SHOT_SLACK))
            .min(ONE_SHOT_MAX)
            .min(self.limits.max_inflated_bytes);
            (rest, cap)
        } else {
            let (csv, compressed) = (member.csv_size, member.compressed_size);
            let room = ONE_SHOT_RATIO
                .saturating_mul(compressed)
                .saturating_add(ONE_SHOT_SLACK);
            if csv == 0 || csv > ONE_SHOT_MAX || csv > room {
                return None;
            }
            (compressed, csv)
        };
        (need <= ONE_SHOT_MAX).then(|| Held {
            chunks: Vec::new(),
            copied: BytesMut::new(),
            len: 0,
            need: need as usize,
            cap: cap as usize,
        })
    }

    /// Whether `member` is better streamed and split than held (see `ArchiveStream::alone`):
    /// at least `LONE_STREAM_MIN` CSV bytes, by its header or, with a data descriptor, by the
    /// compressed bytes up to the body's declared end (CSVs deflate at least 3x).
    fn splits_alone(&self, member: Member, start: u64) -> bool {
        if !self.lone || self.split.is_none() || cores() < 2 {
            return false;
        }
        let csv = if member.descriptor {
            let rest = self.expected_len.and_then(|n| n.checked_sub(start));
            rest.map_or(0, |n| n.saturating_mul(3))
        } else {
            member.csv_size
        };
        csv >= LONE_STREAM_MIN
    }

    /// Hold `data` (shared as `owned` when given, else copied) until the member is complete,
    /// then inflate it in one shot; when that fails, stream what was held instead.
    pub(super) fn hold(&mut self, member: Member, data: &[u8], owned: Option<Bytes>) -> Result<()> {
        let Some(held) = self.held.as_mut() else {
            return self.stream_member(member, data);
        };
        if held.chunks.is_empty() && data.len() >= held.need {
            // The whole member in this piece: no copy.
            let (need, cap) = (held.need, held.cap);
            self.held = None;
            if self.one_shot_inflate(member, &data[..need], cap)? {
                return Ok(());
            }
            return self.stream_member(member, data);
        }
        held.len += data.len();
        let piece = owned.unwrap_or_else(|| held.copy(data));
        held.chunks.push(piece);
        if held.len < held.need {
            return Ok(());
        }
        let Held {
            chunks, need, cap, ..
        } = self.held.take().expect("held just above");
        // The copy of a member that came in several pieces counts as inflating.
        let t0 = self.timing.then(thread_clock);
        let done = oneshot::joined(&chunks, need, |input| {
            if let Some(t0) = t0 {
                self.cpu.inflate += thread_clock().saturating_sub(t0);
            }
            self.one_shot_inflate(member, input, cap)
        })?;
        if !done {
            self.replay(member, &chunks)?;
        }
        Ok(())
    }

    /// Stream held pieces (after a one-shot that failed, or at `finish` when the member never
    /// completed).
    pub(super) fn replay(&mut self, member: Member, chunks: &[Bytes]) -> Result<()> {
        chunks
            .iter()
            .try_for_each(|c| self.stream_member(member, c))
    }

    /// Inflate the complete member `input` in one shot into at most `cap` bytes, then feed it
    /// to the parser. `Ok(false)` when libdeflate could not (bad data, more than `cap`): the
    /// caller streams the same bytes, whose errors are the ones reported.
    pub(super) fn one_shot_inflate(
        &mut self,
        member: Member,
        input: &[u8],
        cap: usize,
    ) -> Result<bool> {
        let t0 = self.timing.then(thread_clock);
        let (limits, file) = (self.limits, &self.file);
        let parser = &mut self.parser;
        let mut parse_cpu = Duration::ZERO;
        let timing = self.timing;
        let got = oneshot::inflate(input, cap, |csv, used| {
            let actual = Actual {
                crc32: oneshot::crc32(csv),
                compressed: used as u64,
                inflated: csv.len() as u64,
            };
            // The limits as streaming checks them (this cannot fail within `ONE_SHOT_MAX`,
            // the ratio grace; should it, streaming finds the error).
            limits
                .check(file, actual.inflated, actual.compressed)
                .ok()?;
            let fed = parser
                .as_mut()
                .map(|p| timed(timing, &mut parse_cpu, || p.feed(csv)));
            Some((actual, fed, &input[used..]))
        })
        .flatten();
        if let Some(t0) = t0 {
            self.cpu.inflate += thread_clock().saturating_sub(t0).saturating_sub(parse_cpu);
            self.cpu.parse += parse_cpu;
        }
        let Some((actual, fed, rest)) = got else {
            return Ok(false);
        };
        self.whole = Some(actual);
        self.done = true;
        self.collect_descriptor(member, rest)?;
        fed.unwrap_or(Ok(()))?;
        Ok(true)
    }
}
