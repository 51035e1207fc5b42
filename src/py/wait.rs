//! Waiting on the network from Python. [`block_on`] is the one way a binding blocks on a
//! future: without the GIL, waking every [`TICK`] to run Python's signal handlers (with the
//! GIL), so Ctrl-C raises `KeyboardInterrupt` within about a tick; on any exception the future
//! is dropped, which aborts its requests (see `fetch::Batch`), and the exception is returned.
//! A panic becomes `CkvError`. [`secs`] turns a seconds argument into a `Duration`, or a
//! `ValueError` naming the argument, and never panics.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors;
use crate::net::runtime;

/// Longest time between two checks for a pending signal.
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// The largest number of seconds any argument may ask for (11.6 days).
pub(crate) const MAX_SECS: f64 = 1e6;

/// Drive `fut` to completion on the runtime, interruptibly (see the module header).
pub(crate) fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let mut fut = std::pin::pin!(fut);
    loop {
        let step = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                runtime::get().block_on(async { tokio::time::timeout(TICK, fut.as_mut()).await })
            }))
        });
        match step {
            Ok(Ok(out)) => return Ok(out),
            // Returning drops `fut`, cancelling whatever it was waiting for.
            Ok(Err(_tick)) => py.check_signals()?,
            Err(panic) => return Err(errors::internal(py, &panic)),
        }
    }
}

/// `value` seconds as a `Duration`: finite, positive (or at least 0 unless `positive`) and at
/// most [`MAX_SECS`], else a `ValueError` naming `name`.
pub(crate) fn secs(name: &str, value: f64, positive: bool) -> PyResult<Duration> {
    let bad = |why: &str| {
        PyValueError::new_err(format!(
            "{name} must be {why} (a number of seconds), got {value}"
        ))
    };
    if !value.is_finite() {
        return Err(bad("finite"));
    }
    if positive && value <= 0.0 {
        return Err(bad("positive"));
    }
    if value < 0.0 {
        return Err(bad("at least 0"));
    }
    if value > MAX_SECS {
        return Err(bad(&format!("at most {MAX_SECS:.0}")));
    }
    Duration::try_from_secs_f64(value).map_err(|e| bad(&e.to_string()))
}

/// [`secs`] for an optional argument (`None` stays `None`).
pub(crate) fn opt_secs(
    name: &str,
    value: Option<f64>,
    positive: bool,
) -> PyResult<Option<Duration>> {
    value.map(|v| secs(name, v, positive)).transpose()
}
