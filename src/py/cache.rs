//! Cache bindings: atomic IPC partition writes and memory-mapped, zero-copy reads.

use std::collections::HashMap;
use std::path::PathBuf;

use pyo3::prelude::*;

use super::arrow::{import, ArrowStream};
use super::detach;
use crate::cache;

/// Write `table` as one uncompressed, 64-byte-aligned IPC file at `path`, atomically, with
/// `metadata` in its schema.
#[pyfunction]
#[pyo3(signature = (path, table, metadata = None))]
pub fn write_cache(
    py: Python<'_>,
    path: PathBuf,
    table: &Bound<'_, PyAny>,
    metadata: Option<HashMap<String, String>>,
) -> PyResult<()> {
    let (schema, mut batches) = import(table)?;
    if batches.is_empty() {
        // A table of no rows exports no batches: store one empty batch of its schema (a
        // partition that only carries metadata, e.g. known-empty days).
        batches.push(arrow_array::RecordBatch::new_empty(schema));
    }
    let metadata = metadata.unwrap_or_default();
    detach(py, move || cache::write_ipc(&path, &batches, &metadata))
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
