//! Core results as Python values: an archive `Outcome` as the dict `fetch_archives` and
//! `ArchiveJob.wait` return, a `get_many` answer as `(status, headers, body)` or an exception.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::super::arrow::ArrowStream;
use super::super::errors::to_py_value;
use crate::net::fetch::Outcome;
use crate::net::http::{is_transient, Answer};

/// One `get_many` answer for Python: `(status, headers, body)` or the exception.
pub(super) fn answer_tuple(py: Python<'_>, answer: crate::Result<Answer>) -> PyResult<Py<PyAny>> {
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
        Err(e) => Ok(to_py_value(py, &e)),
    }
}

/// The outcome dict: `url`, `status` ("ok" | "not_found" | "error"), `error` (exception or
/// None), `transient` (the error is the network's or the server's, not the archive's),
/// `verified`, `sha256`, `rows`, `compressed_bytes`, `csv_bytes`, `table`.
pub(super) fn outcome_dict<'py>(
    py: Python<'py>,
    url: &str,
    outcome: Outcome,
) -> PyResult<Bound<'py, PyDict>> {
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
            d.set_item("transient", false)?;
            d.set_item("verified", verified)?;
            d.set_item("sha256", output.sha256)?;
            d.set_item("rows", output.batch.num_rows())?;
            d.set_item("compressed_bytes", output.compressed_bytes)?;
            d.set_item("csv_bytes", output.csv_bytes)?;
            let schema = output.batch.schema();
            d.set_item("table", ArrowStream::new(schema, vec![output.batch]))?;
        }
        Outcome::NotFound => fill_empty(py, &d, py.None(), false)?,
        Outcome::Failed(e) => {
            let transient = is_transient(&e);
            fill_empty(py, &d, to_py_value(py, &e), transient)?;
        }
    }
    Ok(d)
}

fn fill_empty(
    py: Python<'_>,
    d: &Bound<'_, PyDict>,
    error: Py<PyAny>,
    transient: bool,
) -> PyResult<()> {
    d.set_item("error", error)?;
    d.set_item("transient", transient)?;
    d.set_item("verified", false)?;
    d.set_item("sha256", py.None())?;
    d.set_item("rows", 0)?;
    d.set_item("compressed_bytes", 0)?;
    d.set_item("csv_bytes", 0)?;
    d.set_item("table", py.None())
}
