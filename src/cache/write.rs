//! Atomic IPC writer: batches → one 64-byte aligned, uncompressed record batch in an Arrow IPC
//! file, written to a temp file beside the target, fsynced, renamed over it, directory fsynced.
//!
//! The batches are not concatenated: the file is written straight from their buffers
//! (`ipc_file.rs`); only a column that cannot be streamed as it is (one with nulls, booleans,
//! variable width) is joined first (`columns.rs`), and the digest is taken over the same pieces.
//! The bytes are those arrow_ipc's `FileWriter` writes for the concatenated batch.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use arrow_schema::Schema;

use super::cache_error;
use super::columns::Columns;
use super::ipc_file;
use crate::error::{Error, Result};

/// Write `batches` (one schema) as a single record batch to the IPC file at `path`, with
/// `metadata` merged onto the schema metadata (the map wins on equal keys). Parent directories
/// are created. Atomic: on any error the previous file at `path` (if any) is left as it was and
/// no temp file remains. Zero batches, batches of different fields or a column type a cache
/// does not hold (dictionaries, nested types) are `Error::Invalid`; an empty batch is fine.
pub fn write_ipc(
    path: &Path,
    batches: &[RecordBatch],
    metadata: &HashMap<String, String>,
) -> Result<()> {
    let first = batches
        .first()
        .ok_or_else(|| Error::Invalid("write_ipc: no batches to write".into()))?;
    let schema = first.schema();
    if let Some(other) = batches
        .iter()
        .find(|b| b.schema().fields() != schema.fields())
    {
        return Err(Error::Invalid(format!(
            "write_ipc: batches do not share one schema: {:?} and {:?}",
            schema.fields(),
            other.schema().fields()
        )));
    }
    let columns = Columns::new(batches)?;
    let mut merged = schema.metadata().clone();
    merged.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    let meta = merged.get(super::digest::META_KEY).map(String::as_str);
    let digest = super::digest::digest_columns(&columns, meta)?;
    merged.insert(super::DIGEST_KEY.to_string(), digest);
    let schema = Schema::new_with_metadata(schema.fields().clone(), merged);
    write_atomic(path, |file| ipc_file::write_file(file, &schema, &columns))
}

/// Removes the temp file when dropped, unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A temp file name beside `path`: `.{file}.{pid}.{nanos}.{seq}.tmp`.
fn temp_path(dir: &Path, file_name: &str) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        ".{file_name}.{}.{nanos}.{seq}.tmp",
        std::process::id()
    ))
}

/// Runs `fill` on a fresh temp file beside `path`, then fsyncs it, renames it over `path` and
/// fsyncs the directory. Any failure (including one inside `fill`) removes the temp file and
/// leaves `path` untouched; I/O failures become `Error::Cache`.
pub(super) fn write_atomic(path: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let io = |what: &str, e: std::io::Error| cache_error(path, format!("{what}: {e}"));
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| cache_error(path, "not a file path"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| io("create directory", e))?;

    let tmp = temp_path(&dir, file_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io("create temp file", e))?;
    let mut guard = TempGuard(Some(tmp.clone()));

    fill(&mut file).map_err(|e| match e {
        Error::Io(e) => io("write", e),
        Error::Arrow(e) => cache_error(path, format!("write: {e}")),
        other => other,
    })?;
    file.flush().map_err(|e| io("flush", e))?;
    file.sync_all().map_err(|e| io("fsync", e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| io("rename", e))?;
    guard.0 = None;
    sync_dir(&dir).map_err(|e| io("fsync directory", e))
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
