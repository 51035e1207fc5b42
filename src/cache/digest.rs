//! Content digest of a cache partition: XXH3-128 over every column's logical values (the
//! validity bits and the data of rows `[0, len)`, not the padding; a variable-width column's
//! offsets as counted from its first) and over the `ckv` metadata text, stored as `ckv.digest`
//! in the schema metadata when the file is written and recomputed when it is verified. A
//! flipped bit in any value, any null flag or the metadata changes it. The digest of a batch
//! given as pieces (`digest_columns`) is the digest of their concatenation.

use arrow_array::{Array, RecordBatch};
use arrow_buffer::BooleanBuffer;
use arrow_data::ArrayData;
use arrow_schema::DataType;
use xxhash_rust::xxh3::Xxh3;

use super::columns::{fixed_width, values, Column, Columns};
use crate::error::{Error, Result};

/// Schema metadata key of the digest.
pub const DIGEST_KEY: &str = "ckv.digest";
/// Schema metadata key whose text the digest covers.
pub const META_KEY: &str = "ckv";

/// `xxh3-128:<hex>` of `batch`'s values and `meta`.
pub fn digest(batch: &RecordBatch, meta: Option<&str>) -> Result<String> {
    let mut h = start(batch.num_rows());
    for col in batch.columns() {
        column(&mut h, &col.to_data())?;
    }
    Ok(finish(h, meta))
}

/// `digest` of the batch `columns` make, without making it.
pub(super) fn digest_columns(columns: &Columns, meta: Option<&str>) -> Result<String> {
    let mut h = start(columns.rows);
    for col in &columns.columns {
        match col {
            Column::Whole(data) => column(&mut h, data)?,
            Column::Pieces { width, pieces } => {
                h.update(&[0]); // no nulls
                for piece in pieces {
                    h.update(values(piece, *width)?);
                }
            }
        }
    }
    Ok(finish(h, meta))
}

fn start(rows: usize) -> Xxh3 {
    let mut h = Xxh3::new();
    h.update(&(rows as u64).to_le_bytes());
    h
}

fn finish(mut h: Xxh3, meta: Option<&str>) -> String {
    h.update(meta.unwrap_or("").as_bytes());
    format!("xxh3-128:{:032x}", h.digest128())
}

/// Hash one column: whether it has nulls, its validity bits, its values.
fn column(h: &mut Xxh3, data: &ArrayData) -> Result<()> {
    let nulls = data.nulls().filter(|n| n.null_count() > 0);
    h.update(&[u8::from(nulls.is_some())]);
    if let Some(nulls) = nulls {
        bits(h, nulls.inner());
    }
    match data.data_type() {
        DataType::Boolean => {
            let values = BooleanBuffer::new(data.buffers()[0].clone(), data.offset(), data.len());
            bits(h, &values);
        }
        DataType::Utf8 | DataType::Binary => variable(h, data, 4)?,
        DataType::LargeUtf8 | DataType::LargeBinary => variable(h, data, 8)?,
        dt => {
            let width = fixed_width(dt).ok_or_else(|| {
                Error::Invalid(format!("cache digest: unsupported column type {dt}"))
            })?;
            h.update(values(data, width)?);
        }
    }
    Ok(())
}

/// Hash a variable-width column: its `len + 1` offsets (of `width` bytes) counted from the
/// first (as a file holds them, whatever slice the column is) and the value bytes they span.
fn variable(h: &mut Xxh3, data: &ArrayData, width: usize) -> Result<()> {
    let short = || Error::Invalid("cache digest: column buffer shorter than its rows".into());
    let offsets = data.buffers()[0].as_slice();
    let (a, b) = (
        data.offset() * width,
        (data.offset() + data.len() + 1) * width,
    );
    let offs = offsets.get(a..b).ok_or_else(short)?;
    let read = |chunk: &[u8]| -> i64 {
        if width == 4 {
            i64::from(i32::from_le_bytes(chunk.try_into().unwrap_or_default()))
        } else {
            i64::from_le_bytes(chunk.try_into().unwrap_or_default())
        }
    };
    let first = read(&offs[..width]);
    if first == 0 {
        h.update(offs);
    } else {
        let mut rebased = Vec::with_capacity(offs.len());
        for chunk in offs.chunks_exact(width) {
            let v = read(chunk) - first;
            rebased.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        h.update(&rebased);
    }
    let last = read(&offs[offs.len() - width..]);
    let (first, last) = (first.max(0) as usize, last.max(0) as usize);
    let values = data.buffers()[1].as_slice();
    h.update(values.get(first..last.max(first)).ok_or_else(short)?);
    Ok(())
}

/// Hash the bits `[0, len)` of `b`, 64 at a time (bits past `len` never count).
fn bits(h: &mut Xxh3, b: &BooleanBuffer) {
    let chunks = b.bit_chunks();
    for c in &chunks {
        h.update(&c.to_le_bytes());
    }
    h.update(&chunks.remainder_bits().to_le_bytes());
}
