//! `ContextLayer`: server/client spans (with `span.kind`) adopt the current context, other spans
//! get a child of it, entering a span makes its context current and exiting restores the previous
//! one, and MDC writes inside a span live as long as the span. A second layer registered after it
//! (as trace-log and trace-exporter are) sees the context in the span's extensions.

use std::sync::{Arc, Mutex, Once};

use trace_context::{mdc, Context, ContextLayer, SpanId, TraceId, WithContext};
use tracing::Instrument;
use tracing_core::span::{Attributes, Id};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// What the spy layer saw when a span was created: name -> (trace id, span id, parent span id).
type Seen = Arc<Mutex<Vec<(String, Option<(TraceId, SpanId, Option<SpanId>)>)>>>;

/// A layer added after `ContextLayer`, reading the span's context the way trace-log and
/// trace-exporter do.
struct Spy(Seen);

impl<S> Layer<S> for Spy
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let span = ctx.span(id).unwrap();
        let got = span
            .extensions()
            .get::<Context>()
            .map(|c| (c.trace_id(), c.span_id(), c.parent_span_id()));
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), got));
    }
}

fn seen() -> Seen {
    static INIT: Once = Once::new();
    static SLOT: Mutex<Option<Seen>> = Mutex::new(None);
    INIT.call_once(|| {
        let seen: Seen = Arc::default();
        *SLOT.lock().unwrap() = Some(Arc::clone(&seen));
        let subscriber = tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(Spy(seen));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    SLOT.lock().unwrap().clone().unwrap()
}

/// The spy's record of the span with this (unique) name.
fn record_of(name: &str) -> Option<(TraceId, SpanId, Option<SpanId>)> {
    seen()
        .lock()
        .unwrap()
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no span named {name}"))
        .1
}

fn request() -> Context {
    Context::builder(TraceId::random())
        .parent_span_id(Some(SpanId::random()))
        .remote_parent(true)
        .field("user", "42")
        .build()
}

#[test]
fn a_span_with_span_kind_adopts_the_current_context() {
    seen();
    let req = request();
    let _g = req.enter();
    let server = tracing::info_span!("adopt.server", span.kind = "server", http.method = "GET");
    let (t, s, p) = record_of("adopt.server").unwrap();
    assert_eq!(
        (t, s, p),
        (req.trace_id(), req.span_id(), req.parent_span_id())
    );
    let _e = server.enter();
    let cur = Context::current().unwrap();
    assert!(cur.ptr_eq(&req) || cur.span_id() == req.span_id());
    assert!(cur.remote_parent());

    // A client span: the caller makes a child context, enters it, opens the span inside.
    let call = Context::current().unwrap().child();
    let _c = call.enter();
    let _client = tracing::info_span!("adopt.client", span.kind = "client").entered();
    let (t, s, p) = record_of("adopt.client").unwrap();
    assert_eq!(t, req.trace_id());
    assert_eq!(s, call.span_id());
    assert_eq!(p, Some(req.span_id()));
}

#[test]
fn a_user_span_gets_a_child_context() {
    seen();
    let req = request();
    let _g = req.enter();
    let load = tracing::info_span!("child.load_order");
    let (t, s, p) = record_of("child.load_order").unwrap();
    assert_eq!(t, req.trace_id());
    assert_ne!(s, req.span_id());
    assert_eq!(p, Some(req.span_id()));

    let _e = load.enter();
    let inside = Context::current().unwrap();
    assert_eq!(inside.span_id(), s);
    assert_eq!(inside.parent_span_id(), Some(req.span_id()));
    assert!(!inside.remote_parent());
    // MDC fields are inherited by the child.
    assert_eq!(mdc::get("user").as_deref(), Some("42"));
    assert_eq!(mdc::get("spanId"), Some(s.to_string()));
    assert_eq!(mdc::get("parentId"), Some(req.span_id().to_string()));

    // Nested: a child of the child.
    let _q = tracing::info_span!("child.query").entered();
    let (t2, s2, p2) = record_of("child.query").unwrap();
    assert_eq!(t2, req.trace_id());
    assert_eq!(p2, Some(s));
    assert_eq!(trace_context::Context::current().unwrap().span_id(), s2);
}

#[test]
fn an_explicit_parent_wins_over_the_current_context() {
    seen();
    let a = request();
    let span_a = a.scope(|| tracing::info_span!("explicit.a"));
    let (_, sa, _) = record_of("explicit.a").unwrap();
    let b = request();
    let _g = b.enter();
    let _x = tracing::info_span!(parent: &span_a, "explicit.x").entered();
    let (t, _, p) = record_of("explicit.x").unwrap();
    assert_eq!(t, a.trace_id());
    assert_eq!(p, Some(sa));
    // A root span (`parent: None`) gets no context at all.
    let root = tracing::info_span!(parent: None, "explicit.root");
    assert_eq!(record_of("explicit.root"), None);
    let _r = root.enter();
    // Entering a span without a context leaves the current one as it is.
    assert_eq!(Context::current().unwrap().trace_id(), a.trace_id());
}

#[test]
fn enter_and_exit_restore_the_previous_context() {
    seen();
    assert!(Context::current().is_none());
    let outside = tracing::info_span!("restore.outside");
    assert_eq!(record_of("restore.outside"), None);
    {
        let _e = outside.enter();
        assert!(Context::current().is_none());
    }

    let req = request();
    let _g = req.enter();
    let a = tracing::info_span!("restore.a");
    let b = a.in_scope(|| tracing::info_span!("restore.b"));
    let (_, sa, _) = record_of("restore.a").unwrap();
    let (_, sb, pb) = record_of("restore.b").unwrap();
    assert_eq!(pb, Some(sa));
    {
        let _ea = a.enter();
        assert_eq!(Context::current().unwrap().span_id(), sa);
        {
            let _eb = b.enter();
            assert_eq!(Context::current().unwrap().span_id(), sb);
        }
        assert_eq!(Context::current().unwrap().span_id(), sa);
        // Re-entering the same span (nested) and leaving it again.
        {
            let _again = a.enter();
            assert_eq!(Context::current().unwrap().span_id(), sa);
        }
        assert_eq!(Context::current().unwrap().span_id(), sa);
    }
    assert_eq!(Context::current().unwrap().span_id(), req.span_id());
    drop(_g);
    assert!(Context::current().is_none());
    // Entering a span that has a context installs it even when nothing is current.
    let _eb = b.enter();
    assert_eq!(Context::current().unwrap().span_id(), sb);
}

#[test]
fn mdc_writes_inside_a_span_live_as_long_as_the_span() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("mdc.span");
    {
        let _e = span.enter();
        assert!(mdc::put("orderId", "1001"));
        assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
        // A span opened inside sees the field.
        let _inner = tracing::info_span!("mdc.inner").entered();
        assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
    }
    // Not outside the span...
    assert_eq!(mdc::get("orderId"), None);
    assert_eq!(req.field("orderId"), None);
    // ...but again when the span is re-entered.
    {
        let _e = span.enter();
        assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
        assert!(mdc::remove("orderId"));
    }
    let _e = span.enter();
    assert_eq!(mdc::get("orderId"), None);
}

#[test]
fn an_enter_refused_inside_with_current_is_not_undone_on_exit() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("refused.span");
    let outer = span.enter();
    let own = Context::current().unwrap();
    assert_eq!(own.parent_span_id(), Some(req.span_id()));
    Context::with_current(|_| {
        // The slot is being read: this enter cannot swap, so its exit must not undo the outer
        // enter of the same span.
        let _inner = span.enter();
    });
    assert!(Context::current().unwrap().ptr_eq(&own));
    drop(outer);
    assert!(Context::current().unwrap().ptr_eq(&req));
}

