//! Check stage (docs/architecture.md, "Stages"): continuity checks over batches given in key
//! order.
//!
//! `find_gaps` recognises the dataset from the schema and makes one pass over the raw
//! `i64`/`f64` value slices of each batch. State (the previous row's keys) carries across batch
//! boundaries, so a hole exactly at the join of two files is found and a clean join is silent.
//! Rows are scanned in chunks with branch-free comparisons; only a chunk that holds a problem is
//! rescanned row by row to build its [`Gap`]s, so clean data costs a few compares per row and no
//! allocation.

mod funding;
mod klines;
mod trades;

#[cfg(test)]
mod real_tests;

use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::model::dataset::Dataset;
use crate::model::interval::Interval;
use crate::model::schema::ts_type;

/// Rows per chunk of the fast scan; a chunk with a problem is rescanned row by row.
const CHUNK: usize = 512;

/// What is wrong at a [`Gap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapKind {
    /// Keys (open times, ids, funding times) are skipped: `missing` rows are absent.
    Missing,
    /// The next key is not after the previous one (duplicate or out-of-order rows).
    Overlap,
    /// A kline open time is off the interval's grid as seen from the previous one.
    Misaligned,
    /// A kline's `close_time` is not `open_time + interval − 1 unit`.
    CloseTime,
    /// A kline whose `low`/`high` do not bracket `open` and `close`.
    Ohlc,
    /// `agg_trade_id` / `trade_id` jumps forward by more than one.
    IdGap,
    /// An aggTrade's `first_trade_id` is not the previous `last_trade_id + 1`.
    TradeIdGap,
    /// A trade time goes backwards.
    TimeOrder,
}

impl GapKind {
    /// The name used in the gap table's `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Missing => "missing",
            GapKind::Overlap => "overlap",
            GapKind::Misaligned => "misaligned",
            GapKind::CloseTime => "close_time",
            GapKind::Ohlc => "ohlc",
            GapKind::IdGap => "id_gap",
            GapKind::TradeIdGap => "trade_id_gap",
            GapKind::TimeOrder => "time_order",
        }
    }
}

/// One continuity problem: `before` is the last key seen, `after` the next one, `missing` the
/// number of absent rows (0 when it cannot be counted), and `[start, end)` the time span in UTC µs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub kind: GapKind,
    pub before: i64,
    pub after: i64,
    pub missing: i64,
    pub start: i64,
    pub end: i64,
}

impl Gap {
    /// A gap at a single row (`CloseTime`, `Ohlc`): before = after = start = end = `key`.
    fn at_row(kind: GapKind, key: i64) -> Gap {
        Gap {
            kind,
            before: key,
            after: key,
            missing: 0,
            start: key,
            end: key,
        }
    }
}

/// Find every continuity problem in `batches`, which must be in key order (they may come from
/// consecutive files). `interval` is required for klines and ignored otherwise.
pub fn find_gaps(batches: &[RecordBatch], interval: Option<Interval>) -> Result<Vec<Gap>> {
    let mut gaps = Vec::new();
    let Some(first) = batches.first() else {
        return Ok(gaps);
    };
    let dataset = Dataset::from_schema(&first.schema()).ok_or_else(|| {
        Error::Invalid(
            "find_gaps: unknown schema; expected klines, aggTrades, trades or fundingRate".into(),
        )
    })?;
    if let Some(other) = batches.iter().find(|b| b.schema() != first.schema()) {
        if Dataset::from_schema(&other.schema()) != Some(dataset) {
            return Err(Error::Invalid(
                "find_gaps: batches of different datasets".into(),
            ));
        }
    }
    match dataset {
        Dataset::Klines => {
            let interval = interval
                .ok_or_else(|| Error::Invalid("find_gaps on klines needs an interval".into()))?;
            klines::scan(batches, interval, &mut gaps)?;
        }
        Dataset::AggTrades => trades::scan_agg(batches, &mut gaps)?,
        Dataset::Trades => trades::scan_trades(batches, &mut gaps)?,
        Dataset::FundingRate => funding::scan(batches, &mut gaps)?,
    }
    Ok(gaps)
}

/// The schema of the gap table: kind, before, after, missing, start, end (all non-null).
pub fn gap_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("kind", DataType::Utf8, false),
                Field::new("before", DataType::Int64, false),
                Field::new("after", DataType::Int64, false),
                Field::new("missing", DataType::Int64, false),
                Field::new("start", ts_type(), false),
                Field::new("end", ts_type(), false),
            ]))
        })
        .clone()
}

