//! A bounded memo for generated things (days of trades, archives): built once per key even
//! when many requests ask at the same moment (the others wait for the first), evicted least
//! recently used once the byte budget is exceeded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

struct Entry<V> {
    cell: Arc<OnceLock<V>>,
    size: usize,
    used: u64,
}

struct Inner<V> {
    map: HashMap<String, Entry<V>>,
    tick: u64,
    total: usize,
}

/// Key → value memo with an LRU byte budget.
pub struct Memo<V> {
    inner: Mutex<Inner<V>>,
    budget: usize,
}

impl<V: Clone> Memo<V> {
    /// An empty memo holding about `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Memo {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                tick: 0,
                total: 0,
            }),
            budget,
        }
    }

    /// The value of `key`, built by `build` if absent. `size` measures a built value.
    pub fn get_or_build(
        &self,
        key: &str,
        build: impl FnOnce() -> V,
        size: impl Fn(&V) -> usize,
    ) -> V {
        let cell = {
            let mut g = self.lock();
            g.tick += 1;
            let tick = g.tick;
            let e = g.map.entry(key.to_string()).or_insert_with(|| Entry {
                cell: Arc::new(OnceLock::new()),
                size: 0,
                used: tick,
            });
            e.used = tick;
            e.cell.clone()
        };
        let mut built = false;
        let v = cell
            .get_or_init(|| {
                built = true;
                build()
            })
            .clone();
        if built {
            let mut g = self.lock();
            let n = size(&v);
            if let Some(e) = g.map.get_mut(key) {
                e.size = n;
                g.total += n;
            }
            self.evict(&mut g, key);
        }
        v
    }

    /// Forget everything.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.map.clear();
        g.total = 0;
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn evict(&self, g: &mut Inner<V>, keep: &str) {
        while g.total > self.budget {
            let victim = g
                .map
                .iter()
                .filter(|(k, e)| k.as_str() != keep && e.cell.get().is_some())
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(k) = victim else { break };
            if let Some(e) = g.map.remove(&k) {
                g.total -= e.size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_and_evicts_oldest() {
        let m: Memo<Arc<Vec<u8>>> = Memo::new(250);
        let mut calls = 0;
        for _ in 0..3 {
            m.get_or_build(
                "a",
                || {
                    calls += 1;
                    Arc::new(vec![0; 100])
                },
                |v| v.len(),
            );
        }
        assert_eq!(calls, 1);
        m.get_or_build("b", || Arc::new(vec![0; 100]), |v| v.len());
        m.get_or_build("c", || Arc::new(vec![0; 100]), |v| v.len());
        assert_eq!(m.bytes(), 200);
        let mut rebuilt = false;
        m.get_or_build(
            "a",
            || {
                rebuilt = true;
                Arc::new(vec![])
            },
            |v| v.len(),
        );
        assert!(rebuilt, "a was the least recently used");
    }
}
