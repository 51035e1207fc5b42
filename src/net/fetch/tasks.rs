//! Many requests as tokio tasks that can be cancelled together: each reports `(index, output)`
//! on a channel as soon as it ends (a panic is reported as `Error::Internal`, never lost), and
//! the returned [`Batch`] aborts every unfinished task on `cancel()` or when dropped, so
//! dropping a waiting future (Ctrl-C) leaves no request running. [`Deadline`] bounds a whole
//! call: past it, unfinished requests fail as `Network` "deadline of N s exceeded".

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::error::Error;

/// The tasks of one call; aborts the unfinished ones when cancelled or dropped.
#[derive(Debug, Default)]
pub struct Batch {
    tasks: Vec<AbortHandle>,
}

impl Batch {
    /// Abort every unfinished task (idempotent). A task aborted mid-request drops its
    /// connection and its connection slot at once.
    pub fn cancel(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Spawn every future of `futs` on `rt`; the receiver yields `(index, output)` in completion
/// order and closes when every task has reported (or was aborted). A panicking task reports
/// `on_panic(message)` instead.
pub fn spawn_indexed<T, F>(
    rt: &Handle,
    futs: impl IntoIterator<Item = F>,
    on_panic: fn(Error) -> T,
) -> (Batch, UnboundedReceiver<(usize, T)>)
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (tx, rx) = unbounded_channel();
    let tasks = futs
        .into_iter()
        .enumerate()
        .map(|(i, fut)| {
            let tx = tx.clone();
            rt.spawn(async move {
                let out = match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(out) => out,
                    Err(panic) => on_panic(Error::Internal(panic_message(panic.as_ref()))),
                };
                // The receiver may be gone (the caller stopped listening): nothing to do.
                let _ = tx.send((i, out));
            })
            .abort_handle()
        })
        .collect();
    (Batch { tasks }, rx)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a request task panicked".to_string())
}

/// The end of a whole call (`deadline_s`).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    secs: f64,
}

impl Deadline {
    /// `d` from now (a `d` too far to represent never ends).
    pub fn after(d: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(d),
            secs: d.as_secs_f64(),
        }
    }

    /// The error of a request cut by this deadline.
    pub fn error(&self, url: &str) -> Error {
        Error::Network {
            url: url.to_string(),
            reason: format!("deadline of {} s exceeded", self.secs),
        }
    }

    /// Run `fut`; once the deadline (if any) has passed, drop it and give
    /// `late(error)` instead, the error naming `url`.
    pub async fn run<T>(
        deadline: Option<Deadline>,
        url: &str,
        fut: impl Future<Output = T>,
        late: fn(Error) -> T,
    ) -> T {
        match deadline.and_then(|d| Some((d, d.at?))) {
            Some((d, at)) => match tokio::time::timeout_at(at, fut).await {
                Ok(out) => out,
                Err(_) => late(d.error(url)),
            },
            None => fut.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn outputs_come_in_completion_order_and_a_panic_is_reported() {
        let futs = [300u64, 10, 100].map(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            assert!(ms != 100, "boom");
            Ok::<u64, Error>(ms)
        });
        let (_batch, mut rx) = spawn_indexed(&Handle::current(), futs, Err);
        let (i, first) = rx.recv().await.unwrap();
        assert_eq!((i, first.unwrap()), (1, 10));
        let (i, second) = rx.recv().await.unwrap();
        assert!(i == 2 && matches!(second, Err(Error::Internal(m)) if m.contains("boom")));
        assert_eq!(rx.recv().await.unwrap().0, 0);
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn dropping_the_batch_aborts_unfinished_tasks() {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let fut = async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            flag.store(true, Ordering::SeqCst);
        };
        let (batch, mut rx) = spawn_indexed(&Handle::current(), [fut], |_| ());
        drop(batch);
        assert!(rx.recv().await.is_none(), "an aborted task reports nothing");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_deadline_cuts_what_is_still_running() {
        let d = Some(Deadline::after(Duration::from_millis(50)));
        let slow = tokio::time::sleep(Duration::from_secs(5));
        let t = Instant::now();
        let work = async {
            slow.await;
            Ok(())
        };
        let out: Result<(), Error> = Deadline::run(d, "u", work, Err).await;
        assert!(t.elapsed() < Duration::from_secs(1));
        let msg = out.unwrap_err().to_string();
        assert!(msg.contains("deadline of 0.05 s exceeded"), "{msg}");
        let fast: Result<u8, Error> = Deadline::run(d, "u", async { Ok(7) }, Err).await;
        assert_eq!(fast.unwrap(), 7);
        // Far beyond what an Instant can hold: no panic, no deadline.
        let never = Deadline::after(Duration::MAX);
        assert_eq!(Deadline::run(Some(never), "u", async { 1 }, |_| 0).await, 1);
    }
}
