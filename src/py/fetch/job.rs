//! `ArchiveJob`: archives fetched in the background, handed out as each completes so the
//! caller can keep (commit) them one by one. `wait` releases the GIL and is interruptible
//! (Ctrl-C cancels the job); `cancel()`, and dropping the job, abort the unfinished archives.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, TryLockError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::wait;
use super::convert::{analyse, outcome_object};
use crate::model::interval::Interval;
use crate::net::fetch::{Batch, Outcome};

type Done = (usize, Outcome);

/// Archives being fetched; see `Fetcher.start_archives`.
#[pyclass(module = "ckv._core", frozen)]
pub struct ArchiveJob {
    urls: Vec<String>,
    rx: Mutex<UnboundedReceiver<Done>>,
    batch: Batch,
    handed_out: AtomicUsize,
    cancelled: AtomicBool,
    /// Every task has reported or is gone: nothing more can arrive.
    closed: AtomicBool,
    /// The kline interval the batches' gaps are checked against.
    interval: Option<Interval>,
}

impl ArchiveJob {
    pub(super) fn new(
        urls: Vec<String>,
        batch: Batch,
        rx: UnboundedReceiver<Done>,
        interval: Option<Interval>,
    ) -> Self {
        ArchiveJob {
            urls,
            rx: Mutex::new(rx),
            batch,
            handed_out: AtomicUsize::new(0),
            cancelled: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            interval,
        }
    }
}

#[pymethods]
impl ArchiveJob {
    /// `(index, ArchiveOutcome)` of the archives finished since the last call, waiting up to
    /// `timeout_s` for at least one; `[]` on timeout, once `done`, or (after `cancel()`) when
    /// nothing finished before it. An exception while waiting (KeyboardInterrupt) cancels
    /// the job.
    fn wait<'py>(&self, py: Python<'py>, timeout_s: f64) -> PyResult<Bound<'py, PyList>> {
        let timeout = wait::secs("timeout_s", timeout_s, false)?;
        let list = PyList::empty(py);
        if self.handed_out.load(Ordering::Acquire) >= self.urls.len() {
            return Ok(list);
        }
        let mut guard = match self.rx.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(PyRuntimeError::new_err(
                    "ArchiveJob.wait is already running in another thread",
                ))
            }
        };
        let rx: &mut UnboundedReceiver<Done> = &mut guard;
        let cancelled = self.cancelled.load(Ordering::Acquire);
        let got = wait::block_on(py, async move {
            let mut out = Vec::new();
            if !cancelled {
                match tokio::time::timeout(timeout, rx.recv()).await {
                    Ok(Some(first)) => out.push(first),
                    Ok(None) => return (out, true),
                    Err(_) => return (out, false),
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(more) => out.push(more),
                    Err(TryRecvError::Disconnected) => return (out, true),
                    Err(TryRecvError::Empty) => return (out, false),
                }
            }
        });
        drop(guard);
        let got = match got {
            Ok((got, closed)) => {
                if closed {
                    self.closed.store(true, Ordering::Release);
                }
                got
            }
            Err(e) => {
                self.cancel();
                return Err(e);
            }
        };
        self.handed_out.fetch_add(got.len(), Ordering::AcqRel);
        let interval = self.interval;
        let analysed = super::super::detach(py, move || {
            Ok(got
                .into_iter()
                .map(|(i, o)| (i, analyse(o, interval)))
                .collect::<Vec<_>>())
        })?;
        for (i, a) in analysed {
            let url = self.urls.get(i).map_or("", String::as_str);
            list.append((i, Py::new(py, outcome_object(py, url, a))?))?;
        }
        Ok(list)
    }

    /// True once no further result will be handed out: every archive's was (or every task is
    /// gone), or the job was cancelled and what had finished before it was.
    #[getter]
    fn done(&self) -> bool {
        if self.handed_out.load(Ordering::Acquire) >= self.urls.len() {
            return true;
        }
        self.cancelled.load(Ordering::Acquire) && self.rx.try_lock().is_ok_and(|rx| rx.is_empty())
    }

    /// Number of archives in the job.
    fn __len__(&self) -> usize {
        self.urls.len()
    }

    /// Abort the unfinished archives (idempotent; also done when the job is collected).
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.batch.cancel();
    }
}
