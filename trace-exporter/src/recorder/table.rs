//! The recordings of the spans being recorded, by span id.
//!
//! `tracing-subscriber`'s span extensions would box each recording once more and hash its type
//! on every insert, lookup and removal, and reaching them needs the span looked up in the
//! registry first. This table keeps the recordings by value, keyed by the span's id, in a few
//! shards behind plain mutexes: closing a span and recording a field reach the recording from
//! the id alone, without looking the span up.
//!
//! No user code runs under a shard lock except the field visitor of `on_record` (a value's
//! `Debug` impl). A callback re-entered from such code on the same thread only ever
//! `try_lock`s, so it can never deadlock: at worst it skips what it would have recorded.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

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

thread_local! {
    /// True while this thread runs user code under a shard lock (see the module docs).
    static VISITING: Cell<bool> = const { Cell::new(false) };
}

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

    /// The shard of `id`, locked; `None` only when re-entered from user code on this thread
    /// and the shard is busy.
    #[inline]
    fn shard(&self, id: &Id) -> Option<MutexGuard<'_, Shard>> {
        self.lock(id, VISITING.with(Cell::get))
    }

    /// The shard of `id`, locked, or only tried when `reentered`.
    #[inline]
    fn lock(&self, id: &Id, reentered: bool) -> Option<MutexGuard<'_, Shard>> {
        let shard = &self.shards[(id.into_u64() as usize) % SHARDS];
        if reentered {
            // A shard poisoned by a panic in user code (a field's `Debug`) is still usable:
            // the recording is only ever left between whole updates.
            return match shard.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
        }
        Some(shard.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds the recording of a new span (replacing a stale one under a reused id).
    pub(crate) fn insert(&self, id: &Id, rec: Recording) {
        if let Some(mut shard) = self.shard(id) {
            if shard.insert(id.into_u64(), rec).is_none() {
                self.live.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Takes a span's recording out (the span closed).
    pub(crate) fn remove(&self, id: &Id) -> Option<Recording> {
        let rec = self.shard(id)?.remove(&id.into_u64())?;
        self.live.fetch_sub(1, Ordering::AcqRel);
        Some(rec)
    }

    /// Runs `f` on a span's recording, `None` when it has none. `f` must not run user code
    /// (see [`Table::visit`]).
    #[inline]
    pub(crate) fn with<R>(&self, id: &Id, f: impl FnOnce(&mut Recording) -> R) -> Option<R> {
        self.shard(id)?.get_mut(&id.into_u64()).map(f)
    }

    /// Runs `f`, which may call user code (a field visitor), on a span's recording: callbacks
    /// re-entered from it on this thread do not wait for a lock.
    pub(crate) fn visit(&self, id: &Id, f: impl FnOnce(&mut Recording)) {
        VISITING.with(|visiting| {
            let outer = visiting.get();
            let Some(mut shard) = self.lock(id, outer) else {
                return;
            };
            let Some(rec) = shard.get_mut(&id.into_u64()) else {
                return;
            };
            visiting.set(true);
            // Reset even if `f` unwinds.
            let _reset = Reset(visiting, outer);
            f(rec);
        });
    }
}

/// Restores the thread's `VISITING` flag when dropped.
struct Reset<'a>(&'a Cell<bool>, bool);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        self.0.set(self.1);
    }
}
