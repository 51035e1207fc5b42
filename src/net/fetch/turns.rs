//! `Turns`: the archives of one call take the CPU in request order, so they complete one after
//! another (and the caller can keep each while the next is decoded) instead of all at the end.
//! An archive with body bytes to hash, inflate and parse is *ready*; it may work when it is
//! among the `slots` (= cores) lowest-index ready archives, otherwise it keeps downloading and
//! defers its chunks (zero-copy `Bytes`), working through them when its turn comes.
//!
//! Guarantees: work-conserving (the lowest ready archives always work, so nothing waits while
//! a core could run it, and no archive waits on one that is only downloading or backing off);
//! the chunks of a call deferred at once are bounded by `budget` bytes (past it, chunks are
//! worked on at once); a `Place` dropped (archive done, failed, retried or cancelled) leaves
//! the ready set and wakes the waiters.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

/// Deferred chunks of one call at most.
const BUDGET: usize = 64 << 20;

/// The turns of one call.
#[derive(Debug)]
pub struct Turns {
    slots: usize,
    budget: usize,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    ready: BTreeSet<usize>,
    deferred: usize,
}

impl Turns {
    /// Turns for `slots` archives working at once.
    pub fn new(slots: usize) -> Arc<Self> {
        Self::with_budget(slots, BUDGET)
    }

    fn with_budget(slots: usize, budget: usize) -> Arc<Self> {
        Arc::new(Turns {
            slots: slots.max(1),
            budget,
            state: Mutex::default(),
            changed: Notify::new(),
        })
    }

    /// Turns for as many archives at once as this machine has cores.
    pub fn for_cores() -> Arc<Self> {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The place of archive `index` (of one attempt at its body).
    pub fn place(self: &Arc<Self>, index: usize) -> Place {
        Place {
            turns: self.clone(),
            index,
            ready: false,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }
}

impl State {
    fn is_turn(&self, index: usize, slots: usize) -> bool {
        self.ready.range(..index).take(slots).count() < slots
    }
}

/// One archive's place in the turns: its deferred chunks and whether it is ready.
#[derive(Debug)]
pub struct Place {
    turns: Arc<Turns>,
    index: usize,
    ready: bool,
    pending: Vec<Bytes>,
    pending_bytes: usize,
}

impl Place {
    /// A chunk arrived: the chunks to work on now, in order (this one after any deferred), or
    /// none when it is not this archive's turn (the chunk is kept).
    pub fn offer(&mut self, chunk: Bytes) -> Vec<Bytes> {
        let turns = &self.turns;
        let mut st = turns.state();
        if !self.ready {
            st.ready.insert(self.index);
            self.ready = true;
        }
        if st.is_turn(self.index, turns.slots) || st.deferred + chunk.len() > turns.budget {
            st.deferred -= self.pending_bytes;
            self.pending_bytes = 0;
            let mut now = std::mem::take(&mut self.pending);
            now.push(chunk);
            return now;
        }
        st.deferred += chunk.len();
        self.pending_bytes += chunk.len();
        self.pending.push(chunk);
        Vec::new()
    }

    /// The work of this archive is done for now (nothing deferred): leave the ready set so
    /// that higher archives may work while this one downloads.
    pub fn idle(&mut self) {
        if self.ready && self.pending.is_empty() {
            self.leave();
        }
    }

    /// Wait for this archive's turn, then hand out the deferred chunks one by one through
    /// `work` (checking the turn again between them).
    pub async fn drain(&mut self, mut work: impl FnMut(Bytes)) {
        while !self.pending.is_empty() {
            self.wait_turn().await;
            let chunk = self.pending.remove(0);
            {
                let mut st = self.turns.state();
                st.deferred -= chunk.len();
            }
            self.pending_bytes -= chunk.len();
            work(chunk);
        }
        self.idle();
    }

    async fn wait_turn(&self) {
        loop {
            let changed = self.turns.changed.notified();
            tokio::pin!(changed);
            // Registered before looking, so a change in between is not missed.
            changed.as_mut().enable();
            if self.turns.state().is_turn(self.index, self.turns.slots) {
                return;
            }
            changed.await;
        }
    }

    fn leave(&mut self) {
        {
            let mut st = self.turns.state();
            st.ready.remove(&self.index);
            st.deferred -= self.pending_bytes;
        }
        self.pending.clear();
        self.pending_bytes = 0;
        self.ready = false;
        self.turns.changed.notify_waiters();
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.ready {
            self.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(n: usize) -> Bytes {
        Bytes::from(vec![7u8; n])
    }

    #[test]
    fn the_lowest_ready_archives_work_the_others_defer() {
        let turns = Turns::new(2);
        let (mut a, mut b, mut c) = (turns.place(0), turns.place(1), turns.place(2));
        assert_eq!(c.offer(chunk(10)).len(), 1, "alone, archive 2 works");
        c.idle();
        assert_eq!(a.offer(chunk(10)).len(), 1);
        assert_eq!(b.offer(chunk(10)).len(), 1);
        assert!(c.offer(chunk(10)).is_empty(), "0 and 1 are ready: 2 defers");
        assert_eq!(turns.state().deferred, 10);
        // 0 goes idle (downloading): 2 works, with what it had deferred first.
        a.idle();
        assert_eq!(
            c.offer(chunk(5)).iter().map(Bytes::len).collect::<Vec<_>>(),
            [10, 5]
        );
        assert_eq!(turns.state().deferred, 0);
    }

    #[test]
    fn past_the_budget_chunks_are_not_deferred() {
        let turns = Turns::with_budget(1, 100);
        let mut a = turns.place(0);
        let mut b = turns.place(1);
        a.offer(chunk(1));
        assert!(b.offer(chunk(60)).is_empty());
        assert_eq!(
            b.offer(chunk(60)).len(),
            2,
            "over the budget: worked on at once"
        );
        drop(b);
        assert_eq!(turns.state().deferred, 0);
    }

    #[tokio::test]
    async fn a_deferred_archive_drains_when_the_lower_one_is_done() {
        let turns = Turns::new(1);
        let mut a = turns.place(0);
        let mut b = turns.place(1);
        a.offer(chunk(1));
        assert!(b.offer(chunk(3)).is_empty());
        let t = tokio::spawn(async move {
            let mut got = 0;
            b.drain(|c| got += c.len()).await;
            got
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!t.is_finished(), "archive 1 must wait for archive 0");
        drop(a); // done (or cancelled, or failed)
        assert_eq!(t.await.unwrap(), 3);
        assert!(turns.state().ready.is_empty());
    }
}
