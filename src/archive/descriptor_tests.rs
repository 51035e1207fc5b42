//! Tests of data-descriptor archives (general-purpose bit 3): every layout of the descriptor is
//! read, and a CRC-32 or size that differs from the data is an `ArchiveError`, so no bit flip
//! passes silently even without a `.CHECKSUM` sidecar.

use super::tests::{archive_err, kline_rows, on_both_paths};
use super::testzip::{build, deflate, descriptor, Spec};
use super::*;
use crate::archive::write::zip_one;

#[test]
fn data_descriptors_in_every_layout_are_checked() {
    on_both_paths(|| {
        let csv = kline_rows(400);
        let (data, crc) = deflate(&csv);
        let want = read_archive(Dataset::Klines, "a.zip", &zip_one("a.csv", &csv, 6), None)
            .unwrap()
            .batch;
        let spec = descriptor_spec();
        let (c, u) = (data.len() as u64, csv.len() as u64);
        for (sig, wide) in [(true, false), (false, false), (true, true), (false, true)] {
            let ok = build("a.csv", &spec, &data, &descriptor(sig, wide, crc, c, u));
            for size in [1, 7, 4096, ok.len()] {
                let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
                ok.chunks(size).for_each(|ch| s.push(ch));
                assert_eq!(
                    s.finish(None).unwrap().batch,
                    want,
                    "{sig} {wide} chunk {size}"
                );
            }
            for bad in [
                descriptor(sig, wide, crc ^ 0x100, c, u),
                descriptor(sig, wide, crc, c - 1, u),
                descriptor(sig, wide, crc, c, u + 1),
            ] {
                let err = archive_err(
                    &build("a.csv", &spec, &data, &bad),
                    ArchiveLimits::default(),
                );
                assert!(err.contains("data descriptor does not match"), "{err}");
            }
        }
    });
}

/// Without a sidecar, every bit flip in a descriptor zip must be caught or be harmless.
#[test]
fn bit_flips_in_descriptor_zips_never_pass_silently() {
    on_both_paths(|| {
        let csv = kline_rows(200);
        let (data, crc) = deflate(&csv);
        let spec = descriptor_spec();
        let desc = descriptor(true, false, crc, data.len() as u64, csv.len() as u64);
        let z = build("a.csv", &spec, &data, &desc);
        let want = read_archive(Dataset::Klines, "a.zip", &z, None)
            .unwrap()
            .batch;
        let mut seed = 0x5EED_u64;
        let (mut caught, mut harmless) = (0, 0);
        for _ in 0..300 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bit = (seed >> 33) as usize % (z.len() * 8);
            let mut bad = z.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            match read_archive(Dataset::Klines, "a.zip", &bad, None) {
                Err(Error::Archive { .. } | Error::Parse { .. }) => caught += 1,
                Ok(out) if out.batch == want => harmless += 1,
                other => panic!("flip of bit {bit} passed with {other:?}"),
            }
        }
        // Flips in the data and the descriptor are caught; only names and the directory are not.
        assert!(caught > 250, "{caught} caught, {harmless} harmless");
    });
}

/// A local header that defers CRC-32 and sizes to a data descriptor (flag bit 3).
fn descriptor_spec() -> Spec {
    Spec {
        flags: 8,
        crc: 0,
        csize: 0,
        usize: 0,
        extra: Vec::new(),
    }
}
