//! The thread-local slot that holds the current context.
//!
//! Reads borrow the slot (no lock, no allocation); changes swap it. A change attempted while a
//! read of the same thread is in progress (from inside [`crate::Context::with_current`]) is refused
//! rather than panicking.

use std::cell::RefCell;

use crate::Context;

thread_local! {
    static CURRENT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

/// Runs `f` with the current context borrowed.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let mut f = Some(f);
    let out = CURRENT.try_with(|slot| match slot.try_borrow() {
        Ok(c) => (f.take().expect("called once"))(c.as_ref()),
        Err(_) => (f.take().expect("called once"))(None),
    });
    match out {
        Ok(r) => r,
        // The thread is being torn down: there is no context any more.
        Err(_) => (f.take().expect("called once"))(None),
    }
}

/// Swaps the slot with `value` in place: after the call `value` holds what was current.
#[inline]
pub(crate) fn swap(value: &mut Option<Context>) {
    let _ = CURRENT.try_with(|slot| {
        if let Ok(mut cur) = slot.try_borrow_mut() {
            std::mem::swap(&mut *cur, value);
        }
    });
}

/// Installs `next`, or gives it back when the slot cannot be changed now.
#[inline]
pub(crate) fn try_replace(next: Option<Context>) -> Result<Option<Context>, Option<Context>> {
    let mut next = Some(next);
    let res = CURRENT.try_with(|slot| match slot.try_borrow_mut() {
        Ok(mut cur) => Ok(std::mem::replace(&mut *cur, next.take().expect("once"))),
        Err(_) => Err(()),
    });
    match res {
        Ok(Ok(prev)) => Ok(prev),
        _ => Err(next.take().unwrap_or(None)),
    }
}

/// Changes the current context in place; `false` when there is none or it cannot be changed now.
pub(crate) fn modify(f: impl FnOnce(&mut Context) -> bool) -> bool {
    CURRENT
        .try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut cur) => match cur.as_mut() {
                Some(ctx) => f(ctx),
                None => false,
            },
            Err(_) => false,
        })
        .unwrap_or(false)
}
