//! Throughput of the CSV → Arrow parser on real Binance data, single-threaded, decompressed
//! input held in memory: (a) a whole year of spot BTCUSDT 1m klines (365 daily CSVs
//! concatenated), (b) one COIN-M aggTrades day. Skips (with a message) when the real fixtures
//! are absent.

#![allow(
    clippy::print_stderr,
    reason = "a bench reports its inputs and skips on stderr"
)]

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};

use _core::model::dataset::Dataset;
use _core::parse::parse_bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real"
    ))
}

/// The CSV member of a Binance zip: local header, then a raw deflate stream.
fn unzip(path: &Path) -> Option<Vec<u8>> {
    let zip = std::fs::read(path).ok()?;
    let u16_at = |o: usize| Some(u16::from_le_bytes(zip.get(o..o + 2)?.try_into().ok()?) as usize);
    let u32_at = |o: usize| Some(u32::from_le_bytes(zip.get(o..o + 4)?.try_into().ok()?) as usize);
    if zip.get(..4)? != b"PK\x03\x04" || u16_at(8)? != 8 {
        return None;
    }
    let start = 30 + u16_at(26)? + u16_at(28)?;
    let body = zip.get(start..start + u32_at(18)?)?;
    let mut out = Vec::with_capacity(u32_at(22)?);
    flate2::read::DeflateDecoder::new(body)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn year_of_klines() -> Option<Vec<u8>> {
    let dir = fixtures().join("spot_klines_btcusdt_1m_2023");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        all.extend_from_slice(&unzip(f)?);
        if all.last() != Some(&b'\n') {
            all.push(b'\n');
        }
    }
    (!files.is_empty()).then_some(all)
}

fn coin_m_agg_trades() -> Option<Vec<u8>> {
    unzip(&fixtures().join("cm_aggTrades/BTCUSD_PERP-aggTrades-2026-05-08.zip"))
}

fn bench_parse(c: &mut Criterion) {
    let inputs = [
        (
            "klines_spot_1m_2023_year",
            Dataset::Klines,
            year_of_klines(),
        ),
        ("aggTrades_cm_day", Dataset::AggTrades, coin_m_agg_trades()),
    ];
    let mut group = c.benchmark_group("parse_bytes");
    group.sample_size(20);
    for (name, dataset, data) in inputs {
        let Some(data) = data else {
            eprintln!(
                "skipping {name}: real fixtures not found under {}",
                fixtures().display()
            );
            continue;
        };
        let rows = parse_bytes(dataset, name, &data)
            .expect("fixture parses")
            .num_rows();
        eprintln!("{name}: {} bytes, {rows} rows", data.len());
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_bytes(dataset, name, black_box(&data)).expect("parses"));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
