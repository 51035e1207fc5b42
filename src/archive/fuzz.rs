//! Seeded fuzzing of the parse, archive and check stages with a fixed budget: real-shaped CSVs
//! and zips of every dataset (from the row shapes of the real fixtures, every header Binance
//! writes, ms and µs eras) mutated by bit flips, byte changes, insertions, deletions,
//! duplicated and removed ranges, truncation and forged header claims (huge sizes, data
//! descriptors), fed in random chunks.
//!
//! Asserted for every case: no panic; either `Ok` with the dataset's schema and sane rows (no
//! negative counts or ids, finite floats, positive funding intervals) on which `find_gaps` also
//! succeeds, or a typed error of the stage; and the heap held at once (measured by the probe
//! allocator in the pure-Rust build) and the bytes reserved stay within a small multiple of the
//! bytes actually fed, whatever the headers claim.

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::RecordBatch;
use arrow_schema::DataType;

use super::testzip::{build, deflate, descriptor, honest, zip64_extra, Spec};
use super::{ArchiveLimits, ArchiveStream};
use crate::check::find_gaps;
use crate::error::Error;
use crate::interval::{Interval, MINUTE_US};
use crate::parse::CsvParser;
use crate::schema::Dataset;

/// Mutated inputs per dataset and kind (CSV, zip).
const CASES: usize = 2500;
/// Heap and reservations allowed per byte fed, plus a fixed allowance (inflate buffers, the
/// line carry, error texts).
const PER_BYTE: usize = 32;
const FIXED: usize = 2 << 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Real-shaped files of `dataset`: `rows` lines from a template, with and without header.
fn seeds(dataset: Dataset) -> Vec<Vec<u8>> {
    let make = |header: &str, rows: usize, line: &dyn Fn(u64) -> String| {
        let mut s = String::from(header);
        (0..rows as u64).for_each(|i| s.push_str(&line(i)));
        s.into_bytes()
    };
    let kh = "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
              taker_buy_volume,taker_buy_quote_volume,ignore\n";
    let mark =
        "open_time,open,high,low,close,ignore,close_time,ignore,ignore,ignore,ignore,ignore\n";
    let ah =
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";
    match dataset {
        Dataset::Klines => vec![
            make("", 60, &|i| {
                let t = 1_577_836_800_000 + 60_000 * i;
                format!("{t},7195.{:02}000000,7196.25000000,7183.14000000,7186.68000000,51.64281200,{},371233.51835535,{},19.59823000,140888.41428273,0\n", i % 100, t + 59_999, 493 + i)
            }),
            make(kh, 60, &|i| {
                let t = 1_640_995_200_000 + 60_000 * i;
                format!("{t},46210.57,46300.00,46200.{:02},46250.10,253.757,{},11735241.45321,3202,120.316,5564436.56140,0\r\n", i % 100, t + 59_999)
            }),
            make("", 24, &|i| {
                let t = 1_778_198_400_000_000 + 3_600_000_000 * i;
                format!("{t},80000.00000000,80100.00000000,79900.00000000,80050.{:08},12.5,{},1000000.0,{},6.25,500000.0,0\n", i, t + 3_599_999_999, 1000 + i)
            }),
            make(mark, 60, &|i| {
                let t = 1_640_995_200_000 + 60_000 * i;
                format!(
                    "{t},-0.000{:02},0E-8,-1.2e-05,0.0,0,{},0,0,0,0,0\n",
                    i % 90 + 10,
                    t + 59_999
                )
            }),
        ],
        Dataset::AggTrades => vec![
            make("", 80, &|i| {
                let t = 1_767_225_600_039_409 + 1_733 * i;
                format!(
                    "{},87648.{:02}000000,0.08185000,{},{},{t},{},True\r\n",
                    3_800_397_495 + i,
                    i % 100,
                    5_723_703_861 + 2 * i,
                    5_723_703_862 + 2 * i,
                    if i % 3 == 0 { "True" } else { "False" }
                )
            }),
            make(ah, 80, &|i| {
                let t = 1_778_198_400_020 + 17 * i;
                format!(
                    "{},79972.{},1,{},{},{t},{}\n",
                    480_537_903 + i,
                    i % 10,
                    1_050_000_000 + i,
                    1_050_000_000 + i,
                    i % 2 == 0
                )
            }),
        ],
        Dataset::Trades => vec![
            make("", 80, &|i| {
                let t = 1_767_225_600_039_409 + 997 * i;
                format!(
                    "{},87648.21000000,0.0{:04}000,7174.85598850,{t},{},True\n",
                    5_723_703_861 + i,
                    i,
                    if i % 2 == 0 { "True" } else { "False" }
                )
            }),
            make("id,price,qty,quote_qty,time,is_buyer_maker\n", 80, &|i| {
                format!(
                    "{},94261.{},0.002,188.52,{},{}\n",
                    6_805_424_154 + i,
                    i % 10,
                    1_735_689_600_041 + 3 * i,
                    i % 2 == 1
                )
            }),
            make("id,price,qty,base_qty,time,is_buyer_maker\n", 80, &|i| {
                format!(
                    "{},78526.1,83.0,0.10569734,{},true\r\n",
                    1_151_022_504 + i,
                    1_788_220_802_731 + i
                )
            }),
        ],
        Dataset::FundingRate => vec![make(
            "calc_time,funding_interval_hours,last_funding_rate\n",
            90,
            &|i| {
                format!(
                    "{},8,-0.0000{:04}\n",
                    1_775_001_600_000 + 28_800_000 * i + i % 4,
                    i
                )
            },
        )],
    }
}

