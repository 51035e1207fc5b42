//! `Fetcher`: one shared HTTP client (keep-alive pool, connection bound, retry policy, the
//! timeouts and stall rule of `crate::net::http`) and the concurrent fetches over it; `Progress`:
//! live counters another Python thread can poll; `ArchiveJob`: archives handed out as each
//! completes. Every blocking call waits through `wait::block_on` (Ctrl-C cancels it) and
//! every seconds argument is checked by `wait::secs` (a `ValueError`, never a panic).

pub(crate) mod convert;
mod job;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

pub use convert::ArchiveOutcome;
pub use job::ArchiveJob;

use super::wait::{self, opt_secs, secs};
use crate::error::Error;
use crate::model::dataset::Dataset;
use crate::model::interval::Interval;
use crate::net::fetch::{self, ArchiveRequest, ChecksumPolicy, Deadline};
use crate::net::http::{HttpClient, HttpConfig};
use crate::net::runtime;

/// Live counters of a running fetch.
#[pyclass(module = "ckv._core", frozen)]
pub struct Progress {
    pub(crate) inner: Arc<fetch::Progress>,
}

#[pymethods]
impl Progress {
    #[new]
    fn new() -> Self {
        Progress {
            inner: Arc::default(),
        }
    }
    #[getter]
    fn archives_total(&self) -> u64 {
        self.inner.archives_total.load(Ordering::Relaxed)
    }
    #[getter]
    fn archives_done(&self) -> u64 {
        self.inner.archives_done.load(Ordering::Relaxed)
    }
    #[getter]
    fn bytes(&self) -> u64 {
        self.inner.bytes.load(Ordering::Relaxed)
    }
    #[getter]
    fn rows(&self) -> u64 {
        self.inner.rows.load(Ordering::Relaxed)
    }
    /// Attempts abandoned because the body made no progress (server accepts but stalls).
    #[getter]
    fn stalls(&self) -> u64 {
        self.inner.net.stalls.load(Ordering::Relaxed)
    }
    /// Attempts retried after a retryable failure.
    #[getter]
    fn retries(&self) -> u64 {
        self.inner.net.retries.load(Ordering::Relaxed)
    }
}

/// The process's HTTP client for Vision and REST. Seconds: `connect_timeout` (TCP and TLS),
/// `first_byte_timeout` (request sent → status and headers), `read_timeout` (one read),
/// `stall_timeout` with `stall_bytes` (a body bringing fewer bytes in that time is abandoned
/// and retried as stalled; None turns the rule off), `deadline` (one whole attempt; None, the
/// default, for none), `backoff_base`/`backoff_max` (full-jitter backoff), `retry_after_max`
/// (the longest `Retry-After` waited for). Each is checked: finite, ≥ 0 (timeouts > 0),
/// ≤ 1e6, else `ValueError` naming it.
#[pyclass(module = "ckv._core", frozen)]
pub struct Fetcher {
    client: HttpClient,
}

