//! Cache bindings: merging a partition's pieces by key, atomic IPC partition writes and
//! memory-mapped, zero-copy reads.

use std::collections::HashMap;
use std::path::PathBuf;

use arrow_array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::arrow::{import, ArrowStream};
use super::detach;
use super::fetch::convert::{gap_rows, GapRow};
use super::rows::Rows;
use crate::cache;
use crate::check;
use crate::model::interval::Interval;

/// A partition's rows merged in the core (`merge_rows`): batches in key order (the pieces
/// themselves when they needed no merge), `table` a fresh Arrow stream of them at each access
/// (zero-copy), `gaps` their continuity problems as `(kind, before, after, start_us, end_us)`
/// when asked for. `write_cache` takes it as is, without another import, and writes the
/// batches as the file's one batch without concatenating them.
#[pyclass(module = "ckv._core", frozen)]
pub struct MergedRows {
    batches: Vec<RecordBatch>,
    #[pyo3(get)]
    gaps: Option<Vec<GapRow>>,
}

#[pymethods]
impl MergedRows {
    #[getter]
    fn table(&self) -> ArrowStream {
        ArrowStream::new(self.batches[0].schema(), self.batches.clone())
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// How many batches hold the rows (1 when they were merged by copy or were one slice).
    #[getter]
    fn num_batches(&self) -> usize {
        self.batches.len()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }
}

/// The batches of every piece (each an object with `__arrow_c_stream__`), as one list; the
/// core's own `Rows` are taken as they are, without an export and import.
fn import_pieces(pieces: &Bound<'_, PyAny>) -> PyResult<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for piece in pieces.try_iter()? {
        let piece = piece?;
        if let Ok(rows) = piece.cast::<Rows>() {
            let rows = rows.get();
            match rows.batches() {
                [] => out.push(RecordBatch::new_empty(rows.schema())),
                batches => out.extend(batches.iter().cloned()),
            }
            continue;
        }
        let (schema, mut batches) = import(&piece)?;
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        out.append(&mut batches);
    }
    Ok(out)
}

/// Merge `pieces` (Arrow tables of one set of columns, each usually sorted) by the int64 or
/// timestamp column `key`: sorted, one row per key, the later piece winning ties (and within a
/// piece the later row). With `gaps=True` the merged rows are also checked for continuity
/// (`find_gaps`; klines need `interval`). The GIL is released throughout.
#[pyfunction]
#[pyo3(signature = (pieces, key, *, gaps = false, interval = None))]
pub fn merge_rows(
    py: Python<'_>,
    pieces: &Bound<'_, PyAny>,
    key: String,
    gaps: bool,
    interval: Option<&str>,
) -> PyResult<MergedRows> {
    let interval = interval
        .map(str::parse::<Interval>)
        .transpose()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let batches = import_pieces(pieces)?;
    detach(py, move || {
        let batches = cache::merge_by_key(&batches, &key)?;
        let gaps = if gaps {
            Some(gap_rows(&check::find_gaps(&batches, interval)?))
        } else {
            None
        };
        Ok(MergedRows { batches, gaps })
    })
}

/// Write `table` as one uncompressed, 64-byte-aligned IPC file at `path`, atomically, with
/// `metadata` in its schema. `table` is an Arrow table (anything with `__arrow_c_stream__`),
/// a `MergedRows`, or a list of tables: written as one batch (from their buffers, without
/// concatenating them), or with `key` merged as `merge_rows` does. The GIL is released while
/// merging and writing.
#[pyfunction]
#[pyo3(signature = (path, table, metadata = None, *, key = None))]
pub fn write_cache(
    py: Python<'_>,
    path: PathBuf,
    table: &Bound<'_, PyAny>,
    metadata: Option<HashMap<String, String>>,
    key: Option<String>,
) -> PyResult<()> {
    let batches = if let Ok(rows) = table.cast::<MergedRows>() {
        rows.get().batches.clone()
    } else if !table.hasattr("__arrow_c_stream__")? && table.try_iter().is_ok() {
        import_pieces(table)?
    } else {
        let (schema, mut batches) = import(table)?;
        if batches.is_empty() {
            // A table of no rows exports no batches: store one empty batch of its schema (a
            // partition that only carries metadata, e.g. known-empty days).
            batches.push(RecordBatch::new_empty(schema));
        }
        batches
    };
    if batches.is_empty() {
        return Err(PyValueError::new_err("write_cache: no tables to write"));
    }
    let metadata = metadata.unwrap_or_default();
    detach(py, move || {
        let batches = match key {
            Some(key) => cache::merge_by_key(&batches, &key)?,
            None => batches,
        };
        cache::write_ipc(&path, &batches, &metadata)
    })
}

/// Memory-map a cache partition: `(stream, metadata)`; the stream's buffers point into the map.
/// `verify=True` also recomputes the content digest (`CacheError` when it differs).
#[pyfunction]
#[pyo3(signature = (path, *, verify = false))]
pub fn read_cache(
    py: Python<'_>,
    path: PathBuf,
    verify: bool,
) -> PyResult<(ArrowStream, HashMap<String, String>)> {
    let (batch, metadata) = detach(py, move || cache::read_ipc_verified(&path, verify))?;
    Ok((ArrowStream::new(batch.schema(), vec![batch]), metadata))
}

/// Only the schema metadata of a cache partition.
#[pyfunction]
pub fn read_cache_metadata(py: Python<'_>, path: PathBuf) -> PyResult<HashMap<String, String>> {
    detach(py, move || cache::read_metadata(&path))
}
