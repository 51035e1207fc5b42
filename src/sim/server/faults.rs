//! Injectable faults, matched per request path: a glob (`*` any run of characters, `?` one)
//! or, without wildcards, a path prefix. Each fault fires for every match, or only for the
//! first `times` matches (then the path behaves again, as after a transient failure).
//!
//! Kinds: 404, 500, 503, slow body, connection dropped mid-body, truncated body, wrong
//! checksum (on `.CHECKSUM` sidecars; the pattern may name the zip), S3 XML error body with
//! status 200, 429/418 with `Retry-After`, and malformed REST answers with status 200
//! ([`Malform`]: truncated JSON, an HTML page, `null`, an object, short rows, a non-numeric,
//! NaN or infinite number, an empty body).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// What a fault does to the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// 404 with S3's `NoSuchKey` body.
    NotFound,
    /// A 5xx (500 or 503) status.
    Status(u16),
    /// The body trickles: `chunk` bytes then `pause`.
    Slow { chunk: usize, pause: Duration },
    /// The connection closes after `fraction` of the body.
    Drop { fraction: f64 },
    /// Only the first `fraction` of the body is sent (a complete, short response).
    Truncate { fraction: f64 },
    /// The `.CHECKSUM` sidecar names a different hash.
    BadChecksum,
    /// Status 200 with an S3 XML error document as the body.
    XmlError,
    /// 429 or 418 with `Retry-After: retry_after` seconds.
    RateLimit { status: u16, retry_after: u64 },
    /// A 200 answer whose body is made malformed (applied to 200 answers only; the weight
    /// is still charged and the weight headers kept).
    Malformed(Malform),
}

/// How a malformed REST body is made from the real one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Malform {
    /// JSON cut short: only the first `fraction` of it, and always at least one byte less.
    JsonTruncate { fraction: f64 },
    /// An HTML page (a captive portal or CDN error page), `text/html`.
    Html,
    /// The JSON literal `null`.
    Null,
    /// An object wrapping the real answer instead of a list: `{"data":[…]}`.
    Object,
    /// Every row loses its last field.
    ShortRows,
    /// The last row's second field becomes `"abc"`.
    BadNumber,
    /// The last row's third field becomes `"NaN"`.
    NanNumber,
    /// The last row's third field becomes `"Infinity"`.
    InfNumber,
    /// An empty body.
    Empty,
}

/// The malformed-body kind names, as [`FaultKind::parse`] takes them.
pub const MALFORMED_KINDS: [&str; 9] = [
    "json_truncate",
    "html_200",
    "json_null",
    "json_object",
    "short_rows",
    "bad_number",
    "nan_number",
    "inf_number",
    "empty_200",
];

/// Optional parameters of a fault, with defaults.
#[derive(Debug, Clone, Copy)]
pub struct FaultParams {
    pub retry_after: u64,
    pub chunk: usize,
    pub pause: Duration,
    pub fraction: f64,
}

impl Default for FaultParams {
    fn default() -> Self {
        FaultParams {
            retry_after: 1,
            chunk: 16 * 1024,
            pause: Duration::from_millis(50),
            fraction: 0.5,
        }
    }
}

impl FaultKind {
    /// Parse a kind name: `403`, `404`, `500`, `503`, `slow`, `drop`, `truncate`, `bad_checksum`,
    /// `xml_error`, `429`, `418`, or one of [`MALFORMED_KINDS`].
    pub fn parse(name: &str, p: FaultParams) -> Result<Self> {
        let fraction = p.fraction.clamp(0.0, 1.0);
        Ok(match name {
            "404" | "not_found" => FaultKind::NotFound,
            "403" => FaultKind::Status(403),
            "500" => FaultKind::Status(500),
            "503" => FaultKind::Status(503),
            "slow" => FaultKind::Slow {
                chunk: p.chunk.max(1),
                pause: p.pause,
            },
            "drop" => FaultKind::Drop { fraction },
            "truncate" => FaultKind::Truncate { fraction },
            "bad_checksum" | "wrong_checksum" => FaultKind::BadChecksum,
            "xml_error" => FaultKind::XmlError,
            "429" => FaultKind::RateLimit {
                status: 429,
                retry_after: p.retry_after,
            },
            "418" => FaultKind::RateLimit {
                status: 418,
                retry_after: p.retry_after,
            },
            "json_truncate" => FaultKind::Malformed(Malform::JsonTruncate { fraction }),
            "html_200" => FaultKind::Malformed(Malform::Html),
            "json_null" => FaultKind::Malformed(Malform::Null),
            "json_object" => FaultKind::Malformed(Malform::Object),
            "short_rows" => FaultKind::Malformed(Malform::ShortRows),
            "bad_number" => FaultKind::Malformed(Malform::BadNumber),
            "nan_number" => FaultKind::Malformed(Malform::NanNumber),
            "inf_number" => FaultKind::Malformed(Malform::InfNumber),
            "empty_200" => FaultKind::Malformed(Malform::Empty),
            other => {
                return Err(Error::Invalid(format!(
                    "unknown fault kind {other:?}; expected one of 403, 404, 500, 503, slow, \
                     drop, truncate, bad_checksum, xml_error, 429, 418, {}",
                    MALFORMED_KINDS.join(", ")
                )))
            }
        })
    }

