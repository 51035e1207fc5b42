//! Merging a partition's pieces (the cached rows, new days, hole fills) into rows sorted by key
//! with one row per key, where on equal keys the later piece wins (and within one piece the
//! later row): the rows a commit writes.
//!
//! The usual cases copy nothing: pieces each strictly increasing and not overlapping (in order,
//! or in order once sorted by their first key) are the merged rows as they are, a list of
//! batches, with runs of adjacent slices of one buffer joined back into one slice
//! (`rejoin.rs`). Only overlapping or unsorted pieces pay for an index sort (O(n log n)) and a
//! gather into one new batch.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;

use super::days::i64_values;
use super::rejoin::rejoin;
use crate::error::{Error, Result};

/// The rows of `pieces` (one set of fields; schema metadata is dropped) sorted by the
/// `int64`/`timestamp[us]` column `key`, one row per key, the later row winning ties, as batches
/// in key order (at least one; the pieces themselves when they need no merge, else one new
/// batch). Zero pieces is `Error::Invalid`; empty pieces are fine.
pub fn merge_by_key(pieces: &[RecordBatch], key: &str) -> Result<Vec<RecordBatch>> {
    let first = pieces
        .first()
        .ok_or_else(|| Error::Invalid("merge: no pieces to merge".into()))?;
    let schema = Arc::new(Schema::new(first.schema().fields().clone()));
    if let Some(other) = pieces
        .iter()
        .find(|p| p.schema().fields() != schema.fields())
    {
        return Err(Error::Invalid(format!(
            "merge: pieces have different columns: {:?} and {:?}",
            field_names(&schema),
            field_names(&other.schema())
        )));
    }
    let present: Vec<&RecordBatch> = pieces.iter().filter(|p| p.num_rows() > 0).collect();
    let keys = present
        .iter()
        .map(|p| {
            i64_values(p, key).ok_or_else(|| {
                Error::Invalid(format!(
                    "merge: key column {key} is missing, has nulls or is not int64/timestamp[us]"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if present.is_empty() {
        return Ok(vec![RecordBatch::new_empty(schema)]);
    }
    let increasing = keys.iter().all(|k| strictly_increasing(k));
    if increasing {
        let mut order: Vec<usize> = (0..present.len()).collect();
        order.sort_by_key(|&i| keys[i][0]);
        let disjoint = order
            .windows(2)
            .all(|w| keys[w[0]][keys[w[0]].len() - 1] < keys[w[1]][0]);
        if disjoint {
            let ordered = order
                .iter()
                .map(|&i| RecordBatch::try_new(schema.clone(), present[i].columns().to_vec()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            return Ok(rejoin(ordered));
        }
    }
    let mut rows: Vec<(usize, usize)> = keys
        .iter()
        .enumerate()
        .flat_map(|(p, k)| (0..k.len()).map(move |r| (p, r)))
        .collect();
    // Key ascending, then the later row first, so the first of each key is the winner.
    rows.sort_unstable_by(|&(pa, ra), &(pb, rb)| {
        keys[pa][ra]
            .cmp(&keys[pb][rb])
            .then_with(|| (pb, rb).cmp(&(pa, ra)))
    });
    rows.dedup_by(|&mut (p, r), &mut (kp, kr)| keys[p][r] == keys[kp][kr]);
    let gathered = arrow_select::interleave::interleave_record_batch(&present, &rows)?;
    Ok(vec![RecordBatch::try_new(
        schema,
        gathered.columns().to_vec(),
    )?])
}

fn strictly_increasing(k: &[i64]) -> bool {
    k.windows(2).all(|w| w[0] < w[1])
}

fn field_names(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{ArrayRef, Int64Array};
    use arrow_schema::{DataType, Field};

    /// A piece of `(key, tag)` rows.
    fn piece(rows: &[(i64, i64)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("tag", DataType::Int64, false),
        ]));
        let k: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0)));
        let t: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1)));
        RecordBatch::try_new(schema, vec![k, t]).unwrap()
    }

    fn rows(out: &[RecordBatch]) -> Vec<(i64, i64)> {
        out.iter()
            .flat_map(|b| {
                let k = b.column(0).as_primitive::<Int64Type>().values().to_vec();
                let t = b.column(1).as_primitive::<Int64Type>().values().to_vec();
                k.into_iter().zip(t)
            })
            .collect()
    }

    fn values_ptr(b: &RecordBatch) -> *const i64 {
        b.column(0).as_primitive::<Int64Type>().values().as_ptr()
    }

    fn num_rows(out: &[RecordBatch]) -> usize {
        out.iter().map(RecordBatch::num_rows).sum()
    }

    #[test]
    fn ordered_pieces_are_the_merged_rows_without_a_copy() {
        let (a, b) = (piece(&[(1, 0), (2, 0)]), piece(&[(3, 1)]));
        let out = merge_by_key(&[a.clone(), b.clone()], "k").unwrap();
        assert_eq!(rows(&out), [(1, 0), (2, 0), (3, 1)]);
        assert_eq!(out.len(), 2);
        assert_eq!(values_ptr(&out[0]), values_ptr(&a));
        assert_eq!(values_ptr(&out[1]), values_ptr(&b));
    }

    #[test]
    fn slices_of_one_batch_come_back_as_one_slice() {
        let all: Vec<(i64, i64)> = (0..100).map(|k| (k, k % 3)).collect();
        let month = piece(&all);
        let days = [month.slice(0, 31), month.slice(31, 28), month.slice(59, 41)];
        let out = merge_by_key(&days, "k").unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(rows(&out), all);
        assert_eq!(values_ptr(&out[0]), values_ptr(&month));
        // with a gap or another buffer between, they stay apart (still without a copy)
        let other = piece(&[(200, 9)]);
        let out = merge_by_key(&[month.slice(0, 10), month.slice(20, 10), other], "k").unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(num_rows(&out), 21);
    }

    #[test]
    fn a_piece_out_of_order_inside_is_merged_by_copy_and_right() {
        let out = merge_by_key(
            &[
                piece(&[(1, 0), (2, 0)]),
                piece(&[(4, 1), (3, 1)]),
                piece(&[(5, 2)]),
            ],
            "k",
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(rows(&out), [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2)]);
    }

    #[test]
    fn ordered_pieces_are_concatenated() {
        let out = merge_by_key(&[piece(&[(1, 0), (2, 0)]), piece(&[(3, 1)])], "k").unwrap();
        assert_eq!(rows(&out), [(1, 0), (2, 0), (3, 1)]);
    }

    #[test]
    fn disjoint_pieces_in_any_order_are_sorted() {
        let out = merge_by_key(
            &[piece(&[(5, 0), (6, 0)]), piece(&[(1, 1)]), piece(&[(3, 2)])],
            "k",
        )
        .unwrap();
        assert_eq!(rows(&out), [(1, 1), (3, 2), (5, 0), (6, 0)]);
    }

    #[test]
    fn the_later_piece_wins_ties() {
        let out = merge_by_key(
            &[
                piece(&[(1, 0), (2, 0), (3, 0)]),
                piece(&[(2, 1), (4, 1)]),
                piece(&[(2, 2)]),
            ],
            "k",
        )
        .unwrap();
        assert_eq!(rows(&out), [(1, 0), (2, 2), (3, 0), (4, 1)]);
    }

    #[test]
    fn unsorted_piece_is_sorted_and_the_later_row_wins() {
        let out = merge_by_key(&[piece(&[(3, 0), (1, 1), (3, 2)])], "k").unwrap();
        assert_eq!(rows(&out), [(1, 1), (3, 2)]);
    }

    #[test]
    fn empty_pieces_are_skipped_and_none_is_empty() {
        let empty = piece(&[]);
        let out = merge_by_key(&[empty.clone(), piece(&[(1, 0)]), empty.clone()], "k").unwrap();
        assert_eq!(rows(&out), [(1, 0)]);
        assert_eq!(num_rows(&merge_by_key(&[empty], "k").unwrap()), 0);
        assert!(matches!(merge_by_key(&[], "k"), Err(Error::Invalid(_))));
    }

    #[test]
    fn different_columns_or_bad_key_are_invalid() {
        let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let x = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef])
            .unwrap();
        let err = merge_by_key(&[piece(&[(1, 0)]), x], "k").unwrap_err();
        assert!(err.to_string().contains("different columns"), "{err}");
        let err = merge_by_key(&[piece(&[(1, 0)])], "nope").unwrap_err();
        assert!(err.to_string().contains("key column nope"), "{err}");
    }

    #[test]
    fn metadata_is_dropped() {
        let p = piece(&[(1, 0)]);
        let meta: std::collections::HashMap<String, String> =
            [("ckv".to_string(), "old".to_string())]
                .into_iter()
                .collect();
        let schema = Arc::new(p.schema().as_ref().clone().with_metadata(meta));
        let p = RecordBatch::try_new(schema, p.columns().to_vec()).unwrap();
        let out = merge_by_key(&[p, piece(&[(2, 0)])], "k").unwrap();
        assert!(out.iter().all(|b| b.schema().metadata().is_empty()));
        assert_eq!(num_rows(&out), 2);
    }
}
