//! Cache stage tests: round trip, atomicity, zero-copy and alignment, and garbage files.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};

use super::read::read_mapped;
use super::write::write_atomic;
use super::{read_ipc, read_metadata, write_ipc};
use crate::error::Error;
use crate::model::schema::ts_type;

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ckv-cache-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Rows `from..to` of a table with every column kind a cache holds (and some nulls).
fn rows(from: i64, to: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("time", ts_type(), false),
        Field::new("id", DataType::Int64, false),
        Field::new("price", DataType::Float64, false),
        Field::new("maker", DataType::Boolean, true),
        Field::new("kind", DataType::Utf8, false),
    ]));
    let r = from..to;
    let cols: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(r.clone().map(|k| k * 1000))
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from_iter_values(r.clone())),
        Arc::new(Float64Array::from_iter_values(
            r.clone().map(|k| k as f64 * 0.5),
        )),
        Arc::new(
            r.clone()
                .map(|k| (k % 3 != 0).then_some(k % 2 == 0))
                .collect::<BooleanArray>(),
        ),
        Arc::new(StringArray::from_iter_values(r.map(|k| format!("k{k}")))),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Names in `dir` that look like leftover temp files.
fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn cache_reason(result: crate::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Cache { reason, .. }) => reason,
        other => panic!("expected Error::Cache, got {other:?}"),
    }
}

