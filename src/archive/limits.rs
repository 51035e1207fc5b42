//! Zip-bomb limits of the archive stage (docs/architecture.md, "Stages": zip bombs are an
//! `ArchiveError`). An archive may not inflate to more than `max_inflated_bytes`, and once more
//! than [`RATIO_GRACE`] bytes have been inflated, not to more than `max_ratio` times the
//! compressed bytes consumed so far.
//!
//! Guarantees: the checks run on every inflated piece (at most the inflate chunk, 256 KiB)
//! *before* it is handed to the CSV parser, so a refused archive never costs more memory than
//! the limits allow; a header that merely claims too much is refused as soon as it is read. A
//! member inflated in one shot (`oneshot`) is at most [`RATIO_GRACE`] bytes, into a buffer no
//! larger than `max_inflated_bytes` allows, and checked whole before the parser sees it: below
//! the grace no prefix of it could have failed the ratio, so the outcome is the streaming one.

use crate::error::{Error, Result};

/// Inflated bytes below which the ratio is not checked: small files (a day of 1h klines, a
/// month of funding rates) may compress unusually well without being a threat.
pub const RATIO_GRACE: u64 = 8 << 20;

/// Limits on what one archive may inflate to. `Default` is what every fetch uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Hard cap on the inflated (CSV) size of the archive's member, in bytes.
    pub max_inflated_bytes: u64,
    /// Largest inflated/compressed ratio accepted once [`RATIO_GRACE`] bytes are inflated.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    /// 16 GiB of CSV (Binance's largest monthly archives, a BTCUSDT month of aggTrades, are
    /// about 5 GB) and a ratio of 200 (real Binance CSVs deflate 3-8x; deflate itself cannot
    /// exceed about 1032x, which a bomb of repeated rows approaches).
    fn default() -> Self {
        ArchiveLimits {
            max_inflated_bytes: 16 << 30,
            max_ratio: 200,
        }
    }
}

impl ArchiveLimits {
    /// Limits from optional overrides (Python keyword arguments); zero is refused.
    pub fn with(max_inflated_bytes: Option<u64>, max_ratio: Option<u64>) -> Result<Self> {
        let d = ArchiveLimits::default();
        let limits = ArchiveLimits {
            max_inflated_bytes: max_inflated_bytes.unwrap_or(d.max_inflated_bytes),
            max_ratio: max_ratio.unwrap_or(d.max_ratio),
        };
        if limits.max_inflated_bytes == 0 || limits.max_ratio == 0 {
            return Err(Error::Invalid(
                "max_inflated_bytes and max_ratio must be at least 1".into(),
            ));
        }
        Ok(limits)
    }

    /// Check `inflated` bytes produced from `compressed` bytes consumed so far.
    pub fn check(&self, file: &str, inflated: u64, compressed: u64) -> Result<()> {
        if inflated > self.max_inflated_bytes {
            return Err(Error::archive(
                file,
                format!(
                    "inflated size exceeds the limit of {} bytes (max_inflated_bytes)",
                    self.max_inflated_bytes
                ),
            ));
        }
        if self.ratio_exceeded(inflated, compressed) {
            return Err(Error::archive(
                file,
                format!(
                    "compression ratio above {}x ({inflated} bytes from {compressed}) looks \
                     like a zip bomb (max_ratio)",
                    self.max_ratio
                ),
            ));
        }
        Ok(())
    }

    /// Check the sizes a zip header claims, before any data is inflated.
    pub fn check_claim(&self, file: &str, inflated: u64, compressed: u64) -> Result<()> {
        if inflated > self.max_inflated_bytes {
            return Err(Error::archive(
                file,
                format!(
                    "header claims {inflated} inflated bytes: inflated size exceeds the limit \
                     of {} bytes (max_inflated_bytes)",
                    self.max_inflated_bytes
                ),
            ));
        }
        if self.ratio_exceeded(inflated, compressed) {
            return Err(Error::archive(
                file,
                format!(
                    "header claims {inflated} bytes from {compressed}: compression ratio above \
                     {}x looks like a zip bomb (max_ratio)",
                    self.max_ratio
                ),
            ));
        }
        Ok(())
    }

    fn ratio_exceeded(&self, inflated: u64, compressed: u64) -> bool {
        inflated > RATIO_GRACE
            && u128::from(inflated) > u128::from(self.max_ratio) * u128::from(compressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let d = ArchiveLimits::default();
        assert_eq!((d.max_inflated_bytes, d.max_ratio), (16 << 30, 200));
        assert_eq!(ArchiveLimits::with(None, None).unwrap(), d);
        let l = ArchiveLimits::with(Some(1000), Some(5)).unwrap();
        assert_eq!((l.max_inflated_bytes, l.max_ratio), (1000, 5));
        assert!(ArchiveLimits::with(Some(0), None).is_err());
        assert!(ArchiveLimits::with(None, Some(0)).is_err());
    }

    #[test]
    fn size_cap_and_ratio_after_the_grace() {
        let l = ArchiveLimits::default();
        // Any ratio is fine for small outputs.
        assert!(l.check("f", RATIO_GRACE, 1).is_ok());
        assert!(l.check("f", RATIO_GRACE + 1, RATIO_GRACE / 150).is_ok());
        let err = l.check("f", RATIO_GRACE + 1, 1000).unwrap_err().to_string();
        assert!(err.contains("looks like a zip bomb"), "{err}");
        let err = l
            .check("f", (16 << 30) + 1, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("inflated size exceeds"), "{err}");
        let err = l
            .check_claim("f", 20 << 30, 19 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("header claims"), "{err}");
        assert!(l.check_claim("f", 4_500 << 20, 18 << 20).is_err());
        assert!(l.check_claim("f", 5 << 30, 1 << 30).is_ok());
        assert!(l.check("f", u64::MAX, u64::MAX).is_err());
    }
}
