//! The recorder layer on its own: what a sampled span becomes, and that unsampled spans
//! leave nothing behind.

use std::time::Duration;

use trace_context::{AppTraceId, Context, ContextLayer, Sampling, SpanId, TraceId};
use trace_exporter::{Kind, MemorySink, Reporter, ZipkinLayer};
use tracing_subscriber::layer::SubscriberExt;

fn with_recorder<R>(sink: &MemorySink, f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(ZipkinLayer::new(sink.clone(), "shop"));
    tracing::subscriber::with_default(subscriber, f)
}

fn request(sampling: Sampling) -> Context {
    Context::builder(TraceId::random())
        .parent_span_id(Some(SpanId::random()))
        .remote_parent(true)
        .sampling(sampling)
        .build()
}

#[test]
fn unsampled_spans_are_not_recorded() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::NotSampled);
        let _g = ctx.enter();
        let span = tracing::info_span!("http.server", span.kind = "server", http.method = "GET");
        span.in_scope(|| {
            tracing::info!("inside");
            tracing::info_span!("child").in_scope(|| {});
        });
    });
    // Outside any context too.
    with_recorder(&sink, || tracing::info_span!("no context").in_scope(|| {}));
    assert!(sink.is_empty());
}

#[test]
fn server_span_like_brave() {
    let sink = MemorySink::new();
    let ctx = Context::builder(TraceId::random())
        .parent_span_id(Some(SpanId::random()))
        .remote_parent(true)
        .sampling(Sampling::Sampled)
        .app_trace_id(AppTraceId::parse(b"web-1716268000123-42").unwrap())
        .build();
    with_recorder(&sink, || {
        let _g = ctx.enter();
        let span = tracing::info_span!(
            "http.server",
            span.kind = "server",
            service.name = tracing::field::Empty,
            http.method = "GET",
            http.path = "/order/1001",
            http.route = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            error = tracing::field::Empty,
            net.peer.ip = "127.0.0.1",
            net.peer.port = 50312u64,
        );
        span.record("service.name", "order");
        span.record("http.route", "/order/{id}");
        span.in_scope(|| {
            tracing::info!(order = 1001, "loading");
            let user = tracing::info_span!("load order", order.id = 1001);
            user.in_scope(|| tracing::warn!("cache miss"));
        });
        span.record("http.status_code", 503u64);
        span.record("error", "503");
    });
    let spans = sink.spans();
    assert_eq!(spans.len(), 2);
    let (user, server) = (&spans[0], &spans[1]);
    assert_eq!(server.trace_id, ctx.trace_id());
    assert_eq!(server.id, ctx.span_id());
    assert_eq!(server.parent_id, ctx.parent_span_id());
    assert_eq!(server.kind, Some(Kind::Server));
    assert!(server.shared);
    assert!(!server.debug);
    assert_eq!(server.name, "get /order/{id}");
    assert_eq!(server.service_name(), Some("order"));
    assert_eq!(server.tag("http.method"), Some("GET"));
    assert_eq!(server.tag("http.path"), Some("/order/1001"));
    assert_eq!(server.tag("http.route"), Some("/order/{id}"));
    assert_eq!(server.tag("http.status_code"), Some("503"));
    assert_eq!(server.tag("error"), Some("503"));
    assert_eq!(server.tag("app.trace_id"), Some("web-1716268000123-42"));
    let remote = server.remote_endpoint.as_ref().unwrap();
    assert_eq!(remote.ipv4, Some(std::net::Ipv4Addr::LOCALHOST));
    assert_eq!(remote.port, Some(50312));
    assert_eq!(server.annotations.len(), 1);
    assert_eq!(server.annotations[0].value, "loading order=1001");
    assert!(server.timestamp > 1_600_000_000_000_000 && server.duration >= 1);
    // The user span: own id, parent = the server span, same service, not shared.
    assert_eq!(user.trace_id, ctx.trace_id());
    assert_eq!(user.parent_id, Some(server.id));
    assert_ne!(user.id, server.id);
    assert_eq!(user.kind, None);
    assert!(!user.shared);
    assert_eq!(user.name, "load order");
    assert_eq!(user.service_name(), Some("order"));
    assert_eq!(user.tag("order.id"), Some("1001"));
    assert_eq!(user.annotations[0].value, "cache miss");
    assert!(user.timestamp >= server.timestamp);
    assert!(user.end() <= server.end());
}

