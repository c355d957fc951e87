//! The current thread's name, computed once per thread.

use std::cell::OnceCell;

thread_local! {
    static NAME: OnceCell<Box<str>> = const { OnceCell::new() };
}

fn compute() -> Box<str> {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.into(),
        None => format!("{:?}", thread.id()).into_boxed_str(),
    }
}

/// Runs `f` with the current thread's name (`ThreadId(N)` for unnamed threads). Allocates only
/// the first time on each thread.
pub(crate) fn with<R>(mut f: impl FnMut(&str) -> R) -> R {
    match NAME.try_with(|cell| f(cell.get_or_init(compute))) {
        Ok(r) => r,
        // The thread is being torn down: compute without caching.
        Err(_) => f(&compute()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn named_and_unnamed_threads() {
        let named = std::thread::Builder::new()
            .name("worker-7".into())
            .spawn(|| super::with(str::to_owned))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(named, "worker-7");
        let unnamed = std::thread::spawn(|| super::with(str::to_owned))
            .join()
            .unwrap();
        assert!(unnamed.starts_with("ThreadId("), "{unnamed}");
    }
}
