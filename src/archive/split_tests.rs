//! Tests of a large member parsed on its own thread (`ArchiveStream::split_parse`): the same
//! batch, the same errors in the same precedence, and the CRC and sizes still checked, as when
//! the parser runs inline.

use sha2::{Digest, Sha256};

use super::stream::{cores, LONE_STREAM_MIN, SPLIT_AFTER};
use super::tests::kline_rows;
use super::testzip::{build, deflate, honest, Spec};
use super::*;

/// A stream over `body` in `chunk`-byte pieces, split (forced, whatever else runs) or inline;
/// the outcome and whether the parser did run on its own thread.
fn run(body: &[u8], chunk: usize, split: bool, sha: Option<&str>) -> (Result<ArchiveOutput>, bool) {
    let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
    if split {
        s.force_split();
    }
    let mut was_split = false;
    for c in body.chunks(chunk) {
        s.push(c);
        was_split |= s.is_split();
    }
    (s.finish(sha), was_split)
}

fn zip_of(csv: &[u8]) -> Vec<u8> {
    let (data, crc) = deflate(csv);
    build("a.csv", &honest(&data, crc, csv.len()), &data, &[])
}

fn digest(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

#[test]
fn a_split_member_gives_the_inline_batch() {
    let csv = kline_rows(40_000); // ~4 MB of CSV: well past SPLIT_AFTER
    assert!(csv.len() as u64 > 3 * SPLIT_AFTER);
    let body = zip_of(&csv);
    let (inline, was) = run(&body, 65_536, false, Some(&digest(&body)));
    assert!(!was);
    let inline = inline.unwrap();
    for chunk in [1_000, 65_536, body.len()] {
        let (split, was) = run(&body, chunk, true, Some(&digest(&body)));
        assert!(was, "chunk {chunk}: the parser never moved to its thread");
        let split = split.unwrap();
        assert_eq!(split.batch, inline.batch, "chunk {chunk}");
        assert_eq!(split.csv_bytes, csv.len() as u64);
        assert_eq!(split.sha256, inline.sha256);
    }
}

#[test]
fn a_split_member_fails_as_the_inline_one() {
    let mut csv = kline_rows(40_000);
    // A bad field on line 30001, past the split point.
    let at = csv
        .split(|&c| c == b'\n')
        .take(30_000)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    csv[at] = b'x';
    let body = zip_of(&csv);
    let (inline, _) = run(&body, 65_536, false, None);
    let (split, was) = run(&body, 65_536, true, None);
    assert!(was);
    let (a, b) = (inline.unwrap_err(), split.unwrap_err());
    assert!(matches!(b, Error::Parse { line: 30_001, .. }), "{b}");
    assert_eq!(a.to_string(), b.to_string());
    // The parse error comes first in the body, so it wins over a truncation after it...
    let cut = &body[..body.len() - 2000];
    let (split, _) = run(cut, 65_536, true, None);
    assert!(matches!(split, Err(Error::Parse { line: 30_001, .. })));
    // ...and a checksum mismatch wins over it.
    let (split, _) = run(&body, 65_536, true, Some(&"0".repeat(64)));
    assert!(matches!(split, Err(Error::Checksum { .. })));
}

#[test]
fn a_split_member_still_checks_crc_and_truncation() {
    let csv = kline_rows(30_000);
    let (data, crc) = deflate(&csv);
    let wrong = Spec {
        crc: crc ^ 1,
        ..honest(&data, crc, csv.len())
    };
    let body = build("a.csv", &wrong, &data, &[]);
    let (split, was) = run(&body, 65_536, true, None);
    assert!(was);
    let err = split.unwrap_err().to_string();
    assert!(err.contains("CRC-32 mismatch"), "{err}");
    let good = zip_of(&csv);
    let (split, _) = run(&good[..good.len() / 2], 65_536, true, None);
    let err = split.unwrap_err();
    assert!(matches!(err, Error::Archive { .. }), "{err}");
    // Dropped half way (a cancelled fetch): the thread is joined, nothing hangs.
    let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
    s.force_split();
    s.push(&good[..good.len() / 2]);
    assert!(s.is_split());
    drop(s);
}

#[test]
fn only_as_many_streams_split_as_there_are_cores() {
    let csv = kline_rows(20_000);
    let body = zip_of(&csv);
    let mut streams: Vec<ArchiveStream> = (0..=cores())
        .map(|_| {
            let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
            s.split_parse();
            s.stream_only(); // a member this small would else be inflated in one shot
            s
        })
        .collect();
    for s in &mut streams {
        s.push(&body);
        assert!(
            !s.is_split(),
            "more splittable streams than cores must not split"
        );
    }
    for s in streams {
        assert_eq!(s.finish(None).unwrap().batch.num_rows(), 20_000);
    }
}

#[test]
#[allow(clippy::print_stderr, reason = "a skipped test says so")]
fn a_lone_large_member_is_streamed_not_held() {
    if cores() < 2 {
        eprintln!("skipped: a lone member is streamed only with a second core to parse on");
        return;
    }
    let csv = kline_rows(45_000); // past LONE_STREAM_MIN, like a month of 1m klines
    assert!(csv.len() as u64 > LONE_STREAM_MIN);
    let body = zip_of(&csv);
    let finish = |lone: bool| {
        let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
        s.split_parse();
        if lone {
            s.alone();
        }
        for c in body.chunks(200_000) {
            s.push(c);
        }
        let held = s.was_one_shot();
        (s.finish(Some(&digest(&body))).unwrap(), held)
    };
    let (lone, held_lone) = finish(true);
    let (among, held_among) = finish(false);
    assert!(
        !held_lone,
        "a lone large member was held for the one-shot inflate"
    );
    assert!(
        held_among,
        "among others, a large member is inflated in one shot"
    );
    assert_eq!(lone.batch, among.batch);
    assert_eq!(lone.csv_bytes, csv.len() as u64);
    // a small member is held even alone: the one-shot takes less CPU
    let small = zip_of(&kline_rows(2_000));
    let mut s = ArchiveStream::new(Dataset::Klines, "b.zip");
    s.split_parse();
    s.alone();
    s.push(&small);
    assert!(s.was_one_shot());
    assert_eq!(s.finish(None).unwrap().batch.num_rows(), 2_000);
}