#[test]
fn events_become_annotations_message_first() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        tracing::info_span!("work").in_scope(|| {
            tracing::info!(list = ?vec![1, 2], "got {} rows", 3);
            tracing::info!(a = 1, b = "x");
            tracing::info!(message = "explicit", k = true);
            tracing::warn!(k = 2, message = "after the pairs");
            tracing::info!("{}", "é".repeat(4000));
        });
    });
    let spans = sink.spans();
    let values: Vec<&str> = spans[0]
        .annotations
        .iter()
        .map(|a| a.value.as_str())
        .collect();
    assert_eq!(
        &values[..4],
        [
            "got 3 rows list=[1, 2]",
            "a=1 b=x",
            "explicit k=true",
            "after the pairs k=2"
        ]
    );
    // Long text is cut at the tag bound, on a character boundary.
    assert!(values[4].len() <= trace_exporter::MAX_TAG_VALUE);
    assert!(values[4].len() > trace_exporter::MAX_TAG_VALUE - 4);
    assert!(values[4].chars().all(|c| c == 'é'));
}

#[test]
fn client_span_names_and_remote_endpoint() {
    let sink = MemorySink::new();
    let ctx = request(Sampling::Debug);
    with_recorder(&sink, || {
        let client = ctx.child();
        let _g = client.enter();
        let span = tracing::info_span!(
            "http.client",
            span.kind = "client",
            http.method = "POST",
            http.url = "http://user-service:8081/users",
            net.peer.name = "user-service",
            net.peer.port = 8081u64,
            error = tracing::field::Empty,
        );
        span.record("error", false);
        drop(span);
    });
    let s = &sink.spans()[0];
    assert_eq!(s.kind, Some(Kind::Client));
    assert_eq!(s.name, "post");
    assert!(s.debug, "B3 debug is written as debug: true");
    assert!(!s.shared);
    assert_eq!(s.tag("error"), None, "error = false is not an error");
    let remote = s.remote_endpoint.as_ref().unwrap();
    assert_eq!(remote.service_name.as_deref(), Some("user-service"));
    assert_eq!(remote.port, Some(8081));
    let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(json["kind"], "CLIENT");
    assert_eq!(json["debug"], true);
    assert_eq!(json["localEndpoint"]["serviceName"], "shop");
}

#[test]
fn hostile_field_values_stay_valid_json() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        let long = "é".repeat(5000);
        tracing::info_span!("x", quote = "a\"b\\c\n\u{1}", long = long.as_str()).in_scope(|| {});
    });
    let s = &sink.spans()[0];
    assert!(s.tag("long").unwrap().len() <= trace_exporter::MAX_TAG_VALUE);
    let v: serde_json::Value = serde_json::from_str(&sink.to_json()).unwrap();
    assert_eq!(v[0]["tags"]["quote"], "a\"b\\c\n\u{1}");
}

#[test]
fn reporter_builder_feeds_memory_and_file() {
    let path = std::env::temp_dir().join(format!("recorder-file-{}.json", std::process::id()));
    let memory = MemorySink::new();
    let reporter = Reporter::builder()
        .service_name("gateway")
        .memory(memory.clone())
        .file(&path)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(reporter.layer());
    let ctx = request(Sampling::Sampled);
    tracing::subscriber::with_default(subscriber, || {
        let _g = ctx.enter();
        for i in 0..10 {
            tracing::info_span!("work", i).in_scope(|| {});
        }
    });
    reporter.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!(memory.trace(ctx.trace_id()).len(), 10);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file.as_array().unwrap().len(), 10);
    assert_eq!(file[0]["localEndpoint"]["serviceName"], "gateway");
    assert_eq!(reporter.metrics().spans_sent, 10);
    std::fs::remove_file(&path).ok();
}

