//! A cache of values that expire: what `serve` and `authz` keep their verification outcomes in,
//! bounded so that a flood of new keys can neither grow it nor flush what it holds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most values kept (an entry is a digest and a short message).
pub const CACHE_LIMIT: usize = 10_000;

/// Values by key, each for `ttl` after it was put, at most [`CACHE_LIMIT`] of them (when full,
/// the expired ones go; if none has, the new value is not kept: what is kept is never flushed by a
/// flood of new keys).
pub struct ExpiringMap<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> ExpiringMap<V> {
    pub fn new(ttl: Duration) -> Self {
        ExpiringMap {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value under `key` and how long ago it was put, unless it expired.
    pub fn get(&self, key: &str) -> Option<(Duration, V)> {
        let entries = lock(&self.entries);
        let (at, value) = entries.get(key)?;
        let age = at.elapsed();
        (age < self.ttl).then(|| (age, value.clone()))
    }

    pub fn put(&self, key: &str, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = lock(&self.entries);
        if entries.len() >= CACHE_LIMIT && !entries.contains_key(key) {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= CACHE_LIMIT {
                return;
            }
        }
        entries.insert(key.to_string(), (Instant::now(), value));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiring_map_forgets_after_its_ttl() {
        let kept = ExpiringMap::new(Duration::from_secs(3600));
        kept.put("a", 1);
        assert_eq!(kept.get("a").map(|(_, v)| v), Some(1));
        assert_eq!(kept.get("b"), None);
        let brief = ExpiringMap::new(Duration::from_millis(1));
        brief.put("a", 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(brief.get("a"), None, "expired");
        let off = ExpiringMap::new(Duration::ZERO);
        off.put("a", 1);
        assert_eq!(off.get("a"), None, "a zero ttl keeps nothing");
    }

    /// A flood of new keys neither grows the map past its limit nor flushes what it holds.
    #[test]
    fn expiring_map_full_keeps_what_it_holds() {
        let map = ExpiringMap::new(Duration::from_secs(3600));
        for i in 0..CACHE_LIMIT {
            map.put(&format!("k{i}"), i);
        }
        map.put("flood", 0);
        assert_eq!(map.get("flood"), None);
        assert_eq!(map.get("k0").map(|(_, v)| v), Some(0));
        assert_eq!(lock(&map.entries).len(), CACHE_LIMIT);
        map.put("k0", 7);
        assert_eq!(
            map.get("k0").map(|(_, v)| v),
            Some(7),
            "a held key is updated"
        );
    }
}