#[test]
fn round_trip_concatenates_and_keeps_metadata() {
    let dir = scratch("round-trip");
    let path = dir.join("v1/spot/klines/BTCUSDT/1m/2024/2024-01.arrow");
    let parts = [rows(0, 1000), rows(1000, 1000), rows(1000, 2500)];
    let md = meta(&[
        ("ckv.complete_days", "2024-01-01,2024-01-02"),
        ("ckv.source", "vision"),
    ]);
    write_ipc(&path, &parts, &md).unwrap();

    let (batch, mut got) = read_ipc(&path).unwrap();
    let digest = got
        .remove(super::DIGEST_KEY)
        .expect("every file carries its digest");
    assert!(digest.starts_with("xxh3-128:"));
    assert_eq!(got, md);
    let mut on_disk = read_metadata(&path).unwrap();
    on_disk.remove(super::DIGEST_KEY);
    assert_eq!(on_disk, md);
    assert!(super::read_ipc_verified(&path, true).is_ok());
    let want = rows(0, 2500);
    assert_eq!(batch.schema().fields(), want.schema().fields());
    let mut schema_md = batch.schema().metadata().clone();
    schema_md.remove(super::DIGEST_KEY);
    assert_eq!(schema_md, md);
    assert_eq!(batch.columns(), want.columns());
    assert!(temp_files(path.parent().unwrap()).is_empty());

    // Overwriting replaces the file; an empty batch is a valid file.
    write_ipc(&path, &[rows(0, 0)], &HashMap::new()).unwrap();
    let (batch, got) = read_ipc(&path).unwrap();
    assert_eq!((batch.num_rows(), got.len()), (0, 1)); // only the digest
    assert!(super::read_ipc_verified(&path, true).is_ok());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn buffers_point_into_the_mapping_and_are_64_byte_aligned() {
    let dir = scratch("zero-copy");
    let path = dir.join("2024-01-01.arrow");
    write_ipc(&path, &[rows(0, 3000), rows(3000, 7001)], &HashMap::new()).unwrap();
    let (batch, map) = read_mapped(&path).unwrap();
    let range = map.as_ptr() as usize..map.as_ptr() as usize + map.len();
    for col in batch.columns() {
        let data = col.to_data();
        for buf in data
            .buffers()
            .iter()
            .chain(data.nulls().map(|n| n.buffer()))
        {
            let p = buf.as_ptr() as usize;
            assert!(range.contains(&p), "buffer copied out of the mapping");
            assert_eq!(p % 64, 0, "buffer not 64-byte aligned");
        }
    }
    let ids = batch
        .column(1)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(ids.value(7000), 7000);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn failures_leave_the_target_untouched() {
    let dir = scratch("atomic");
    let path = dir.join("2024-01.arrow");
    write_ipc(&path, &[rows(0, 10)], &meta(&[("v", "1")])).unwrap();
    let before = fs::read(&path).unwrap();

    // A failure half-way through the write.
    let err = write_atomic(&path, |f| {
        use std::io::Write;
        f.write_all(b"ARROW1\0\0 half a file")?;
        Err(Error::Io(std::io::Error::other("disk full")))
    });
    assert!(cache_reason(err).contains("disk full"));

    // Batches of different schemas are refused before anything is written.
    let other =
        RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]);
    let err = write_ipc(&path, &[rows(0, 1), other.unwrap()], &HashMap::new());
    assert!(matches!(err, Err(Error::Invalid(_))));
    assert!(matches!(
        write_ipc(&path, &[], &HashMap::new()),
        Err(Error::Invalid(_))
    ));

    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(temp_files(&dir).is_empty());

    // A parent that is a file: nothing can be created.
    let blocked = dir.join("2024-01.arrow/inner.arrow");
    cache_reason(write_ipc(&blocked, &[rows(0, 1)], &HashMap::new()));
    assert_eq!(fs::read(&path).unwrap(), before);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_files_are_cache_errors() {
    let dir = scratch("garbage");
    let path = dir.join("x.arrow");
    assert_eq!(cache_reason(read_ipc(&path)), "missing");
    assert_eq!(cache_reason(read_metadata(&path)), "missing");

    fs::write(&path, b"").unwrap();
    cache_reason(read_ipc(&path));
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    for n in [1, 17, 100, 4096] {
        fs::write(&path, noise(n)).unwrap();
        cache_reason(read_ipc(&path));
    }
    // Random bytes between real magics.
    let mut framed = b"ARROW1\0\0".to_vec();
    framed.extend(noise(500));
    framed.extend(200i32.to_le_bytes());
    framed.extend(b"ARROW1");
    fs::write(&path, &framed).unwrap();
    cache_reason(read_ipc(&path));
    cache_reason(read_metadata(&path));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn truncated_or_corrupted_files_never_panic() {
    let dir = scratch("truncated");
    let good = dir.join("good.arrow");
    write_ipc(&good, &[rows(0, 300)], &meta(&[("k", "v")])).unwrap();
    let bytes = fs::read(&good).unwrap();
    let path = dir.join("bad.arrow");
    for cut in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        fs::write(&path, &bytes[..cut]).unwrap();
        let reason = cache_reason(read_ipc(&path));
        assert!(!reason.contains("panicked"), "cut at {cut}: {reason}");
    }
    // Flip single bytes everywhere outside the column data: each read either fails cleanly or
    // decodes; the validation, not the panic guard, must catch what the decoder would trip on.
    for at in (0..bytes.len()).step_by(3) {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[at] ^= flip;
            fs::write(&path, &bad).unwrap();
            if let Err(e) = read_ipc(&path) {
                let reason = cache_reason(Err::<(), _>(e));
                assert!(
                    !reason.contains("panicked"),
                    "byte {at} ^ {flip:#x}: {reason}"
                );
            }
        }
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn several_batches_are_refused() {
    let dir = scratch("several");
    let path = dir.join("two.arrow");
    let batch = rows(0, 5);
    let mut writer =
        FileWriter::try_new(fs::File::create(&path).unwrap(), &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    assert!(cache_reason(read_ipc(&path)).contains("one record batch"));
    // The metadata of such a file is still readable: only the footer is looked at.
    assert!(read_metadata(&path).unwrap().is_empty());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rewriting_a_partition_replaces_its_metadata_values() {
    use arrow_array::{ArrayRef, Int64Array};
    let dir = std::env::temp_dir().join(format!("ckv-meta-{}", std::process::id()));
    let path = dir.join("p.arrow");
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let col: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let batch = RecordBatch::try_new(schema, vec![col]).unwrap();
    let meta = |v: &str| HashMap::from([("ckv".to_string(), v.to_string())]);
    write_ipc(&path, &[batch], &meta("old")).unwrap();
    let (read, got) = read_ipc(&path).unwrap();
    assert_eq!(got["ckv"], "old");
    write_ipc(&path, &[read.clone(), read], &meta("new")).unwrap();
    let (again, got) = read_ipc(&path).unwrap();
    assert_eq!((got["ckv"].as_str(), again.num_rows()), ("new", 6));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_flipped_value_fails_the_digest() {
    let dir = scratch("digest");
    let path = dir.join("2024-01-01.arrow");
    write_ipc(&path, &[rows(0, 500)], &meta(&[("ckv", "{\"format\": 2}")])).unwrap();
    assert!(super::read_ipc_verified(&path, true).is_ok());
    let mut bytes = fs::read(&path).unwrap();
    // the first i64 column's values start on a 64-byte boundary after the schema message;
    // flip one bit of every 64-byte block in turn until the data changes
    let (batch, _) = read_ipc(&path).unwrap();
    let clean = batch.columns().to_vec();
    let mut detected = 0;
    for pos in (64..bytes.len() - 64).step_by(97) {
        bytes[pos] ^= 0x04;
        fs::write(&path, &bytes).unwrap();
        let changed = read_ipc(&path).map_or(true, |(b, _)| b.columns() != clean.as_slice());
        if changed {
            assert!(
                super::read_ipc_verified(&path, true).is_err(),
                "flip at {pos} undetected"
            );
            detected += 1;
        }
        bytes[pos] ^= 0x04;
    }
    assert!(detected > 10);
    fs::remove_dir_all(dir).unwrap();
}
