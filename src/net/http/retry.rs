//! The retry policy: which failures are worth another attempt (transport, stalls, timeouts,
//! 5xx, 408, 429) and which are transient (say nothing about the data), and the wait before
//! the next attempt: full-jitter exponential backoff, never shorter than a server's
//! `Retry-After`, and no retry at all when that asks for more than `retry_after_max`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::HttpConfig;
use crate::error::Error;

/// Transport failures (stalls and timeouts included), 5xx, 408 and 429 are worth another try;
/// other 4xx (404 and the 418 ban included) and content errors (bad zip, checksum, parse) are
/// answers and are not.
pub fn is_retryable(e: &Error) -> bool {
    match e {
        Error::Network { .. } => true,
        Error::Http { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        _ => false,
    }
}

/// Whether a failure says nothing about the data, only about the network or the server's
/// mood (transport, timeouts, stalls, deadlines, 408, 429, 418, 5xx): worth trying again later,
/// never a reason to replace the data from another source.
pub fn is_transient(e: &Error) -> bool {
    match e {
        Error::Network { .. } => true,
        Error::Http { status, .. } => *status >= 500 || matches!(*status, 408 | 418 | 429),
        _ => false,
    }
}

/// A final retryable failure says how many attempts it took.
pub(super) fn gave_up(e: Error, attempts: u32) -> Error {
    match e {
        Error::Network { url, reason } if attempts > 1 => Error::Network {
            url,
            reason: format!("{reason} (gave up after {attempts} attempts)"),
        },
        other => other,
    }
}

/// Full-jitter exponential backoff: uniform in [0, min(max, base·2^n)], but never shorter than
/// a server's `Retry-After`. `None` when the server asks for more than `retry_after_max`.
pub fn backoff(cfg: &HttpConfig, n: u32, e: &Error) -> Option<Duration> {
    let cap = cfg
        .backoff_base
        .saturating_mul(1u32 << n.min(20))
        .min(cfg.backoff_max);
    let jittered = cap.mul_f64(jitter());
    match e {
        Error::Http {
            retry_after: Some(s),
            ..
        } if *s > 0.0 => {
            let asked = Duration::try_from_secs_f64(*s).ok()?;
            (asked <= cfg.retry_after_max).then(|| jittered.max(asked))
        }
        _ => Some(jittered),
    }
}

/// A uniform number in [0, 1) from a process-wide xorshift, seeded by the clock.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}
