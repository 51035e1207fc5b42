//! Seeded fuzzing of the parse, archive and check stages with a fixed budget: real-shaped CSVs
//! and zips of every dataset (the row shapes of the real fixtures, every header Binance writes,
//! ms and µs eras, plus the heads of the real fixture files when present) mutated by bit flips,
//! byte changes, insertions, deletions, duplicated and removed ranges, truncation and forged
//! header claims (huge sizes, data descriptors), or by digits changed into other digits (values
//! that stay well-formed), fed in random chunks.
//!
//! Asserted for every case: no panic; the same outcome (batch, or error text) whether a small
//! member is inflated in one shot or streamed; either `Ok` with the dataset's schema and sane rows (no
//! negative counts or ids, finite floats, positive funding intervals) on which `find_gaps` also
//! succeeds, or a typed error of the stage; and the heap held at once (measured by the probe
//! allocator in the pure-Rust build) and the bytes reserved stay within a small multiple of the
//! bytes actually fed, whatever the headers claim.

mod inputs;

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::RecordBatch;
use arrow_schema::DataType;

use super::{ArchiveLimits, ArchiveStream};
use crate::check::find_gaps;
use crate::error::Error;
use crate::model::dataset::Dataset;
use crate::model::interval::{Interval, MINUTE_US};
use crate::parse::CsvParser;
use inputs::{mutate, real_seeds, seeds, zips, Rng};

/// Mutated inputs per dataset and kind (CSV, zip).
const CASES: usize = 5000;
/// Heap and reservations allowed per byte fed, plus a fixed allowance (inflate buffers, the
/// line carry, error texts).
const PER_BYTE: usize = 32;
const FIXED: usize = 2 << 20;

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

/// One zip case: random chunks, no digest, the right one, or a wrong one, sometimes the body's
/// length declared; through the one-shot path and the streaming one, which must agree.
fn zip_case(dataset: Dataset, body: &[u8], rng: &mut Rng) -> bool {
    let chunk = 1 + rng.below(5000);
    let digest = super::hex(&<sha2::Sha256 as sha2::Digest>::digest(body));
    // The seeds (`rng` at 0) are read with their digest.
    let pick = if rng.0 == 0 { 1 } else { rng.below(3) };
    let expected = [None, Some(digest), Some("0".repeat(64))][pick].clone();
    let declared = rng.below(2) == 0;
    let one_shot = zip_path(dataset, body, chunk, expected.as_deref(), Some(declared));
    let streamed = zip_path(dataset, body, chunk, expected.as_deref(), None);
    match (&one_shot, &streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the paths give different batches"),
        (Err(a), Err(b)) => assert_eq!(a, b, "the paths give different errors"),
        (a, b) => panic!("the paths disagree: one-shot {a:?}, streaming {b:?}"),
    }
    one_shot.is_ok()
}

/// One path of a zip case: one-shot allowed (`Some(declared length)`) or streaming only.
fn zip_path(
    dataset: Dataset,
    body: &[u8],
    chunk: usize,
    expected: Option<&str>,
    one_shot: Option<bool>,
) -> Result<RecordBatch, String> {
    let (res, heap) = peak(|| {
        let mut s = ArchiveStream::with_limits(dataset, "fuzz.zip", ArchiveLimits::default());
        match one_shot {
            None => s.stream_only(),
            Some(true) => s.expect_len(body.len() as u64),
            Some(false) => {}
        }
        for c in body.chunks(chunk) {
            s.push(c);
            let bound = PER_BYTE * s.inflated_bytes() as usize + 64 * 1024;
            assert!(s.reserved_bytes() <= bound, "{}", s.reserved_bytes());
        }
        let inflated = s.inflated_bytes() as usize;
        (s.finish(expected), inflated)
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
            Ok(out.batch)
        }
        Err(e @ (Error::Archive { .. } | Error::Parse { .. } | Error::Checksum { .. })) => {
            Err(e.to_string())
        }
        Err(e) => panic!("untyped archive error {e:?}"),
    }
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "names a panicking input; the summary shows with --nocapture"
)]
fn fuzz_csv_and_zip_inputs_of_every_dataset() {
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    let (mut cases, mut oks, mut panics) = (0, [0usize; 2], 0);
    for dataset in [
        Dataset::Klines,
        Dataset::AggTrades,
        Dataset::Trades,
        Dataset::FundingRate,
    ] {
        let mut seeds = seeds(dataset);
        seeds.extend(real_seeds(dataset, 60));
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
            if !zip && rng.below(3) == 0 {
                // Values that stay well-formed: digits changed into other digits.
                for _ in 0..=rng.below(8) {
                    let at = rng.below(d.len());
                    if d[at].is_ascii_digit() {
                        d[at] = b'0' + rng.below(10) as u8;
                    }
                }
            } else {
                mutate(&mut d, &mut rng);
            }
            let mut case_rng = Rng(rng.next());
            let outcome = catch_unwind(AssertUnwindSafe(|| match zip {
                false => csv_case(dataset, &d, &mut case_rng),
                true => zip_case(dataset, &d, &mut case_rng),
            }));
            cases += 1;
            match outcome {
                Ok(ok) => oks[usize::from(zip)] += usize::from(ok),
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
    let [csv_ok, zip_ok] = oks;
    let errors = cases - csv_ok - zip_ok - panics;
    eprintln!(
        "fuzz: {cases} cases ({CASES} CSVs + {CASES} zips per dataset): {csv_ok} CSVs and \
         {zip_ok} zips ok, {errors} typed errors, {panics} panics"
    );
    assert_eq!(panics, 0);
    // Most mutations break a row or the zip; enough survive to exercise the success paths.
    assert!(
        csv_ok > 200 && zip_ok > 50,
        "{csv_ok} CSVs and {zip_ok} zips ok"
    );
}
