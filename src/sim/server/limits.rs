//! REST request weight, as Binance meters it: a budget per market and window (6000 a minute on
//! spot, 2400 on futures), reported in `X-MBX-USED-WEIGHT-1M`. Over budget → 429 with
//! `Retry-After` (seconds to the window's end); a client that keeps going after `ban_after`
//! 429s in one window is banned → 418 with `Retry-After` until the ban ends.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sim::config::Limits;
use crate::sim::market::catalog::Market;

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Served; `used` = weight used in this window, this request included.
    Ok { used: u32 },
    /// 429.
    TooMany { used: u32, retry_after: u64 },
    /// 418 until the ban ends.
    Banned { retry_after: u64 },
}

#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    window: u64,
    used: u32,
    strikes: u32,
    banned_until: Option<Instant>,
}

/// Weight meters of the three markets.
pub struct Limiter {
    cfg: Mutex<Limits>,
    start: Instant,
    buckets: Mutex<[Bucket; 3]>,
}

impl Limiter {
    /// Meters for `cfg`, windows starting now.
    pub fn new(cfg: Limits) -> Self {
        Limiter {
            cfg: Mutex::new(cfg),
            start: Instant::now(),
            buckets: Mutex::new([Bucket::default(); 3]),
        }
    }

    /// Forget used weight, strikes and bans.
    pub fn reset(&self) {
        *self.buckets.lock().unwrap_or_else(|e| e.into_inner()) = [Bucket::default(); 3];
    }

    /// Replace the limits (and reset).
    pub fn configure(&self, cfg: Limits) {
        *self.cfg.lock().unwrap_or_else(|e| e.into_inner()) = cfg;
        self.reset();
    }

    /// The per-window budget of `market`.
    pub fn budget(&self, market: Market) -> u32 {
        let cfg = self.cfg.lock().unwrap_or_else(|e| e.into_inner());
        if market == Market::Spot {
            cfg.spot_weight
        } else {
            cfg.futures_weight
        }
    }

    /// The window length in seconds.
    pub fn window_s(&self) -> u64 {
        self.cfg
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .window_s
            .max(1)
    }

    /// Charge `weight` to `market`.
    pub fn charge(&self, market: Market, weight: u32) -> Verdict {
        let cfg = self.cfg.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let limit = if market == Market::Spot {
            cfg.spot_weight
        } else {
            cfg.futures_weight
        };
        let now = Instant::now();
        let window_s = cfg.window_s.max(1);
        let elapsed = now.duration_since(self.start);
        let window = elapsed.as_secs() / window_s;
        let window_end = self.start + Duration::from_secs((window + 1) * window_s);
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut all[market as usize];
        if let Some(until) = b.banned_until {
            if until > now {
                return Verdict::Banned {
                    retry_after: ceil_secs(until - now),
                };
            }
            b.banned_until = None;
        }
        if b.window != window {
            (b.window, b.used, b.strikes) = (window, 0, 0);
        }
        if b.used + weight > limit {
            b.strikes += 1;
            if b.strikes > cfg.ban_after {
                let until = now + Duration::from_secs(cfg.ban_s);
                b.banned_until = Some(until);
                return Verdict::Banned {
                    retry_after: cfg.ban_s.max(1),
                };
            }
            return Verdict::TooMany {
                used: b.used,
                retry_after: ceil_secs(window_end - now),
            };
        }
        b.used += weight;
        Verdict::Ok { used: b.used }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_budget_is_429_then_418() {
        let l = Limiter::new(Limits {
            spot_weight: 10,
            ban_after: 2,
            ..Limits::default()
        });
        assert_eq!(l.charge(Market::Spot, 6), Verdict::Ok { used: 6 });
        assert_eq!(
            l.charge(Market::Um, 6),
            Verdict::Ok { used: 6 },
            "markets are metered apart"
        );
        assert!(matches!(
            l.charge(Market::Spot, 6),
            Verdict::TooMany {
                used: 6,
                retry_after: 1..=60
            }
        ));
        assert!(matches!(l.charge(Market::Spot, 6), Verdict::TooMany { .. }));
        assert!(matches!(l.charge(Market::Spot, 1), Verdict::Ok { used: 7 }));
        assert!(matches!(
            l.charge(Market::Spot, 6),
            Verdict::Banned { retry_after: 120 }
        ));
        assert!(matches!(l.charge(Market::Spot, 1), Verdict::Banned { .. }));
        l.reset();
        assert_eq!(l.charge(Market::Spot, 1), Verdict::Ok { used: 1 });
    }
}
