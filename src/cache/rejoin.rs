//! Re-joining adjacent slices: pieces that are consecutive slices of the same buffers (a monthly
//! archive cut into its days, the days handed back one piece each) become one zero-copy slice
//! again, so rows that were one batch stay one batch. Only the simple case is joined: every
//! column fixed-width or boolean, its values (and validity bits, if any) continuing exactly
//! where the previous piece's end, in the same buffer. Anything else stays separate pieces.

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::{make_array, ArrayRef, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::DataType;

use super::columns::fixed_width;

/// `pieces` (one schema, in order) with each run of adjacent slices joined into one batch.
pub(super) fn rejoin(pieces: Vec<RecordBatch>) -> Vec<RecordBatch> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut run: Vec<RecordBatch> = Vec::new();
    for piece in pieces {
        if run.last().is_some_and(|last| !adjacent(last, &piece)) {
            out.extend(join(std::mem::take(&mut run)));
        }
        run.push(piece);
    }
    out.extend(join(run));
    out
}

/// Whether `b` continues `a` in every column.
fn adjacent(a: &RecordBatch, b: &RecordBatch) -> bool {
    a.num_columns() == b.num_columns()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| adjacent_data(&x.to_data(), &y.to_data()))
}

fn adjacent_data(a: &ArrayData, b: &ArrayData) -> bool {
    if a.data_type() != b.data_type() || !a.child_data().is_empty() || a.buffers().len() != 1 {
        return false;
    }
    let nulls = match (a.nulls(), b.nulls()) {
        (None, None) => true,
        (Some(x), Some(y)) => bits_adjacent(x.inner(), y.inner()),
        _ => false,
    };
    nulls
        && match (a.data_type(), fixed_width(a.data_type())) {
            (DataType::Boolean, _) => bits_adjacent(&bits(a), &bits(b)),
            (_, Some(w)) => {
                let (x, y) = (&a.buffers()[0], &b.buffers()[0]);
                x.data_ptr() == y.data_ptr()
                    && (x.as_ptr() as usize).checked_add((a.offset() + a.len()) * w)
                        == (y.as_ptr() as usize).checked_add(b.offset() * w)
            }
            _ => false,
        }
}

fn bits(d: &ArrayData) -> BooleanBuffer {
    BooleanBuffer::new(d.buffers()[0].clone(), d.offset(), d.len())
}

/// Bits of `b` that continue those of `a` in the same buffer.
fn bits_adjacent(a: &BooleanBuffer, b: &BooleanBuffer) -> bool {
    a.inner().as_ptr() == b.inner().as_ptr() && a.offset() + a.len() == b.offset()
}

/// One batch of a run of adjacent pieces (the run itself if a column cannot be built).
fn join(run: Vec<RecordBatch>) -> Vec<RecordBatch> {
    if run.len() < 2 {
        return run;
    }
    let columns: Option<Vec<ArrayRef>> = (0..run[0].num_columns())
        .map(|c| {
            let data: Vec<ArrayData> = run.iter().map(|p| p.column(c).to_data()).collect();
            join_data(&data).map(make_array)
        })
        .collect();
    match columns.and_then(|cols| RecordBatch::try_new(run[0].schema(), cols).ok()) {
        Some(batch) => vec![batch],
        None => run,
    }
}

