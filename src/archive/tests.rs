//! Tests of the archive stage: good archives in any chunking, every kind of broken body, the
//! zip-bomb limits and header claims that must not cost memory (descriptors: see
//! `descriptor_tests`).

use sha2::{Digest, Sha256};

use super::testzip::{bomb, build, deflate, honest, zip64_extra, Spec};
use super::*;
use crate::archive::write::zip_one;

const ROW: &[u8] = b"1672531200000,1.0,2.0,0.5,1.5,10.0,1672531259999,15.0,7,5.0,7.5,0\n";

fn archive(rows: usize) -> Vec<u8> {
    zip_one("BTCUSDT-1m-2023-01-01.csv", &ROW.repeat(rows), 6)
}

/// `n` distinct klines rows, compressing about as well as Binance's (3-5x).
pub(super) fn kline_rows(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 110);
    for i in 0..n as u64 {
        let t = 1_672_531_200_000 + 60_000 * i;
        let p = 16_000 + (i * 7919) % 1000;
        let line = format!(
            "{t},{p}.{:02},{}.5,{}.25,{p}.75,{}.{:03},{},{}.{:05},{},{}.1,{}.2,0\n",
            i % 100,
            p + 3,
            p - 2,
            i % 97,
            (i * 31) % 1000,
            t + 59_999,
            (i * 104_729) % 900_000,
            (i * 613) % 100_000,
            i % 5000,
            i % 37,
            (i * 3) % 71
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// Run `check` with small members inflated in one shot (the default), then with every member
/// streamed (`ArchiveStream::stream_only` for every stream of this thread), so each test holds
/// on both paths.
pub(super) fn on_both_paths(check: impl Fn()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            stream::STREAM_ONLY.set(false);
        }
    }
    check();
    let _reset = Reset;
    stream::STREAM_ONLY.set(true);
    check();
}

fn sha(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

pub(super) fn archive_err(body: &[u8], limits: ArchiveLimits) -> String {
    match read_archive_with(Dataset::Klines, "a.zip", body, None, limits) {
        Err(e @ Error::Archive { .. }) => e.to_string(),
        other => panic!("expected an archive error, got {other:?}"),
    }
}

#[test]
fn good_archive_in_any_chunking() {
    on_both_paths(|| {
        let body = archive(500);
        for size in [1, 13, 4096, body.len()] {
            let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
            for c in body.chunks(size) {
                s.push(c);
            }
            // The path this pass is about did run.
            assert_eq!(s.was_one_shot(), !stream::STREAM_ONLY.get());
            let out = s.finish(Some(&sha(&body))).unwrap();
            assert_eq!(out.batch.num_rows(), 500);
            assert_eq!(out.csv_bytes, (ROW.len() * 500) as u64);
            assert_eq!(out.compressed_bytes, body.len() as u64);
        }
    });
}

#[test]
fn truncation_at_every_stage_is_an_archive_error() {
    on_both_paths(|| {
        let body = archive(2000);
        for cut in [0, 3, 20, 40, body.len() / 2, body.len() - 1] {
            let err = read_archive(Dataset::Klines, "a.zip", &body[..cut], None).unwrap_err();
            assert!(matches!(err, Error::Archive { .. }), "cut {cut}: {err}");
        }
    });
}

#[test]
fn xml_body_is_named_in_the_error() {
    on_both_paths(|| {
        let xml = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>";
        let err = read_archive(Dataset::Klines, "a.zip", xml, None).unwrap_err();
        assert!(err.to_string().contains("<?xml"), "{err}");
    });
}

#[test]
fn checksum_mismatch_wins_over_content_errors() {
    on_both_paths(|| {
        let body = archive(10);
        let err = read_archive(Dataset::Klines, "a.zip", &body[..40], Some(&sha(&body)));
        assert!(matches!(err, Err(Error::Checksum { .. })));
        let ok = read_archive(
            Dataset::Klines,
            "a.zip",
            &body,
            Some(&sha(&body).to_uppercase()),
        );
        assert!(ok.is_ok());
        // Also over a zip-bomb refusal.
        let (data, crc, len) = bomb(&ROW.repeat(16_000), 20);
        let z = build("b.csv", &honest(&data, crc, len as usize), &data, &[]);
        let err = read_archive(Dataset::Klines, "a.zip", &z, Some(&"0".repeat(64))).unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
    });
}

#[test]
fn corrupted_deflate_or_crc_is_detected() {
    on_both_paths(|| {
        let body = archive(3000);
        let mut bad = body;
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        bad[mid + 1] ^= 0xAA;
        let err = read_archive(Dataset::Klines, "a.zip", &bad, None).unwrap_err();
        assert!(
            matches!(err, Error::Archive { .. } | Error::Parse { .. }),
            "{err}"
        );
    });
}

#[test]
fn checksum_sidecar_formats() {
    let d = "ab".repeat(32);
    assert_eq!(
        parse_checksum("f", format!("{d}  f.zip").as_bytes()).unwrap(),
        d
    );
    assert_eq!(
        parse_checksum("f", format!("{d}  f.zip\n").as_bytes()).unwrap(),
        d
    );
    assert!(parse_checksum("f", b"<Error/>").is_err());
}

#[test]
fn header_sizes_and_crc_must_match_the_data() {
    on_both_paths(|| {
        let csv = kline_rows(300);
        let (data, crc) = deflate(&csv);
        let good = honest(&data, crc, csv.len());
        let z = build("a.csv", &good, &data, &[]);
        let out = read_archive(Dataset::Klines, "a.zip", &z, None).unwrap();
        assert_eq!(out.batch.num_rows(), 300);
        let cases = [
            (
                Spec {
                    crc: crc ^ 1,
                    ..good.clone()
                },
                "CRC-32 mismatch",
            ),
            (
                Spec {
                    usize: good.usize - 1,
                    ..good.clone()
                },
                "inflated size differs",
            ),
            (
                Spec {
                    csize: good.csize + 1,
                    ..good
                },
                "compressed size differs",
            ),
        ];
        for (spec, want) in cases {
            let err = archive_err(&build("a.csv", &spec, &data, &[]), ArchiveLimits::default());
            assert!(err.contains(want), "{err}");
        }
    });
}

/// A 600-byte zip whose header claims a 16 GiB member (with a plausible compressed size, so
/// the claim itself passes the ratio check) must not make the parser reserve for the claim.
#[test]
fn a_huge_header_claim_reserves_only_for_what_arrives() {
    on_both_paths(|| {
        let csv = ROW.repeat(8);
        let (data, crc) = deflate(&csv);
        let spec = Spec {
            csize: 0xFFFF_FFFF,
            usize: 0xFFFF_FFFF,
            extra: zip64_extra(16 << 30, 1 << 30),
            ..honest(&data, crc, csv.len())
        };
        let z = build("a.csv", &spec, &data, &[]);
        assert!(z.len() < 700, "{}", z.len());
        let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
        let ((), peak) = measure(|| {
            for c in z.chunks(64) {
                s.push(c);
                assert!(s.reserved_bytes() < 64 * 1024, "{}", s.reserved_bytes());
            }
        });
        assert!(
            peak < 2 << 20,
            "peak {peak} bytes for a {} byte archive",
            z.len()
        );
        let err = s.finish(None).unwrap_err().to_string();
        assert!(err.contains("inflated size differs from header"), "{err}");
        // A claim beyond the limit or at an absurd ratio is refused outright.
        for (u, c) in [(17 << 30, 16 << 30), (16 << 30, 1 << 20)] {
            let spec = Spec {
                extra: zip64_extra(u, c),
                ..spec.clone()
            };
            let err = archive_err(&build("a.csv", &spec, &data, &[]), ArchiveLimits::default());
            assert!(err.contains("header claims"), "{err}");
        }
    });
}

/// Peak heap bytes of `f` where the probe allocator is in use, else 0 (the `python` build).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    #[cfg(not(feature = "python"))]
    return probe::peak_during(f);
    #[cfg(feature = "python")]
    return (f(), 0);
}

