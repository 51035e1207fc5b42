//! fundingRate checks: times strictly increasing (`Overlap` otherwise), and no step longer than
//! 1.5 funding intervals (`Missing`, counting `round(step / interval) − 1` absent rows).
//! `calc_time` can be a few ms past the hour, hence the tolerance. The interval of a step is the
//! larger `funding_interval_hours` of its two rows (8 h when null, as on REST rows), so a switch
//! between 8 h and 4 h schedules is not taken for a gap.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};

use super::{i64_column, Gap, GapKind};
use crate::error::{Error, Result};
use crate::model::interval::HOUR_US;

/// Funding interval assumed when a row does not say.
const DEFAULT_HOURS: i64 = 8;

/// Appends the problems between the funding rows at `a` then `b` with interval `hours`.
fn step_gap(a: i64, b: i64, hours: i64, gaps: &mut Vec<Gap>) {
    if b <= a {
        gaps.push(Gap {
            kind: GapKind::Overlap,
            before: a,
            after: b,
            missing: 0,
            start: b,
            end: a,
        });
        return;
    }
    let interval = hours.clamp(1, 24 * 365) * HOUR_US;
    let step = b.saturating_sub(a);
    if step.saturating_mul(2) > interval.saturating_mul(3) {
        let missing = (step as f64 / interval as f64).round() as i64 - 1;
        gaps.push(Gap {
            kind: GapKind::Missing,
            before: a,
            after: b,
            missing: missing.max(1),
            start: a.saturating_add(interval),
            end: b,
        });
    }
}

/// Scans fundingRate batches in order; the last time and interval carry across batches.
pub(super) fn scan(batches: &[RecordBatch], gaps: &mut Vec<Gap>) -> Result<()> {
    let mut prev: Option<(i64, i64)> = None;
    for batch in batches {
        let n = batch.num_rows();
        let time = &i64_column(batch, "time")?[..n];
        let col = batch
            .column_by_name("funding_interval_hours")
            .ok_or_else(|| {
                Error::Invalid("find_gaps: missing column funding_interval_hours".into())
            })?;
        let hours = col.as_primitive_opt::<Int64Type>().ok_or_else(|| {
            Error::Invalid("find_gaps: funding_interval_hours is not int64".into())
        })?;
        for (j, &t) in time.iter().enumerate() {
            let h = if hours.is_valid(j) {
                hours.value(j)
            } else {
                DEFAULT_HOURS
            };
            if let Some((a, ha)) = prev {
                step_gap(a, t, ha.max(h), gaps);
            }
            prev = Some((t, h));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};

    use super::*;
    use crate::check::find_gaps;
    use crate::model::dataset::Dataset;

    /// fundingRate rows `(time, funding_interval_hours)`.
    fn funding(rows: &[(i64, Option<i64>)]) -> RecordBatch {
        let n = rows.len();
        let times: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from(times).with_timezone("UTC")),
            Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>()),
            Arc::new(Float64Array::from(vec![0.0001; n])),
            Arc::new(Float64Array::from(vec![None; n])),
        ];
        RecordBatch::try_new(Dataset::FundingRate.schema(), cols).unwrap()
    }

    const H: i64 = HOUR_US;

    #[test]
    fn clean_funding_with_jitter_and_schedule_switch() {
        let rows = [
            (0, Some(8)),
            (8 * H + 3000, Some(8)),
            (16 * H + 1000, Some(4)),
            (20 * H, Some(4)),
            (24 * H + 5, Some(8)),
            (32 * H, None),
        ];
        assert!(find_gaps(&[funding(&rows[..3]), funding(&rows[3..])], None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn missing_and_overlap() {
        let rows = [
            (0, Some(8)),
            (24 * H + 7, Some(8)),
            (24 * H + 7, Some(8)),
            (28 * H, Some(4)),
        ];
        let gaps = find_gaps(&[funding(&rows[..2]), funding(&rows[2..])], None).unwrap();
        let missing = Gap {
            kind: GapKind::Missing,
            before: 0,
            after: 24 * H + 7,
            missing: 2,
            start: 8 * H,
            end: 24 * H + 7,
        };
        assert_eq!(gaps[0], missing);
        assert_eq!(gaps[1].kind, GapKind::Overlap);
        assert_eq!(gaps.len(), 2);
        // A null interval means 8 h: 16 h apart is one missing row.
        let gaps = find_gaps(&[funding(&[(0, None), (16 * H, None)])], None).unwrap();
        assert_eq!(gaps[0].missing, 1);
    }
}