    /// Whether the fault replaces the answer outright (no need to build the real one).
    pub fn replaces(&self) -> bool {
        matches!(
            self,
            FaultKind::NotFound
                | FaultKind::Status(_)
                | FaultKind::XmlError
                | FaultKind::RateLimit { .. }
        )
    }
}

/// One registered fault.
#[derive(Debug)]
pub struct Fault {
    pub pattern: String,
    pub kind: FaultKind,
    remaining: Mutex<Option<u64>>,
    hits: AtomicU64,
}

/// The registered faults, first match wins.
#[derive(Debug, Default)]
pub struct Faults {
    list: RwLock<Vec<Arc<Fault>>>,
}

impl Faults {
    /// Register `kind` for paths matching `pattern`, for `times` requests (`None` = always).
    pub fn add(&self, pattern: &str, kind: FaultKind, times: Option<u64>) {
        let f = Fault {
            pattern: pattern.to_string(),
            kind,
            remaining: Mutex::new(times),
            hits: AtomicU64::new(0),
        };
        self.list
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(f));
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.list.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// (pattern, hits) of every fault, in registration order.
    pub fn hits(&self) -> Vec<(String, u64)> {
        let list = self.list.read().unwrap_or_else(|e| e.into_inner());
        list.iter()
            .map(|f| (f.pattern.clone(), f.hits.load(Ordering::Relaxed)))
            .collect()
    }

    /// The fault that applies to a request of `path`, consuming one of its uses.
    pub fn take(&self, path: &str) -> Option<FaultKind> {
        let list = self.list.read().unwrap_or_else(|e| e.into_inner());
        for f in list.iter() {
            let applies = match f.kind {
                FaultKind::BadChecksum => path
                    .strip_suffix(".CHECKSUM")
                    .is_some_and(|zip| matches(&f.pattern, path) || matches(&f.pattern, zip)),
                _ => matches(&f.pattern, path),
            };
            if !applies {
                continue;
            }
            let mut left = f.remaining.lock().unwrap_or_else(|e| e.into_inner());
            match left.as_mut() {
                Some(0) => continue,
                Some(n) => *n -= 1,
                None => {}
            }
            f.hits.fetch_add(1, Ordering::Relaxed);
            return Some(f.kind);
        }
        None
    }
}

/// Glob match (`*`, `?`) of the whole text, or a prefix match when `pattern` has no wildcard.
pub fn matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return text.starts_with(pattern);
    }
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == b'?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_prefixes() {
        assert!(matches(
            "*/BTCUSDT-1m-2023-01-0?.zip",
            "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-01-05.zip"
        ));
        assert!(!matches(
            "*/BTCUSDT-1m-2023-01-0?.zip",
            "/data/x/BTCUSDT-1m-2023-01-10.zip"
        ));
        assert!(matches("/api/v3/", "/api/v3/klines"));
        assert!(matches("*", ""));
        assert!(!matches("a*b", "acbx"));
    }

    #[test]
    fn counted_faults_run_out_and_checksum_faults_follow_their_zip() {
        let f = Faults::default();
        f.add("/x", FaultKind::Status(503), Some(2));
        f.add("*.zip", FaultKind::BadChecksum, None);
        assert_eq!(f.take("/x/1"), Some(FaultKind::Status(503)));
        assert_eq!(f.take("/x/1"), Some(FaultKind::Status(503)));
        assert_eq!(f.take("/x/1"), None);
        assert_eq!(f.take("/a.zip"), None, "the zip itself is untouched");
        assert_eq!(f.take("/a.zip.CHECKSUM"), Some(FaultKind::BadChecksum));
        assert_eq!(
            f.hits(),
            vec![("/x".to_string(), 2), ("*.zip".to_string(), 1)]
        );
        assert!(FaultKind::parse("teapot", FaultParams::default()).is_err());
    }

    #[test]
    fn every_malformed_kind_parses_and_builds_the_real_answer_first() {
        for name in MALFORMED_KINDS {
            let k = FaultKind::parse(name, FaultParams::default()).unwrap();
            assert!(matches!(k, FaultKind::Malformed(_)), "{name}");
            assert!(
                !k.replaces(),
                "{name}: the real answer is charged and then mangled"
            );
        }
        assert_eq!(
            FaultKind::parse("json_truncate", FaultParams::default()).unwrap(),
            FaultKind::Malformed(Malform::JsonTruncate { fraction: 0.5 })
        );
    }
}
