//! Network stages (docs/architecture.md, "Stages", HTTP and fetch): the one HTTP client of a
//! `Fetcher`, the concurrent fetch of archives with their `.CHECKSUM` sidecars and of REST
//! pages, and the process-wide tokio runtime they run on and TLS configuration they share.
//!
//! Guarantees: a keep-alive pool bounded by `max_connections`; every phase of a request bounded
//! in time; retries with exponential backoff and full jitter on 5xx, timeouts, resets and
//! stalls, none on other 4xx; one outcome per archive (ok, not found, or an error saying
//! whether it was transient); dropping a fetch cancels every request still running.

pub mod fetch;
pub mod http;
pub mod profile;
pub mod runtime;
pub mod tls;
