//! Reading a response body under the stall rule: the body must bring at least `stall_bytes`
//! within every `stall_timeout` window (a window restarts once that many bytes arrived), and
//! the whole attempt must end by its deadline, if it has one. A body that trickles (1 byte/s)
//! or falls silent fails as a retryable `Network` error "stalled: no progress for N s" within
//! one window, whatever its size; a healthy large body is never cut.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::time::{Instant, Sleep};

use super::{network, HttpConfig, Response};
use crate::error::{Error, Result};

/// Counters of what the network did, readable while requests run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Attempts that were retried (after a retryable failure).
    pub retries: AtomicU64,
    /// Attempts abandoned because their body made no progress (the stall rule).
    pub stalls: AtomicU64,
}

/// One response body being read.
pub struct Body<'a> {
    resp: Response,
    url: &'a str,
    cfg: &'a HttpConfig,
    tally: &'a Tally,
    /// Bytes received in the current stall window.
    window_bytes: u64,
    /// When the current stall window ends (`None`: no stall rule or no representable end).
    window_end: Option<Instant>,
    end: Option<Instant>,
    /// Fires at the earlier of `window_end` and `end`.
    timer: Option<Pin<Box<Sleep>>>,
}

enum Step {
    Chunk(reqwest::Result<Option<Bytes>>),
    Timer,
}

impl<'a> Body<'a> {
    pub(super) fn new(
        resp: Response,
        url: &'a str,
        cfg: &'a HttpConfig,
        end: Option<Instant>,
        tally: &'a Tally,
    ) -> Self {
        let mut body = Body {
            resp,
            url,
            cfg,
            tally,
            window_bytes: 0,
            window_end: None,
            end,
            timer: None,
        };
        body.restart_window();
        body
    }

    fn restart_window(&mut self) {
        self.window_bytes = 0;
        self.window_end = self
            .cfg
            .stall_timeout
            .and_then(|w| Instant::now().checked_add(w));
        let fire = match (self.window_end, self.end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (fire, self.timer.as_mut()) {
            (Some(at), Some(t)) => t.as_mut().reset(at),
            (Some(at), None) => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
            (None, _) => self.timer = None,
        }
    }

    /// The next piece of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let step = match self.timer.as_mut() {
            None => Step::Chunk(self.resp.chunk().await),
            Some(timer) => {
                tokio::select! {
                    biased;
                    c = self.resp.chunk() => Step::Chunk(c),
                    () = timer.as_mut() => Step::Timer,
                }
            }
        };
        match step {
            Step::Chunk(Ok(Some(c))) => {
                self.window_bytes += c.len() as u64;
                if self.window_bytes >= self.cfg.stall_bytes {
                    self.restart_window();
                }
                Ok(Some(c))
            }
            Step::Chunk(Ok(None)) => Ok(None),
            Step::Chunk(Err(e)) => Err(network(self.url, &e)),
            Step::Timer => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> Error {
        let stalled = match (self.window_end, self.end) {
            (Some(w), Some(e)) => w <= e,
            (w, _) => w.is_some(),
        };
        if !stalled {
            return deadline_error(self.url, self.cfg);
        }
        self.tally.stalls.fetch_add(1, Ordering::Relaxed);
        let window = self.cfg.stall_timeout.unwrap_or_default().as_secs_f64();
        Error::Network {
            url: self.url.to_string(),
            reason: format!(
                "stalled: no progress for {window} s (fewer than {} bytes arrived in that time)",
                self.cfg.stall_bytes
            ),
        }
    }

    /// The whole body, failing (not retryable) beyond `limit` bytes. A body that arrives in
    /// one piece is returned as it is; otherwise the pieces are copied once into a buffer sized
    /// by the declared length (capped at `limit`), so a large body is never regrown.
    pub async fn read_all(mut self, limit: usize) -> Result<Bytes> {
        let declared = self
            .resp
            .content_length()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut first: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        let mut len = 0usize;
        while let Some(c) = self.chunk().await? {
            len += c.len();
            if len > limit {
                return Err(Error::Protocol {
                    url: self.url.to_string(),
                    reason: format!("body larger than {limit} bytes"),
                });
            }
            match first.take() {
                None if buf.is_empty() => first = Some(c),
                None => buf.extend_from_slice(&c),
                Some(head) => {
                    buf.reserve(declared.clamp(len, limit));
                    buf.extend_from_slice(&head);
                    buf.extend_from_slice(&c);
                }
            }
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    }

    /// At most the first `limit` bytes, whatever goes wrong after them (for error bodies).
    pub async fn read_head(mut self, limit: usize) -> Vec<u8> {
        let mut buf = Vec::new();
        while buf.len() < limit {
            match self.chunk().await {
                Ok(Some(c)) => buf.extend_from_slice(&c[..c.len().min(limit - buf.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        buf
    }
}

/// The whole attempt outlasted the configured `deadline`.
pub(super) fn deadline_error(url: &str, cfg: &HttpConfig) -> Error {
    Error::Network {
        url: url.to_string(),
        reason: format!(
            "attempt exceeded the per-request deadline of {} s",
            cfg.deadline.unwrap_or_default().as_secs_f64()
        ),
    }
}
