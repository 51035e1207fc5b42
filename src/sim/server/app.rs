//! The simulator as one HTTP handler: real archive files (if given) first, then the Vision
//! archives (`/data/…`), the S3 listing (`/data.binance.vision?prefix=…`) and the REST APIs,
//! with injected faults applied on the way out. Generated archives are memoised.
//!
//! Memo and clock: an archive is looked up only once it is published (checked at every
//! request against the current clock, which only moves forward), and only final archives are
//! memoised. Every published archive is final except a monthly 3d/1w one whose last candle
//! reaches past the month into the future: that one is rebuilt on each request, so advancing
//! the clock (`set_now_us`) never serves a candle as it stood at an earlier `now`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::model::interval::{Interval, DAY_US};

use super::faults::{FaultKind, Faults};
use super::limits::Limiter;
use super::{Delivery, Handler, Reply, Req};
use crate::sim::config::SimConfig;
use crate::sim::market::data::Data;
use crate::sim::market::exchange::Exchange;
use crate::sim::market::klines::candle_open;
use crate::sim::market::memo::Memo;
use crate::sim::rest;
use crate::sim::rest::params::Params;
use crate::sim::vision::listing;
use crate::sim::vision::{self, Archive};

/// Path of the S3 listing endpoint (the bucket, path-style).
pub const LISTING_PATH: &str = "/data.binance.vision";

/// The whole simulated exchange.
pub struct Simulator {
    pub data: Data,
    pub limiter: Limiter,
    pub faults: Faults,
    archives: Memo<Arc<Archive>>,
    real: RwLock<HashMap<String, Bytes>>,
    level: u32,
}

impl Simulator {
    /// A simulator for `cfg`.
    pub fn new(cfg: SimConfig) -> Self {
        let (budget, level, limits) = (cfg.cache_bytes, cfg.compression_level, cfg.limits.clone());
        Simulator {
            data: Data::new(Exchange::new(cfg), budget / 2),
            limiter: Limiter::new(limits),
            faults: Faults::default(),
            archives: Memo::new(budget / 2),
            real: RwLock::new(HashMap::new()),
            level,
        }
    }

    /// Serve these bodies at these paths, ahead of the synthetic market (real archives).
    pub fn add_routes(&self, routes: HashMap<String, Bytes>) {
        self.real
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extend(routes);
    }

    /// The archive (or sidecar) at a Vision path, if published.
    pub fn vision(&self, path: &str) -> Option<Bytes> {
        let (id, sidecar) = vision::parse_path(&self.data.ex, path)?;
        if !id.published(&self.data.ex) {
            return None;
        }
        let level = self.level;
        let a = if self.is_final(&id) {
            self.archives.get_or_build(
                &id.key(),
                || Arc::new(vision::build(&self.data, &id, level)),
                |a| a.zip.len() + a.checksum.len(),
            )
        } else {
            Arc::new(vision::build(&self.data, &id, level))
        };
        Some(if sidecar {
            a.checksum.clone()
        } else {
            a.zip.clone()
        })
    }

    /// Move the frozen clock forward to `t_us` (see `Exchange::set_now_us`).
    pub fn set_now_us(&self, t_us: i64) -> crate::Result<()> {
        self.data.ex.set_now_us(t_us)
    }

    /// Whether the published archive `id` can no longer change: true unless its last candle
    /// (a 3d or 1w candle opening in its last days) closes after `now`.
    fn is_final(&self, id: &vision::ArchiveId) -> bool {
        let Some(iv) = id.interval.and_then(|i| i.parse::<Interval>().ok()) else {
            return true;
        };
        let last_open = candle_open(iv, id.last_day * DAY_US);
        iv.next_open(last_open) <= self.data.ex.now_us()
    }

