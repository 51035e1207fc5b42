//! Archive stage (docs/architecture.md, "Stages"): a Binance Vision zip consumed as it arrives.
//! Every byte is hashed (SHA-256, compared with the `.CHECKSUM` sidecar) as it comes; a small
//! member (at most 8 MiB of CSV, every daily and monthly klines archive) is inflated in one
//! shot once its compressed bytes are all there (libdeflate, `oneshot`), a larger one (or one of
//! 4 MiB+ that is its fetch call's only archive, `ArchiveStream::alone`) chunk by chunk
//! (zlib-rs, the parse on a second thread), and either way fed straight to the CSV parser, so
//! a large archive is never held in memory. Both paths give the same batch or the same error for the same body.
//!
//! Guarantees: wrong magic (an XML/HTML error body), truncation, bad deflate data, a CRC-32 or
//! size that differs from the local header or the data descriptor, and zip bombs (beyond the
//! [`ArchiveLimits`]) are `Error::Archive`; a digest mismatch is `Error::Checksum` and wins over
//! any other error, since it names the root cause; nothing is reserved on a header's word.
//!
//! The reverse direction lives here too: `write` makes zips shaped like Binance's, for the
//! simulator and for tests.

mod header;
mod limits;
mod oneshot;
mod parse_thread;
mod stream;
pub mod write;

#[cfg(test)]
mod descriptor_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod oneshot_tests;
#[cfg(all(test, not(feature = "python")))]
pub(crate) mod probe;
#[cfg(test)]
mod split_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testzip;

use arrow_array::RecordBatch;

use crate::error::{Error, Result};
use crate::model::dataset::Dataset;

pub use limits::{ArchiveLimits, RATIO_GRACE};
pub use stream::{ArchiveStream, StageCpu};

/// What a fully consumed archive gives.
#[derive(Debug)]
pub struct ArchiveOutput {
    pub batch: RecordBatch,
    /// Lower-case hex SHA-256 of the archive bytes.
    pub sha256: String,
    pub compressed_bytes: u64,
    pub csv_bytes: u64,
}

/// Parse a `.CHECKSUM` sidecar: `<64 hex>  <file name>`, with or without a trailing LF.
pub fn parse_checksum(file: &str, body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body).unwrap_or("");
    let digest = text.split_whitespace().next().unwrap_or("");
    if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digest.to_ascii_lowercase())
    } else {
        Err(Error::archive(
            file,
            format!(
                "unreadable CHECKSUM sidecar ({:?})",
                &text.chars().take(60).collect::<String>()
            ),
        ))
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Consume a whole archive held in memory (files on disk, tests) with the default limits.
pub fn read_archive(
    dataset: Dataset,
    file: &str,
    body: &[u8],
    expected_sha256: Option<&str>,
) -> Result<ArchiveOutput> {
    read_archive_with(
        dataset,
        file,
        body,
        expected_sha256,
        ArchiveLimits::default(),
    )
}

/// Consume a whole archive held in memory with explicit zip-bomb limits.
pub fn read_archive_with(
    dataset: Dataset,
    file: &str,
    body: &[u8],
    expected_sha256: Option<&str>,
    limits: ArchiveLimits,
) -> Result<ArchiveOutput> {
    let mut stream = ArchiveStream::with_limits(dataset, file, limits);
    stream.expect_len(body.len() as u64);
    stream.push(body);
    stream.finish(expected_sha256)
}