/// Apply 1 to 4 random mutations to `d`.
fn mutate(d: &mut Vec<u8>, rng: &mut Rng) {
    const BYTES: &[u8] = b",\n\r-.eE0919TtFf \xff\x00";
    const WORDS: &[&[u8]] = &[
        b"NaN",
        b"inf",
        b"-inf",
        b"1e999",
        b"-1",
        b"-0",
        b"0",
        b"99999999999999999999",
    ];
    for _ in 0..1 + rng.below(4) {
        if d.is_empty() {
            d.push(b'1');
        }
        let at = rng.below(d.len());
        match rng.below(9) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => d[at] = rng.next() as u8,
            2 => d.insert(at, BYTES[rng.below(BYTES.len())]),
            3 => {
                d.remove(at);
            }
            4 => {
                let end = (at + 1 + rng.below(200)).min(d.len());
                let piece = d[at..end].to_vec();
                d.splice(at..at, piece);
            }
            5 => {
                let end = (at + 1 + rng.below(200)).min(d.len());
                d.drain(at..end);
            }
            6 => d.truncate(at),
            7 => {
                let w = WORDS[rng.below(WORDS.len())];
                let end = (at + rng.below(12)).min(d.len());
                d.splice(at..end, w.iter().copied());
            }
            _ => {
                // Overwrite a little-endian u32 (zip size and CRC fields are u32s).
                let v = [0u32, 1, 0xFFFF_FFFF, 0x7FFF_FFFF, rng.next() as u32][rng.below(5)];
                let at = at.min(d.len().saturating_sub(4));
                for (k, b) in v.to_le_bytes().iter().enumerate() {
                    if let Some(x) = d.get_mut(at + k) {
                        *x = *b;
                    }
                }
            }
        }
    }
}

/// Zips of one CSV: honest, every data-descriptor layout, zip64 sizes, and forged claims.
fn zips(csv: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let (data, crc) = deflate(csv);
    let h = honest(&data, crc, csv.len());
    let (c, u) = (data.len() as u64, csv.len() as u64);
    let dd = Spec {
        flags: 8,
        crc: 0,
        csize: 0,
        usize: 0,
        extra: Vec::new(),
    };
    let z64 = |iu: u64, ic: u64| Spec {
        csize: 0xFFFF_FFFF,
        usize: 0xFFFF_FFFF,
        extra: zip64_extra(iu, ic),
        ..h.clone()
    };
    let huge = [
        16 << 30,
        1 << 40,
        u64::MAX,
        (1 << 34) + rng.next() % (1 << 30),
    ];
    let mut out = vec![
        crate::zipwrite::zip_one("a.csv", csv, 6),
        build("a.csv", &h, &data, &[]),
        build("a.csv", &z64(u, c), &data, &[]),
        build(
            "a.csv",
            &z64(huge[rng.below(4)], huge[rng.below(4)] / 16),
            &data,
            &[],
        ),
    ];
    for (sig, wide) in [(true, false), (false, false), (true, true), (false, true)] {
        out.push(build(
            "a.csv",
            &dd,
            &data,
            &descriptor(sig, wide, crc, c, u),
        ));
    }
    out
}

/// The typed outcome of one case, panicking (inside `catch_unwind`) on a broken guarantee.
fn check_ok(dataset: Dataset, batch: &RecordBatch, fed: usize) {
    assert_eq!(batch.schema(), dataset.schema());
    assert!(batch.num_rows() >= 1 && batch.num_rows() <= fed / 6 + 1);
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        if col.data_type() == &DataType::Float64 && col.null_count() == 0 {
            let v = col.as_primitive::<Float64Type>().values();
            assert!(v.iter().all(|x| x.is_finite()), "{}", field.name());
        }
        let name = field.name().as_str();
        let min = match name {
            "trades" | "agg_trade_id" | "first_trade_id" | "last_trade_id" | "trade_id" => 0,
            "funding_interval_hours" => 1,
            _ => continue,
        };
        let v = col.as_primitive::<Int64Type>().values();
        assert!(v.iter().all(|&x| x >= min), "{name}");
    }
    let interval = (dataset == Dataset::Klines).then_some(Interval::Fixed(MINUTE_US));
    find_gaps(std::slice::from_ref(batch), interval).expect("find_gaps on parsed rows");
}