/// The gaps as one record batch of [`gap_schema`].
pub fn gaps_to_batch(gaps: &[Gap]) -> Result<RecordBatch> {
    let ints = |f: fn(&Gap) -> i64| Int64Array::from_iter_values(gaps.iter().map(f));
    let times = |f: fn(&Gap) -> i64| {
        TimestampMicrosecondArray::from_iter_values(gaps.iter().map(f)).with_timezone("UTC")
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            gaps.iter().map(|g| g.kind.as_str()),
        )),
        Arc::new(ints(|g| g.before)),
        Arc::new(ints(|g| g.after)),
        Arc::new(ints(|g| g.missing)),
        Arc::new(times(|g| g.start)),
        Arc::new(times(|g| g.end)),
    ];
    Ok(RecordBatch::try_new(gap_schema(), columns)?)
}

/// The values of a non-null `int64` or `timestamp[us]` column.
fn i64_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a [i64]> {
    let col = column(batch, name)?;
    if col.null_count() > 0 {
        return Err(Error::Invalid(format!(
            "find_gaps: column {name} has nulls"
        )));
    }
    match col.data_type() {
        DataType::Int64 => Ok(col.as_primitive::<Int64Type>().values()),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Ok(col.as_primitive::<TimestampMicrosecondType>().values())
        }
        other => Err(Error::Invalid(format!(
            "find_gaps: column {name} is {other}, expected int64 or timestamp[us]"
        ))),
    }
}

/// The values of a `float64` column (nulls are not expected in price columns).
fn f64_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a [f64]> {
    let col = column(batch, name)?;
    match col.data_type() {
        DataType::Float64 => Ok(col.as_primitive::<Float64Type>().values()),
        other => Err(Error::Invalid(format!(
            "find_gaps: column {name} is {other}, expected float64"
        ))),
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::Invalid(format!("find_gaps: missing column {name}")))
}

/// Calls `slow(j)` for every row of each chunk of `rows` in which `ok` fails for some row, in
/// row order. `ok` must be cheap and side-effect free: it is evaluated for every row without
/// short-circuiting so the compiler can vectorise it.
#[inline(always)]
fn scan_chunks(
    rows: std::ops::Range<usize>,
    ok: impl Fn(usize) -> bool,
    mut slow: impl FnMut(usize),
) {
    let mut lo = rows.start;
    while lo < rows.end {
        let hi = (lo + CHUNK).min(rows.end);
        let all_ok = (lo..hi).fold(true, |acc, j| acc & ok(j));
        if !all_ok {
            (lo..hi).for_each(&mut slow);
        }
        lo = hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_no_gaps() {
        assert!(find_gaps(&[], None).unwrap().is_empty());
        let empty = RecordBatch::new_empty(Dataset::Klines.schema());
        let gaps = find_gaps(&[empty.clone(), empty], Some(Interval::Fixed(60_000_000))).unwrap();
        assert!(gaps.is_empty());
    }

    #[test]
    fn unknown_schema_is_invalid() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
        assert!(matches!(find_gaps(&[batch], None), Err(Error::Invalid(_))));
    }

    #[test]
    fn klines_need_an_interval() {
        let empty = RecordBatch::new_empty(Dataset::Klines.schema());
        let err = find_gaps(&[empty], None).unwrap_err();
        assert!(err.to_string().contains("needs an interval"));
    }

    #[test]
    fn gap_table_has_the_contract_schema() {
        let gap = Gap {
            kind: GapKind::Missing,
            before: 1,
            after: 4,
            missing: 2,
            start: 2,
            end: 4,
        };
        let batch = gaps_to_batch(&[gap, Gap::at_row(GapKind::Ohlc, 9)]).unwrap();
        assert_eq!(batch.schema(), gap_schema());
        assert_eq!(batch.num_rows(), 2);
        let kind = batch.column(0).as_string::<i32>();
        assert_eq!((kind.value(0), kind.value(1)), ("missing", "ohlc"));
        let end = batch.column(5).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(end.values().as_ref(), &[4, 9]);
        assert_eq!(gaps_to_batch(&[]).unwrap().num_rows(), 0);
    }

    #[test]
    fn kind_names() {
        let kinds = [
            (GapKind::Missing, "missing"),
            (GapKind::Overlap, "overlap"),
            (GapKind::Misaligned, "misaligned"),
            (GapKind::CloseTime, "close_time"),
            (GapKind::Ohlc, "ohlc"),
            (GapKind::IdGap, "id_gap"),
            (GapKind::TradeIdGap, "trade_id_gap"),
            (GapKind::TimeOrder, "time_order"),
        ];
        for (kind, name) in kinds {
            assert_eq!(kind.as_str(), name);
        }
    }
}
