//! Test helpers: locate the real Binance fixtures and read the CSV out of a fixture zip with a
//! minimal local-header reader and raw inflate (`flate2`). Test-only.
//!
//! Guarantees: when the fixture folder is absent, `fixture_files` prints why and returns
//! `None` so the calling test can skip instead of failing.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Root of the real fixtures: `$CKV_REAL_FIXTURES` when set (as for the Python tests), else
/// `../shared/fixtures/real` beside the crate.
pub(crate) fn fixtures_root() -> PathBuf {
    match std::env::var_os("CKV_REAL_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/real"
        )),
    }
}

/// Sorted files of fixture folder `dir` whose names end with `suffix`, or `None` (with a
/// message on stderr) when the folder is absent.
#[allow(
    clippy::print_stderr,
    reason = "says why the real-fixture tests did nothing"
)]
pub(crate) fn fixture_files(dir: &str, suffix: &str) -> Option<Vec<PathBuf>> {
    let path = fixtures_root().join(dir);
    let Ok(entries) = std::fs::read_dir(&path) else {
        eprintln!("skipping: real fixtures not found at {}", path.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    Some(files)
}

/// The CSV bytes of a fixture: the first member of a `.zip`, or the file itself.
pub(crate) fn read_csv(path: &Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "zip") {
        unzip_first(&data)
    } else {
        data
    }
}

/// Inflate the first member of a zip from its local file header (stored or deflated).
pub(crate) fn unzip_first(zip: &[u8]) -> Vec<u8> {
    assert_eq!(zip.get(..4), Some(&b"PK\x03\x04"[..]), "not a zip");
    let u16_at = |o: usize| u16::from_le_bytes([zip[o], zip[o + 1]]) as usize;
    let u32_at =
        |o: usize| u32::from_le_bytes([zip[o], zip[o + 1], zip[o + 2], zip[o + 3]]) as usize;
    let method = u16_at(8);
    let compressed = u32_at(18);
    let start = 30 + u16_at(26) + u16_at(28);
    let body = &zip[start..start + compressed];
    match method {
        0 => body.to_vec(),
        8 => {
            let mut out = Vec::with_capacity(u32_at(22));
            flate2::read::DeflateDecoder::new(body)
                .read_to_end(&mut out)
                .expect("inflate");
            out
        }
        m => panic!("unsupported zip method {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fixture_zip() {
        let Some(files) = fixture_files("spot_klines", "BTCUSDT-1h-2024-01-15.zip") else {
            return;
        };
        let csv = read_csv(&files[0]);
        assert!(csv.starts_with(b"1705276800000,"));
        assert_eq!(csv.iter().filter(|&&c| c == b'\n').count(), 24);
    }
}
