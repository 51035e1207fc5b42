//! Arrow across the boundary through the Arrow PyCapsule interface: batches leave as an
//! `ArrowStream` (`__arrow_c_stream__`, read by `pyarrow.table(...)`), tables arrive from any
//! object with `__arrow_c_stream__` (pyarrow, polars, ...). No row is touched.

use std::ffi::CStr;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::SchemaRef;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM_NAME: &CStr = c"arrow_array_stream";

/// Record batches on their way to Python; consumable once.
#[pyclass(module = "ckv._core", frozen)]
pub struct ArrowStream {
    inner: std::sync::Mutex<Option<(SchemaRef, Vec<RecordBatch>)>>,
}

impl ArrowStream {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        ArrowStream {
            inner: std::sync::Mutex::new(Some((schema, batches))),
        }
    }
}

#[pymethods]
impl ArrowStream {
    /// Export as an `ArrowArrayStream` capsule (the PyCapsule interface).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let taken = self
            .inner
            .lock()
            .map_err(|_| PyValueError::new_err("stream lock poisoned"))?
            .take();
        let (schema, batches) =
            taken.ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))?;
        export(py, schema, batches)
    }
}

/// `batches` as an `ArrowArrayStream` capsule (the PyCapsule interface), zero-copy.
pub(crate) fn export(
    py: Python<'_>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Bound<'_, PyCapsule>> {
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    ));
    PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM_NAME)
}

/// Read every batch of a Python object exporting `__arrow_c_stream__`.
pub(crate) fn import(obj: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(
            "expected an Arrow table or stream (an object with __arrow_c_stream__, e.g. pyarrow.Table)",
        ));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let ptr = capsule.pointer_checked(Some(STREAM_NAME))?;
    // SAFETY: the capsule holds a valid FFI_ArrowArrayStream; `from_raw` moves it out and marks
    // the source released, so the capsule's destructor will not release it again.
    let reader = unsafe { RecordBatchStreamReader::from_raw(ptr.as_ptr().cast()) }
        .map_err(|e| PyValueError::new_err(format!("cannot import Arrow stream: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("cannot read Arrow stream: {e}")))?;
    Ok((schema, batches))
}
