//! Taming: every name and value from a kubeconfig is hostile. Text output never carries a raw
//! control character (ESC sequences retitle or clear a terminal, a newline forges a log line,
//! bidi overrides reorder what a reader sees), and no value is echoed unbounded.

use std::fmt::Write as _;

use crate::secrets;

/// Words (runs without whitespace) longer than this are cut in messages...
pub const FIELD_WORD_MAX: usize = 200;
/// ...and in diff lines (a base64 CA bundle on a context line stays whole).
pub const DIFF_WORD_MAX: usize = 64 * 1024;
/// What is kept of a cut word.
const WORD_KEEP: usize = 100;
/// A message longer than this (after cutting words) keeps its first `FIELD_KEEP` characters.
const FIELD_MAX: usize = 2000;
const FIELD_KEEP: usize = 1000;

/// Characters shown escaped: C0 and C1 controls and DEL (not tab), and the invisible
/// characters that reorder or split text (bidi controls, line/paragraph separators,
/// zero-width characters, BOM).
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// `\x1b` for ASCII controls, `\u{202e}` for the rest.
fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `first 100 characters… (N bytes)`.
fn cut(s: &str, keep: usize) -> String {
    let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Every word of more than `max` characters cut to its first [`WORD_KEEP`].
fn cut_words(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // Fast path: no run of `max` bytes without whitespace, so no word is too long.
    let mut run = 0usize;
    let long = s.bytes().any(|b| {
        run = if b.is_ascii_whitespace() { 0 } else { run + 1 };
        run > max
    });
    if !long {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(max * 4);
    let mut rest = s;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.len() > max && word.chars().count() > max {
            out.push_str(&cut(word, WORD_KEEP));
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    std::borrow::Cow::Owned(out)
}

/// A name, path or line of text safe to print: controls escaped, long words cut.
pub fn clean(s: &str) -> String {
    cut_words(&escape_controls(s), FIELD_WORD_MAX).into_owned()
}

/// A path safe to print: controls escaped (a file name may hold ESC sequences or a bidi
/// override), nothing cut.
pub fn clean_path(s: &str) -> String {
    escape_controls(s).into_owned()
}

/// A message, hint or error from hostile input, safe to print and bounded: URL passwords
/// redacted, controls escaped, long words cut, and the whole cut past `FIELD_MAX`
/// characters.
pub fn clean_field(s: &str) -> String {
    let s = secrets::redact_message(s);
    let s = clean(&s);
    if s.len() > FIELD_MAX && s.chars().count() > FIELD_MAX {
        cut(&s, FIELD_KEEP)
    } else {
        s
    }
}

/// One diff line safe to print: controls escaped, words over [`DIFF_WORD_MAX`] cut.
pub fn clean_diff_line(s: &str) -> std::borrow::Cow<'_, str> {
    match escape_controls(s) {
        std::borrow::Cow::Borrowed(b) => cut_words(b, DIFF_WORD_MAX),
        std::borrow::Cow::Owned(o) => {
            std::borrow::Cow::Owned(cut_words(&o, DIFF_WORD_MAX).into_owned())
        }
    }
}

/// Tame every string of a finding (plan time, so text and JSON agree).
pub fn tame_finding(f: &mut crate::finding::Finding) {
    f.message = clean_field(&f.message);
    if let Some(e) = &mut f.entry {
        e.name = clean_field(&e.name);
    }
    for s in [&mut f.kubectl_error, &mut f.hint].into_iter().flatten() {
        *s = clean_field(s);
    }
    if let Some(fix) = &mut f.fix {
        fix.title = clean_field(&fix.title);
    }
}

/// Tame every string of an expiry row (shown in the table and in JSON).
pub fn tame_expiry(r: &mut crate::inspect::ExpiryRow) {
    r.entry.name = clean_field(&r.entry.name);
    r.location = clean_field(&r.location);
    for s in [&mut r.subject, &mut r.issuer, &mut r.detail]
        .into_iter()
        .flatten()
    {
        *s = clean_field(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(clean("a\u{1b}[2Jb\u{7}"), "a\\x1b[2Jb\\x07");
        assert_eq!(clean("x\ny\rz"), "x\\x0ay\\x0dz");
        assert_eq!(clean("r\u{202e}t\u{9b}"), "r\\u{202e}t\\u{9b}");
        assert_eq!(clean("tab\tok \u{e9}t\u{e9}"), "tab\tok \u{e9}t\u{e9}");
        assert_eq!(clean_diff_line("  name: ok"), "  name: ok");
    }

    #[test]
    fn long_words_and_fields_are_cut() {
        let long = "A".repeat(5000);
        let c = clean(&format!("context \"{long}\" uses x"));
        // The word is the quoted name: its quote and 99 letters are kept.
        assert_eq!(c, format!("context \"{}… (5002 bytes) uses x", &long[..99]));
        let spaced = "B ".repeat(5000);
        let f = clean_field(&spaced);
        assert!(
            f.chars().count() < 1100 && f.ends_with("… (10000 bytes)"),
            "{f}"
        );
        let ok = "x".repeat(FIELD_WORD_MAX);
        assert_eq!(clean(&ok), ok);
        let line = format!(
            "    certificate-authority-data: {}",
            "Q".repeat(DIFF_WORD_MAX)
        );
        assert_eq!(clean_diff_line(&line), line);
        let line = format!("    command: {}", "Q".repeat(DIFF_WORD_MAX + 1));
        assert!(clean_diff_line(&line).ends_with(&format!("… ({} bytes)", DIFF_WORD_MAX + 1)));
    }
}
