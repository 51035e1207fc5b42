//! Criterion benches of the check and cache stages: `find_gaps` throughput on clean klines and
//! aggTrades (the common case: no gaps), and `write_ipc` / `read_ipc` of a month of 1m klines
//! and of a day-sized aggTrades partition.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use _core::cache::{read_ipc, write_ipc};
use _core::check::find_gaps;
use _core::model::dataset::Dataset;
use _core::model::interval::{Interval, MINUTE_US};

fn ts(v: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(v).with_timezone("UTC"))
}

fn f64s(v: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(v))
}

/// `n` clean 1m klines with a wandering price.
fn klines(n: i64) -> RecordBatch {
    let t0 = 1_672_531_200_000_000; // 2023-01-01
    let mid = |k: i64| 20_000.0 + (k % 977) as f64;
    let cols = vec![
        ts((0..n).map(|k| t0 + k * MINUTE_US)),
        f64s((0..n).map(mid)),
        f64s((0..n).map(|k| mid(k) + 3.0)),
        f64s((0..n).map(|k| mid(k) - 3.0)),
        f64s((0..n).map(|k| mid(k) + 1.0)),
        f64s((0..n).map(|k| (k % 13) as f64)),
        ts((0..n).map(|k| t0 + (k + 1) * MINUTE_US - 1000)),
        f64s((0..n).map(|k| (k % 17) as f64)),
        Arc::new(Int64Array::from_iter_values((0..n).map(|k| k % 100))),
        f64s((0..n).map(|k| (k % 5) as f64)),
        f64s((0..n).map(|k| (k % 7) as f64)),
    ];
    RecordBatch::try_new(Dataset::Klines.schema(), cols).unwrap()
}

/// `n` clean aggTrades, three trades each.
fn agg_trades(n: i64) -> RecordBatch {
    let cols = vec![
        Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
        f64s((0..n).map(|k| 20_000.0 + (k % 101) as f64)),
        f64s((0..n).map(|k| (k % 9) as f64 * 0.001)),
        Arc::new(Int64Array::from_iter_values((0..n).map(|k| 3 * k))),
        Arc::new(Int64Array::from_iter_values((0..n).map(|k| 3 * k + 2))),
        ts((0..n).map(|k| 1_672_531_200_000_000 + k * 40)),
        Arc::new((0..n).map(|k| Some(k % 2 == 0)).collect::<BooleanArray>()),
        Arc::new((0..n).map(|_| Some(true)).collect::<BooleanArray>()),
    ];
    RecordBatch::try_new(Dataset::AggTrades.schema(), cols).unwrap()
}

/// Splits `batch` into `parts` slices, as consecutive files would arrive.
fn split(batch: &RecordBatch, parts: usize) -> Vec<RecordBatch> {
    let step = batch.num_rows().div_ceil(parts);
    (0..batch.num_rows())
        .step_by(step)
        .map(|o| batch.slice(o, step.min(batch.num_rows() - o)))
        .collect()
}

fn bench_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("find_gaps");
    let n = 10_000_000;
    let k = split(&klines(n), 30);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("klines_1m_10M_rows", |b| {
        b.iter(|| find_gaps(black_box(&k), Some(Interval::Fixed(MINUTE_US))).unwrap());
    });
    let month = split(&klines(44_640), 31);
    g.throughput(Throughput::Elements(44_640));
    g.bench_function("klines_1m_month_in_cache", |b| {
        b.iter(|| find_gaps(black_box(&month), Some(Interval::Fixed(MINUTE_US))).unwrap());
    });
    g.throughput(Throughput::Elements(n as u64));
    let a = split(&agg_trades(n), 5);
    g.bench_function("agg_trades_10M_rows", |b| {
        b.iter(|| find_gaps(black_box(&a), None).unwrap());
    });
    g.finish();
}

fn bench_cache(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("ckv-bench-cache-{}", std::process::id()));
    let meta: HashMap<String, String> = [("ckv.source".to_string(), "vision".to_string())].into();
    let cases = [
        ("klines_1m_month", split(&klines(44_640), 31)),
        ("agg_trades_2M", split(&agg_trades(2_000_000), 1)),
    ];
    let mut g = c.benchmark_group("cache");
    g.sample_size(20);
    for (name, batches) in &cases {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let path = dir.join(format!("{name}.arrow"));
        g.throughput(Throughput::Elements(rows as u64));
        g.bench_function(format!("write_ipc/{name}"), |b| {
            b.iter(|| write_ipc(&path, black_box(batches), &meta).unwrap());
        });
        g.bench_function(format!("read_ipc/{name}"), |b| {
            b.iter(|| black_box(read_ipc(&path).unwrap()));
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench_check, bench_cache);
criterion_main!(benches);