#[test]
fn builder_rejects_bad_configuration() {
    assert!(Reporter::builder().probability(2.0).build().is_err());
    assert!(Reporter::builder().probability(f64::NAN).build().is_err());
    assert!(Reporter::builder().endpoint("not a url").build().is_err());
    assert!(Reporter::builder().queue_size(0).build().is_err());
    assert!(Reporter::builder()
        .file("/nonexistent-dir/spans.json")
        .build()
        .is_err());
}

#[test]
fn rpc_names_whatever_the_order_and_form_of_the_fields() {
    use tracing::field::Empty;
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        // The usual order: method then route, in the attributes.
        tracing::info_span!(
            "a",
            span.kind = "server",
            http.method = "GET",
            http.route = "/a/{id}"
        )
        .in_scope(|| {});
        // Route before method.
        tracing::info_span!(
            "b",
            span.kind = "server",
            http.route = "/b",
            http.method = "PUT"
        )
        .in_scope(|| {});
        // Route recorded later; then the method replaced after the route.
        let c = tracing::info_span!(
            "c",
            span.kind = "server",
            http.method = "post",
            http.route = Empty
        );
        c.record("http.route", "/c");
        drop(c);
        let d = tracing::info_span!(
            "d",
            span.kind = "server",
            http.method = "GET",
            http.route = "/d"
        );
        d.record("http.method", "DELETE");
        drop(d);
        // A method outside the table, one recorded with Debug, an empty route, no route.
        tracing::info_span!(
            "e",
            span.kind = "server",
            http.method = "PROPFIND",
            http.route = "/e"
        )
        .in_scope(|| {});
        tracing::info_span!("f", span.kind = "server", http.method = ?"Get", http.route = "/f")
            .in_scope(|| {});
        tracing::info_span!(
            "g",
            span.kind = "server",
            http.method = "HEAD",
            http.route = ""
        )
        .in_scope(|| {});
        tracing::info_span!("h", span.kind = "server", http.method = "OPTIONS").in_scope(|| {});
        // A client span: the method alone, even with a route; a local span keeps its name.
        tracing::info_span!(
            "i",
            span.kind = "client",
            http.method = "PATCH",
            http.route = "/i"
        )
        .in_scope(|| {});
        tracing::info_span!("j", http.method = "GET", http.route = "/j").in_scope(|| {});
        // The kind recorded after the route.
        tracing::info_span!(
            "k",
            http.method = "GET",
            http.route = "/k",
            span.kind = "server"
        )
        .in_scope(|| {});
    });
    let names: Vec<String> = sink
        .spans()
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "get /a/{id}",
            "put /b",
            "post /c",
            "delete /d",
            "propfind /e",
            "\"get\" /f",
            "head",
            "options",
            "patch",
            "j",
            "get /k"
        ]
    );
}

/// Keeps a copy of every span it is handed.
#[derive(Clone, Default)]
struct Keep(std::sync::Arc<std::sync::Mutex<Vec<trace_exporter::SpanRecord>>>);

impl trace_exporter::Transport for Keep {
    fn send(
        &mut self,
        message: &trace_exporter::Message<'_>,
        _timeout: Duration,
    ) -> Result<(), trace_exporter::SendError> {
        let mut kept = self.0.lock().unwrap();
        kept.extend(message.spans().iter().map(|s| (**s).clone()));
        Ok(())
    }
    fn describe(&self) -> String {
        "keep".into()
    }
}

