//! Draws a trace in the terminal as a waterfall, like Zipkin's trace view: one row per span in
//! call-tree order, with its service, name, start offset, duration and a bar on a shared time
//! axis.
//!
//! ```text
//! trace 9d244edbc1668d92 · 10 spans · 4 services · 63.190ms
//! SERVICE         SPAN                               START   DURATION  |0                    63.190ms|
//! server-gateway  SERVER get                        +0.000ms  63.190ms |███████████████████████████████|
//! server-gateway    CLIENT get                      +1.989ms  59.621ms |  █████████████████████████████|
//! ...
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::zipkin::{Kind, Span};

/// How to draw.
///
/// ```
/// let opts = examples::waterfall::Options { bar_width: 30, ..Default::default() };
/// assert!(!opts.show_ids);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Width of the time axis in characters (default 40, at least 10).
    pub bar_width: usize,
    /// Widest span-name column before names are cut (default 48).
    pub max_name_width: usize,
    /// Print each span's id and parent id at the end of its row (default off).
    pub show_ids: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bar_width: 40,
            max_name_width: 48,
            show_ids: false,
        }
    }
}

/// One span placed in the tree.
///
/// ```
/// let spans = examples::zipkin::parse_spans(br#"[{"traceId":"a","id":"1"}]"#).unwrap();
/// let rows = examples::waterfall::rows(&spans);
/// assert_eq!(rows[0].depth, 0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The span.
    pub span: &'a Span,
    /// Its depth in the call tree (0 for a root).
    pub depth: usize,
}

/// The spans of one trace in call-tree order: each span after its parent, siblings by start
/// time. A server span that shares its client's span id (Zipkin's `shared`) sits under that
/// client span; a span whose parent is missing is shown as a root.
///
/// ```
/// let json = br#"[
///   {"traceId":"a","id":"2","parentId":"1","timestamp":20},
///   {"traceId":"a","id":"1","timestamp":10}
/// ]"#;
/// let spans = examples::zipkin::parse_spans(json).unwrap();
/// let order: Vec<_> = examples::waterfall::rows(&spans).iter().map(|r| (r.span.id.as_str(), r.depth)).collect();
/// assert_eq!(order, [("1", 0), ("2", 1)]);
/// ```
pub fn rows(spans: &[Span]) -> Vec<Row<'_>> {
    // Which span a given id refers to when it is used as a parent id: with the shared model a
    // client and a server span carry the same id, and children belong to the server side.
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let is_shared_server = s.shared && s.kind == Some(Kind::Server);
        match by_id.get(s.id.as_str()) {
            Some(_) if !is_shared_server => {}
            _ => {
                by_id.insert(s.id.as_str(), i);
            }
        }
    }
    let client_with_id = |id: &str, me: usize| {
        spans
            .iter()
            .position(|s| s.id == id && s.kind == Some(Kind::Client))
            .filter(|&c| c != me)
    };
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let parent = if s.shared && s.kind == Some(Kind::Server) {
            client_with_id(&s.id, i)
                .or_else(|| s.parent_id.as_deref().and_then(|p| by_id.get(p).copied()))
        } else {
            s.parent_id
                .as_deref()
                .and_then(|p| by_id.get(p).copied())
                .filter(|&p| p != i)
        };
        match parent {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let start = |i: &usize| (spans[*i].timestamp.unwrap_or(u64::MAX), *i);
    roots.sort_by_key(start);
    for c in &mut children {
        c.sort_by_key(start);
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(Row {
            span: &spans[i],
            depth,
        });
        stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
    }
    // Spans caught in a parent cycle are never reached from a root: show them at the end.
    for (i, s) in spans.iter().enumerate() {
        if !seen[i] {
            out.push(Row { span: s, depth: 0 });
        }
    }
    out
}

/// Draws one trace (spans of one trace id) as a waterfall.
///
/// ```
/// let json = std::fs::read("tests/data/sample-trace-shop.json").unwrap();
/// let spans = examples::zipkin::parse_spans(&json).unwrap();
/// let text = examples::waterfall::render(&spans, &Default::default());
/// assert!(text.starts_with("trace 9d244edbc1668d92 · 10 spans · 4 services · 63.190ms"));
/// assert_eq!(text.lines().count(), 2 + 10);
/// ```
pub fn render(spans: &[Span], options: &Options) -> String {
    let mut out = String::new();
    let Some(first) = spans.first() else {
        out.push_str("(no spans)\n");
        return out;
    };
    let rows = rows(spans);
    let t0 = spans.iter().filter_map(|s| s.timestamp).min();
    let t1 = spans
        .iter()
        .filter_map(|s| Some(s.timestamp? + s.duration.unwrap_or(0)))
        .max();
    let total = match (t0, t1) {
        (Some(a), Some(b)) => b.saturating_sub(a).max(1),
        _ => 1,
    };
    let t0 = t0.unwrap_or(0);
    let services: BTreeSet<&str> = spans.iter().map(Span::service_name).collect();
    let _ = writeln!(
        out,
        "trace {} · {} span{} · {} service{} · {}",
        crate::zipkin::normalize_trace_id(&first.trace_id),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        micros(total)
    );

    let bar_width = options.bar_width.max(10);
    let labels: Vec<String> = rows.iter().map(label).collect();
    let name_width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, options.max_name_width.max(8));
    let service_width = services
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let axis_end = micros(total);
    let axis = format!(
        "0{}{axis_end}",
        " ".repeat(bar_width.saturating_sub(1 + axis_end.chars().count()))
    );
    let _ = writeln!(
        out,
        "{:<service_width$}  {:<name_width$}  {:>10}  {:>9} |{axis}|",
        "SERVICE", "SPAN", "START", "DURATION"
    );
    for (row, label) in rows.iter().zip(&labels) {
        let s = row.span;
        let start = s
            .timestamp
            .map(|t| format!("+{}", micros(t.saturating_sub(t0))))
            .unwrap_or_else(|| "?".into());
        let duration = s.duration.map(micros).unwrap_or_else(|| "?".into());
        let bar = bar(s, t0, total, bar_width);
        let _ = write!(
            out,
            "{:<service_width$}  {:<name_width$}  {start:>10}  {duration:>9} |{bar}|",
            s.service_name(),
            cut(label, name_width),
        );
        if let Some(e) = s.error() {
            let _ = write!(out, " error={}", cut(e, 40));
        }
        if options.show_ids {
            let _ = write!(
                out,
                " id={} parent={}{}",
                s.id,
                s.parent_id.as_deref().unwrap_or("-"),
                if s.shared { " shared" } else { "" }
            );
        }
        out.push('\n');
    }
    out
}

