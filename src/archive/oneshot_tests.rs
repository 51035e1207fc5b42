//! The one-shot inflate (`oneshot`) against streaming: the same bodies through both paths, in
//! the same chunks, must give the same batch, sizes and digest, or the same error (same text),
//! for real archives, truncations, flipped bytes, wrong CRC-32 and sizes, stored members, data
//! descriptors, lying headers and bombs; and the one-shot must really have run where it
//! applies, and reserve nothing for a header's claim.

use sha2::{Digest, Sha256};

use super::oneshot::{ONE_SHOT_MAX, ONE_SHOT_RATIO, ONE_SHOT_SLACK};
use super::tests::kline_rows;
use super::testzip::{bomb, build, deflate, descriptor, honest, Spec};
use super::*;
use crate::archive::write::zip_one;
use crate::parse::testutil::{fixture_files, read_csv};

/// How a body is fed.
#[derive(Clone, Copy)]
struct Feed<'a> {
    /// Chunk size (0: the whole body at once).
    chunk: usize,
    /// Declare the body's length (`expect_len`, as a fetch with `Content-Length` does).
    declared: bool,
    limits: ArchiveLimits,
    sha: Option<&'a str>,
    dataset: Dataset,
}

impl Default for Feed<'_> {
    fn default() -> Self {
        Feed {
            chunk: 0,
            declared: true,
            limits: ArchiveLimits::default(),
            sha: None,
            dataset: Dataset::Klines,
        }
    }
}

/// The outcome of `body` through one path, and whether the one-shot ran.
fn run(body: &[u8], feed: Feed, one_shot: bool) -> (Result<ArchiveOutput>, bool) {
    let mut s = ArchiveStream::with_limits(feed.dataset, "a.zip", feed.limits);
    if !one_shot {
        s.stream_only();
    }
    if feed.declared {
        s.expect_len(body.len() as u64);
    }
    let chunk = if feed.chunk == 0 {
        body.len().max(1)
    } else {
        feed.chunk
    };
    for c in body.chunks(chunk) {
        s.push_bytes(&bytes::Bytes::copy_from_slice(c));
    }
    let ran = s.was_one_shot();
    (s.finish(feed.sha), ran)
}

/// Both paths on `body`: they must agree; the outcome and whether the one-shot ran.
fn both(body: &[u8], feed: Feed) -> (std::result::Result<usize, String>, bool) {
    let (one, ran) = run(body, feed, true);
    let (streamed, _) = run(body, feed, false);
    let outcome = match (one, streamed) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.batch, b.batch);
            assert_eq!(
                (a.sha256, a.compressed_bytes, a.csv_bytes),
                (b.sha256, b.compressed_bytes, b.csv_bytes)
            );
            Ok(a.batch.num_rows())
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            assert_eq!(
                std::mem::discriminant(&a),
                std::mem::discriminant(&b),
                "{a}"
            );
            Err(a.to_string())
        }
        (a, b) => panic!("the paths disagree: one-shot {a:?}, streaming {b:?}"),
    };
    (outcome, ran)
}

