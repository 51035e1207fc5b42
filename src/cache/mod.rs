//! Cache stage: one Arrow IPC file per partition (docs/architecture.md, "Cache metadata").
//!
//! Files are the IPC *file* format, uncompressed, one record batch, every buffer 64-byte
//! aligned, with the cache metadata (complete days, sources, sha256s, exchange gaps) in the
//! schema metadata. Writes are atomic: a temp file in the same directory is written, fsynced and
//! renamed over the target, so a reader sees the old file or the new one, never half of one.
//! Reads memory-map the file and decode the batch in place: column buffers point into the
//! mapping (zero-copy), which stays alive as long as any of them. A file that is missing,
//! truncated or corrupt is an `Error::Cache`, never a panic. Every file carries a content
//! digest of its values and metadata (`digest.rs`), checked by `read_ipc_verified`.
//! Before a write, `merge_by_key` merges the partition's pieces (`merge.rs`), copying only when
//! they overlap or are out of order; the writer lays the pieces out as the file's one batch
//! without concatenating them (`ipc_file.rs`). `days.rs` cuts a sorted batch into its UTC days
//! by binary search.

mod columns;
pub mod days;
mod digest;
mod ipc_file;
mod merge;
mod read;
mod rejoin;
mod write;

pub use digest::{digest, DIGEST_KEY};
pub use merge::merge_by_key;
pub use read::{read_ipc, read_ipc_verified, read_metadata};
pub use write::write_ipc;

use std::path::Path;

use crate::error::Error;

/// `Error::Cache` for `path` with `reason`.
fn cache_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Cache {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod pieces_tests;
#[cfg(test)]
mod tests;
