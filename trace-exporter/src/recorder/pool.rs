//! Recycled text buffers.
//!
//! Spans are recorded on request threads and dropped on the reporter's thread. With the system
//! allocator, freeing on another thread sends every buffer back through the allocating arena's
//! lock, which the request threads then contend on. The reporter hands the tag and name buffers
//! of the spans it has sent back here instead, and the recorder takes them from here. Both
//! sides only `try_lock`: when the pool is busy, the recorder allocates and the reporter frees,
//! so nobody ever waits on it.
//!
//! Whole span records go round the same way: the recorder fills a recycled `Box<SpanRecord>`
//! (its tag buffer and name buffer included), the reporter queues and encodes the box, and
//! hands it back emptied once the span is sent.

use std::borrow::Cow;
use std::sync::Mutex;

use crate::record::Records;
use crate::SpanRecord;

/// Buffers kept at most, per size class.
const MAX_BUFFERS: [usize; CLASSES] = [2048, 2048, 1024];
/// Larger buffers are freed rather than kept.
const MAX_CAPACITY: usize = 4096;

/// Size classes by capacity: names (under 128 bytes), event texts (128 to 511), tag buffers
/// (512 and up). A request is served from its own class or a larger one, so a tag buffer
/// is never a name's buffer grown (a reallocation costs more than a new buffer).
const CLASSES: usize = 3;
const CLASS_FLOOR: [usize; CLASSES] = [0, 128, 512];

#[allow(
    clippy::declare_interior_mutable_const,
    reason = "only used to initialise the static array"
)]
const EMPTY: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
static POOL: [Mutex<Vec<Vec<u8>>>; CLASSES] = [EMPTY; CLASSES];

/// The class a buffer of `capacity` bytes is kept in.
fn class_of(capacity: usize) -> usize {
    CLASS_FLOOR
        .iter()
        .rposition(|&f| capacity >= f)
        .unwrap_or(0)
}

/// Span records kept at most (each with its buffers, a few hundred bytes).
const MAX_RECORDS: usize = 2048;

static RECORDS: Mutex<Records> = Mutex::new(Vec::new());

/// An emptied span record (as [`give_back_records`] left it), when one is at hand.
pub(crate) fn take_record() -> Option<Box<SpanRecord>> {
    RECORDS.try_lock().ok()?.pop()
}

/// Empties sent span records and keeps them (as many as fit) for the recorder; their
/// annotation texts go to the buffer pool. `records` is left empty. The records are emptied
/// before the pool is locked, so the lock is held only to move the pointers.
pub(crate) fn give_back_records(records: &mut Records) {
    let mut texts = Vec::new();
    records.retain_mut(|record| {
        if record.tags.heap_size() > MAX_CAPACITY {
            return false;
        }
        record.tags.clear();
        match &mut record.name {
            Cow::Owned(name) if name.capacity() <= MAX_CAPACITY => name.clear(),
            name => *name = Cow::Borrowed(""),
        }
        texts.extend(record.annotations.drain(..).map(|a| a.value.into_bytes()));
        // Only the remote name's buffer is kept (the recorder takes it for `net.peer.name`).
        let peer = record
            .remote_endpoint
            .take()
            .and_then(|e| e.service_name)
            .filter(|n| n.capacity() <= MAX_CAPACITY);
        record.remote_endpoint = peer.map(|mut name| {
            name.clear();
            crate::Endpoint {
                service_name: Some(name),
                ..crate::Endpoint::default()
            }
        });
        true
    });
    if let Ok(mut pool) = RECORDS.try_lock() {
        let room = MAX_RECORDS.saturating_sub(pool.len()).min(records.len());
        pool.extend(records.drain(..room));
    }
    // What did not fit is freed here, outside the lock.
    records.clear();
    if !texts.is_empty() {
        give_back(texts.into_iter());
    }
}

/// An empty text buffer with at least `capacity` bytes, recycled when one is at hand.
pub(crate) fn take_string(capacity: usize) -> String {
    // An empty buffer is valid UTF-8: the check is one length test.
    String::from_utf8(take(capacity)).unwrap_or_default()
}

/// An empty buffer with at least `capacity` bytes, recycled when one is at hand.
pub(crate) fn take(capacity: usize) -> Vec<u8> {
    for pool in &POOL[class_of(capacity)..] {
        if let Ok(mut pool) = pool.try_lock() {
            if let Some(mut buf) = pool.pop() {
                drop(pool);
                buf.clear();
                buf.reserve(capacity);
                return buf;
            }
        }
    }
    Vec::with_capacity(capacity)
}

/// Keeps `buffers` for reuse (as many as fit; the rest are freed).
pub(crate) fn give_back(buffers: impl Iterator<Item = Vec<u8>>) {
    let mut pools = POOL.each_ref().map(|p| p.try_lock().ok());
    for buf in buffers {
        if buf.capacity() == 0 || buf.capacity() > MAX_CAPACITY {
            continue;
        }
        let class = class_of(buf.capacity());
        if let Some(pool) = &mut pools[class] {
            if pool.len() < MAX_BUFFERS[class] {
                pool.push(buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_records_come_back_empty() {
        let mut r = SpanRecord::new(
            trace_context::TraceId::random(),
            trace_context::SpanId::random(),
            Cow::Owned("get /a".to_string()),
            Default::default(),
        );
        r.set_tag("k", "v");
        r.remote_endpoint = Some(crate::Endpoint::service("peer"));
        r.annotations.push(crate::Annotation {
            timestamp: 1,
            value: "event".into(),
        });
        let mut records = vec![Box::new(r)];
        give_back_records(&mut records);
        assert!(records.is_empty());
        // Other tests may run in parallel and take it first: only check what comes back.
        while let Some(r) = take_record() {
            assert!(r.tags.is_empty() && r.annotations.is_empty());
            assert!(r.name.is_empty());
            // At most an empty name buffer is left in the remote endpoint, for reuse.
            if let Some(e) = &r.remote_endpoint {
                assert!(e.is_empty());
                assert_eq!(e.service_name.as_deref(), Some(""));
            }
        }
    }

    #[test]
    fn size_classes() {
        assert_eq!(class_of(1), 0);
        assert_eq!(class_of(127), 0);
        assert_eq!(class_of(128), 1);
        assert_eq!(class_of(511), 1);
        assert_eq!(class_of(512), 2);
        assert_eq!(class_of(MAX_CAPACITY), 2);
        // A request for 512 bytes never gets a smaller buffer grown.
        give_back(std::iter::once(Vec::with_capacity(16)));
        assert!(take(512).capacity() >= 512);
    }

    #[test]
    fn reuses_cleared_buffers() {
        let mut b = String::with_capacity(100);
        b.push_str("old text");
        give_back(std::iter::once(b.into_bytes()));
        let again = take_string(10);
        assert!(again.is_empty());
        assert!(again.capacity() >= 10);
    }
}