fn digest(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

fn zip_of(csv: &[u8]) -> Vec<u8> {
    let (data, crc) = deflate(csv);
    build("a.csv", &honest(&data, crc, csv.len()), &data, &[])
}

fn descriptor_spec() -> Spec {
    Spec {
        flags: 8,
        crc: 0,
        csize: 0,
        usize: 0,
        extra: Vec::new(),
    }
}

#[test]
fn real_archives_give_the_same_batches_on_both_paths() {
    let mut checked = 0;
    for (dir, dataset) in [
        ("spot_klines_btcusdt_1m_2023", Dataset::Klines),
        ("spot_klines", Dataset::Klines),
        ("cm_aggTrades", Dataset::AggTrades),
        ("um_fundingRate", Dataset::FundingRate),
    ] {
        let Some(files) = fixture_files(dir, ".zip") else {
            return;
        };
        for (i, path) in files.iter().enumerate() {
            let body = std::fs::read(path).unwrap();
            let sha = digest(&body);
            // Every file whole and in 64 KiB pieces (as a fetch gets them); some in small ones.
            let mut chunks = vec![0, 65_536];
            if i % 60 == 0 {
                chunks.push(997);
            }
            for chunk in chunks {
                let feed = Feed {
                    chunk,
                    sha: Some(&sha),
                    dataset,
                    ..Feed::default()
                };
                let (rows, ran) = both(&body, feed);
                assert!(rows.unwrap() > 0, "{}", path.display());
                assert!(ran, "{}: one-shot did not run", path.display());
            }
            checked += 1;
        }
        // The sidecars name the same digests.
        for side in fixture_files(dir, ".zip.CHECKSUM").unwrap_or_default() {
            let zip = std::fs::read(side.with_extension("")).unwrap();
            let want = parse_checksum("f", &std::fs::read(&side).unwrap()).unwrap();
            let feed = Feed {
                sha: Some(&want),
                dataset,
                ..Feed::default()
            };
            assert!(both(&zip, feed).0.is_ok());
        }
    }
    assert!(checked > 365, "{checked} real archives");
}

/// A real month of 1m klines (the 31 days of January 2023 in one member, ~6.8 MB of CSV): the
/// largest kind of archive the one-shot takes.
#[test]
fn a_real_month_goes_in_one_shot() {
    let Some(files) = fixture_files("spot_klines_btcusdt_1m_2023", ".zip") else {
        return;
    };
    let csv: Vec<u8> = files
        .iter()
        .filter(|f| f.to_string_lossy().contains("2023-01-"))
        .flat_map(|f| read_csv(f))
        .collect();
    assert!(csv.len() > 6_000_000 && (csv.len() as u64) < ONE_SHOT_MAX);
    let body = zip_one("BTCUSDT-1m-2023-01.csv", &csv, 6);
    for chunk in [0, 200 * 1024] {
        let feed = Feed {
            chunk,
            ..Feed::default()
        };
        let (rows, ran) = both(&body, feed);
        assert_eq!(rows, Ok(31 * 1440));
        assert!(ran);
    }
}

#[test]
fn truncated_bodies_fail_alike() {
    let body = zip_of(&kline_rows(3000));
    let n = body.len();
    for cut in [
        0,
        1,
        4,
        29,
        30,
        60,
        n / 3,
        n / 2,
        n - 120,
        n - 23,
        n - 22,
        n - 1,
    ] {
        for (chunk, declared) in [(0, true), (0, false), (4096, true)] {
            let feed = Feed {
                chunk,
                declared,
                ..Feed::default()
            };
            let (out, ran) = both(&body[..cut], feed);
            assert!(out.is_err(), "cut {cut} of {n} passed");
            // Cut inside the member: the one-shot never had it all.
            if cut < n - 120 {
                assert!(!ran, "cut {cut}");
            }
        }
    }
}

#[test]
fn every_flipped_byte_fails_or_passes_alike() {
    let body = zip_of(&kline_rows(1500));
    let (mut failed, mut passed) = (0, 0);
    // Every byte of the header and the directory, and a spread through the data.
    let picks = (0..body.len()).filter(|&i| i < 64 || i + 160 > body.len() || i % 37 == 0);
    for (k, at) in picks.enumerate() {
        let mut bad = body.clone();
        bad[at] ^= [0x01, 0x80, 0xFF, 0x10][k % 4];
        let feed = Feed {
            chunk: [0, 1000][k % 2],
            ..Feed::default()
        };
        match both(&bad, feed).0 {
            Ok(_) => passed += 1,
            Err(_) => failed += 1,
        }
    }
    // Flips in the data, the CRC-32 or the sizes are caught; names and the directory are not.
    assert!(
        failed > 200 && passed > 50,
        "{failed} failed, {passed} passed"
    );
    // And the digest catches all of them, first.
    let mut bad = body.clone();
    bad[body.len() / 2] ^= 4;
    let sha = digest(&body);
    let feed = Feed {
        sha: Some(&sha),
        ..Feed::default()
    };
    assert!(both(&bad, feed).0.unwrap_err().contains("checksum"));
}

#[test]
fn wrong_crc_or_sizes_fail_alike() {
    let csv = kline_rows(2000);
    let (data, crc) = deflate(&csv);
    let good = honest(&data, crc, csv.len());
    let lie = |f: &dyn Fn(&mut Spec)| {
        let mut s = good.clone();
        f(&mut s);
        build("a.csv", &s, &data, &[])
    };
    let cases: [(Vec<u8>, &str); 6] = [
        (lie(&|s| s.crc ^= 1), "CRC-32 mismatch"),
        (lie(&|s| s.usize -= 1), "inflated size differs"),
        (lie(&|s| s.usize += 1), "inflated size differs"),
        (lie(&|s| s.csize -= 1), "compressed size differs"),
        (lie(&|s| s.csize += 1), "compressed size differs"),
        (lie(&|s| s.csize += 100_000), "compressed size differs"),
    ];
    for (body, want) in cases {
        for chunk in [0, 333] {
            let feed = Feed {
                chunk,
                ..Feed::default()
            };
            let err = both(&body, feed).0.unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
    // The honest one runs in one shot.
    let (ok, ran) = both(&build("a.csv", &good, &data, &[]), Feed::default());
    assert!(ok.is_ok() && ran);
}

#[test]
fn stored_members_and_data_descriptors_agree() {
    let csv = kline_rows(800);
    let (data, crc) = deflate(&csv);
    // Stored (method 0): always streamed.
    let mut stored = build("a.csv", &honest(&csv, crc, csv.len()), &csv, &[]);
    stored[8] = 0;
    let (rows, ran) = both(&stored, Feed::default());
    assert_eq!(rows, Ok(800));
    assert!(!ran);
    let mut cut = stored.clone();
    cut.truncate(stored.len() / 2);
    assert!(both(&cut, Feed::default())
        .0
        .unwrap_err()
        .contains("truncated"));
    let (c, u) = (data.len() as u64, csv.len() as u64);
    for (sig, wide) in [(true, false), (false, false), (true, true), (false, true)] {
        let ok = build(
            "a.csv",
            &descriptor_spec(),
            &data,
            &descriptor(sig, wide, crc, c, u),
        );
        for (chunk, declared) in [(0, true), (0, false), (100, true), (4096, false)] {
            let feed = Feed {
                chunk,
                declared,
                ..Feed::default()
            };
            let (rows, ran) = both(&ok, feed);
            assert_eq!(rows, Ok(800));
            // Without a declared length the end of the member is not known: streamed.
            assert_eq!(ran, declared, "{sig} {wide} {chunk}");
        }
        for bad in [
            descriptor(sig, wide, crc ^ 4, c, u),
            descriptor(sig, wide, crc, c + 1, u),
            descriptor(sig, wide, crc, c, u - 1),
        ] {
            let body = build("a.csv", &descriptor_spec(), &data, &bad);
            let err = both(&body, Feed::default()).0.unwrap_err();
            assert!(err.contains("data descriptor does not match"), "{err}");
        }
        // A descriptor cut short.
        let mut cut = ok.clone();
        cut.truncate(cut.len() - 100);
        assert!(both(&cut, Feed::default()).0.is_err());
    }
    // A declared length that is wrong costs the one-shot, not the archive.
    let ok = build(
        "a.csv",
        &descriptor_spec(),
        &data,
        &descriptor(true, false, crc, c, u),
    );
    let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
    s.expect_len(ok.len() as u64 + 10);
    s.push(&ok);
    assert_eq!(s.finish(None).unwrap().batch.num_rows(), 800);
}

#[test]
fn bombs_and_limits_fail_alike() {
    // Within ONE_SHOT_MAX but far beyond ONE_SHOT_RATIO: not held, streamed.
    let row = kline_rows(1);
    let piece = row.repeat((256 << 10) / row.len());
    let (data, crc, len) = bomb(&piece, 30);
    assert!(len < ONE_SHOT_MAX && len > ONE_SHOT_RATIO * data.len() as u64 + ONE_SHOT_SLACK);
    let honest_bomb = build("b.csv", &honest(&data, crc, len as usize), &data, &[]);
    let (out, ran) = both(&honest_bomb, Feed::default());
    assert!(out.is_ok() && !ran, "{out:?}");
    // With a data descriptor and a declared length the buffer is sized from the bytes
    // received: the output does not fit, streaming takes over.
    let desc = descriptor(true, false, crc, data.len() as u64, len);
    let dd_bomb = build("b.csv", &descriptor_spec(), &data, &desc);
    let (out, ran) = both(&dd_bomb, Feed::default());
    assert!(out.is_ok() && !ran, "{out:?}");
    // Past the grace, the ratio limit refuses it, alike.
    let (data, crc, len) = bomb(&piece, 200);
    let desc = descriptor(true, false, crc, data.len() as u64, len);
    for body in [
        build("b.csv", &honest(&data, crc, len as usize), &data, &[]),
        build("b.csv", &descriptor_spec(), &data, &desc),
    ] {
        let err = both(&body, Feed::default()).0.unwrap_err();
        assert!(err.contains("looks like a zip bomb"), "{err}");
    }
    // A size cap below an ordinary member: refused at the header, or (descriptor) when the
    // output passes it.
    let csv = kline_rows(3000);
    let (data, crc) = deflate(&csv);
    let tight = Feed {
        limits: ArchiveLimits {
            max_inflated_bytes: csv.len() as u64 / 2,
            ..ArchiveLimits::default()
        },
        ..Feed::default()
    };
    let desc = descriptor(false, false, crc, data.len() as u64, csv.len() as u64);
    for body in [
        build("a.csv", &honest(&data, crc, csv.len()), &data, &[]),
        build("a.csv", &descriptor_spec(), &data, &desc),
    ] {
        for chunk in [0, 2048] {
            let feed = Feed { chunk, ..tight };
            let err = both(&body, feed).0.unwrap_err();
            assert!(err.contains("max_inflated_bytes"), "{err}");
        }
    }
}

/// A header whose claims pass every check but lie about the data: both paths say so.
#[test]
fn lying_headers_cost_only_what_arrived() {
    let csv = kline_rows(500);
    let (data, crc) = deflate(&csv);
    // Claims as much CSV as the one-shot would take for these compressed bytes.
    let claim = (ONE_SHOT_RATIO * data.len() as u64 + ONE_SHOT_SLACK) as u32;
    let spec = Spec {
        usize: claim,
        ..honest(&data, crc, csv.len())
    };
    let body = build("a.csv", &spec, &data, &[]);
    let (err, ran) = both(&body, Feed::default());
    assert!(err.unwrap_err().contains("inflated size differs"));
    assert!(
        ran,
        "the output fitted the claimed buffer: inflated in one shot"
    );
    // One byte more and it is streamed; nothing is reserved for it either way.
    let spec = Spec {
        usize: claim + 1,
        ..spec
    };
    let body = build("a.csv", &spec, &data, &[]);
    assert!(!both(&body, Feed::default()).1);
}

#[test]
fn work_ahead_counts_the_inflate_at_the_completing_push() {
    let body = zip_of(&kline_rows(5000));
    let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
    assert_eq!(
        s.work_ahead(1000),
        1000,
        "before the header: unknown, counted whole"
    );
    s.push(&body[..1000]);
    assert_eq!(s.work_ahead(8000), 1000, "held: only hashed");
    let rest = body.len() - 1000;
    assert_eq!(
        s.work_ahead(rest),
        body.len() - 35,
        "completes: the whole member"
    );
    s.push(&body[1000..]);
    assert!(s.was_one_shot());
    assert_eq!(s.work_ahead(800), 100);
    let mut streamed = ArchiveStream::new(Dataset::Klines, "a.zip");
    streamed.stream_only();
    streamed.push(&body[..1000]);
    assert_eq!(streamed.work_ahead(8000), 8000);
}
