//! The recordings of the spans being recorded, by span id.
//!
//! `tracing-subscriber`'s span extensions would box each recording once more and hash its type
//! on every insert, lookup and removal, and reaching them needs the span looked up in the
//! registry first. This table keeps the recordings by value, keyed by the span's id, in a few
//! shards behind plain mutexes: closing a span and recording a field reach the recording from
//! the id alone, without looking the span up.
//!
//! No user code runs under a shard lock: field values are formatted (a value's `Debug` or
//! `Display`) before the recording is locked (see `PendingFields`), so a value that logs, or
//! that waits for another thread which is recording a span, cannot deadlock the recorder.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use tracing_core::span::Id;

use super::fields::Recording;

/// Shards: spans recorded at once on different threads rarely share one.
const SHARDS: usize = 16;

/// Hashes a span id (a slab index and generation: small numbers) with one multiplication, so
/// both the low bits (bucket) and the high bits (hashbrown's tag) vary.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Shard = HashMap<u64, Recording, BuildHasherDefault<IdHasher>>;

/// The recordings in progress, by span id.
pub(crate) struct Table {
    shards: [Mutex<Shard>; SHARDS],
    /// Recordings in the table: while it is zero, callbacks return without locking.
    live: AtomicUsize,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            live: AtomicUsize::new(0),
        }
    }
}

impl Table {
    /// True when nothing is being recorded.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live.load(Ordering::Acquire) == 0
    }

    /// The shard of `id`, locked. A shard poisoned by a panic is still usable: the recordings
    /// are only ever left between whole updates.
    #[inline]
    fn shard(&self, id: &Id) -> MutexGuard<'_, Shard> {
        let shard = &self.shards[(id.into_u64() as usize) % SHARDS];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the recording of a new span (replacing a stale one under a reused id).
    pub(crate) fn insert(&self, id: &Id, rec: Recording) {
        if self.shard(id).insert(id.into_u64(), rec).is_none() {
            self.live.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Takes a span's recording out (the span closed).
    pub(crate) fn remove(&self, id: &Id) -> Option<Recording> {
        let rec = self.shard(id).remove(&id.into_u64())?;
        self.live.fetch_sub(1, Ordering::AcqRel);
        Some(rec)
    }

    /// Runs `f` on a span's recording, `None` when it has none. `f` must not run user code
    /// (see the module docs).
    #[inline]
    pub(crate) fn with<R>(&self, id: &Id, f: impl FnOnce(&mut Recording) -> R) -> Option<R> {
        self.shard(id).get_mut(&id.into_u64()).map(f)
    }
}
