//! The one HTTP client of the process: keep-alive pool, bounded concurrency, timeouts, and a
//! retry policy (exponential backoff with full jitter) that retries 5xx, timeouts and resets
//! but never 404 or any other 4xx.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{Error, Result};

/// Limits and timeouts of the client. `Default` suits data.binance.vision.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Requests in flight at once (also the keep-alive pool size per host).
    pub max_connections: usize,
    pub connect_timeout: Duration,
    /// Longest silence while reading a body.
    pub read_timeout: Duration,
    /// Retries after the first attempt, for retryable failures only.
    pub retries: u32,
    /// First backoff; doubles each retry up to `backoff_max`, fully jittered.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_connections: 32,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            user_agent: concat!("ckv/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// A shared client: clone freely, all clones share the pool and the concurrency bound.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    permits: Arc<Semaphore>,
    pub config: Arc<HttpConfig>,
}

/// An answered request: status, headers and the response to read the body from.
pub type Response = reqwest::Response;

impl HttpClient {
    /// Build a client from `config`.
    pub fn new(config: HttpConfig) -> Result<Self> {
        // Ring as the rustls crypto provider; a second install attempt is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = reqwest::Client::builder()
            .pool_max_idle_per_host(config.max_connections.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .tcp_nodelay(true)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpClient {
            inner,
            permits: Arc::new(Semaphore::new(config.max_connections.max(1))),
            config: Arc::new(config),
        })
    }

    /// Wait for one of the `max_connections` slots.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    /// Send one GET, no retry; any status is returned. Transport errors → `Network`.
    pub async fn send(&self, url: &str, headers: &[(String, String)]) -> Result<Response> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::Invalid(format!("bad header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| Error::Invalid(format!("bad header value for {k}")))?;
            map.insert(name, value);
        }
        self.inner
            .get(url)
            .headers(map)
            .send()
            .await
            .map_err(|e| network(url, &e))
    }

    /// One GET, no retry: transport errors → `Network`, 404 → `NotFound`, other non-2xx →
    /// `Http` (with the body's first bytes and `Retry-After`). The caller holds a permit.
    pub async fn get_once(&self, url: &str, headers: &[(String, String)]) -> Result<Response> {
        let resp = self.send(url, headers).await?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        Err(status_error(url, resp).await)
    }

    /// GET a whole (small) body, with retries. Used for `.CHECKSUM` sidecars and REST pages.
    pub async fn get_bytes(&self, url: &str) -> Result<bytes::Bytes> {
        self.with_retries(|| async {
            let _permit = self.permit().await;
            let resp = self.get_once(url, &[]).await?;
            resp.bytes().await.map_err(|e| network(url, &e))
        })
        .await
    }

    /// GET with retries on transport failures and 5xx; any other status (404, 429, 418, 4xx)
    /// is returned as an `Answer` for the caller to interpret (REST error codes, Retry-After,
    /// weight headers).
    pub async fn get_answer(&self, url: &str, headers: &[(String, String)]) -> Result<Answer> {
        self.with_retries(|| async {
            let _permit = self.permit().await;
            let resp = self.send(url, headers).await?;
            let status = resp.status().as_u16();
            if status >= 500 {
                return Err(status_error(url, resp).await);
            }
            let headers = header_pairs(resp.headers());
            let body = resp.bytes().await.map_err(|e| network(url, &e))?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        })
        .await
    }

    /// Run `attempt` until it succeeds, fails with a non-retryable error, or retries run out.
    pub async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut tries = 0u32;
        loop {
            match attempt().await {
                Err(e) if is_retryable(&e) && tries < self.config.retries => {
                    let wait = backoff(&self.config, tries, &e);
                    tries += 1;
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

/// Turn a non-2xx response into `NotFound` or `Http`.
async fn status_error(url: &str, resp: Response) -> Error {
    let status = resp.status().as_u16();
    if status == 404 {
        return Error::NotFound {
            url: url.to_string(),
        };
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok());
    let body = resp.text().await.unwrap_or_default();
    Error::Http {
        url: url.to_string(),
        status,
        body: body.chars().take(300).collect(),
        retry_after,
    }
}

/// A complete HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

fn header_pairs(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// Transport failures and 5xx are worth another try; 4xx (404 included) and content errors
/// (bad zip, checksum, parse) are answers and are not.
pub fn is_retryable(e: &Error) -> bool {
    match e {
        Error::Network { .. } => true,
        Error::Http { status, .. } => *status >= 500 || *status == 408,
        _ => false,
    }
}

/// Full-jitter exponential backoff: uniform in [0, min(max, base·2^n)], but never shorter than
/// a server's `Retry-After`.
pub fn backoff(cfg: &HttpConfig, n: u32, e: &Error) -> Duration {
    let cap = cfg
        .backoff_base
        .saturating_mul(1u32 << n.min(20))
        .min(cfg.backoff_max);
    let jittered = cap.mul_f64(jitter());
    match e {
        Error::Http {
            retry_after: Some(s),
            ..
        } if *s > 0.0 => jittered.max(Duration::from_secs_f64(s.min(300.0))),
        _ => jittered,
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

/// Map a reqwest failure to `Error::Network` with a readable cause chain.
pub fn network(url: &str, e: &reqwest::Error) -> Error {
    let mut reason = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        src = s.source();
    }
    Error::Network {
        url: url.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> Error {
        Error::Http {
            url: "u".into(),
            status,
            body: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn only_transport_and_5xx_are_retried() {
        assert!(is_retryable(&http(500)) && is_retryable(&http(503)));
        assert!(!is_retryable(&http(400)) && !is_retryable(&http(403)));
        assert!(!is_retryable(&Error::NotFound { url: "u".into() }));
        assert!(!is_retryable(&Error::archive("f", "bad")));
        assert!(is_retryable(&Error::Network {
            url: "u".into(),
            reason: "reset".into()
        }));
    }

    #[test]
    fn backoff_is_capped_jittered_and_honours_retry_after() {
        let cfg = HttpConfig::default();
        for n in 0..30 {
            let d = backoff(&cfg, n, &http(503));
            assert!(d <= cfg.backoff_max);
        }
        let waits: Vec<_> = (0..20).map(|_| backoff(&cfg, 3, &http(503))).collect();
        assert!(waits.iter().any(|w| *w != waits[0]), "no jitter");
        let e = Error::Http {
            url: "u".into(),
            status: 503,
            body: String::new(),
            retry_after: Some(2.0),
        };
        assert!(backoff(&cfg, 0, &e) >= Duration::from_secs(2));
    }
}
