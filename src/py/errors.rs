//! Maps `Error` onto the exception classes defined in `ckv/exceptions.py`, attaching the
//! structured fields (file, line, url, status, retry_after) as attributes.

use std::any::Any;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::error::Error;

/// Build the matching `ckv.exceptions` instance for `e`.
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let (class, attrs): (&str, Vec<(&str, Py<PyAny>)>) = match e {
        Error::Checksum {
            file,
            expected,
            actual,
        } => (
            "ChecksumError",
            vec![
                ("file", s(py, file)),
                ("expected", s(py, expected)),
                ("actual", s(py, actual)),
            ],
        ),
        Error::Archive { file, .. } => ("ArchiveError", vec![("file", s(py, file))]),
        Error::Parse { file, line, .. } => (
            "ParseError",
            vec![
                ("file", s(py, file)),
                (
                    "line",
                    line.into_pyobject(py)
                        .map_or_else(|_| py.None(), |v| v.into_any().unbind()),
                ),
            ],
        ),
        Error::NotFound { url } => ("DataUnavailableError", vec![("url", s(py, url))]),
        Error::Http {
            url,
            status,
            retry_after,
            ..
        } => {
            let class = if *status == 429 || *status == 418 {
                "RateLimitError"
            } else {
                "NetworkError"
            };
            let ra = retry_after.map_or_else(
                || py.None(),
                |v| {
                    v.into_pyobject(py)
                        .map_or_else(|_| py.None(), |v| v.into_any().unbind())
                },
            );
            let st = status
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |v| v.into_any().unbind());
            (
                class,
                vec![("url", s(py, url)), ("status", st), ("retry_after", ra)],
            )
        }
        Error::Network { url, .. } => ("NetworkError", vec![("url", s(py, url))]),
        Error::Protocol { url, .. } => ("ProtocolError", vec![("url", s(py, url))]),
        Error::Cache { path, .. } => ("CacheError", vec![("path", s(py, path))]),
        Error::Invalid(msg) => return PyValueError::new_err(msg.clone()),
        Error::Arrow(_) | Error::Io(_) | Error::Internal(_) => ("CkvError", vec![]),
    };
    let message = e.to_string();
    match build(py, class, &message, attrs) {
        Ok(err) => err,
        Err(import_failed) => import_failed,
    }
}

fn build(
    py: Python<'_>,
    class: &str,
    message: &str,
    attrs: Vec<(&str, Py<PyAny>)>,
) -> PyResult<PyErr> {
    let module = py.import("ckv.exceptions")?;
    let cls = module.getattr(class)?;
    let inst = cls.call1((message,))?;
    for (k, v) in attrs {
        inst.setattr(k, v)?;
    }
    Ok(PyErr::from_value(inst))
}

fn s(py: Python<'_>, v: &str) -> Py<PyAny> {
    pyo3::types::PyString::new(py, v).into_any().unbind()
}

/// A caught panic becomes `CkvError("internal error: …")`.
pub(crate) fn internal(py: Python<'_>, panic: &Box<dyn Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let message = format!("internal error in ckv's core (please report): {what}");
    build(py, "CkvError", &message, vec![]).unwrap_or_else(|_| PyRuntimeError::new_err(message))
}

/// An exception instance for a per-archive outcome (returned, not raised).
pub(crate) fn to_py_value(py: Python<'_>, e: &Error) -> Py<PyAny> {
    to_py(py, e).into_value(py).into_any()
}
