//! Core results as Python values: an archive `Outcome` as the frozen `ArchiveOutcome`
//! `fetch_archives` and `ArchiveJob.wait` return (with the batch's day ranges and continuity
//! gaps, computed here without the GIL), a `get_many` answer as `(status, headers, body)` or an
//! exception.

use arrow_array::RecordBatch;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::super::errors::to_py_value;
use super::super::rows::Rows;
use crate::cache::days::{self, DayRows};
use crate::check::{self, Gap};
use crate::model::dataset::Dataset;
use crate::model::interval::Interval;
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

/// A continuity gap for Python: `(kind, before, after, start_us, end_us)`.
pub(crate) type GapRow = (&'static str, i64, i64, i64, i64);

pub(crate) fn gap_rows(gaps: &[Gap]) -> Vec<GapRow> {
    gaps.iter()
        .map(|g| (g.kind.as_str(), g.before, g.after, g.start, g.end))
        .collect()
}

/// One archive's outcome. `status` is "ok", "not_found" or "error"; `error` the exception (or
/// None); `transient` whether the failure was the network's or the server's rather than the
/// archive's; `table` the parsed batch as core `Rows` (None unless ok: an Arrow stream at each
/// read, sliced and merged in the core without crossing into pyarrow);
/// `days` the `(day_start_us, lo, hi)` row ranges of each UTC day of the batch (by its time
/// column; None without a table or when the times are not sorted); `gaps` the batch's
/// continuity problems as `(kind, before, after, start_us, end_us)` (None without a table, or
/// for klines without an `interval`).
#[pyclass(module = "ckv._core", frozen)]
pub struct ArchiveOutcome {
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    status: &'static str,
    #[pyo3(get)]
    error: Option<Py<PyAny>>,
    #[pyo3(get)]
    transient: bool,
    #[pyo3(get)]
    verified: bool,
    #[pyo3(get)]
    sha256: Option<String>,
    #[pyo3(get)]
    rows: usize,
    #[pyo3(get)]
    compressed_bytes: u64,
    #[pyo3(get)]
    csv_bytes: u64,
    #[pyo3(get)]
    days: Option<Vec<DayRows>>,
    #[pyo3(get)]
    gaps: Option<Vec<GapRow>>,
    batch: Option<RecordBatch>,
}

#[pymethods]
impl ArchiveOutcome {
    #[getter]
    fn table(&self) -> Option<Rows> {
        self.batch
            .as_ref()
            .map(|b| Rows::new(b.schema(), vec![b.clone()]))
    }

    /// The field named `key`, as the outcome dicts of earlier versions gave it
    /// (`outcome["status"]`); `KeyError` for any other name.
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let value = match key {
            "url" => self.url.clone().into_pyobject(py)?.into_any(),
            "status" => self.status.into_pyobject(py)?.into_any(),
            "error" => self
                .error
                .as_ref()
                .map(|e| e.clone_ref(py))
                .into_pyobject(py)?
                .into_any(),
            "transient" => self.transient.into_pyobject(py)?.to_owned().into_any(),
            "verified" => self.verified.into_pyobject(py)?.to_owned().into_any(),
            "sha256" => self.sha256.clone().into_pyobject(py)?.into_any(),
            "rows" => self.rows.into_pyobject(py)?.into_any(),
            "compressed_bytes" => self.compressed_bytes.into_pyobject(py)?.into_any(),
            "csv_bytes" => self.csv_bytes.into_pyobject(py)?.into_any(),
            "table" => self.table().into_pyobject(py)?.into_any(),
            "days" => self.days.clone().into_pyobject(py)?.into_any(),
            "gaps" => self.gaps.clone().into_pyobject(py)?.into_any(),
            other => return Err(PyKeyError::new_err(other.to_string())),
        };
        Ok(value)
    }

    fn __repr__(&self) -> String {
        format!(
            "ArchiveOutcome(url={:?}, status={:?}, rows={})",
            self.url, self.status, self.rows
        )
    }
}

/// An outcome with its batch analysed (day ranges, gaps): built without the GIL.
pub(super) struct Analysed {
    outcome: Outcome,
    days: Option<Vec<DayRows>>,
    gaps: Option<Vec<GapRow>>,
}

/// The day ranges and gaps of an ok outcome's batch (pure Rust; run it detached).
pub(super) fn analyse(outcome: Outcome, interval: Option<Interval>) -> Analysed {
    let (mut days_of, mut gaps) = (None, None);
    if let Outcome::Ok { output, .. } = &outcome {
        let batch = &output.batch;
        if let Some(dataset) = Dataset::from_schema(&batch.schema()) {
            days_of =
                days::i64_values(batch, days::time_column(dataset)).and_then(days::day_offsets);
            if dataset != Dataset::Klines || interval.is_some() {
                gaps = check::find_gaps(std::slice::from_ref(batch), interval)
                    .ok()
                    .map(|g| gap_rows(&g));
            }
        }
    }
    Analysed {
        outcome,
        days: days_of,
        gaps,
    }
}

/// The Python `ArchiveOutcome` of an analysed outcome.
pub(super) fn outcome_object(py: Python<'_>, url: &str, a: Analysed) -> ArchiveOutcome {
    let Analysed {
        outcome,
        days,
        gaps,
    } = a;
    let empty = |status, error, transient| ArchiveOutcome {
        url: url.to_string(),
        status,
        error,
        transient,
        verified: false,
        sha256: None,
        rows: 0,
        compressed_bytes: 0,
        csv_bytes: 0,
        days: None,
        gaps: None,
        batch: None,
    };
    match outcome {
        Outcome::Ok { output, verified } => ArchiveOutcome {
            url: url.to_string(),
            status: "ok",
            error: None,
            transient: false,
            verified,
            sha256: Some(output.sha256),
            rows: output.batch.num_rows(),
            compressed_bytes: output.compressed_bytes,
            csv_bytes: output.csv_bytes,
            days,
            gaps,
            batch: Some(output.batch),
        },
        Outcome::NotFound => empty("not_found", None, false),
        Outcome::Failed(e) => {
            let transient = is_transient(&e);
            empty("error", Some(to_py_value(py, &e)), transient)
        }
    }
}
