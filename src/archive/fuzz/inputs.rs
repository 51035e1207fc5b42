//! Inputs of the fuzz test: a deterministic PRNG, real-shaped seed files of every dataset
//! (every header Binance writes, ms and µs eras, the heads of the real fixtures when present),
//! the mutations, and the zips of a seed (honest, zip64, forged claims, data descriptors).
//!
//! Guarantees: everything is a pure function of the seed, so a failing case is reproducible.

use super::super::testzip::{build, deflate, descriptor, honest, zip64_extra, Spec};
use crate::model::dataset::Dataset;

pub(super) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Real-shaped files of `dataset`: `rows` lines from a template, with and without header.
pub(super) fn seeds(dataset: Dataset) -> Vec<Vec<u8>> {
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

/// The first `lines` lines of real fixture files of `dataset`, when the fixtures are present.
pub(super) fn real_seeds(dataset: Dataset, lines: usize) -> Vec<Vec<u8>> {
    use crate::parse::testutil::{fixture_files, read_csv};
    let picks: &[(&str, &str)] = match dataset {
        Dataset::Klines => &[
            ("um_klines", "2022-01-01.csv"),
            ("spot_klines", "1h-2026-05-08.zip"),
        ],
        Dataset::AggTrades => &[("cm_aggTrades", ".zip"), ("spot_aggTrades", ".csv")],
        Dataset::Trades => &[],
        Dataset::FundingRate => &[("um_fundingRate", ".zip")],
    };
    let mut out = Vec::new();
    for (dir, suffix) in picks {
        if let Some(file) = fixture_files(dir, suffix).and_then(|f| f.into_iter().next()) {
            let csv = read_csv(&file);
            let end = csv
                .iter()
                .enumerate()
                .filter(|(_, &c)| c == b'\n')
                .nth(lines - 1);
            out.push(csv[..end.map_or(csv.len(), |(i, _)| i + 1)].to_vec());
        }
    }
    out
}

/// Apply 1 to 4 random mutations to `d`.
pub(super) fn mutate(d: &mut Vec<u8>, rng: &mut Rng) {
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
    for _ in 0..=rng.below(4) {
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
pub(super) fn zips(csv: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
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
        crate::archive::write::zip_one("a.csv", csv, 6),
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