    /// Build the archives at `paths` ahead of time, on all cores, so a benchmark then measures
    /// transfer, not generation (within the cache budget). Returns the bytes now served.
    pub fn prepare(&self, paths: &[String]) -> usize {
        let next = AtomicUsize::new(0);
        let total = AtomicUsize::new(0);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::scope(|s| {
            for _ in 0..threads.min(paths.len()) {
                s.spawn(|| {
                    while let Some(p) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let n = self.vision(p).map_or(0, |b| b.len());
                        total.fetch_add(n, Ordering::Relaxed);
                    }
                });
            }
        });
        total.into_inner()
    }

    fn listing(&self, query: &str) -> Reply {
        let p = Params::parse(query).unwrap_or_default();
        let prefix = p.get("prefix").unwrap_or("");
        let delimiter = p.get("delimiter").unwrap_or("");
        let marker = p.get("marker").unwrap_or("");
        let max = p
            .get("max-keys")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1000)
            .min(1000);
        let page = listing::list(&self.data.ex, prefix, delimiter == "/", marker, max);
        Reply::new(
            200,
            "application/xml",
            listing::xml(&page, prefix, marker, delimiter, max),
        )
    }

    fn route(&self, req: &Req) -> Reply {
        if let Some(body) = self
            .real
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&req.path)
        {
            return Reply::ok(body.clone());
        }
        if req.path.starts_with("/data/") {
            return match self.vision(&req.path) {
                Some(body) => {
                    let ct = if req.path.ends_with(".zip") {
                        "application/zip"
                    } else {
                        "binary/octet-stream"
                    };
                    Reply::new(200, ct, body)
                }
                None => Reply::not_found(&req.path),
            };
        }
        if req.path == LISTING_PATH || req.path == "/data.binance.vision/" {
            return self.listing(&req.query);
        }
        if let Some(r) = rest::handle(&self.data, &self.limiter, req) {
            return r;
        }
        Reply::not_found(&req.path)
    }
}

impl Handler for Simulator {
    fn handle(&self, req: &Req) -> Reply {
        let fault = self.faults.take(&req.path);
        match fault {
            Some(f) if f.replaces() => apply(f, Reply::ok(Bytes::new()), &req.path),
            Some(f) => apply(f, self.route(req), &req.path),
            None => self.route(req),
        }
    }

    fn blocking(&self) -> bool {
        true
    }
}

/// `reply` as changed by fault `f`.
pub fn apply(f: FaultKind, mut reply: Reply, path: &str) -> Reply {
    let json = rest::route(path).is_some();
    let xml = |code: &str, msg: &str| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>C0FFEE5EED000000</RequestId></Error>")
    };
    let len = reply.body.len();
    match f {
        FaultKind::NotFound => Reply::not_found(path),
        FaultKind::Status(s) if json => {
            let body = if s == 503 {
                r#"{"code":-1008,"msg":"Server is currently overloaded with other requests. Please try again in a few minutes."}"#
            } else {
                r#"{"code":-1000,"msg":"An unknown error occurred while processing the request."}"#
            };
            Reply::new(s, "application/json;charset=UTF-8", body)
        }
        FaultKind::Status(403) => {
            Reply::new(403, "application/xml", xml("AccessDenied", "Access Denied"))
        }
        FaultKind::Status(503) => Reply::new(
            503,
            "application/xml",
            xml("SlowDown", "Please reduce your request rate."),
        ),
        FaultKind::Status(s) => Reply::new(
            s,
            "application/xml",
            xml(
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
        ),
        FaultKind::XmlError => {
            Reply::new(200, "application/xml", xml("AccessDenied", "Access Denied"))
        }
        FaultKind::RateLimit {
            status,
            retry_after,
        } => {
            let body = format!(
                "{{\"code\":-1003,\"msg\":\"Too much request weight used; simulated {status}.\"}}"
            );
            Reply::new(status, "application/json;charset=UTF-8", body)
                .with_header("Retry-After", retry_after)
        }
        FaultKind::Slow { chunk, pause } => {
            reply.delivery = Delivery::Slow { chunk, pause };
            reply
        }
        FaultKind::Drop { fraction } => {
            reply.delivery = Delivery::Drop {
                after: (len as f64 * fraction) as usize,
            };
            reply
        }
        FaultKind::Truncate { fraction } => {
            reply.body = reply.body.slice(..(len as f64 * fraction) as usize);
            reply
        }
        FaultKind::Malformed(m) => rest::mangle::mangle(m, reply),
        FaultKind::BadChecksum => {
            if reply.status == 200 {
                let mut b = reply.body.to_vec();
                for c in b.iter_mut().take(64) {
                    *c = match *c {
                        b'0'..=b'8' | b'a'..=b'e' => *c + 1,
                        b'9' => b'a',
                        _ => b'0',
                    };
                }
                reply.body = b.into();
            }
            reply
        }
    }
}
