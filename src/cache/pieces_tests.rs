//! The writer from pieces against arrow_ipc's own `FileWriter` on the concatenated batch: the
//! same bytes for every dataset schema, sliced pieces at odd offsets, empty pieces, one piece,
//! nulls, metadata; the digest over pieces is the digest of the concatenation.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_ipc::MetadataVersion;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::columns::Columns;
use super::digest::digest_columns;
use super::{digest, read_ipc_verified, write_ipc, DIGEST_KEY};
use crate::error::Error;
use crate::model::dataset::Dataset;

const DATASETS: [Dataset; 4] = [
    Dataset::Klines,
    Dataset::AggTrades,
    Dataset::Trades,
    Dataset::FundingRate,
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ckv-pieces-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` rows of `schema` from `seed`: keys and times increasing, other values scattered, and in
/// nullable columns a null every `null_every` rows (0: none).
fn rows(schema: &SchemaRef, n: usize, seed: i64, null_every: usize) -> RecordBatch {
    let null = |i: usize| null_every > 0 && i % null_every == null_every / 2;
    let cols = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| -> ArrayRef {
            let keep = |i: usize| !(f.is_nullable() && null(i));
            let v = |i: usize| seed * 1_000_000 + (i as i64) * 60_000_000 + c as i64;
            match f.data_type() {
                DataType::Int64 => Arc::new(
                    (0..n)
                        .map(|i| keep(i).then_some(v(i)))
                        .collect::<Int64Array>(),
                ),
                DataType::Float64 => Arc::new(
                    (0..n)
                        .map(|i| keep(i).then_some((v(i) % 977) as f64 * 0.25))
                        .collect::<Float64Array>(),
                ),
                DataType::Timestamp(_, _) => Arc::new(
                    (0..n)
                        .map(|i| keep(i).then_some(v(i)))
                        .collect::<TimestampMicrosecondArray>()
                        .with_timezone("UTC"),
                ),
                DataType::Boolean => Arc::new(
                    (0..n)
                        .map(|i| keep(i).then_some((v(i) / 7) % 3 == 1))
                        .collect::<BooleanArray>(),
                ),
                DataType::Utf8 => Arc::new(
                    (0..n)
                        .map(|i| keep(i).then(|| format!("r{}", v(i) % 1000)))
                        .collect::<StringArray>(),
                ),
                other => panic!("no generator for {other}"),
            }
        })
        .collect();
    RecordBatch::try_new(schema.clone(), cols).unwrap()
}

/// `b` cut at `cuts` into consecutive slices (also `rejoin`'s tests).
pub(super) fn cut(b: &RecordBatch, cuts: &[usize]) -> Vec<RecordBatch> {
    let mut at = 0;
    let mut out = vec![];
    for &c in cuts.iter().chain([b.num_rows()].iter()) {
        out.push(b.slice(at, c - at));
        at = c;
    }
    out
}

/// What today's writer wrote: `FileWriter` on the concatenated batch (the piece itself when
/// there is one) with the merged metadata and the digest of that batch.
fn reference(pieces: &[RecordBatch], md: &HashMap<String, String>) -> Vec<u8> {
    let schema = pieces[0].schema();
    let batch = if let [one] = pieces {
        one.clone()
    } else {
        arrow_select::concat::concat_batches(&schema, pieces).unwrap()
    };
    let mut merged = schema.metadata().clone();
    merged.extend(md.iter().map(|(k, v)| (k.clone(), v.clone())));
    let d = digest(&batch, merged.get("ckv").map(String::as_str)).unwrap();
    merged.insert(DIGEST_KEY.to_string(), d);
    let schema = Arc::new(Schema::new_with_metadata(schema.fields().clone(), merged));
    let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).unwrap();
    let options = IpcWriteOptions::try_new(64, false, MetadataVersion::V5).unwrap();
    let mut out = Vec::new();
    let mut writer = FileWriter::try_new_with_options(&mut out, &schema, options).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    out
}

fn concat(pieces: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(&pieces[0].schema(), pieces).unwrap()
}

/// Write `pieces` and check the file against `reference`, the digest against the
/// concatenation's, and the rows read back (digest verified) against the concatenation.
fn check(name: &str, pieces: &[RecordBatch], md: &HashMap<String, String>) {
    let dir = scratch(name);
    let path = dir.join("p.arrow");
    write_ipc(&path, pieces, md).unwrap();
    let got = fs::read(&path).unwrap();
    let want = reference(pieces, md);
    assert_eq!(got.len(), want.len(), "{name}: file length");
    assert!(got == want, "{name}: bytes differ from FileWriter's");
    let columns = Columns::new(pieces).unwrap();
    let meta = md.get("ckv").map(String::as_str);
    assert_eq!(
        digest_columns(&columns, meta).unwrap(),
        digest(&concat(pieces), meta).unwrap(),
        "{name}: digest"
    );
    let (batch, _) = read_ipc_verified(&path, true).unwrap();
    let want = concat(pieces);
    assert_eq!(batch.columns(), want.columns(), "{name}: rows");
    fs::remove_dir_all(dir).unwrap();
}

fn md() -> HashMap<String, String> {
    HashMap::from([
        (
            "ckv".to_string(),
            "{\"format\": 2, \"days\": {}}".to_string(),
        ),
        ("other".to_string(), "x".to_string()),
    ])
}

#[test]
fn every_dataset_sliced_at_odd_offsets_matches_file_writer() {
    for ds in DATASETS {
        let schema = ds.schema();
        for null_every in [0, 5] {
            let name = format!("{ds:?}-{null_every}");
            let month = rows(&schema, 2000, 1, null_every);
            // days of odd lengths, booleans cut off byte boundaries, empty slices between
            let pieces = cut(&month, &[1, 1, 9, 333, 333, 334, 1001, 1440, 1999]);
            check(&format!("{name}-sliced"), &pieces, &md());
            check(&format!("{name}-one"), std::slice::from_ref(&month), &md());
            check(&format!("{name}-one-slice"), &[month.slice(3, 1000)], &md());
            // pieces of other buffers after a cached partition
            let later = [
                rows(&schema, 17, 2, null_every),
                rows(&schema, 0, 3, null_every),
                rows(&schema, 1441, 4, null_every).slice(5, 1430),
            ];
            let mut mixed = vec![month.slice(0, 777)];
            mixed.extend(later.iter().cloned());
            check(&format!("{name}-mixed"), &mixed, &HashMap::new());
        }
    }
}

#[test]
fn nulls_in_some_pieces_only_and_empty_files_match() {
    let schema = Dataset::FundingRate.schema();
    let clean = rows(&schema, 100, 1, 0);
    let holey = rows(&schema, 100, 2, 3);
    check(
        "nulls-some",
        &[clean.slice(0, 37), holey.slice(11, 50), clean.slice(37, 63)],
        &md(),
    );
    // a slice without nulls of a column that has some keeps a bitmap of no nulls
    check(
        "nulls-none-in-slice",
        &[holey.slice(0, 1), holey.slice(2, 2)],
        &md(),
    );
    for ds in DATASETS {
        let empty = RecordBatch::new_empty(ds.schema());
        check(
            &format!("empty-{ds:?}"),
            std::slice::from_ref(&empty),
            &md(),
        );
        check(
            &format!("empties-{ds:?}"),
            &[empty.clone(), empty],
            &HashMap::new(),
        );
    }
}

#[test]
fn schema_metadata_of_the_first_piece_is_kept_and_the_map_wins() {
    let schema = Dataset::Klines.schema();
    let with_meta = Arc::new(Schema::new_with_metadata(
        schema.fields().clone(),
        HashMap::from([
            ("ckv".to_string(), "old".to_string()),
            ("kept".to_string(), "yes".to_string()),
        ]),
    ));
    let a = rows(&schema, 50, 1, 0);
    let a = RecordBatch::try_new(with_meta.clone(), a.columns().to_vec()).unwrap();
    // the file's fields are the pieces' fields; only the first piece's metadata counts
    let b = rows(&schema, 20, 2, 0);
    let b = RecordBatch::try_new(with_meta, b.columns().to_vec()).unwrap();
    check("metadata", &[a, b], &md());
}

#[test]
fn variable_width_and_boolean_columns_are_joined_and_match() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, false),
    ]));
    let a = rows(&schema, 300, 1, 4);
    let b = rows(&schema, 300, 2, 0);
    check(
        "utf8",
        &[a.slice(3, 100), b.slice(0, 1), a.slice(103, 197)],
        &md(),
    );
    // one sliced piece: its offsets do not start at 0 (the file's do)
    check("utf8-one-slice", &[a.slice(7, 200)], &md());
}

#[test]
fn other_types_are_invalid_and_write_nothing() {
    let keys = Int64Array::from_iter_values(0..6);
    let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a", "c", "b", "a"].into_iter().collect();
    let batch = RecordBatch::try_from_iter([
        ("k", Arc::new(keys) as ArrayRef),
        ("d", Arc::new(dict) as ArrayRef),
    ])
    .unwrap();
    let dir = scratch("other-types");
    let path = dir.join("p.arrow");
    let err = write_ipc(&path, &[batch.slice(0, 2), batch.slice(2, 4)], &md()).unwrap_err();
    assert!(err.to_string().contains("unsupported column type"), "{err}");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pieces_of_different_fields_are_invalid_and_write_nothing() {
    let dir = scratch("fields");
    let path = dir.join("p.arrow");
    let k = rows(&Dataset::Klines.schema(), 3, 1, 0);
    let f = rows(&Dataset::FundingRate.schema(), 3, 1, 0);
    let err = write_ipc(&path, &[k.clone(), f], &md()).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("do not share one schema"), "{err}");
    // same types, another name
    let renamed = Arc::new(Schema::new(
        k.schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_name(format!("x_{}", f.name())))
            .collect::<Vec<_>>(),
    ));
    let r = RecordBatch::try_new(renamed, k.columns().to_vec()).unwrap();
    assert!(matches!(
        write_ipc(&path, &[k, r], &md()),
        Err(Error::Invalid(_))
    ));
    assert!(!path.exists());
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        0,
        "a temp file was left"
    );
    fs::remove_dir_all(dir).unwrap();
}

/// A sink that takes at most 7 bytes a call, and fails every third call with `Interrupted`.
struct Trickle {
    out: Vec<u8>,
    calls: usize,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(7);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn short_and_interrupted_writes_and_many_segments_still_give_the_file() {
    let schema = Dataset::AggTrades.schema();
    // 1500 one-row pieces of separate buffers: thousands of small parts
    let many: Vec<RecordBatch> = (0..1500).map(|i| rows(&schema, 1, i, 0)).collect();
    check("many", &many, &md());

    let pieces = cut(&rows(&schema, 500, 9, 0), &[13, 200]);
    let columns = Columns::new(&pieces).unwrap();
    let mut merged: HashMap<String, String> = md();
    let d = digest_columns(&columns, merged.get("ckv").map(String::as_str)).unwrap();
    merged.insert(DIGEST_KEY.to_string(), d);
    let schema = Schema::new_with_metadata(schema.fields().clone(), merged);
    let mut sink = Trickle {
        out: vec![],
        calls: 0,
    };
    super::ipc_file::write_file(&mut sink, &schema, &columns).unwrap();
    assert!(sink.out == reference(&pieces, &md()));
    assert!(sink.calls > 100);
}

#[test]
fn a_sink_that_takes_nothing_is_an_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Ok(0)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let pieces = [rows(&Dataset::Trades.schema(), 10, 1, 0)];
    let columns = Columns::new(&pieces).unwrap();
    let err = super::ipc_file::write_file(&mut Full, &pieces[0].schema(), &columns).unwrap_err();
    assert!(
        matches!(err, Error::Io(ref e) if e.kind() == std::io::ErrorKind::WriteZero),
        "{err}"
    );
}

#[test]
fn a_null_free_bitmap_counts_as_no_nulls_in_the_digest() {
    // A column whose bitmap marks no null is hashed as one without a bitmap: the file holds
    // none, so the digest checked on reading it is that one.
    let dir = scratch("null-free");
    let path = dir.join("p.arrow");
    let col = Int64Array::new(vec![1, 2, 3].into(), Some(vec![true; 3].into()));
    assert!(col.nulls().is_some() && col.null_count() == 0);
    let batch = RecordBatch::try_from_iter([("x", Arc::new(col) as ArrayRef)]).unwrap();
    write_ipc(&path, &[batch], &md()).unwrap();
    assert!(read_ipc_verified(&path, true).is_ok());
    fs::remove_dir_all(dir).unwrap();
}
