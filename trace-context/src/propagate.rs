//! Carrying the context into closures run elsewhere: threads, thread pools, rayon.

use crate::Context;

/// Wraps a closure so it runs inside the caller's current context (or, outside any, a new root
/// context), wherever it runs: `std::thread::spawn`, rayon, any executor taking `FnOnce`.
/// The closure gets a snapshot: its MDC changes never reach the caller.
///
/// ```
/// use trace_context::Context;
/// let ctx = Context::new_root();
/// let _g = ctx.enter();
/// let seen = std::thread::spawn(trace_context::wrap(|| trace_context::current_trace_id()))
///     .join()
///     .unwrap();
/// assert_eq!(seen, Some(ctx.trace_id()));
/// ```
pub fn wrap<F, R>(f: F) -> impl FnOnce() -> R + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
{
    let ctx = Context::current_or_new_root();
    move || ctx.scope(f)
}

/// Wraps a function called many times (e.g. by `rayon`'s `par_iter().map(...)`) so that every
/// call runs inside the caller's current context (or a new root context outside any).
///
/// ```
/// use trace_context::Context;
/// let ctx = Context::new_root();
/// let _g = ctx.enter();
/// let f = trace_context::wrap_fn(|x: u32| (x, trace_context::current_trace_id()));
/// let out: Vec<_> = std::thread::scope(|s| s.spawn(|| (0..3).map(&f).collect()).join().unwrap());
/// assert!(out.iter().all(|(_, id)| *id == Some(ctx.trace_id())));
/// ```
pub fn wrap_fn<F, A, R>(f: F) -> impl Fn(A) -> R + Send + Sync + 'static
where
    F: Fn(A) -> R + Send + Sync + 'static,
{
    let ctx = Context::current_or_new_root();
    move |a| ctx.scope(|| f(a))
}

/// `tokio::spawn` that inherits the caller's context (a snapshot), or starts a new trace when
/// the caller has none.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use trace_context::Context;
/// let ctx = Context::new_root();
/// let _g = ctx.enter();
/// let seen = trace_context::spawn(async { trace_context::current_trace_id() }).await.unwrap();
/// assert_eq!(seen, Some(ctx.trace_id()));
/// # }
/// ```
#[cfg(feature = "tokio")]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use crate::WithContext;
    tokio::spawn(future.in_current_context())
}

/// `tokio::task::spawn_blocking` that inherits the caller's context (a snapshot), or starts a
/// new trace when the caller has none.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ctx = trace_context::Context::new_root();
/// let _g = ctx.enter();
/// let seen = trace_context::spawn_blocking(|| trace_context::current_trace_id()).await.unwrap();
/// assert_eq!(seen, Some(ctx.trace_id()));
/// # }
/// ```
#[cfg(feature = "tokio")]
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(wrap(f))
}
