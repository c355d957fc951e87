//! Logback's `%logger{N}` abbreviation (`TargetLengthBasedClassNameAbbreviator`), with `::` as
//! the separator for Rust targets (`.` for targets that have no `::`).

use std::fmt::{self, Write};

fn separator(name: &str) -> &'static str {
    if name.contains("::") {
        "::"
    } else {
        "."
    }
}

/// Writes `name` shortened towards `target` characters: leading segments are cut to their
/// first character, left to right, until the name fits; the last segment is never cut.
/// `target == 0` prints the last segment only.
pub(crate) fn write_abbreviated<W: Write + ?Sized>(
    out: &mut W,
    name: &str,
    target: usize,
) -> fmt::Result {
    let sep = separator(name);
    let Some(rightmost) = name.rfind(sep) else {
        return out.write_str(name);
    };
    if target == 0 {
        return out.write_str(&name[rightmost + sep.len()..]);
    }
    let in_len = name.chars().count();
    // (logback cuts the first segment of a name exactly `target` long; a name that fits is
    // left alone here, as logback's manual describes.)
    if in_len <= target {
        return out.write_str(name);
    }
    // The last segment with its separator is always kept.
    let last_len = name[rightmost..].chars().count();
    let left_target = target.saturating_sub(last_len);
    let left_len = in_len - last_len;
    let max_trim = left_len.saturating_sub(left_target);
    let mut trimmed = 0;
    let mut at_segment_start = true;
    let mut i = 0;
    let mut written = 0;
    while i < rightmost {
        if name[i..].starts_with(sep) {
            if trimmed >= max_trim {
                break;
            }
            out.write_str(&name[written..i])?;
            out.write_str(sep)?;
            i += sep.len();
            written = i;
            at_segment_start = true;
            continue;
        }
        let ch_len = name[i..].chars().next().map_or(1, char::len_utf8);
        if at_segment_start {
            at_segment_start = false;
            i += ch_len;
        } else {
            // Drop this character: write what was kept so far, skip it.
            out.write_str(&name[written..i])?;
            i += ch_len;
            written = i;
            trimmed += 1;
        }
    }
    out.write_str(&name[written..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abbr(name: &str, n: usize) -> String {
        let mut s = String::new();
        write_abbreviated(&mut s, name, n).unwrap();
        s
    }

    /// The table of logback's manual.
    #[test]
    fn logback_manual_examples() {
        let name = "mainPackage.sub.sample.Bar";
        assert_eq!(abbr(name, 0), "Bar");
        assert_eq!(abbr(name, 5), "m.s.s.Bar");
        assert_eq!(abbr(name, 10), "m.s.s.Bar");
        assert_eq!(abbr(name, 15), "m.s.sample.Bar");
        assert_eq!(abbr(name, 16), "m.sub.sample.Bar");
        assert_eq!(abbr(name, 26), "mainPackage.sub.sample.Bar");
        assert_eq!(abbr("mainPackage.sub.sample.Bar", 1), "m.s.s.Bar");
    }

    #[test]
    fn logback_algorithm_cases() {
        for (n, name, want) in [
            (1, "hello.world", "h.world"),
            (1, ".world", ".world"),
            (1, "c..Foobar", "c..Foobar"),
            (1, "com.logback.Foobar", "c.l.Foobar"),
            (13, "com.logback.xyz.Foobar", "c.l.x.Foobar"),
            (14, "com.logback.xyz.Foobar", "c.l.xyz.Foobar"),
            (15, "com.logback.alligator.Foobar", "c.l.a.Foobar"),
            (21, "com.logback.wombat.alligator.Foobar", "c.l.w.a.Foobar"),
            (
                22,
                "com.logback.wombat.alligator.Foobar",
                "c.l.w.alligator.Foobar",
            ),
            (
                21,
                "com.logback.wombat.alligator.tomato.Foobar",
                "c.l.w.a.tomato.Foobar",
            ),
            (
                29,
                "com.logback.wombat.alligator.tomato.Foobar",
                "c.l.w.alligator.tomato.Foobar",
            ),
            (100, "hello.world", "hello.world"),
        ] {
            assert_eq!(abbr(name, n), want, "{name} {n}");
        }
    }

    #[test]
    fn rust_targets_use_double_colons() {
        let name = "my_service::orders::repository";
        assert_eq!(abbr(name, 0), "repository");
        assert_eq!(abbr(name, 1), "m::o::repository");
        assert_eq!(abbr(name, 20), "m::o::repository");
        assert_eq!(abbr(name, 24), "m::orders::repository");
        assert_eq!(abbr(name, 30), "my_service::orders::repository");
        assert_eq!(abbr(name, 36), name);
        // The last segment is never cut, whatever the length.
        assert_eq!(
            abbr("a::averyveryverylongname", 3),
            "a::averyveryverylongname"
        );
    }

    #[test]
    fn single_segments_and_odd_names() {
        assert_eq!(abbr("main", 1), "main");
        assert_eq!(abbr("main", 0), "main");
        assert_eq!(abbr("", 5), "");
        assert_eq!(abbr("::a::b", 1), "::a::b");
        assert_eq!(abbr("é_module::ünïcode::x", 1), "é::ü::x");
    }
}