#[pymethods]
impl Fetcher {
    #[new]
    #[pyo3(signature = (*, max_connections = 32, retries = 5, connect_timeout = 10.0,
        read_timeout = 30.0, backoff_base = 0.2, backoff_max = 10.0, first_byte_timeout = 20.0,
        stall_timeout = Some(15.0), stall_bytes = 65536, deadline = None,
        retry_after_max = 60.0),
        text_signature = "(*, max_connections=32, retries=5, connect_timeout=10.0, \
        read_timeout=30.0, backoff_base=0.2, backoff_max=10.0, first_byte_timeout=20.0, \
        stall_timeout=15.0, stall_bytes=65536, deadline=None, retry_after_max=60.0)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_connections: usize,
        retries: u32,
        connect_timeout: f64,
        read_timeout: f64,
        backoff_base: f64,
        backoff_max: f64,
        first_byte_timeout: f64,
        stall_timeout: Option<f64>,
        stall_bytes: u64,
        deadline: Option<f64>,
        retry_after_max: f64,
    ) -> PyResult<Self> {
        if !(1..=10_000).contains(&max_connections) {
            return Err(PyValueError::new_err(format!(
                "max_connections must be in [1, 10000], got {max_connections}"
            )));
        }
        if retries > 100 {
            return Err(PyValueError::new_err(format!(
                "retries must be at most 100, got {retries}"
            )));
        }
        if !(1..=1 << 30).contains(&stall_bytes) {
            return Err(PyValueError::new_err(format!(
                "stall_bytes must be in [1, 2**30], got {stall_bytes}"
            )));
        }
        let config = HttpConfig {
            max_connections,
            retries,
            connect_timeout: secs("connect_timeout", connect_timeout, true)?,
            first_byte_timeout: secs("first_byte_timeout", first_byte_timeout, true)?,
            read_timeout: secs("read_timeout", read_timeout, true)?,
            stall_timeout: opt_secs("stall_timeout", stall_timeout, true)?,
            stall_bytes,
            deadline: opt_secs("deadline", deadline, true)?,
            backoff_base: secs("backoff_base", backoff_base, false)?,
            backoff_max: secs("backoff_max", backoff_max, false)?,
            retry_after_max: secs("retry_after_max", retry_after_max, false)?,
            ..HttpConfig::default()
        };
        let client = HttpClient::new(config).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Fetcher { client })
    }

    /// GET many URLs concurrently (REST pages), retrying transport failures, stalls and 5xx.
    /// Returns, in order, `(status, headers, body)` for every answered request (4xx included,
    /// so the caller can read error codes, `Retry-After` and weight headers) or the exception
    /// of a request that failed for good. Past `deadline_s` (for the whole call) unfinished
    /// requests fail with `NetworkError("... deadline of N s exceeded")`. `retries` overrides
    /// the client's retry count for this call (0: one attempt each, the caller retries).
    #[pyo3(signature = (urls, headers = None, *, deadline_s = None, progress = None, retries = None))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        urls: Vec<String>,
        headers: Option<Vec<(String, String)>>,
        deadline_s: Option<f64>,
        progress: Option<&Progress>,
        retries: Option<u32>,
    ) -> PyResult<Bound<'py, PyList>> {
        let deadline = opt_secs("deadline_s", deadline_s, false)?.map(Deadline::after);
        let headers = headers.unwrap_or_default();
        let counters = progress.map_or_else(Arc::default, |p| p.inner.clone());
        let mut client = self.client.clone();
        if let Some(retries) = retries.filter(|&n| n != client.config.retries) {
            let config = HttpConfig {
                retries,
                ..(*client.config).clone()
            };
            client.config = Arc::new(config);
        }
        let answers = wait::block_on(py, async move {
            fetch::get_all(&client, urls, headers, counters, deadline).await
        })?;
        let list = PyList::empty(py);
        for a in answers {
            list.append(convert::answer_tuple(py, a)?)?;
        }
        Ok(list)
    }

    /// Fetch archives concurrently. Returns one `ArchiveOutcome` per URL, in order (with each
    /// batch's day ranges and, for klines when `interval` is given, its gaps).
    #[pyo3(signature = (urls, dataset, *, checksum = "if_present", progress = None,
        deadline_s = None, interval = None))]
    #[allow(
        clippy::needless_pass_by_value,
        clippy::too_many_arguments,
        reason = "PyO3 extracts the list by value; the keyword arguments of the Python API"
    )]
    fn fetch_archives(
        &self,
        py: Python<'_>,
        urls: Vec<String>,
        dataset: &str,
        checksum: &str,
        progress: Option<&Progress>,
        deadline_s: Option<f64>,
        interval: Option<&str>,
    ) -> PyResult<Vec<ArchiveOutcome>> {
        let (requests, policy, deadline) = archive_args(py, &urls, dataset, checksum, deadline_s)?;
        let interval = interval_arg(interval)?;
        let counters = progress.map_or_else(Arc::default, |p| p.inner.clone());
        let client = self.client.clone();
        let outcomes = wait::block_on(py, async move {
            fetch::fetch_all(&client, requests, policy, counters, deadline).await
        })?;
        let analysed = super::detach(py, move || {
            Ok(outcomes
                .into_iter()
                .map(|o| convert::analyse(o, interval))
                .collect::<Vec<_>>())
        })?;
        Ok(urls
            .iter()
            .zip(analysed)
            .map(|(url, a)| convert::outcome_object(py, url, a))
            .collect())
    }

    /// Start fetching archives in the background; `ArchiveJob.wait` hands out
    /// `(index, ArchiveOutcome)` as each completes (as `fetch_archives` returns them).
    #[pyo3(signature = (urls, dataset, *, checksum = "if_present", progress = None,
        deadline_s = None, interval = None))]
    #[allow(clippy::too_many_arguments)]
    fn start_archives(
        &self,
        py: Python<'_>,
        urls: Vec<String>,
        dataset: &str,
        checksum: &str,
        progress: Option<&Progress>,
        deadline_s: Option<f64>,
        interval: Option<&str>,
    ) -> PyResult<ArchiveJob> {
        let (requests, policy, deadline) = archive_args(py, &urls, dataset, checksum, deadline_s)?;
        let interval = interval_arg(interval)?;
        let counters = progress.map_or_else(Arc::default, |p| p.inner.clone());
        let rt = std::panic::catch_unwind(runtime::get)
            .map_err(|panic| super::errors::internal(py, &panic))?;
        let (batch, rx) = fetch::spawn_each(
            rt.handle(),
            &self.client,
            requests,
            policy,
            &counters,
            deadline,
        );
        Ok(ArchiveJob::new(urls, batch, rx, interval))
    }
}

/// A kline interval argument (`ValueError` when it is not one).
fn interval_arg(interval: Option<&str>) -> PyResult<Option<Interval>> {
    interval
        .map(str::parse::<Interval>)
        .transpose()
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The parsed arguments shared by `fetch_archives` and `start_archives`.
fn archive_args(
    py: Python<'_>,
    urls: &[String],
    dataset: &str,
    checksum: &str,
    deadline_s: Option<f64>,
) -> PyResult<(Vec<ArchiveRequest>, ChecksumPolicy, Option<Deadline>)> {
    let dataset: Dataset = dataset
        .parse()
        .map_err(|e: Error| super::errors::to_py(py, &e))?;
    let policy = match checksum {
        "require" => ChecksumPolicy::Require,
        "if_present" => ChecksumPolicy::IfPresent,
        "skip" => ChecksumPolicy::Skip,
        other => {
            return Err(PyValueError::new_err(format!(
                "checksum must be 'require', 'if_present' or 'skip', not {other:?}"
            )))
        }
    };
    let deadline = opt_secs("deadline_s", deadline_s, false)?.map(Deadline::after);
    let requests = urls
        .iter()
        .map(|url| ArchiveRequest {
            url: url.clone(),
            dataset,
        })
        .collect();
    Ok((requests, policy, deadline))
}