/// The column of a run of pairwise adjacent pieces `data` (at least one).
fn join_data(data: &[ArrayData]) -> Option<ArrayData> {
    let (first, last) = (data.first()?, data.last()?);
    let len: usize = data.iter().map(ArrayData::len).sum();
    let nulls = match (first.nulls(), last.nulls()) {
        (Some(a), Some(b)) if b.buffer().len() * 8 >= a.offset() + len => Some(NullBuffer::new(
            BooleanBuffer::new(b.buffer().clone(), a.offset(), len),
        )),
        (None, None) => None,
        _ => return None,
    };
    let dt = first.data_type().clone();
    let builder = match (&dt, fixed_width(&dt)) {
        // The last piece's buffer holds every bit of the run: same start, ending last.
        (DataType::Boolean, _) => ArrayData::builder(dt)
            .offset(first.offset())
            .add_buffer(last.buffers()[0].clone()),
        (_, Some(w)) => {
            let (a, b) = (&first.buffers()[0], &last.buffers()[0]);
            let start = a.as_ptr().wrapping_add(first.offset() * w);
            let bytes = len * w;
            let end = b.as_ptr() as usize + (last.offset() + last.len()) * w;
            if a.data_ptr() != b.data_ptr()
                || start as usize + bytes != end
                || end > b.as_ptr() as usize + b.len()
            {
                return None;
            }
            let ptr = NonNull::new(start.cast_mut())?;
            // SAFETY: `a` and `b` view one storage (the same `data_ptr`), which `b` keeps
            // alive (`owner`) and which is valid from `data_ptr` to the end of `b`'s view (a
            // `Buffer` never views bytes outside its storage). The range starts in `a`'s view,
            // so at or after `data_ptr`, and ends inside `b`'s view (checked above), so it lies
            // in that storage; the pieces are contiguous, so it holds exactly their rows.
            let owner = Arc::new(b.clone());
            let joined = unsafe { Buffer::from_custom_allocation(ptr, bytes, owner) };
            ArrayData::builder(dt).add_buffer(joined)
        }
        _ => return None,
    };
    builder.len(len).nulls(nulls).build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::pieces_tests::cut;
    use arrow_array::{Array, BooleanArray, Float64Array, Int64Array};
    use arrow_schema::{Field, Schema};

    fn batch(n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("b", DataType::Boolean, true),
        ]));
        let k: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
        let x: ArrayRef = Arc::new(
            (0..n)
                .map(|i| (i % 2 == 0).then_some(i as f64))
                .collect::<Float64Array>(),
        );
        let b: ArrayRef = Arc::new(
            (0..n)
                .map(|i| (i % 3 != 1).then_some(i % 5 == 0))
                .collect::<BooleanArray>(),
        );
        RecordBatch::try_new(schema, vec![k, x, b]).unwrap()
    }

    #[test]
    fn consecutive_slices_become_one_zero_copy_batch() {
        let whole = batch(1000);
        let got = rejoin(cut(&whole, &[3, 9, 250, 253, 777]));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], whole);
        let k = got[0].column(0).to_data();
        assert_eq!(
            k.buffers()[0].as_ptr(),
            whole.column(0).to_data().buffers()[0].as_ptr()
        );
        let x = got[0].column(1);
        assert_eq!(x.null_count(), whole.column(1).null_count());
    }

    #[test]
    fn a_run_that_skips_rows_or_changes_buffers_stays_apart() {
        let whole = batch(100);
        let other = batch(100);
        let pieces = vec![
            whole.slice(0, 10),
            whole.slice(10, 10),
            whole.slice(30, 10), // skips rows 20..30
            whole.slice(40, 5),
            other.slice(45, 5), // another buffer
            whole.slice(50, 50),
        ];
        let got = rejoin(pieces);
        let lens: Vec<usize> = got.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(lens, [20, 15, 5, 50]);
        assert_eq!(got[0], whole.slice(0, 20));
        assert_eq!(got[1], whole.slice(30, 15));
        assert_eq!(got[2], other.slice(45, 5));
    }

    #[test]
    fn a_bitmap_on_one_side_only_or_variable_width_stays_apart() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let col: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(2), None, Some(4)]));
        let b = RecordBatch::try_new(schema, vec![col]).unwrap();
        // rows 0..2 have no nulls, so their slice has no bitmap to continue
        let got = rejoin(vec![b.slice(0, 2), b.slice(2, 2)]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].column(0).null_count(), 1);
        let s = RecordBatch::try_from_iter([(
            "s",
            Arc::new(arrow_array::StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
        )])
        .unwrap();
        assert_eq!(rejoin(vec![s.slice(0, 1), s.slice(1, 2)]).len(), 2);
    }
}
