//! The archive stage on one core, per step, over the 365 real 2023 spot BTCUSDT 1m archives
//! held in memory: raw inflate alone, SHA-256 alone, and the whole stage (SHA-256 + inflate +
//! CRC-32 + parse into Arrow), the latter with the one-shot inflate (what `read_archive` does)
//! and streamed, for the daily archives and for 12 monthly ones made from the same CSVs.
//! Throughput is counted in bytes of CSV produced (SHA-256: bytes of zip hashed). Skips with a
//! message when the real fixtures are absent.

#![allow(clippy::print_stderr, reason = "a bench reports skips on stderr")]

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

use _core::archive::write::zip_one;
use _core::archive::{read_archive, ArchiveStream};
use _core::model::dataset::Dataset;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

fn archives() -> Option<Vec<Vec<u8>>> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/spot_klines_btcusdt_1m_2023"
    ));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).ok()).collect()
}

/// Inflate the member of one zip into a reused buffer; returns the CSV size.
fn inflate(zip: &[u8], out: &mut Vec<u8>) -> u64 {
    let name = u16::from_le_bytes([zip[26], zip[27]]) as usize;
    let extra = u16::from_le_bytes([zip[28], zip[29]]) as usize;
    let mut data = &zip[30 + name + extra..];
    let mut d = Decompress::new(false);
    loop {
        out.clear();
        let before = d.total_in();
        let status = d
            .decompress_vec(data, out, FlushDecompress::None)
            .expect("real archives inflate");
        data = &data[(d.total_in() - before) as usize..];
        if status == Status::StreamEnd {
            return d.total_out();
        }
    }
}

/// Rows of `zips` read each whole from memory (the one-shot path where it applies).
fn whole(zips: &[Vec<u8>]) -> usize {
    zips.iter()
        .map(|z| {
            read_archive(Dataset::Klines, "a.zip", z, None)
                .expect("valid")
                .batch
                .num_rows()
        })
        .sum()
}

/// The whole stage on every zip, its member streamed (no one-shot inflate); the rows.
fn streamed(zips: &[Vec<u8>]) -> usize {
    zips.iter()
        .map(|z| {
            let mut s = ArchiveStream::new(Dataset::Klines, "a.zip");
            s.stream_only();
            s.push(z);
            s.finish(None).expect("valid").batch.num_rows()
        })
        .sum()
}

/// 12 monthly zips of the daily ones' CSVs (the 2023 files in date order, 28-31 days each).
fn months(zips: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut left = zips;
    days.iter()
        .map(|&n| {
            let (month, rest) = left.split_at(n.min(left.len()));
            left = rest;
            let mut csv = Vec::new();
            for z in month {
                let start = 30 + u16::from_le_bytes([z[26], z[27]]) as usize;
                let start = start + u16::from_le_bytes([z[28], z[29]]) as usize;
                flate2::read::DeflateDecoder::new(&z[start..])
                    .read_to_end(&mut csv)
                    .expect("real archives inflate");
            }
            zip_one("m.csv", &csv, 6)
        })
        .collect()
}

fn bench_archive(c: &mut Criterion) {
    let Some(zips) = archives() else {
        eprintln!("skipped: ../shared/fixtures/real is absent");
        return;
    };
    let mut out = Vec::with_capacity(256 * 1024);
    let csv: u64 = zips.iter().map(|z| inflate(z, &mut out)).sum();
    let zip_bytes: u64 = zips.iter().map(|z| z.len() as u64).sum();
    let mut g = c.benchmark_group("archive_year_1m_klines");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(csv));
    g.bench_function("inflate_only", |b| {
        b.iter(|| zips.iter().map(|z| inflate(z, &mut out)).sum::<u64>());
    });
    g.bench_function("sha256_inflate_crc_parse", |b| {
        b.iter(|| black_box(whole(&zips)));
    });
    g.bench_function("sha256_inflate_crc_parse_streamed", |b| {
        b.iter(|| black_box(streamed(&zips)));
    });
    let monthly = months(&zips);
    g.bench_function("monthly_sha256_inflate_crc_parse", |b| {
        b.iter(|| black_box(whole(&monthly)));
    });
    g.bench_function("monthly_sha256_inflate_crc_parse_streamed", |b| {
        b.iter(|| black_box(streamed(&monthly)));
    });
    g.throughput(Throughput::Bytes(zip_bytes));
    g.bench_function("sha256_only", |b| {
        b.iter(|| {
            zips.iter()
                .map(|z| Sha256::digest(z)[0])
                .fold(0u8, |a, x| a ^ x)
        });
    });
    g.finish();
}

criterion_group!(benches, bench_archive);
criterion_main!(benches);