#[test]
fn a_deflate_bomb_is_refused_before_the_memory_is_taken() {
    on_both_paths(|| {
        // 1 MiB of rows repeated 1024 times: 1 GiB of valid CSV from about 1 MB, honest header.
        let piece = ROW.repeat((1 << 20) / ROW.len());
        let (data, crc, len) = bomb(&piece, 1024);
        assert!(
            len > 1000 << 20 && data.len() < 4 << 20,
            "{} from {}",
            len,
            data.len()
        );
        let z = build(
            "b.csv",
            &Spec {
                usize: len as u32,
                ..honest(&data, crc, 0)
            },
            &data,
            &[],
        );
        let mut no_claim = z.clone();
        no_claim[22..26].copy_from_slice(&0u32.to_le_bytes()); // header says nothing useful
        for body in [&z, &no_claim] {
            let (err, peak) = measure(|| archive_err(body, ArchiveLimits::default()));
            assert!(err.contains("looks like a zip bomb"), "{err}");
            assert!(peak < 48 << 20, "peak {peak}");
        }
        // The size cap alone, with the ratio allowed.
        let limits = ArchiveLimits {
            max_inflated_bytes: 24 << 20,
            max_ratio: 10_000,
        };
        let (err, peak) = measure(|| archive_err(&no_claim, limits));
        assert!(
            err.contains("inflated size exceeds the limit of 25165824 bytes"),
            "{err}"
        );
        // 24 MiB of 67-byte rows is ~33 MB of columns.
        assert!(peak < 128 << 20, "peak {peak}");
        let mut s = ArchiveStream::with_limits(Dataset::Klines, "b.zip", limits);
        s.push(&no_claim);
        assert!(
            s.inflated_bytes() <= (24 << 20) + 256 * 1024,
            "{}",
            s.inflated_bytes()
        );
    });
}

#[test]
fn ordinary_archives_pass_the_default_limits_and_small_limits_refuse_them() {
    on_both_paths(|| {
        let csv = kline_rows(120_000); // ~12 MB, past the ratio grace
        let (data, crc) = deflate(&csv);
        assert!(csv.len() as u64 > RATIO_GRACE);
        let z = build("a.csv", &honest(&data, crc, csv.len()), &data, &[]);
        let (out, peak) = measure(|| read_archive(Dataset::Klines, "a.zip", &z, None).unwrap());
        let table = out.batch.get_array_memory_size();
        assert_eq!(out.batch.num_rows(), 120_000);
        assert!(
            peak < table * 3 / 2 + (2 << 20),
            "peak {peak}, table {table}"
        );
        let tight = ArchiveLimits {
            max_inflated_bytes: 1 << 20,
            ..ArchiveLimits::default()
        };
        assert!(archive_err(&z, tight).contains("inflated size exceeds"));
        let ratio = csv.len() as u64 / data.len() as u64;
        let strict = ArchiveLimits {
            max_ratio: ratio - 1,
            ..ArchiveLimits::default()
        };
        assert!(archive_err(&z, strict).contains("zip bomb"));
    });
}
