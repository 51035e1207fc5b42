//! The truth's columns while rows are read: one key column and the value columns of one
//! dataset, kept in key order, turned into a `RecordBatch` of ckv's output schema
//! (`crate::model::schema`) at the end. Every column holds one value per row, or none at all when the
//! dataset has no such column.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};

use crate::error::Result;
use crate::model::dataset::Dataset;
use crate::model::interval::Interval;

use super::Kind;

/// Columns of one dataset, as parsed.
pub(crate) struct Rows {
    pub(crate) dataset: Dataset,
    pub(crate) key: Vec<i64>,
    pub(crate) ints: Vec<Vec<i64>>,
    pub(crate) floats: Vec<Vec<f64>>,
    pub(crate) opt_floats: Vec<Option<f64>>,
    pub(crate) opt_ints: Vec<Option<i64>>,
    pub(crate) flags: Vec<bool>,
    pub(crate) opt_flags: Vec<Option<bool>>,
}

impl Rows {
    pub(super) fn empty(kind: &Kind) -> Self {
        let (dataset, ni, nf) = match kind {
            Kind::Klines(..) => (Dataset::Klines, 2, 8),
            Kind::Aggs => (Dataset::AggTrades, 3, 2),
            Kind::Trades => (Dataset::Trades, 1, 3),
            Kind::Funding => (Dataset::FundingRate, 0, 1),
        };
        Rows {
            dataset,
            key: Vec::new(),
            ints: vec![Vec::new(); ni],
            floats: vec![Vec::new(); nf],
            opt_floats: Vec::new(),
            opt_ints: Vec::new(),
            flags: Vec::new(),
            opt_flags: Vec::new(),
        }
    }

    pub(crate) fn klines(capacity: usize) -> Self {
        let mut r = Rows::empty(&Kind::Klines(None, Interval::Month));
        r.key.reserve(capacity);
        r
    }

    pub(crate) fn trades(trade: bool) -> Self {
        Rows::empty(if trade { &Kind::Trades } else { &Kind::Aggs })
    }

    /// Keep the first `n` rows.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.key.truncate(n);
        self.ints.iter_mut().for_each(|v| v.truncate(n));
        self.floats.iter_mut().for_each(|v| v.truncate(n));
        self.opt_floats.truncate(n);
        self.opt_ints.truncate(n);
        self.flags.truncate(n);
        self.opt_flags.truncate(n);
    }

    /// Keep only rows whose key is in `[from, to)` (rows are in key order).
    pub(crate) fn retain_key(&mut self, from: i64, to: i64) {
        fn filt<T: Clone>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        let keep: Vec<bool> = self.key.iter().map(|&k| k >= from && k < to).collect();
        // Every column has one value per row (or none at all for this dataset).
        filt(&mut self.key, &keep);
        self.ints.iter_mut().for_each(|v| filt(v, &keep));
        self.floats.iter_mut().for_each(|v| filt(v, &keep));
        filt(&mut self.opt_floats, &keep);
        filt(&mut self.opt_ints, &keep);
        filt(&mut self.flags, &keep);
        filt(&mut self.opt_flags, &keep);
    }

    pub(super) fn batch(self) -> Result<RecordBatch> {
        let ts = |v: Vec<i64>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC"))
        };
        let f = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        let i = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
        let (mut ints, mut fl) = (self.ints.into_iter(), self.floats.into_iter());
        let mut ni = || ints.next().unwrap_or_default();
        let mut nf = || fl.next().unwrap_or_default();
        let cols: Vec<ArrayRef> = match self.dataset {
            Dataset::Klines => {
                let (close, trades) = (ni(), ni());
                let (o, h, l, c, v, q, tb, tq) = (nf(), nf(), nf(), nf(), nf(), nf(), nf(), nf());
                vec![
                    ts(self.key),
                    f(o),
                    f(h),
                    f(l),
                    f(c),
                    f(v),
                    ts(close),
                    f(q),
                    i(trades),
                    f(tb),
                    f(tq),
                ]
            }
            Dataset::AggTrades => {
                let (id, first, last, price, qty) = (ni(), ni(), ni(), nf(), nf());
                vec![
                    i(id),
                    f(price),
                    f(qty),
                    i(first),
                    i(last),
                    ts(self.key),
                    b(self.flags),
                    ob(self.opt_flags),
                ]
            }
            Dataset::Trades => {
                let (id, price, qty, quote) = (ni(), nf(), nf(), nf());
                vec![
                    i(id),
                    f(price),
                    f(qty),
                    f(quote),
                    ts(self.key),
                    b(self.flags),
                    ob(self.opt_flags),
                ]
            }
            Dataset::FundingRate => vec![
                ts(self.key),
                Arc::new(Int64Array::from(self.opt_ints)),
                f(nf()),
                Arc::new(Float64Array::from(self.opt_floats)),
            ],
        };
        Ok(RecordBatch::try_new(self.dataset.schema(), cols)?)
    }
}

fn b(v: Vec<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

fn ob(v: Vec<Option<bool>>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}