#[test]
fn recycled_records_carry_nothing_over() {
    use trace_exporter::{AsyncReporter, ReporterOptions, Sink};
    let kept = Keep::default();
    let reporter = AsyncReporter::new(kept.clone(), ReporterOptions::default()).unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(ZipkinLayer::new(reporter.clone(), "shop"));
    tracing::subscriber::with_default(subscriber, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        // Round 1: everything set; round 2: as little as possible, on the recycled records.
        for round in 0..2 {
            for i in 0..50 {
                if round == 0 {
                    let s = tracing::info_span!(
                        "http.server",
                        span.kind = "server",
                        service.name = "other",
                        http.method = "GET",
                        http.route = "/a/{id}",
                        net.peer.name = "peer-host",
                        extra = i,
                        negative = -i64::from(i) - 1,
                    );
                    s.in_scope(|| tracing::info!(i, "event"));
                } else {
                    tracing::info_span!(
                        "http.client",
                        span.kind = "client",
                        http.method = "POST",
                        net.peer.ip = "10.0.0.1",
                    )
                    .in_scope(|| {});
                }
            }
            reporter.flush(Duration::from_secs(5)).unwrap();
            // The delivery thread puts the sent records back in the pool just after `flush`
            // returns: a moment later round 2 takes them (the checks hold either way).
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    reporter.shutdown(Duration::from_secs(5)).unwrap();
    let spans = kept.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 100);
    for (i, s) in spans[..50].iter().enumerate() {
        assert_eq!(s.tag("extra"), Some(i.to_string().as_str()));
        assert_eq!(s.tag("negative"), Some(format!("-{}", i + 1).as_str()));
        assert_eq!(s.name, "get /a/{id}");
        assert_eq!(s.service_name(), Some("other"));
        let remote = s.remote_endpoint.as_ref().unwrap();
        assert_eq!(remote.service_name.as_deref(), Some("peer-host"));
        assert_eq!(s.annotations.len(), 1);
        assert!(s.tag("extra").is_some());
    }
    for s in &spans[50..] {
        assert_eq!(s.name, "post");
        assert_eq!(s.service_name(), Some("shop"));
        let remote = s.remote_endpoint.as_ref().unwrap();
        assert_eq!(remote.service_name, None);
        assert_eq!(remote.ipv4, Some("10.0.0.1".parse().unwrap()));
        assert!(s.annotations.is_empty());
        assert_eq!(s.tag("extra"), None);
        assert_eq!(s.tag("http.route"), None);
        assert_eq!(s.tags.len(), 1);
        assert!(!s.shared);
    }
}

/// The fields trace-tower and trace-reqwest record with `%` (`Display`): a method, a URL and
/// a peer address read as text, a port as a number; a value longer than the recorder's stack
/// buffer still becomes a whole tag.
#[test]
fn displayed_fields_read_as_text() {
    let sink = MemorySink::new();
    let long = "x".repeat(300);
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        let ip: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        let server = tracing::info_span!(
            "http.server",
            span.kind = %"server",
            http.method = %"Post",
            http.route = %"/order/{id}",
            net.peer.ip = %ip,
            net.peer.port = 8080u16,
            long = %long,
        );
        server.in_scope(|| {
            tracing::info_span!(
                "http.client",
                span.kind = "client",
                http.method = %"GET",
                http.url = %"http://127.0.0.1:9/user/1",
                net.peer.name = %"127.0.0.1",
                net.peer.port = %"9",
            )
            .in_scope(|| {});
        });
        // Out of range or unreadable ports leave the port unset.
        tracing::info_span!(
            "http.client",
            span.kind = "client",
            net.peer.port = 70000i64
        )
        .in_scope(|| {});
        tracing::info_span!("http.client", span.kind = "client", net.peer.port = -1i64)
            .in_scope(|| {});
    });
    let spans = sink.spans();
    assert_eq!(spans.len(), 4, "{spans:?}");
    let server = spans.iter().find(|s| s.kind == Some(Kind::Server)).unwrap();
    let client = spans.iter().find(|s| s.tag("http.url").is_some()).unwrap();
    assert_eq!(server.name, "post /order/{id}");
    assert_eq!(server.tag("http.method"), Some("Post"));
    assert_eq!(server.tag("long"), Some(long.as_str()));
    let remote = server.remote_endpoint.as_ref().unwrap();
    assert_eq!(remote.ipv4, Some(std::net::Ipv4Addr::new(10, 1, 2, 3)));
    assert_eq!(remote.port, Some(8080));
    assert_eq!(client.name, "get");
    assert_eq!(client.tag("http.url"), Some("http://127.0.0.1:9/user/1"));
    let remote = client.remote_endpoint.as_ref().unwrap();
    assert_eq!(remote.ipv4, Some(std::net::Ipv4Addr::LOCALHOST));
    assert_eq!(remote.port, Some(9));
    let portless = spans.iter().filter(|s| s.name == "http.client");
    assert_eq!(portless.clone().count(), 2);
    for span in portless {
        assert!(span.remote_endpoint.as_ref().and_then(|e| e.port).is_none());
    }
}

