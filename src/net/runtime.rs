//! One lazily built multi-threaded tokio runtime per process, rebuilt after `fork`
//! (a forked child must never touch its parent's worker threads).

use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The process-wide runtime, created on first use (and again in a forked child).
pub fn get() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut guard = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = guard.as_ref() {
        if *owner == pid {
            return rt.clone();
        }
        // Inherited from the parent through fork: its threads do not exist here. Leak it
        // rather than run its destructor, which would try to join them.
        if let Some((_, old)) = guard.take() {
            #[allow(
                clippy::mem_forget,
                reason = "a forked child must not join its parent's threads"
            )]
            std::mem::forget(old);
        }
    }
    let t = std::time::Instant::now();
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .thread_name("ckv-worker")
            .enable_all()
            .build()
            .expect("building the tokio runtime"),
    );
    super::profile::startup("tokio runtime", t.elapsed());
    *guard = Some((pid, rt.clone()));
    rt
}