#[test]
fn an_unchanged_context_is_restored_as_it_was_and_a_changed_one_is_kept() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("unchanged.span");
    let first = {
        let _e = span.enter();
        Context::current().unwrap()
    };
    assert!(Context::current().unwrap().ptr_eq(&req));
    // Entered again without a change: the same snapshot.
    let again = {
        let _e = span.enter();
        Context::current().unwrap()
    };
    assert!(again.ptr_eq(&first));
    // A change inside is kept for the next enter, and the request's context is untouched.
    {
        let _e = span.enter();
        assert!(mdc::put("step", "2"));
    }
    let _e = span.enter();
    assert_eq!(mdc::get("step").as_deref(), Some("2"));
    assert_eq!(Context::current().unwrap().span_id(), first.span_id());
    assert_eq!(req.field("step"), None);
}

#[test]
fn instrumented_futures_on_a_multi_thread_runtime() {
    seen();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut hs = Vec::new();
        for _ in 0..200 {
            let req = request();
            let expected_parent = req.span_id();
            let span = req.scope(|| tracing::info_span!("instrumented.work"));
            let fut = async move {
                let mut seen_spans = Vec::new();
                for _ in 0..5 {
                    let c = Context::current().unwrap();
                    seen_spans.push(c.span_id());
                    assert_eq!(c.parent_span_id(), Some(expected_parent));
                    mdc::put("step", "x");
                    tokio::task::yield_now().await;
                }
                seen_spans
            }
            .instrument(span)
            .with_context(req.clone());
            hs.push((req, tokio::spawn(fut)));
        }
        for (req, h) in hs {
            let spans = h.await.unwrap();
            // The same span id at every poll: the span's own, a child of the request.
            assert!(spans.windows(2).all(|w| w[0] == w[1]));
            assert_ne!(spans[0], req.span_id());
        }
        // Workers are left clean.
        assert_eq!(
            tokio::spawn(async { trace_context::current_trace_id() })
                .await
                .unwrap(),
            None
        );
    });
}

