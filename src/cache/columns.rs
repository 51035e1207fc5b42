//! The columns of the one record batch a write makes of several pieces, as the pieces hold
//! them: a fixed-width column without nulls stays the list of the pieces' value slices (hashed
//! and written in turn, never copied); any other column (one with a validity bitmap, booleans,
//! variable width) is concatenated, which is cheap for the few such columns a cache holds.

use arrow_array::{Array, RecordBatch};
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::error::{Error, Result};

/// One column of the batch to write.
pub(super) enum Column {
    /// Fixed-width values without nulls, `width` bytes a row, one `ArrayData` per piece.
    Pieces {
        width: usize,
        pieces: Vec<ArrayData>,
    },
    /// The pieces' column concatenated (the piece itself when there is one).
    Whole(ArrayData),
}

/// The batch to write: its row count and columns.
pub(super) struct Columns {
    pub(super) rows: usize,
    pub(super) columns: Vec<Column>,
}

impl Columns {
    /// The columns of `batches` (at least one, of one schema: checked by the caller) as one
    /// batch; a column type a cache does not hold (dictionaries, nested types) is
    /// `Error::Invalid`.
    pub(super) fn new(batches: &[RecordBatch]) -> Result<Columns> {
        let first = batches
            .first()
            .ok_or_else(|| Error::Invalid("write_ipc: no batches to write".into()))?;
        let mut columns = Vec::with_capacity(first.num_columns());
        for (c, field) in first.schema().fields().iter().enumerate() {
            let dt = field.data_type();
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            let column = match fixed_width(dt) {
                Some(width) if arrays.iter().all(|a| a.null_count() == 0) => Column::Pieces {
                    width,
                    pieces: arrays.iter().map(|a| a.to_data()).collect(),
                },
                _ if fixed_width(dt).is_some() || concatenated(dt) => {
                    let whole = arrow_select::concat::concat(&arrays).map_err(|e| {
                        Error::Invalid(format!(
                            "write_ipc: cannot join column {}: {e}",
                            field.name()
                        ))
                    })?;
                    Column::Whole(whole.to_data())
                }
                _ => {
                    return Err(Error::Invalid(format!(
                        "write_ipc: unsupported column type {dt} of {}",
                        field.name()
                    )))
                }
            };
            columns.push(column);
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Ok(Columns { rows, columns })
    }
}

/// The byte width of a column written as plain values: numbers and times.
pub(super) fn fixed_width(dt: &DataType) -> Option<usize> {
    (dt.is_numeric() || dt.is_temporal())
        .then(|| dt.primitive_width())
        .flatten()
}

/// Types written from one concatenated column.
fn concatenated(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Boolean
            | DataType::Utf8
            | DataType::Binary
            | DataType::LargeUtf8
            | DataType::LargeBinary
    )
}

/// The bytes of rows `[0, len)` of a fixed-width column of `width` bytes a row.
pub(super) fn values(data: &ArrayData, width: usize) -> Result<&[u8]> {
    let start = data.offset() * width;
    data.buffers()
        .first()
        .and_then(|b| b.as_slice().get(start..start + data.len() * width))
        .ok_or_else(|| Error::Invalid("cache: column buffer shorter than its rows".into()))
}
