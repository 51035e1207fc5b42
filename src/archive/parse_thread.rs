//! `ParseThread`: the CSV parser (and the CRC-32) of one large archive member on a thread of its
//! own, fed the inflated pieces through a bounded queue, so that hashing and inflating on the
//! fetching thread overlap with parsing on the other core (docs/architecture.md, "Where the
//! cold path's time goes").
//!
//! Guarantees: pieces are parsed whole and in the order sent; at most `DEPTH` pieces wait in
//! the queue (memory stays bounded by the parser's columns plus fixed buffers); after the
//! parser's first error its columns are freed, the rest is only counted into the CRC, and that
//! error is the one `finish` returns (else the parser comes back to build the batch); a panic on the thread becomes `Error::Internal`; dropping a `ParseThread`
//! closes the queue and joins the thread, so none outlives its archive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::oneshot::Crc32;
use super::stream::thread_clock;
use crate::error::{Error, Result};
use crate::parse::CsvParser;

/// Inflated pieces waiting for the parser at most.
const DEPTH: usize = 4;

/// What the thread hands back: the parser (to build the batch where the inline parser would)
/// or its first error, the CRC-32 of every byte sent, and the CPU time the thread took.
pub(crate) type Done = (Result<CsvParser>, u32, Duration);

/// A parser running on its own thread.
pub(crate) struct ParseThread {
    tx: Option<SyncSender<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<Done>>,
    failed: Arc<AtomicBool>,
    piece: usize,
}

impl ParseThread {
    /// Move `parser` onto a new thread, with `crc` the CRC-32 of what it was fed so far;
    /// pieces are expected to be about `piece` bytes. When no thread can be started, both
    /// come back.
    pub fn start(
        parser: CsvParser,
        crc: Crc32,
        piece: usize,
    ) -> std::result::Result<Self, Box<(CsvParser, Crc32)>> {
        let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
        let (spare_tx, spare) = sync_channel::<Vec<u8>>(DEPTH + 2);
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        // The parser must come back if the thread cannot start: hand it over through a slot.
        let slot = Arc::new(std::sync::Mutex::new(Some((parser, crc))));
        let inside = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("ckv-parse".into())
            .spawn(move || {
                let parser = inside.lock().ok().and_then(|mut p| p.take());
                match parser {
                    Some((p, crc)) => run(p, crc, &rx, &spare_tx, &flag),
                    None => (
                        Err(Error::Internal("parse thread without parser".into())),
                        0,
                        Duration::ZERO,
                    ),
                }
            });
        match spawned {
            Ok(handle) => Ok(ParseThread {
                tx: Some(tx),
                spare,
                handle: Some(handle),
                failed,
                piece,
            }),
            Err(_) => {
                let parser = slot.lock().ok().and_then(|mut p| p.take());
                // The closure never ran, so the parser is still in its slot.
                Err(Box::new(
                    parser.expect("the parser of a thread that never started"),
                ))
            }
        }
    }

    /// An empty buffer for the next piece (a returned one when there is one).
    pub fn buffer(&self) -> Vec<u8> {
        match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(self.piece),
        }
    }

    /// True once the parser has failed: nothing more needs to be sent.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Queue `piece` for the parser (waiting while `DEPTH` pieces are queued).
    pub fn send(&self, piece: Vec<u8>) {
        if let Some(tx) = &self.tx {
            // A closed queue means the thread is gone; `finish` says why.
            let _ = tx.send(piece);
        }
    }

    /// Close the queue, wait for the thread; the parser (or its first error), the CRC-32 of
    /// everything sent and the thread's CPU time.
    pub fn finish(mut self) -> Done {
        self.join()
    }

    fn join(&mut self) -> Done {
        self.tx = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(done)) => done,
            Some(Err(_)) => (
                Err(Error::Internal("the parse thread panicked".into())),
                0,
                Duration::ZERO,
            ),
            None => (
                Err(Error::Internal("the parse thread was joined twice".into())),
                0,
                Duration::ZERO,
            ),
        }
    }
}

impl Drop for ParseThread {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.join();
        }
    }
}

/// The thread's loop: parse each piece in order until the queue closes.
fn run(
    parser: CsvParser,
    mut crc: Crc32,
    rx: &Receiver<Vec<u8>>,
    spare: &SyncSender<Vec<u8>>,
    failed: &AtomicBool,
) -> Done {
    let start = thread_clock();
    let mut parser = Some(parser);
    let mut error = None;
    for piece in rx {
        crc.update(&piece);
        if let Some(p) = parser.as_mut() {
            if let Err(e) = p.feed(&piece) {
                error = Some(e);
                parser = None; // free the columns now: this archive is lost
                failed.store(true, Ordering::Release);
            }
        }
        // Full (the sender keeps enough) or gone: the buffer is simply freed.
        let _ = spare.try_send(piece);
    }
    let out = match (error, parser) {
        (Some(e), _) => Err(e),
        (None, Some(p)) => Ok(p),
        (None, None) => Err(Error::Internal("the parser vanished".into())),
    };
    (out, crc.sum(), thread_clock().saturating_sub(start))
}