/// Peak heap of `f` on this thread (0 in the `python` build, which has no probe).
fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    #[cfg(not(feature = "python"))]
    return super::probe::peak_during(f);
    #[cfg(feature = "python")]
    return (f(), 0);
}

/// One CSV case: random chunks, sometimes a (possibly absurd) size hint.
fn csv_case(dataset: Dataset, data: &[u8], rng: &mut Rng) -> bool {
    let hint = [0, data.len(), 16 << 30, usize::MAX, rng.below(1 << 20)][rng.below(5)];
    let chunk = 1 + rng.below(700);
    let (res, heap) = peak(|| {
        let mut p = CsvParser::new(dataset, "fuzz.csv");
        p.size_hint(hint);
        let mut fed = 0;
        for c in data.chunks(chunk) {
            p.feed(c)?;
            fed += c.len();
            assert!(
                p.reserved_bytes() <= PER_BYTE * fed + 64 * 1024,
                "{}",
                p.reserved_bytes()
            );
        }
        p.finish()
    });
    assert!(
        heap <= PER_BYTE * data.len() + FIXED,
        "{heap} for {} bytes",
        data.len()
    );
    match res {
        Ok(batch) => {
            check_ok(dataset, &batch, data.len());
            true
        }
        Err(Error::Parse { .. }) => false,
        Err(e) => panic!("untyped parse error {e:?}"),
    }
}

/// One zip case: random chunks, no digest, the right one, or a wrong one.
fn zip_case(dataset: Dataset, body: &[u8], rng: &mut Rng) -> bool {
    let chunk = 1 + rng.below(5000);
    let digest = super::hex(&<sha2::Sha256 as sha2::Digest>::digest(body));
    // The seeds (`rng` at 0) are read with their digest.
    let pick = if rng.0 == 0 { 1 } else { rng.below(3) };
    let expected = [None, Some(digest), Some("0".repeat(64))][pick].clone();
    let (res, heap) = peak(|| {
        let mut s = ArchiveStream::with_limits(dataset, "fuzz.zip", ArchiveLimits::default());
        for c in body.chunks(chunk) {
            s.push(c);
            let bound = PER_BYTE * s.inflated_bytes() as usize + 64 * 1024;
            assert!(s.reserved_bytes() <= bound, "{}", s.reserved_bytes());
        }
        let inflated = s.inflated_bytes() as usize;
        (s.finish(expected.as_deref()), inflated)
    });
    let (res, inflated) = res;
    assert!(
        heap <= PER_BYTE * inflated + FIXED,
        "{heap} for {inflated} inflated"
    );
    match res {
        Ok(out) => {
            assert_eq!(out.csv_bytes as usize, inflated);
            check_ok(dataset, &out.batch, inflated);
            true
        }
        Err(Error::Archive { .. } | Error::Parse { .. } | Error::Checksum { .. }) => false,
        Err(e) => panic!("untyped archive error {e:?}"),
    }
}

#[test]
fn fuzz_csv_and_zip_inputs_of_every_dataset() {
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    let (mut cases, mut oks, mut panics) = (0, 0, 0);
    for dataset in [
        Dataset::Klines,
        Dataset::AggTrades,
        Dataset::Trades,
        Dataset::FundingRate,
    ] {
        let seeds = seeds(dataset);
        let bodies: Vec<Vec<u8>> = seeds.iter().flat_map(|s| zips(s, &mut rng)).collect();
        for seed in &seeds {
            assert!(csv_case(dataset, seed, &mut rng), "{dataset:?} seed parses");
        }
        // Every zip but the forged claim (index 3 of each seed's eight) reads back.
        for (i, body) in bodies.iter().enumerate().filter(|(i, _)| i % 8 != 3) {
            assert!(
                zip_case(dataset, body, &mut Rng(1)),
                "{dataset:?} zip {i} reads"
            );
        }
        for i in 0..2 * CASES {
            let zip = i % 2 == 1;
            let mut d = match zip {
                false => seeds[rng.below(seeds.len())].clone(),
                true => bodies[rng.below(bodies.len())].clone(),
            };
            mutate(&mut d, &mut rng);
            let mut case_rng = Rng(rng.next());
            let outcome = catch_unwind(AssertUnwindSafe(|| match zip {
                false => csv_case(dataset, &d, &mut case_rng),
                true => zip_case(dataset, &d, &mut case_rng),
            }));
            cases += 1;
            match outcome {
                Ok(ok) => oks += ok as usize,
                Err(_) => {
                    panics += 1;
                    eprintln!(
                        "{dataset:?} case {i} panicked; input {:?}",
                        String::from_utf8_lossy(&d)
                    );
                }
            }
        }
    }
    eprintln!("fuzz: {cases} cases ({CASES} CSVs + {CASES} zips per dataset), {oks} ok, {} typed errors, {panics} panics", cases - oks - panics);
    assert_eq!(panics, 0);
    // Most mutations break a row or the zip; enough survive to exercise the success path.
    assert!(oks > 300 && oks < cases, "{oks} of {cases} ok");
}
