//! aggTrades and trades checks: ids consecutive (`IdGap` forward, `Overlap` backward), an
//! aggTrade's `first_trade_id` = previous `last_trade_id + 1` (`TradeIdGap`), and time
//! non-decreasing (`TimeOrder`). The previous row carries across batches (day d's last id + 1
//! must be day d+1's first).

use arrow_array::RecordBatch;

use super::{i64_column, scan_chunks, Gap, GapKind};
use crate::error::Result;

/// The keys of one row: its id, its (last) trade id, its time.
#[derive(Clone, Copy)]
struct Row {
    id: i64,
    last_trade: i64,
    time: i64,
}

/// The previous and the next row, checked as a pair.
fn pair_gaps(prev: Row, next: Row, first_trade: Option<i64>, gaps: &mut Vec<Gap>) {
    let (start, end) = (prev.time, next.time);
    if next.id != prev.id.wrapping_add(1) {
        let (kind, missing) = match next.id.checked_sub(prev.id) {
            Some(d) if d > 0 => (GapKind::IdGap, d - 1),
            _ => (GapKind::Overlap, 0),
        };
        gaps.push(Gap {
            kind,
            before: prev.id,
            after: next.id,
            missing,
            start,
            end,
        });
    }
    if let Some(first) = first_trade {
        if first != prev.last_trade.wrapping_add(1) {
            let missing = first
                .checked_sub(prev.last_trade)
                .map_or(0, |d| (d - 1).max(0));
            gaps.push(Gap {
                kind: GapKind::TradeIdGap,
                before: prev.last_trade,
                after: first,
                missing,
                start,
                end,
            });
        }
    }
    if next.time < prev.time {
        gaps.push(Gap {
            kind: GapKind::TimeOrder,
            before: prev.id,
            after: next.id,
            missing: 0,
            start,
            end,
        });
    }
}

/// Scans aggTrades batches in order.
pub(super) fn scan_agg(batches: &[RecordBatch], gaps: &mut Vec<Gap>) -> Result<()> {
    let mut prev: Option<Row> = None;
    for batch in batches {
        let n = batch.num_rows();
        let id = &i64_column(batch, "agg_trade_id")?[..n];
        let first = &i64_column(batch, "first_trade_id")?[..n];
        let last = &i64_column(batch, "last_trade_id")?[..n];
        let time = &i64_column(batch, "time")?[..n];
        if n == 0 {
            continue;
        }
        let row = |j: usize| Row {
            id: id[j],
            last_trade: last[j],
            time: time[j],
        };
        if let Some(p) = prev {
            pair_gaps(p, row(0), Some(first[0]), gaps);
        }
        let ok = |j: usize| {
            (id[j] == id[j - 1].wrapping_add(1))
                & (first[j] == last[j - 1].wrapping_add(1))
                & (time[j] >= time[j - 1])
        };
        scan_chunks(1..n, ok, |j| {
            pair_gaps(row(j - 1), row(j), Some(first[j]), gaps);
        });
        prev = Some(row(n - 1));
    }
    Ok(())
}

