//! The one HTTP client of the process: keep-alive pool, bounded concurrency, and a retry policy
//! (exponential backoff with full jitter) that retries 5xx, 408, 429 (honouring a bounded
//! `Retry-After`), timeouts, resets and stalls, but never 404 or any other 4xx.
//!
//! Every phase of an attempt is bounded, so a silent or trickling server cannot hold a call:
//! connecting (`connect_timeout`), the answer's head (`first_byte_timeout`), and the body (the
//! stall rule of [`body::Body`]: at least `stall_bytes` per `stall_timeout`); `deadline`
//! optionally bounds a whole attempt. Whole bodies read into memory are capped (`max_body`).

mod body;
mod retry;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub use body::{Body, Tally};
pub use retry::{backoff, is_retryable, is_transient};

use retry::gave_up;

use crate::error::{Error, Result};

/// Limits and timeouts of the client. `Default` suits data.binance.vision.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Archive and sidecar requests in flight at once, and, apart, as many answers (REST and
    /// listing pages, `get_answer`), so that a REST question never queues behind hundreds of
    /// archives (also the keep-alive pool size per host).
    pub max_connections: usize,
    pub connect_timeout: Duration,
    /// From sending a request (connecting included) until its status line and headers.
    pub first_byte_timeout: Duration,
    /// Longest silence of a single read while receiving a body.
    pub read_timeout: Duration,
    /// The stall rule: an attempt whose body brings fewer than `stall_bytes` within
    /// `stall_timeout` is abandoned (and retried) as stalled. `None` turns the rule off.
    pub stall_timeout: Option<Duration>,
    pub stall_bytes: u64,
    /// Longest whole attempt, head and body. `None` (the default): a fixed bound would either
    /// cut a large archive on a slow link or be too long to catch anything the stall rule
    /// does not already catch.
    pub deadline: Option<Duration>,
    /// Retries after the first attempt, for retryable failures only.
    pub retries: u32,
    /// First backoff; doubles each retry up to `backoff_max`, fully jittered.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured; a server asking for more ends the retries.
    pub retry_after_max: Duration,
    /// Largest body read whole into memory (REST pages, listings, sidecars).
    pub max_body: usize,
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_connections: 32,
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(30),
            stall_timeout: Some(Duration::from_secs(15)),
            stall_bytes: 64 * 1024,
            deadline: None,
            retries: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            retry_after_max: Duration::from_secs(60),
            max_body: 64 << 20,
            user_agent: concat!("ckv/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// A shared client: clone freely, all clones share the pool and the concurrency bound.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    permits: Arc<Semaphore>,
    /// The slots of `get_answer` (see `HttpConfig::max_connections`).
    answers: Arc<Semaphore>,
    pub config: Arc<HttpConfig>,
}

/// An answered request: status, headers and the response to read the body from.
pub type Response = reqwest::Response;

/// Error bodies are read only this far (only their start is kept).
const ERROR_BODY_MAX: usize = 4096;

impl HttpClient {
    /// Build a client from `config`.
    pub fn new(config: HttpConfig) -> Result<Self> {
        let t = std::time::Instant::now();
        let tls = super::tls::client_config()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        let connections = config.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .pool_max_idle_per_host(connections)
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .tcp_nodelay(true)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        super::profile::startup("HTTP client", t.elapsed());
        Ok(HttpClient {
            inner,
            permits: Arc::new(Semaphore::new(connections)),
            answers: Arc::new(Semaphore::new(connections)),
            config: Arc::new(config),
        })
    }

    /// Wait for one of the `max_connections` slots of archives and sidecars.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    /// Wait for one of the `max_connections` slots of answers (`get_answer`).
    async fn answer_permit(&self) -> SemaphorePermit<'_> {
        self.answers
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    /// When an attempt starting now must end (`deadline`), if it must.
    pub fn attempt_end(&self) -> Option<Instant> {
        self.config
            .deadline
            .and_then(|d| Instant::now().checked_add(d))
    }

