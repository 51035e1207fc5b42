//! Parse and check bindings: a file or bytes → Arrow, an in-memory archive → Arrow, the
//! dataset schemas, and `find_gaps` over any Arrow table.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;

use super::arrow::{import, ArrowStream};
use super::detach;
use crate::archive::{self, ArchiveLimits};
use crate::check;
use crate::error::Error;
use crate::model::dataset::Dataset;
use crate::model::interval::Interval;
use crate::parse;

fn dataset_of(name: &str) -> crate::Result<Dataset> {
    name.parse()
}

/// The schema of `dataset` (`crate::model::schema`), as an empty Arrow stream.
#[pyfunction]
pub fn schema(dataset: &str) -> PyResult<ArrowStream> {
    let d =
        dataset_of(dataset).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(ArrowStream::new(d.schema(), vec![]))
}

/// Parse a Vision CSV or zip file on disk. Zips are checked against `sha256` when given and
/// held to the zip-bomb limits (`max_inflated_bytes`, `max_ratio`; defaults of
/// `ArchiveLimits`).
#[pyfunction]
#[pyo3(signature = (path, dataset, *, sha256 = None, max_inflated_bytes = None, max_ratio = None))]
pub fn parse_file(
    py: Python<'_>,
    path: PathBuf,
    dataset: &str,
    sha256: Option<String>,
    max_inflated_bytes: Option<u64>,
    max_ratio: Option<u64>,
) -> PyResult<ArrowStream> {
    let dataset = dataset.to_string();
    let batch = detach(py, move || {
        let d = dataset_of(&dataset)?;
        let limits = ArchiveLimits::with(max_inflated_bytes, max_ratio)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let data = std::fs::read(&path)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
        if name.ends_with(".zip") {
            Ok(archive::read_archive_with(d, &name, &data, sha256.as_deref(), limits)?.batch)
        } else {
            parse::parse_bytes(d, &name, &data)
        }
    })?;
    Ok(ArrowStream::new(batch.schema(), vec![batch]))
}

/// Parse CSV bytes (`file_name` is used in errors).
#[pyfunction]
#[pyo3(signature = (data, dataset, *, file_name = "<bytes>"))]
pub fn parse_bytes(
    py: Python<'_>,
    data: PyBackedBytes,
    dataset: &str,
    file_name: &str,
) -> PyResult<ArrowStream> {
    let (dataset, file_name) = (dataset.to_string(), file_name.to_string());
    let batch = detach(py, move || {
        parse::parse_bytes(dataset_of(&dataset)?, &file_name, &data)
    })?;
    Ok(ArrowStream::new(batch.schema(), vec![batch]))
}

/// Read a zip archive held in memory: returns a dict with `table`, `sha256`, `csv_bytes`,
/// `compressed_bytes`. `max_inflated_bytes` and `max_ratio` override the zip-bomb limits
/// (defaults of `ArchiveLimits`, the ones every fetch uses).
#[pyfunction]
#[pyo3(signature = (
    data, dataset, *, file_name = "<bytes>.zip", sha256 = None, max_inflated_bytes = None,
    max_ratio = None
))]
#[allow(clippy::too_many_arguments)]
pub fn read_archive<'py>(
    py: Python<'py>,
    data: PyBackedBytes,
    dataset: &str,
    file_name: &str,
    sha256: Option<String>,
    max_inflated_bytes: Option<u64>,
    max_ratio: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let (dataset, file_name) = (dataset.to_string(), file_name.to_string());
    let out = detach(py, move || {
        let limits = ArchiveLimits::with(max_inflated_bytes, max_ratio)?;
        archive::read_archive_with(
            dataset_of(&dataset)?,
            &file_name,
            &data,
            sha256.as_deref(),
            limits,
        )
    })?;
    let d = PyDict::new(py);
    d.set_item("sha256", out.sha256)?;
    d.set_item("csv_bytes", out.csv_bytes)?;
    d.set_item("compressed_bytes", out.compressed_bytes)?;
    d.set_item(
        "table",
        ArrowStream::new(out.batch.schema(), vec![out.batch]),
    )?;
    Ok(d)
}

/// Continuity gaps of a klines / aggTrades / trades / fundingRate table (see `crate::check`).
#[pyfunction]
#[pyo3(signature = (table, interval = None))]
pub fn find_gaps(
    py: Python<'_>,
    table: &Bound<'_, PyAny>,
    interval: Option<&str>,
) -> PyResult<ArrowStream> {
    let interval = interval
        .map(|s| s.parse::<Interval>())
        .transpose()
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let (_, batches) = import(table)?;
    let gaps = detach(py, move || {
        let gaps = check::find_gaps(&batches, interval)?;
        check::gaps_to_batch(&gaps)
    })?;
    Ok(ArrowStream::new(gaps.schema(), vec![gaps]))
}