/// Scans trades batches in order.
pub(super) fn scan_trades(batches: &[RecordBatch], gaps: &mut Vec<Gap>) -> Result<()> {
    let mut prev: Option<Row> = None;
    for batch in batches {
        let n = batch.num_rows();
        let id = &i64_column(batch, "trade_id")?[..n];
        let time = &i64_column(batch, "time")?[..n];
        if n == 0 {
            continue;
        }
        let row = |j: usize| Row {
            id: id[j],
            last_trade: id[j],
            time: time[j],
        };
        if let Some(p) = prev {
            pair_gaps(p, row(0), None, gaps);
        }
        let ok = |j: usize| (id[j] == id[j - 1].wrapping_add(1)) & (time[j] >= time[j - 1]);
        scan_chunks(1..n, ok, |j| pair_gaps(row(j - 1), row(j), None, gaps));
        prev = Some(row(n - 1));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, Float64Array, Int64Array, TimestampMicrosecondArray,
    };

    use super::*;
    use crate::check::find_gaps;
    use crate::model::dataset::Dataset;

    fn ts(v: &[i64]) -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(v.to_vec()).with_timezone("UTC"))
    }
    fn int(v: &[i64]) -> ArrayRef {
        Arc::new(Int64Array::from(v.to_vec()))
    }
    fn flt(n: usize) -> ArrayRef {
        Arc::new(Float64Array::from(vec![1.0; n]))
    }
    fn bools(n: usize) -> ArrayRef {
        Arc::new(BooleanArray::from(vec![true; n]))
    }

    /// aggTrades rows `(agg_trade_id, first_trade_id, last_trade_id, time)`.
    pub(crate) fn agg(rows: &[(i64, i64, i64, i64)]) -> RecordBatch {
        let n = rows.len();
        let col = |f: fn(&(i64, i64, i64, i64)) -> i64| rows.iter().map(f).collect::<Vec<_>>();
        let cols = vec![
            int(&col(|r| r.0)),
            flt(n),
            flt(n),
            int(&col(|r| r.1)),
            int(&col(|r| r.2)),
            ts(&col(|r| r.3)),
            bools(n),
            bools(n),
        ];
        RecordBatch::try_new(Dataset::AggTrades.schema(), cols).unwrap()
    }

    /// trades rows `(trade_id, time)`.
    pub(crate) fn trades(rows: &[(i64, i64)]) -> RecordBatch {
        let n = rows.len();
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let cols = vec![
            int(&ids),
            flt(n),
            flt(n),
            flt(n),
            ts(&times),
            bools(n),
            bools(n),
        ];
        RecordBatch::try_new(Dataset::Trades.schema(), cols).unwrap()
    }

    /// `n` clean aggTrades from id `id0`, two trades each, one µs apart.
    fn clean_agg(id0: i64, n: i64) -> Vec<(i64, i64, i64, i64)> {
        (0..n)
            .map(|k| (id0 + k, 2 * (id0 + k), 2 * (id0 + k) + 1, 1000 + k))
            .collect()
    }

    #[test]
    fn clean_agg_trades_across_batches() {
        let rows = clean_agg(100, 3000);
        let batches = [agg(&rows[..1234]), agg(&rows[1234..])];
        assert!(find_gaps(&batches, None).unwrap().is_empty());
    }

    #[test]
    fn agg_id_gap_at_a_batch_join() {
        let rows = clean_agg(100, 3000);
        let batches = [agg(&rows[..1234]), agg(&rows[1240..])];
        let gaps = find_gaps(&batches, None).unwrap();
        let (p, q) = (rows[1233], rows[1240]);
        let id_gap = Gap {
            kind: GapKind::IdGap,
            before: p.0,
            after: q.0,
            missing: 6,
            start: p.3,
            end: q.3,
        };
        let trade_gap = Gap {
            kind: GapKind::TradeIdGap,
            before: p.2,
            after: q.1,
            missing: 12,
            start: p.3,
            end: q.3,
        };
        assert_eq!(gaps, vec![id_gap, trade_gap]);
    }

    #[test]
    fn agg_overlap_trade_id_gap_and_time_order() {
        let rows = [
            (1, 10, 11, 5),
            (2, 12, 12, 6),
            (2, 12, 12, 6),
            (3, 15, 15, 4),
            (4, 16, 16, 4),
        ];
        let gaps = find_gaps(&[agg(&rows)], None).unwrap();
        let kinds: Vec<_> = gaps.iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [
                GapKind::Overlap,
                GapKind::TradeIdGap,
                GapKind::TradeIdGap,
                GapKind::TimeOrder
            ]
        );
        assert_eq!((gaps[0].before, gaps[0].after, gaps[0].missing), (2, 2, 0));
        assert_eq!(
            (gaps[1].before, gaps[1].after, gaps[1].missing),
            (12, 12, 0)
        );
        assert_eq!(
            (gaps[2].before, gaps[2].after, gaps[2].missing),
            (12, 15, 2)
        );
        assert_eq!((gaps[3].start, gaps[3].end, gaps[3].before), (6, 4, 2));
    }

    #[test]
    fn trades_ids_and_times() {
        let rows: Vec<(i64, i64)> = (0..2000).map(|k| (50 + k, 7 + k / 3)).collect();
        assert!(
            find_gaps(&[trades(&rows[..999]), trades(&rows[999..])], None)
                .unwrap()
                .is_empty()
        );

        let batches = [trades(&rows[..999]), trades(&rows[1002..])];
        let gaps = find_gaps(&batches, None).unwrap();
        assert_eq!(gaps.len(), 1);
        let g = &gaps[0];
        assert_eq!(
            (g.kind, g.before, g.after, g.missing),
            (GapKind::IdGap, 1048, 1052, 3)
        );
        assert_eq!((g.start, g.end), (rows[998].1, rows[1002].1));

        let back = [(1, 10), (2, 9), (2, 9)];
        let gaps = find_gaps(&[trades(&back)], None).unwrap();
        let kinds: Vec<_> = gaps.iter().map(|g| g.kind).collect();
        assert_eq!(kinds, vec![GapKind::TimeOrder, GapKind::Overlap]);
    }
}