/// A span's own `service.name` wins over its ancestors'; a span without one takes the
/// nearest ancestor's; with neither, the layer's default.
#[test]
fn service_name_own_else_inherited_else_default() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        tracing::info_span!("gateway", service.name = "gateway").in_scope(|| {
            tracing::info_span!("call", span.kind = "client").in_scope(|| {
                tracing::info_span!("order", service.name = %"order")
                    .in_scope(|| tracing::info_span!("load").in_scope(|| {}));
            });
        });
        tracing::info_span!("alone").in_scope(|| {});
    });
    let service = |name: &str| {
        let spans = sink.spans();
        let s = spans.iter().find(|s| s.name == name).unwrap();
        s.service_name().map(str::to_string)
    };
    assert_eq!(service("gateway").as_deref(), Some("gateway"));
    assert_eq!(service("call").as_deref(), Some("gateway"));
    assert_eq!(service("order").as_deref(), Some("order"));
    assert_eq!(service("load").as_deref(), Some("order"));
    assert_eq!(service("alone").as_deref(), Some("shop"));
}

/// A value whose `Debug` logs an event and opens a span: user code the recorder runs while it
/// records the field.
struct Chatty(u32);

impl std::fmt::Debug for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        tracing::info!(n = self.0, "formatting");
        tracing::info_span!("inside debug").in_scope(|| tracing::info!("deeper"));
        write!(f, "chatty-{}", self.0)
    }
}

#[test]
fn values_whose_formatting_logs_do_not_block_the_recorder() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        let span = tracing::info_span!("work", late = tracing::field::Empty, early = ?Chatty(1));
        span.in_scope(|| {
            // Recorded later: the recorder holds the span's recording while formatting.
            span.record("late", tracing::field::debug(Chatty(2)));
            tracing::info!("after");
        });
    });
    let spans = sink.spans();
    let work = spans.iter().find(|s| s.name == "work").expect("the span");
    assert_eq!(work.tag("early"), Some("chatty-1"));
    assert_eq!(work.tag("late"), Some("chatty-2"));
    // The events outside the formatting are annotations. What the value logs or opens while
    // it is formatted is `tracing`'s business: it runs inside the subscriber's own callback,
    // where `tracing-core` may hand it to no subscriber at all (it does when this test runs
    // alone, and not always when others ran first), so it is not asserted either way.
    assert!(work.annotations.iter().any(|a| a.value == "after"));
    for s in &spans {
        serde_json::from_str::<serde_json::Value>(&s.to_json()).expect("valid JSON");
    }
}

#[test]
fn one_layer_cloned_into_two_subscribers_keeps_their_spans_apart() {
    let sink = MemorySink::new();
    let layer = ZipkinLayer::new(sink.clone(), "shop");
    let first = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(layer.clone());
    let second = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(layer);
    let ctx = request(Sampling::Sampled);
    let _g = ctx.enter();
    // Both registries give their first span the same id.
    let a = tracing::subscriber::with_default(first, || tracing::info_span!("a", n = 1));
    let b = tracing::subscriber::with_default(second, || tracing::info_span!("b", n = 2));
    drop(a);
    drop(b);
    let mut names: Vec<_> = sink
        .spans()
        .iter()
        .map(|s| (s.name.to_string(), s.tag("n").map(str::to_string)))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("a".to_string(), Some("1".to_string())),
            ("b".to_string(), Some("2".to_string()))
        ]
    );
}

