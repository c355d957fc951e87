//! The `shop` binary as a user runs it: the demo run to completion, `--serve` with its `curl`
//! line, and each service alone in its own process, wired by URL flags.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use examples::services::order::Order;

const SHOP: &str = env!("CARGO_BIN_EXE_shop");
const APP_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const ALL_FREE_PORTS: [&str; 8] = [
    "--gateway-port",
    "0",
    "--order-port",
    "0",
    "--user-port",
    "0",
    "--product-port",
    "0",
];

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("examples-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The lines of `text` that carry `id` and the tag of `service` (`[order  ]`).
fn lines_of<'a>(text: &'a str, service: &str, id: &str) -> Vec<&'a str> {
    let tag = format!("[{service:<7}]");
    text.lines()
        .filter(|l| l.contains(&tag) && l.contains(id))
        .collect()
}

#[test]
fn the_demo_runs_to_completion_and_tells_the_whole_story() {
    let dir = out_dir("demo");
    let out = Command::new(SHOP)
        .args(ALL_FREE_PORTS)
        .args(["--app-trace-id", APP_ID, "--out-dir"])
        .arg(&dir)
        .env_remove("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
        .output()
        .expect("shop runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    let first = stdout
        .find("order 1 of 2, without X-App-Trace-Id")
        .expect("the first order");
    let second = stdout
        .find("order 2 of 2, with X-App-Trace-Id")
        .expect("the second order");
    assert!(first < second);
    let (first, second) = stdout.split_at(second);
    assert!(
        second.contains(&format!("X-App-Trace-Id: {APP_ID}")),
        "{second}"
    );
    // Both orders were placed (answers are orders, not errors).
    for part in [first, second] {
        let answer = part
            .lines()
            .skip_while(|l| !l.starts_with("← 200"))
            .nth(1)
            .unwrap_or_else(|| panic!("a 200 answer in {part}"));
        let order: Order = serde_json::from_str(answer.trim()).expect("an order");
        assert_eq!(order.user_id, 1001);
    }

    if cfg!(feature = "instrumented") {
        // The id the gateway minted for the first order, as echoed.
        let minted = first
            .lines()
            .find_map(|l| l.strip_prefix("← 200  X-App-Trace-Id: "))
            .expect("an echoed id")
            .trim()
            .to_owned();
        assert_eq!(minted.len(), 32, "{minted}");
        assert_ne!(minted, APP_ID);
        for (part, id) in [(first, minted.as_str()), (second, APP_ID)] {
            for service in ["gateway", "order", "user", "product"] {
                assert!(
                    !lines_of(part, service, id).is_empty(),
                    "no {service} line with {id} in {part}"
                );
            }
            assert!(
                part.contains(&format!("trace {id} · 9 spans · 4 services · ")),
                "the waterfall of {id} in {part}"
            );
            let file = dir.join(format!("trace-{id}.json"));
            assert!(part.contains(&format!("spans written to {}", file.display())));
            let spans = examples::zipkin::read_file(&file).expect("the spans file loads");
            assert_eq!(spans.len(), 9);
            assert!(spans.iter().all(|s| s.trace_id == id));
        }
    } else {
        // The bare build: the same orders and log lines, no ids, no trace.
        assert!(!stdout.contains("spans written to"), "{stdout}");
        assert!(stdout.contains("submit order: user 1001"), "{stdout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_flag_value_is_a_clear_error() {
    let out = Command::new(SHOP)
        .args(ALL_FREE_PORTS)
        .args(["--sample-probability", "1.5"])
        .output()
        .expect("shop runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--sample-probability"), "{stderr}");
}

/// A process whose stdout is read by a thread; `stop` kills it and returns all it printed.
struct Process {
    child: Child,
    first_line: String,
    reader: Option<JoinHandle<String>>,
}

impl Process {
    /// Starts `shop args..`, waits for the first stdout line containing `marker`.
    fn start(args: &[&str], env: &[(&str, &str)], marker: &str) -> Process {
        let mut cmd = Command::new(SHOP);
        cmd.args(args)
            .env_remove("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("shop starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first_line = String::new();
        loop {
            let mut line = String::new();
            let n = out.read_line(&mut line).unwrap();
            assert!(
                n > 0,
                "shop {args:?} exited before printing {marker:?}: {first_line}"
            );
            first_line.push_str(&line);
            if line.contains(marker) {
                break;
            }
        }
        let reader = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = out.read_to_string(&mut rest);
            rest
        });
        Process {
            child,
            first_line,
            reader: Some(reader),
        }
    }

    /// The `http://127.0.0.1:PORT` printed in the first line.
    fn url(&self) -> String {
        let at = self.first_line.find("http://").expect("a URL");
        self.first_line[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let rest = self.reader.take().unwrap().join().unwrap_or_default();
        format!("{}{rest}", self.first_line)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_keeps_serving_and_prints_a_curl_line_that_works() {
    let shop = Process::start(
        &[&ALL_FREE_PORTS[..], &["--serve", "--no-orders"]].concat(),
        &[],
        "curl -i",
    );
    let curl = shop
        .first_line
        .lines()
        .find(|l| l.contains("curl -i"))
        .unwrap();
    // curl -i -H 'X-App-Trace-Id: ID' 'URL'
    let quoted: Vec<&str> = curl.split('\'').collect();
    assert_eq!(quoted.len(), 5, "{curl}");
    let (header, url) = (quoted[1], quoted[3]);
    let id = header
        .strip_prefix("X-App-Trace-Id: ")
        .expect("the header")
        .to_owned();
    let response = reqwest::blocking_get(url, &id);
    assert_eq!(response.0, 200, "{}", response.2);
    let order: Order = serde_json::from_str(&response.2).expect("an order");
    assert_eq!(order.count, 1);
    if cfg!(feature = "instrumented") {
        assert_eq!(response.1.as_deref(), Some(id.as_str()));
    }
    let printed = shop.stop();
    // Serving, the log lines go to stdout.
    assert!(printed.contains("submit order: user 1001"), "{printed}");
    if cfg!(feature = "instrumented") {
        for service in ["gateway", "order", "user", "product"] {
            assert!(!lines_of(&printed, service, &id).is_empty(), "{printed}");
        }
    }
}

#[test]
fn each_service_runs_alone_and_they_work_together_by_url() {
    let marker = "listening on";
    let user = Process::start(&["user", "--port", "0"], &[], marker);
    let product = Process::start(&["product", "--port", "0"], &[], marker);
    let order = Process::start(
        &[
            "order",
            "--port",
            "0",
            "--user-url",
            &user.url(),
            "--product-url",
            &product.url(),
        ],
        &[],
        marker,
    );
    let gateway = Process::start(
        &["gateway", "--port", "0", "--order-url", &order.url()],
        &[],
        marker,
    );
    let url = examples::shop::submit_order_url(
        &gateway.url(),
        examples::services::order::OrderRequest {
            user_id: 1002,
            product_id: 1003,
            count: 2,
        },
    );
    let (status, echoed, body) = reqwest::blocking_get(&url, APP_ID);
    assert_eq!(status, 200, "{body}");
    let placed: Order = serde_json::from_str(&body).expect("an order");
    assert_eq!((placed.user_name.as_str(), placed.count), ("bob", 2));

    let outputs = [
        ("gateway", gateway.stop()),
        ("order", order.stop()),
        ("user", user.stop()),
        ("product", product.stop()),
    ];
    for (service, printed) in &outputs {
        assert!(
            printed.contains(&format!("shop: {service} listening on")),
            "{printed}"
        );
        if cfg!(feature = "instrumented") {
            assert_eq!(echoed.as_deref(), Some(APP_ID));
            // Four processes, one id in the log lines of each.
            assert!(
                !lines_of(printed, service, APP_ID).is_empty(),
                "no {service} line with {APP_ID}: {printed}"
            );
        }
    }
}

/// A tiny blocking GET with an `X-App-Trace-Id` (the tests above are plain `#[test]`s).
mod reqwest {
    /// (status, echoed X-App-Trace-Id, body).
    pub fn blocking_get(url: &str, app_id: &str) -> (u16, Option<String>, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let r = ::reqwest::Client::new()
                .get(url)
                .header("x-app-trace-id", app_id)
                .send()
                .await
                .expect("the gateway answers");
            let status = r.status().as_u16();
            let echoed = r
                .headers()
                .get("x-app-trace-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (status, echoed, r.text().await.unwrap())
        })
    }
}

#[cfg(feature = "instrumented")]
#[test]
fn with_probability_zero_nothing_is_reported_but_ids_still_flow() {
    let dir = out_dir("unsampled");
    let out = Command::new(SHOP)
        .args(ALL_FREE_PORTS)
        .args([
            "--sample-probability",
            "0",
            "--app-trace-id",
            APP_ID,
            "--out-dir",
        ])
        .arg(&dir)
        .env_remove("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
        .output()
        .expect("shop runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout
            .matches("was not sampled (see --sample-probability): no spans to draw")
            .count(),
        2,
        "{stdout}"
    );
    assert!(!stdout.contains("spans written to"), "{stdout}");
    // Unsampled requests still have ids in every service's log lines.
    for service in ["gateway", "order", "user", "product"] {
        assert!(!lines_of(&stdout, service, APP_ID).is_empty(), "{stdout}");
    }
    let all = examples::zipkin::read_file(&dir.join("shop-spans.json")).expect("a valid file");
    assert!(all.is_empty(), "{all:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