/// `KIND name`, indented two spaces per level, `!` in front when the span failed.
fn label(row: &Row<'_>) -> String {
    let s = row.span;
    let mut text = "  ".repeat(row.depth);
    if s.error().is_some() {
        text.push('!');
    }
    if let Some(kind) = s.kind {
        let _ = write!(text, "{kind} ");
    }
    text.push_str(s.name.as_deref().unwrap_or("(unnamed)"));
    text
}

/// The span's bar on the time axis: at least one cell wide.
fn bar(s: &Span, t0: u64, total: u64, width: usize) -> String {
    let Some(ts) = s.timestamp else {
        return " ".repeat(width);
    };
    let offset = ts.saturating_sub(t0) as u128;
    let end = offset + s.duration.unwrap_or(0) as u128;
    let (total, w) = (total as u128, width as u128);
    let from = ((offset * w) / total).min(w - 1) as usize;
    let to = (end * w).div_ceil(total).clamp(from as u128 + 1, w) as usize;
    let mut bar = String::with_capacity(width * 3);
    bar.extend(std::iter::repeat_n(' ', from));
    bar.extend(std::iter::repeat_n('█', to - from));
    bar.extend(std::iter::repeat_n(' ', width - to));
    bar
}

/// `text` cut to `width` characters, with `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A duration in microseconds as Zipkin prints it: `250µs`, `12.345ms`, `1.234s`.
///
/// ```
/// use examples::waterfall::micros;
/// assert_eq!(micros(250), "250µs");
/// assert_eq!(micros(63_190), "63.190ms");
/// assert_eq!(micros(1_234_567), "1.235s");
/// ```
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.3}ms", us as f64 / 1e3)
    } else {
        format!("{:.3}s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zipkin::parse_spans;

    fn sample() -> Vec<Span> {
        parse_spans(include_bytes!("../tests/data/sample-trace-shop.json")).unwrap()
    }

    #[test]
    fn shared_spans_nest_under_their_client() {
        let spans = sample();
        let order: Vec<(String, usize)> = rows(&spans)
            .iter()
            .map(|r| {
                let kind = r.span.kind.map(|k| k.to_string()).unwrap_or_default();
                (
                    format!("{} {kind} {}", r.span.service_name(), r.span.id),
                    r.depth,
                )
            })
            .collect();
        let expected = [
            ("server-gateway SERVER 9d244edbc1668d92", 0),
            ("server-gateway CLIENT 475ff483fb0973b1", 1),
            ("server-gateway CLIENT 3f01ba499fac4ce9", 1),
            ("server-order SERVER 3f01ba499fac4ce9", 2),
            ("server-order CLIENT a048eda8d5fd3dc9", 3),
            ("server-user SERVER a048eda8d5fd3dc9", 4),
            ("server-order CLIENT 5f0932b5d06fe757", 3),
            ("server-product SERVER 5f0932b5d06fe757", 4),
            ("server-order CLIENT c020c7f6e0fa1604", 3),
            ("server-product SERVER c020c7f6e0fa1604", 4),
        ];
        let got: Vec<(&str, usize)> = order.iter().map(|(s, d)| (s.as_str(), *d)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn bars_follow_the_time_axis() {
        let spans = sample();
        let text = render(&spans, &Options::default());
        let lines: Vec<&str> = text.lines().collect();
        // The root spans the whole axis; the last product call sits in its right half.
        let bar_of = |line: &str| line.split('|').nth(1).unwrap().to_owned();
        assert_eq!(bar_of(lines[2]), "█".repeat(40));
        let last = bar_of(lines[11]);
        let first_cell = last.chars().position(|c| c == '█').unwrap();
        assert!(first_cell > 20, "{last:?}");
        assert!(lines[11].contains("+51.018ms"), "{}", lines[11]);
    }

    #[test]
    fn degenerate_input_draws_without_panicking() {
        let json =
            br#"[{"traceId":"a","id":"1","parentId":"2"},{"traceId":"a","id":"2","parentId":"1"},
                       {"traceId":"a","id":"3","parentId":"3","timestamp":5}]"#;
        let spans = parse_spans(json).unwrap();
        let text = render(
            &spans,
            &Options {
                bar_width: 0,
                max_name_width: 0,
                show_ids: true,
            },
        );
        assert_eq!(text.lines().count(), 2 + 3);
        assert_eq!(render(&[], &Options::default()), "(no spans)\n");
    }
}