    /// Send one GET, no retry; any status is returned. Transport errors, and no answer
    /// within `first_byte_timeout` (or by `end`), are `Network`.
    pub async fn send(
        &self,
        url: &str,
        headers: &[(String, String)],
        end: Option<Instant>,
    ) -> Result<Response> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::Invalid(format!("bad header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| Error::Invalid(format!("bad header value for {k}")))?;
            map.insert(name, value);
        }
        let ttfb = self.config.first_byte_timeout;
        // The earlier of the first-byte bound and the attempt's end, and which one it is.
        let (limit, is_deadline) = match (Instant::now().checked_add(ttfb), end) {
            (Some(a), Some(b)) if b < a => (Some(b), true),
            (Some(a), _) => (Some(a), false),
            (None, b) => (b, b.is_some()),
        };
        let request = self.inner.get(url).headers(map).send();
        let answer = match limit {
            None => request.await,
            Some(at) => match tokio::time::timeout_at(at, request).await {
                Ok(answer) => answer,
                Err(_) if is_deadline => return Err(body::deadline_error(url, &self.config)),
                Err(_) => {
                    return Err(Error::Network {
                        url: url.to_string(),
                        reason: format!(
                            "no answer within {} s of sending the request (first_byte_timeout)",
                            ttfb.as_secs_f64()
                        ),
                    })
                }
            },
        };
        answer.map_err(|e| network(url, &e))
    }

    /// One GET, no retry: transport errors → `Network`, 404 → `NotFound`, other non-2xx →
    /// `Http` (with the body's first bytes and `Retry-After`). The caller holds a permit.
    pub async fn get_once(
        &self,
        url: &str,
        headers: &[(String, String)],
        end: Option<Instant>,
        tally: &Tally,
    ) -> Result<Response> {
        let resp = self.send(url, headers, end).await?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        Err(self.status_error(url, resp, end, tally).await)
    }

    /// The body of `resp` under the stall rule and the attempt's `end`.
    pub fn body<'a>(
        &'a self,
        url: &'a str,
        resp: Response,
        end: Option<Instant>,
        tally: &'a Tally,
    ) -> Body<'a> {
        Body::new(resp, url, &self.config, end, tally)
    }

    /// GET a whole small body (at most `limit` bytes), with retries. Used for `.CHECKSUM`
    /// sidecars.
    pub async fn get_bytes(&self, url: &str, limit: usize, tally: &Tally) -> Result<bytes::Bytes> {
        self.with_retries(tally, || async {
            let _permit = self.permit().await;
            let end = self.attempt_end();
            let resp = self.get_once(url, &[], end, tally).await?;
            self.body(url, resp, end, tally).read_all(limit).await
        })
        .await
    }

    /// GET with retries on transport failures and 5xx; any other status (404, 429, 418, 4xx)
    /// is returned as an `Answer` for the caller to interpret (REST error codes, Retry-After,
    /// weight headers).
    pub async fn get_answer(
        &self,
        url: &str,
        headers: &[(String, String)],
        tally: &Tally,
    ) -> Result<Answer> {
        self.with_retries(tally, || async {
            let _permit = self.answer_permit().await;
            let end = self.attempt_end();
            let resp = self.send(url, headers, end).await?;
            let status = resp.status().as_u16();
            if status >= 500 {
                return Err(self.status_error(url, resp, end, tally).await);
            }
            let headers = header_pairs(resp.headers());
            let body = self
                .body(url, resp, end, tally)
                .read_all(self.config.max_body)
                .await?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        })
        .await
    }

    /// Run `attempt` until it succeeds, fails with a non-retryable error, or retries run out
    /// (or a server asks to wait longer than `retry_after_max`). Counts retries in `tally`.
    pub async fn with_retries<T, F, Fut>(&self, tally: &Tally, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut tries = 0u32;
        loop {
            let e = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !is_retryable(&e) || tries >= self.config.retries {
                return Err(gave_up(e, tries + 1));
            }
            let Some(wait) = backoff(&self.config, tries, &e) else {
                return Err(gave_up(e, tries + 1));
            };
            tries += 1;
            tally.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// Turn a non-2xx response into `NotFound` or `Http` (reading at most the start of its
    /// body, under the stall rule).
    async fn status_error(
        &self,
        url: &str,
        resp: Response,
        end: Option<Instant>,
        tally: &Tally,
    ) -> Error {
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
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0);
        let head = self
            .body(url, resp, end, tally)
            .read_head(ERROR_BODY_MAX)
            .await;
        Error::Http {
            url: url.to_string(),
            status,
            body: String::from_utf8_lossy(&head).chars().take(300).collect(),
            retry_after,
        }
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
mod tests;
