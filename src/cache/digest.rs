//! Content digest of a cache partition: XXH3-128 over every column's logical values (the
//! validity bits and the data of rows `[0, len)`, not the padding) and over the `ckv` metadata
//! text, stored as `ckv.digest` in the schema metadata when the file is written and recomputed
//! when it is verified. A flipped bit in any value, any null flag or the metadata changes it.

use arrow_array::{Array, RecordBatch};
use arrow_buffer::BooleanBuffer;
use arrow_schema::DataType;
use xxhash_rust::xxh3::Xxh3;

use crate::error::{Error, Result};

/// Schema metadata key of the digest.
pub const DIGEST_KEY: &str = "ckv.digest";
/// Schema metadata key whose text the digest covers.
pub const META_KEY: &str = "ckv";

/// `xxh3-128:<hex>` of `batch`'s values and `meta`.
pub fn digest(batch: &RecordBatch, meta: Option<&str>) -> Result<String> {
    let mut h = Xxh3::new();
    h.update(&(batch.num_rows() as u64).to_le_bytes());
    for col in batch.columns() {
        let data = col.to_data();
        h.update(&[u8::from(data.nulls().is_some())]);
        if let Some(nulls) = data.nulls() {
            bits(&mut h, nulls.inner());
        }
        match data.data_type() {
            DataType::Boolean => {
                let values =
                    BooleanBuffer::new(data.buffers()[0].clone(), data.offset(), data.len());
                bits(&mut h, &values);
            }
            DataType::Utf8 | DataType::Binary => variable(&mut h, &data, 4)?,
            DataType::LargeUtf8 | DataType::LargeBinary => variable(&mut h, &data, 8)?,
            dt => {
                let width = dt.primitive_width().ok_or_else(|| {
                    Error::Invalid(format!("cache digest: unsupported column type {dt}"))
                })?;
                let start = data.offset() * width;
                let bytes = data.buffers()[0].as_slice();
                let end = start + data.len() * width;
                let slice = bytes.get(start..end).ok_or_else(|| {
                    Error::Invalid("cache digest: column buffer shorter than its rows".into())
                })?;
                h.update(slice);
            }
        }
    }
    h.update(meta.unwrap_or("").as_bytes());
    Ok(format!("xxh3-128:{:032x}", h.digest128()))
}

/// Hash a variable-width column: its `len + 1` offsets (of `width` bytes) and the value bytes
/// they span.
fn variable(h: &mut Xxh3, data: &arrow_data::ArrayData, width: usize) -> Result<()> {
    let short = || Error::Invalid("cache digest: column buffer shorter than its rows".into());
    let offsets = data.buffers()[0].as_slice();
    let (a, b) = (
        data.offset() * width,
        (data.offset() + data.len() + 1) * width,
    );
    let offs = offsets.get(a..b).ok_or_else(short)?;
    h.update(offs);
    let read = |i: usize| -> usize {
        let chunk = &offs[i * width..(i + 1) * width];
        if width == 4 {
            i32::from_le_bytes(chunk.try_into().unwrap_or_default()).max(0) as usize
        } else {
            i64::from_le_bytes(chunk.try_into().unwrap_or_default()).max(0) as usize
        }
    };
    let (first, last) = (read(0), read(data.len()));
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
