//! The archive stage on one core, per step, over the 365 real 2023 spot BTCUSDT 1m archives
//! held in memory: raw inflate alone, SHA-256 alone, and the whole stage (SHA-256 + inflate +
//! CRC-32 + parse into Arrow). Throughput is counted in bytes of CSV produced (SHA-256: bytes
//! of zip hashed). Skips with a message when the real fixtures are absent.

#![allow(clippy::print_stderr, reason = "a bench reports skips on stderr")]

use std::hint::black_box;
use std::path::PathBuf;

use _core::archive::read_archive;
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
        b.iter(|| {
            let rows: usize = zips
                .iter()
                .map(|z| {
                    let o = read_archive(Dataset::Klines, "a.zip", z, None).expect("valid");
                    o.batch.num_rows()
                })
                .sum();
            black_box(rows)
        });
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