/// A value whose formatting panics.
struct Explodes;

impl std::fmt::Debug for Explodes {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("formatting failed")
    }
}

#[test]
fn a_panicking_field_value_leaves_the_recorder_working() {
    let sink = MemorySink::new();
    with_recorder(&sink, || {
        let ctx = request(Sampling::Sampled);
        let _g = ctx.enter();
        let span = tracing::info_span!("work", bad = tracing::field::Empty, n = 1);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            span.record("bad", tracing::field::debug(Explodes));
        }));
        assert!(result.is_err());
        span.in_scope(|| tracing::info!("still here"));
        drop(span);
        // Every span after it is recorded as usual, whatever shard it lands in.
        for i in 0..40 {
            tracing::info_span!("after", i).in_scope(|| {});
        }
    });
    let spans = sink.spans();
    let work = spans.iter().find(|s| s.name == "work").expect("the span");
    assert_eq!(work.tag("n"), Some("1"));
    assert_eq!(work.annotations.len(), 1);
    assert_eq!(spans.iter().filter(|s| s.name == "after").count(), 40);
}

/// A value whose `Debug` says it started, then waits for a lock another thread holds.
struct WaitsFor {
    started: std::sync::mpsc::Sender<()>,
    lock: std::sync::Arc<std::sync::Mutex<()>>,
}

impl std::fmt::Debug for WaitsFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let _ = self.started.send(());
        let _held = self.lock.lock();
        f.write_str("waited")
    }
}

#[test]
fn a_value_formatting_on_one_thread_never_holds_up_recording_on_another() {
    use std::sync::{mpsc, Arc, Mutex};
    let sink = MemorySink::new();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(ZipkinLayer::new(sink.clone(), "shop")),
    );
    let ctx = request(Sampling::Sampled);
    // Two spans whose recordings would share a lock if the recorder kept one per group of
    // span ids: the same id modulo any power of two up to 64.
    let (x, y) = tracing::dispatcher::with_default(&dispatch, || {
        let _g = ctx.enter();
        let mut spans = Vec::new();
        loop {
            let s = tracing::info_span!("s", v = tracing::field::Empty);
            let id = s.id().expect("recorded").into_u64();
            if let Some(i) = spans
                .iter()
                .position(|o: &tracing::Span| o.id().unwrap().into_u64() % 64 == id % 64)
            {
                break (spans.swap_remove(i), s);
            }
            spans.push(s);
        }
    });
    let user_lock = Arc::new(Mutex::new(()));
    let held = user_lock.lock().unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let formatting = {
        let (dispatch, lock, done_tx) = (dispatch.clone(), user_lock.clone(), done_tx.clone());
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let value = WaitsFor {
                    started: started_tx,
                    lock,
                };
                x.record("v", tracing::field::debug(value));
                drop(x);
            });
            let _ = done_tx.send("x");
        })
    };
    // While the other thread's value is formatting (and waiting for `user_lock`), this thread
    // records into another span, then lets the value finish.
    started_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("formatting started");
    let recording = {
        let dispatch = dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                y.record("v", 7);
                drop(y);
            });
            let _ = done_tx.send("y");
        })
    };
    assert_eq!(
        done_rx.recv_timeout(Duration::from_secs(10)),
        Ok("y"),
        "recording a field waited for another thread's value formatting"
    );
    drop(held);
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok("x"));
    formatting.join().unwrap();
    recording.join().unwrap();
    let spans = sink.spans();
    let mut values: Vec<_> = spans.iter().filter_map(|s| s.tag("v")).collect();
    values.sort();
    assert_eq!(values, ["7", "waited"]);
}
