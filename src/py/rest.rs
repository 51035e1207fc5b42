//! The REST page binding: one answer's bytes → an Arrow batch of the archive schema
//! (`crate::parse::rest`), parsed with the GIL released; a malformed answer raises
//! `ckv.exceptions.ProtocolError` with the URL, the body's first bytes (`snippet`), status 200
//! and the `reason` alone (for the caller's retry messages).

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;

use super::arrow::ArrowStream;
use super::errors;
use crate::error::Error;
use crate::model::dataset::{Dataset, Market};
use crate::parse::rest::{parse_page, Malformed, Page};

/// Bytes of a bad body kept in the error.
const SNIPPET: usize = 200;

/// Parse one REST answer of `dataset` (`klines` or a price variant, `aggTrades`, `trades`,
/// `fundingRate`) from `market` (`spot`, `um`, `cm`): times × `unit` µs (1000 for ms
/// answers, 1 for µs ones; fundingRate is always ms), the key strictly increasing from
/// `min_key` (in the answer's unit) on. `url` names the answer in errors.
#[pyfunction]
#[pyo3(signature = (body, dataset, market, unit, *, url, min_key = None))]
#[allow(
    clippy::needless_pass_by_value,
    reason = "PyO3 extracts the bytes by value"
)]
pub fn rest_page(
    py: Python<'_>,
    body: PyBackedBytes,
    dataset: &str,
    market: &str,
    unit: i64,
    url: &str,
    min_key: Option<i64>,
) -> PyResult<ArrowStream> {
    if !matches!(unit, 1 | 1000) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "unit must be 1 (µs answers) or 1000 (ms answers), not {unit}"
        )));
    }
    let bad_arg = |e: Error| errors::to_py(py, &e);
    let d: Dataset = dataset.parse().map_err(bad_arg)?;
    let m: Market = market.parse().map_err(bad_arg)?;
    let page = Page { unit, min_key };
    let out = py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_page(d, m, &body, page)
        }))
    });
    match out {
        Ok(Ok(batch)) => Ok(ArrowStream::new(batch.schema(), vec![batch])),
        Ok(Err(bad)) => Err(protocol_error(py, url, &body, &bad)),
        Err(panic) => Err(errors::internal(py, &panic)),
    }
}

/// `ProtocolError("malformed answer from {url}: {reason}; body starts {snippet!r}")`.
fn protocol_error(py: Python<'_>, url: &str, body: &[u8], bad: &Malformed) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(SNIPPET)]).into_owned();
        let shown = pyo3::types::PyString::new(py, &snippet).repr()?;
        let message = format!(
            "malformed answer from {url}: {}; body starts {shown}",
            bad.reason
        );
        let cls = py.import("ckv.exceptions")?.getattr("ProtocolError")?;
        let kw = PyDict::new(py);
        kw.set_item("url", url)?;
        kw.set_item("snippet", &snippet)?;
        kw.set_item("status", 200)?;
        let err = cls.call((message,), Some(&kw))?;
        err.setattr("reason", &bad.reason)?;
        Ok(PyErr::from_value(err))
    };
    build().unwrap_or_else(|e| e)
}
