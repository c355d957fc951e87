//! The `trace-view` binary: draws a Zipkin v2 JSON file, or a trace fetched from a Zipkin
//! server's `GET /api/v2/trace/{id}` (a stand-in server on 127.0.0.1 serving a real trace).

use std::process::{Command, Output};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use examples::server::{bind, serve, ServiceHandle};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/sample-trace-shop.json"
);
const SAMPLE_ID: &str = "9d244edbc1668d92";

fn trace_view(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trace-view"))
        .args(args)
        .output()
        .expect("trace-view runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The ten rows of the sample trace, in call-tree order: (service, indented label).
fn assert_sample_waterfall(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    assert!(
        lines[0].starts_with("trace 9d244edbc1668d92 · 10 spans · 4 services · 63.190ms"),
        "{text}"
    );
    assert!(lines[1].starts_with("SERVICE"), "{text}");
    // The service column is as wide as the longest name ("server-product"), then two spaces.
    let expected = [
        ("server-gateway", "SERVER get"),
        ("server-gateway", "  CLIENT get"),
        ("server-gateway", "  CLIENT get"),
        ("server-order", "    SERVER get /submit_order"),
        ("server-order", "      CLIENT get"),
        ("server-user", "        SERVER get /get/{uid}"),
        ("server-order", "      CLIENT get"),
        ("server-product", "        SERVER get /get/{pid}"),
        ("server-order", "      CLIENT get"),
        (
            "server-product",
            "        SERVER get /update_count/{pid}/{count}",
        ),
    ];
    for (line, (service, label)) in lines[2..].iter().zip(expected) {
        assert!(line.starts_with(service), "{line}\n{text}");
        let row = &line["server-product".len() + 2..];
        assert!(
            row.starts_with(label) && row[label.len()..].starts_with(' '),
            "{label:?} in {line}\n{text}"
        );
    }
    // Every row has a bar and the root's bar spans the whole axis.
    assert!(lines[2..].iter().all(|l| l.contains('█')), "{text}");
    assert!(
        lines[2].ends_with(&format!("|{}|", "█".repeat(40))),
        "{text}"
    );
}

#[test]
fn draws_a_zipkin_json_file() {
    let out = trace_view(&[SAMPLE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_sample_waterfall(&stdout(&out));
}

#[test]
fn a_missing_or_malformed_file_is_a_clear_error() {
    let out = trace_view(&["/nonexistent/trace.json"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/trace.json"),
        "{}",
        stderr(&out)
    );

    let path = std::env::temp_dir().join(format!("trace-view-bad-{}.json", std::process::id()));
    std::fs::write(&path, b"{\"not\": \"a list\"}").unwrap();
    let out = trace_view(&[path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    assert!(stderr(&out).starts_with("trace-view: "), "{}", stderr(&out));
}

/// A Zipkin query API stand-in: `GET /api/v2/trace/{id}` answers the sample trace for its id,
/// 404 for any other.
async fn zipkin() -> ServiceHandle {
    let app = Router::new().route(
        "/api/v2/trace/{id}",
        get(|Path(id): Path<String>| async move {
            if id == SAMPLE_ID {
                Ok(std::fs::read_to_string(SAMPLE).unwrap())
            } else {
                Err((StatusCode::NOT_FOUND, format!("trace {id} not found")))
            }
        }),
    );
    let listener = bind("127.0.0.1:0".parse().unwrap(), "--port")
        .await
        .unwrap();
    serve("zipkin", listener, app).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_a_trace_from_a_zipkin_server() {
    let zipkin = zipkin().await;
    let base = zipkin.url();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            trace_view(&args)
        })
    };

    // Upper case and a 32-digit id with a zero high half are the same trace to Zipkin.
    for id in [
        SAMPLE_ID.to_owned(),
        format!("0000000000000000{}", SAMPLE_ID.to_uppercase()),
    ] {
        let out = run(vec!["--zipkin".into(), format!("{base}/"), id])
            .await
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_sample_waterfall(&stdout(&out));
    }

    let out = run(vec![
        "--zipkin".into(),
        base.clone(),
        "1234567890abcdef".into(),
    ])
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("trace 1234567890abcdef not found"),
        "{}",
        stderr(&out)
    );

    // Not an id: refused before any request.
    let out = run(vec!["--zipkin".into(), base.clone(), "../../etc".into()])
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a trace id"),
        "{}",
        stderr(&out)
    );

    zipkin.shutdown().await.unwrap();
}
