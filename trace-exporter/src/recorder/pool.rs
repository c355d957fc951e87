//! Recycled text buffers.
//!
//! Spans are recorded on request threads and dropped on the reporter's thread. With the system
//! allocator, freeing on another thread sends every buffer back through the allocating arena's
//! lock, which the request threads then contend on. The reporter hands the tag and name buffers
//! of the spans it has sent back here instead, and the recorder takes them from here. Both
//! sides only `try_lock`: when the pool is busy, the recorder allocates and the reporter frees,
//! so nobody ever waits on it.

use std::sync::Mutex;

/// Buffers kept at most.
const MAX_BUFFERS: usize = 4096;
/// Larger buffers are freed rather than kept.
const MAX_CAPACITY: usize = 4096;

static POOL: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// An empty buffer with at least `capacity` bytes, recycled when one is at hand.
pub(crate) fn take(capacity: usize) -> String {
    if let Ok(mut pool) = POOL.try_lock() {
        if let Some(mut buf) = pool.pop() {
            drop(pool);
            buf.clear();
            buf.reserve(capacity);
            return buf;
        }
    }
    String::with_capacity(capacity)
}

/// Keeps `buffers` for reuse (as many as fit; the rest are freed).
pub(crate) fn give_back(buffers: impl Iterator<Item = String>) {
    let Ok(mut pool) = POOL.try_lock() else {
        return;
    };
    for buf in buffers {
        if pool.len() >= MAX_BUFFERS {
            break;
        }
        if buf.capacity() > 0 && buf.capacity() <= MAX_CAPACITY {
            pool.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_cleared_buffers() {
        let mut b = String::with_capacity(100);
        b.push_str("old text");
        give_back(std::iter::once(b));
        let again = take(10);
        assert!(again.is_empty());
        assert!(again.capacity() >= 10);
    }
}
