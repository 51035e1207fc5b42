//! `Fetcher`: one shared HTTP client (keep-alive pool, connection bound, retry policy) and the
//! concurrent archive fetch; `Progress`: live counters another Python thread can poll.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::arrow::ArrowStream;
use super::errors::to_py_value;
use crate::error::Error;
use crate::fetch::{self, ArchiveRequest, ChecksumPolicy, Outcome};
use crate::http::{Answer, HttpClient, HttpConfig};
use crate::runtime;
use crate::schema::Dataset;

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
}

/// The process's HTTP client for Vision (and later REST).
#[pyclass(module = "ckv._core", frozen)]
pub struct Fetcher {
    client: HttpClient,
}

#[pymethods]
impl Fetcher {
    #[new]
    #[pyo3(signature = (*, max_connections = 32, retries = 5, connect_timeout = 10.0, read_timeout = 30.0, backoff_base = 0.2, backoff_max = 10.0))]
    fn new(
        max_connections: usize,
        retries: u32,
        connect_timeout: f64,
        read_timeout: f64,
        backoff_base: f64,
        backoff_max: f64,
    ) -> PyResult<Self> {
        let secs = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "{name} must be a non-negative number of seconds"
                )))
            }
        };
        if max_connections == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "max_connections must be at least 1",
            ));
        }
        let config = HttpConfig {
            max_connections,
            retries,
            connect_timeout: secs("connect_timeout", connect_timeout)?,
            read_timeout: secs("read_timeout", read_timeout)?,
            backoff_base: secs("backoff_base", backoff_base)?,
            backoff_max: secs("backoff_max", backoff_max)?,
            ..HttpConfig::default()
        };
        let client = HttpClient::new(config)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(Fetcher { client })
    }

    /// GET many URLs concurrently (REST pages), retrying transport failures and 5xx. Returns,
    /// in order, `(status, headers, body)` for every answered request (4xx included, so the
    /// caller can read error codes, `Retry-After` and weight headers) or the exception of a
    /// request that failed for good.
    #[pyo3(signature = (urls, headers = None))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        urls: Vec<String>,
        headers: Option<Vec<(String, String)>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let headers = headers.unwrap_or_default();
        let client = self.client.clone();
        let answers = super::detach(py, move || {
            let rt = runtime::get();
            Ok(rt.block_on(async {
                let tasks: Vec<_> = urls
                    .into_iter()
                    .map(|url| {
                        let (client, headers) = (client.clone(), headers.clone());
                        tokio::spawn(async move { client.get_answer(&url, &headers).await })
                    })
                    .collect();
                let mut out = Vec::with_capacity(tasks.len());
                for t in tasks {
                    out.push(t.await.unwrap_or_else(|e| {
                        Err(Error::Invalid(format!("request task failed: {e}")))
                    }));
                }
                out
            }))
        })?;
        let list = PyList::empty(py);
        for a in answers {
            list.append(answer_tuple(py, a)?)?;
        }
        Ok(list)
    }

    /// Fetch archives concurrently. Returns one dict per URL, in order, with `status`
    /// ("ok" | "not_found" | "error"), `error` (an exception instance or None), `verified`,
    /// `sha256`, `rows`, `compressed_bytes`, `csv_bytes` and `table` (an Arrow stream or None).
    #[pyo3(signature = (urls, dataset, *, checksum = "if_present", progress = None))]
    fn fetch_archives<'py>(
        &self,
        py: Python<'py>,
        urls: Vec<String>,
        dataset: &str,
        checksum: &str,
        progress: Option<&Progress>,
    ) -> PyResult<Bound<'py, PyList>> {
        let dataset: Dataset = dataset
            .parse()
            .map_err(|e: Error| super::errors::to_py(py, e))?;
        let policy = match checksum {
            "require" => ChecksumPolicy::Require,
            "if_present" => ChecksumPolicy::IfPresent,
            "skip" => ChecksumPolicy::Skip,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "checksum must be 'require', 'if_present' or 'skip', not {other:?}"
                )))
            }
        };
        let counters = progress.map_or_else(Arc::default, |p| p.inner.clone());
        let requests: Vec<_> = urls
            .iter()
            .map(|url| ArchiveRequest {
                url: url.clone(),
                dataset,
            })
            .collect();
        let client = self.client.clone();
        let outcomes = super::detach(py, move || {
            Ok(runtime::get().block_on(fetch::fetch_all(&client, requests, policy, counters)))
        })?;
        let list = PyList::empty(py);
        for (url, outcome) in urls.iter().zip(outcomes) {
            list.append(outcome_dict(py, url, outcome)?)?;
        }
        Ok(list)
    }
}

/// One `get_many` answer for Python: `(status, headers, body)` or the exception.
fn answer_tuple(py: Python<'_>, answer: crate::Result<Answer>) -> PyResult<Py<PyAny>> {
    match answer {
        Ok(a) => {
            let headers = PyDict::new(py);
            for (k, v) in a.headers {
                headers.set_item(k, v)?;
            }
            let body = PyBytes::new(py, &a.body);
            Ok((a.status, headers, body)
                .into_pyobject(py)?
                .into_any()
                .unbind())
        }
        Err(e) => Ok(to_py_value(py, e)),
    }
}

fn outcome_dict<'py>(py: Python<'py>, url: &str, outcome: Outcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("url", url)?;
    let status = match &outcome {
        Outcome::Ok { .. } => "ok",
        Outcome::NotFound => "not_found",
        Outcome::Failed(_) => "error",
    };
    d.set_item("status", status)?;
    match outcome {
        Outcome::Ok { output, verified } => {
            d.set_item("error", py.None())?;
            d.set_item("verified", verified)?;
            d.set_item("sha256", output.sha256)?;
            d.set_item("rows", output.batch.num_rows())?;
            d.set_item("compressed_bytes", output.compressed_bytes)?;
            d.set_item("csv_bytes", output.csv_bytes)?;
            let schema = output.batch.schema();
            d.set_item("table", ArrowStream::new(schema, vec![output.batch]))?;
        }
        Outcome::NotFound => fill_empty(py, &d, py.None())?,
        Outcome::Failed(e) => fill_empty(py, &d, to_py_value(py, e))?,
    }
    Ok(d)
}

fn fill_empty(py: Python<'_>, d: &Bound<'_, PyDict>, error: Py<PyAny>) -> PyResult<()> {
    d.set_item("error", error)?;
    d.set_item("verified", false)?;
    d.set_item("sha256", py.None())?;
    d.set_item("rows", 0)?;
    d.set_item("compressed_bytes", 0)?;
    d.set_item("csv_bytes", 0)?;
    d.set_item("table", py.None())
}
