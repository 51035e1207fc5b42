//! Turning the parsers' column vectors into Arrow arrays without copying: a `Vec<i64>` or
//! `Vec<f64>` becomes the array's value buffer as is, booleans are bit-packed as they are
//! parsed, and columns a source does not carry become all-null arrays.
//!
//! Guarantees: the arrays have exactly the types of `crate::model::schema` (timestamps are
//! `timestamp[us, tz=UTC]`); building a batch never copies the value data.

use std::sync::Arc;

use arrow_array::{
    new_null_array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch,
    TimestampMicrosecondArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, ScalarBuffer};
use arrow_schema::{DataType, SchemaRef};

use crate::error::Result;

/// A `timestamp[us, UTC]` array over `values` (microseconds).
pub(crate) fn ts_array(values: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::new(ScalarBuffer::from(values), None).with_timezone("UTC"))
}

/// A non-null `float64` array over `values`.
pub(crate) fn f64_array(values: Vec<f64>) -> ArrayRef {
    Arc::new(Float64Array::new(ScalarBuffer::from(values), None))
}

/// A non-null `int64` array over `values`.
pub(crate) fn i64_array(values: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::new(ScalarBuffer::from(values), None))
}

/// A non-null boolean array from bit-packed values.
pub(crate) fn bool_array(bits: Bits) -> ArrayRef {
    Arc::new(BooleanArray::new(bits.finish(), None))
}

/// An all-null array of `len` rows of type `data_type`.
pub(crate) fn null_array(data_type: &DataType, len: usize) -> ArrayRef {
    new_null_array(data_type, len)
}

/// Assemble the batch; the arrays must follow `schema`'s column order and types.
pub(crate) fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Booleans bit-packed as they are parsed, 64 to a word, without a branch on the value.
#[derive(Debug, Default)]
pub(crate) struct Bits {
    words: Vec<u64>,
    /// The word being filled and how many of its bits are used.
    word: u64,
    used: u32,
}

impl Bits {
    /// Append one value.
    #[inline(always)]
    pub fn push(&mut self, v: bool) {
        self.word |= u64::from(v) << self.used;
        self.used += 1;
        if self.used == 64 {
            self.words.push(self.word.to_le());
            (self.word, self.used) = (0, 0);
        }
    }

    /// Make room for exactly `additional` more values (rounded up to whole words).
    pub fn reserve_exact(&mut self, additional: usize) {
        self.words.reserve_exact(additional / 64 + 1);
    }

    /// Bytes reserved for the packed words.
    pub fn reserved_bytes(&self) -> usize {
        8 * self.words.capacity()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.words.len() * 64 + self.used as usize
    }

    /// The packed values, in Arrow's LSB-first bit order (no copy of the full words).
    pub fn finish(mut self) -> BooleanBuffer {
        let len = self.len();
        if self.used > 0 {
            self.words.push(self.word.to_le());
        }
        BooleanBuffer::new(Buffer::from_vec(self.words), 0, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::ts_type;
    use arrow_array::Array;

    #[test]
    fn arrays_have_schema_types_and_no_nulls() {
        let ts = ts_array(vec![1, 2]);
        assert_eq!(ts.data_type(), &ts_type());
        assert_eq!(ts.null_count(), 0);
        assert_eq!(f64_array(vec![1.5]).data_type(), &DataType::Float64);
        assert_eq!(i64_array(vec![7]).data_type(), &DataType::Int64);
        let want: Vec<bool> = (0..130).map(|i| i % 3 == 0 || i == 64).collect();
        let mut b = Bits::default();
        for &v in &want {
            b.push(v);
        }
        assert_eq!(b.len(), 130);
        let arr = bool_array(b);
        let arr = arr.as_any().downcast_ref::<BooleanArray>().unwrap();
        assert_eq!(arr.iter().map(Option::unwrap).collect::<Vec<_>>(), want);
        let n = null_array(&DataType::Boolean, 5);
        assert_eq!((n.len(), n.null_count()), (5, 5));
    }

    #[test]
    fn value_buffers_are_not_copied() {
        let v = vec![1.0f64, 2.0, 3.0];
        let ptr = v.as_ptr();
        let arr = f64_array(v);
        let arr = arr.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(arr.values().as_ptr(), ptr);
    }
}