#[test]
fn nested_enters_of_one_span_keep_the_outer_change() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("nested.same");
    {
        let _outer = span.enter();
        {
            // The same span entered again inside itself, changing the MDC: the span's copy is
            // replaced when this enter ends.
            let _inner = span.enter();
            assert!(mdc::put("inner", "1"));
        }
        // The outer enter's snapshot is unchanged so far; a change now must still be seen by
        // its exit (the snapshot it installed must not be changed in place).
        assert_eq!(mdc::get("inner"), None);
        assert!(mdc::put("outer", "2"));
    }
    let _e = span.enter();
    assert_eq!(mdc::get("outer").as_deref(), Some("2"));
}

#[test]
fn nested_enters_of_one_span_keep_the_inner_change_when_the_outer_makes_none() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("nested.inner_only");
    {
        let _outer = span.enter();
        {
            let _inner = span.enter();
            assert!(mdc::put("inner", "1"));
        }
    }
    let _e = span.enter();
    assert_eq!(mdc::get("inner").as_deref(), Some("1"));
}

#[test]
fn scope_in_span_installs_the_context_once_and_keeps_changes_in_it() {
    seen();
    let req = request();
    let server = req.scope(|| tracing::info_span!("scope.server", span.kind = "server"));
    let mut context = Some(req.clone());
    let child = trace_context::scope_in_span(&server, &mut context, || {
        let c = Context::current().unwrap();
        assert_eq!((c.trace_id(), c.span_id()), (req.trace_id(), req.span_id()));
        assert!(mdc::put("orderId", "1001"));
        // A span opened inside is a child of the context, and sees the change.
        let child = tracing::info_span!("scope.child");
        let _e = child.enter();
        assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
        Context::current().unwrap()
    });
    assert_eq!(child.parent_span_id(), Some(req.span_id()));
    assert_eq!(record_of("scope.child").unwrap().2, Some(req.span_id()));
    // Both the span and the context are left.
    assert!(Context::current().is_none());
    assert_eq!(context.as_ref().unwrap().field("orderId"), Some("1001"));
    assert_eq!(req.field("orderId"), None);
    // The next call sees the change; an outer context is restored after it.
    let outer = request();
    let _g = outer.enter();
    trace_context::scope_in_span(&server, &mut context, || {
        assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
        assert_eq!(Context::current().unwrap().span_id(), req.span_id());
    });
    assert!(Context::current().unwrap().ptr_eq(&outer));
    // Entering the span the ordinary way afterwards still installs its own context.
    let _e = server.enter();
    assert_eq!(Context::current().unwrap().span_id(), req.span_id());
}

#[test]
fn scope_in_span_without_the_layer_or_a_subscriber_still_installs_the_context() {
    seen();
    let req = request();
    let mut context = Some(req.clone());
    let check = || {
        assert_eq!(Context::current().map(|c| c.span_id()), Some(req.span_id()));
    };
    // A disabled span (no subscriber sees it).
    trace_context::scope_in_span(&tracing::Span::none(), &mut context, check);
    // A subscriber without ContextLayer.
    let plain = tracing_subscriber::registry();
    tracing::subscriber::with_default(plain, || {
        let span = tracing::info_span!("plain.span");
        assert!(span.id().is_some());
        trace_context::scope_in_span(&span, &mut context, check);
    });
    assert!(Context::current().is_none());
}

