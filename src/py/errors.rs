//! `Error` → the exception classes of `ckv/exceptions.py`, in one place: `impl From<Error> for
//! PyErr`. Each exception is made by calling its class with the message and its structured
//! fields as keyword arguments (`ChecksumError(msg, file=, expected=, actual=)`,
//! `NetworkError(msg, url=, status=, retry_after=)`, …), so nothing is set on it afterwards
//! and it pickles like one made in Python. The module is imported once and its classes kept
//! (`PyOnceLock`); if that import ever fails, the import error is what Python sees.

use std::any::Any;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::error::Error;

/// The classes of `ckv.exceptions` the core raises, looked up once per process.
struct Classes {
    base: Py<PyAny>,
    checksum: Py<PyAny>,
    archive: Py<PyAny>,
    parse: Py<PyAny>,
    unavailable: Py<PyAny>,
    rate_limit: Py<PyAny>,
    network: Py<PyAny>,
    protocol: Py<PyAny>,
    cache: Py<PyAny>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let m = PyModule::import(py, "ckv.exceptions")?;
        let get = |name: &str| m.getattr(name).map(Bound::unbind);
        Ok(Classes {
            base: get("CkvError")?,
            checksum: get("ChecksumError")?,
            archive: get("ArchiveError")?,
            parse: get("ParseError")?,
            unavailable: get("DataUnavailableError")?,
            rate_limit: get("RateLimitError")?,
            network: get("NetworkError")?,
            protocol: get("ProtocolError")?,
            cache: get("CacheError")?,
        })
    })
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        Python::attach(|py| to_py(py, &e))
    }
}

/// The `ckv.exceptions` instance for `e` (`ValueError` for `Error::Invalid`).
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    build(py, e).unwrap_or_else(|failed| failed)
}

/// Calls the class for `e` with `(message, **fields)`.
fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let c = classes(py)?;
    let kw = PyDict::new(py);
    let class = match e {
        Error::Checksum {
            file,
            expected,
            actual,
        } => {
            kw.set_item("file", file)?;
            kw.set_item("expected", expected)?;
            kw.set_item("actual", actual)?;
            &c.checksum
        }
        Error::Archive { file, .. } => {
            kw.set_item("file", file)?;
            &c.archive
        }
        Error::Parse { file, line, .. } => {
            kw.set_item("file", file)?;
            kw.set_item("line", line)?;
            &c.parse
        }
        Error::NotFound { url } => {
            kw.set_item("url", url)?;
            &c.unavailable
        }
        Error::Http {
            url,
            status,
            retry_after,
            ..
        } => {
            kw.set_item("url", url)?;
            kw.set_item("status", status)?;
            kw.set_item("retry_after", retry_after)?;
            if *status == 429 || *status == 418 {
                &c.rate_limit
            } else {
                &c.network
            }
        }
        Error::Network { url, .. } => {
            kw.set_item("url", url)?;
            &c.network
        }
        Error::Protocol { url, .. } => {
            kw.set_item("url", url)?;
            &c.protocol
        }
        Error::Cache { path, .. } => {
            kw.set_item("path", path)?;
            &c.cache
        }
        Error::Invalid(msg) => return Ok(PyValueError::new_err(msg.clone())),
        Error::Arrow(_) | Error::Io(_) | Error::Internal(_) => &c.base,
    };
    let inst = class.bind(py).call((e.to_string(),), Some(&kw))?;
    Ok(PyErr::from_value(inst))
}

/// A caught panic becomes `CkvError("internal error: …")`.
pub(crate) fn internal(py: Python<'_>, panic: &Box<dyn Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let message = format!("internal error in ckv's core (please report): {what}");
    classes(py)
        .and_then(|c| c.base.bind(py).call1((message.clone(),)))
        .map_or_else(
            |_| PyRuntimeError::new_err(message),
            |inst| PyErr::from_value(inst),
        )
}

/// An exception instance for a per-archive outcome (returned, not raised).
pub(crate) fn to_py_value(py: Python<'_>, e: &Error) -> Py<PyAny> {
    to_py(py, e).into_value(py).into_any()
}
