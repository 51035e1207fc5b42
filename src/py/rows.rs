//! `Rows`: batches the core made, kept in the core for the planner (docs/architecture.md, "The
//! planner"). An archive's rows are cut into days (`slice`) and handed back to `merge_rows` and
//! `write_cache` without crossing into pyarrow and back; `__arrow_c_stream__` gives them to
//! pyarrow (zero-copy) when Python code needs a table.
//!
//! Guarantees: immutable; every export and slice shares the same buffers; a slice out of range
//! is a `ValueError`, never a panic.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use super::arrow::export;
use crate::model::dataset::Dataset;

/// Rows held by the core: `num_rows`, `slice(offset, length)`, `fits(family)`, and an Arrow
/// stream of them at each `__arrow_c_stream__` (readable any number of times).
#[pyclass(module = "ckv._core", frozen)]
pub struct Rows {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Rows {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Rows { schema, batches }
    }

    /// The batches, shared (cloning a batch clones its buffer handles, not the rows).
    pub(crate) fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

#[pymethods]
impl Rows {
    #[getter]
    fn num_rows(&self) -> usize {
        self.len()
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    /// Rows `[offset, offset + length)`, zero-copy (the batches' shared buffers).
    fn slice(&self, offset: usize, length: usize) -> PyResult<Rows> {
        let n = self.len();
        let end = offset
            .checked_add(length)
            .filter(|&e| e <= n)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "slice [{offset}, {offset} + {length}) out of range: {n} rows"
                ))
            })?;
        let mut out = Vec::new();
        let mut start = 0;
        for b in &self.batches {
            let (lo, hi) = (start, start + b.num_rows());
            start = hi;
            let (a, z) = (offset.max(lo), end.min(hi));
            if a < z {
                out.push(b.slice(a - lo, z - a));
            }
        }
        Ok(Rows::new(self.schema.clone(), out))
    }

    /// Whether the rows have exactly the output schema of dataset `family` (`klines`,
    /// `aggTrades`, `trades`, `fundingRate`, or any name `schema` accepts).
    fn fits(&self, family: &str) -> PyResult<bool> {
        let d: Dataset = family
            .parse()
            .map_err(|e: crate::Error| PyValueError::new_err(e.to_string()))?;
        Ok(*d.schema() == *self.schema)
    }

    /// Export as an `ArrowArrayStream` capsule (the PyCapsule interface); the rows stay here.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        export(py, self.schema.clone(), self.batches.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "Rows(num_rows={}, batches={})",
            self.len(),
            self.batches.len()
        )
    }
}