#[test]
fn an_unused_notice_to_the_layer_is_not_left_for_another_span() {
    // Two fresh registries number their spans alike: the first span of each has the same id.
    let plain = tracing_subscriber::registry();
    let layered = tracing_subscriber::registry().with(ContextLayer::new());
    let plain_dispatch = tracing::Dispatch::new(plain);
    let layered_dispatch = tracing::Dispatch::new(layered);
    let req = request();
    let mut context = Some(req.clone());
    let plain_span = tracing::dispatcher::with_default(&plain_dispatch, || {
        let span = tracing::info_span!("notice.plain");
        trace_context::scope_in_span(&span, &mut context, || ());
        span
    });
    tracing::dispatcher::with_default(&layered_dispatch, || {
        let _g = req.enter();
        let span = tracing::info_span!("notice.layered");
        assert_eq!(span.id(), plain_span.id());
        drop(_g);
        // The notice given for the plain registry's span must not make this enter skip
        // installing the span's context.
        let _e = span.enter();
        let c = Context::current().expect("the span's context is installed");
        assert_eq!(c.parent_span_id(), Some(req.span_id()));
    });
}

#[test]
fn a_panic_inside_scope_in_span_leaves_an_outer_enter_of_the_span_in_place() {
    seen();
    let req = request();
    let _g = req.enter();
    let span = tracing::info_span!("panic.scope");
    let own = span.in_scope(|| Context::current().unwrap());
    let outer = span.enter();
    assert!(Context::current().unwrap().ptr_eq(&own));
    let mut context = Some(request());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trace_context::scope_in_span(&span, &mut context, || panic!("handler failed"))
    }));
    assert!(caught.is_err());
    // The unwinding exit was announced too: the outer enter is still on the layer's stack and
    // its context current, and its own exit restores the request's context.
    assert!(Context::current().unwrap().ptr_eq(&own));
    assert!(context.is_some());
    drop(outer);
    assert!(Context::current().unwrap().ptr_eq(&req));
}

#[test]
fn a_change_made_on_another_thread_is_seen_when_the_span_is_entered_again_here() {
    seen();
    let req = request();
    let _g = req.enter();
    // Created and entered here: the layer keeps its context at hand for the next enter here.
    let span = tracing::info_span!("moved.span");
    let own = span.in_scope(|| Context::current().unwrap());
    // Entered on another thread, where the MDC is changed inside it.
    std::thread::scope(|s| {
        s.spawn(|| {
            let _e = span.enter();
            assert_eq!(Context::current().unwrap().span_id(), own.span_id());
            assert!(mdc::put("elsewhere", "1"));
        });
    });
    // Entered here again: the change made there is seen.
    let _e = span.enter();
    assert_eq!(mdc::get("elsewhere").as_deref(), Some("1"));
    assert_eq!(Context::current().unwrap().span_id(), own.span_id());
}

#[test]
fn spans_of_two_subscribers_with_the_same_id_keep_their_own_contexts() {
    // Two fresh registries number their spans alike: the first span of each has the same id.
    let first = tracing::Dispatch::new(tracing_subscriber::registry().with(ContextLayer::new()));
    let second = tracing::Dispatch::new(tracing_subscriber::registry().with(ContextLayer::new()));
    let (a, b) = (request(), request());
    let span_b = tracing::dispatcher::with_default(&second, || {
        b.scope(|| tracing::info_span!("second.span", span.kind = "server"))
    });
    // Created after it, on this thread, with the same id.
    let span_a = tracing::dispatcher::with_default(&first, || {
        a.scope(|| tracing::info_span!("first.span", span.kind = "server"))
    });
    assert_eq!(span_a.id(), span_b.id());
    tracing::dispatcher::with_default(&second, || {
        let _e = span_b.enter();
        assert!(Context::current().unwrap().ptr_eq(&b));
    });
    tracing::dispatcher::with_default(&first, || {
        let _e = span_a.enter();
        assert!(Context::current().unwrap().ptr_eq(&a));
    });
}

#[test]
fn a_span_made_outside_any_context_with_the_id_of_a_closed_span_gets_no_context() {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(ContextLayer::new()));
    tracing::dispatcher::with_default(&dispatch, || {
        let req = request();
        let inside = req.scope(|| tracing::info_span!("reuse.inside"));
        let id = inside.id();
        drop(inside);
        // The registry hands the closed span's slot out again, with a new generation each
        // time, until the generation wraps and the id itself comes back.
        let reused = (0..1u32 << 20)
            .map(|_| tracing::info_span!("reuse.outside"))
            .find(|span| span.id() == id)
            .expect("the registry reuses a span id once its generation wraps");
        let _e = reused.enter();
        assert!(Context::current().is_none());
    });
}
