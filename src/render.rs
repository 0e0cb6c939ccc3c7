//! Output: the unified diff (redacted), the human report, and the JSON report.
//!
//! Every line a diff shows, changed or context, is redacted by span and by pattern (see
//! [`crate::secrets`]) unless `--show-secrets`. Everything from the file that is printed is
//! tamed first ([`clean`], [`clean_field`], [`clean_diff_line`]): control characters, bidi
//! controls and line separators are shown escaped (`\x1b`, `\u{202e}`), in text and in JSON
//! alike (so `jq -r` prints nothing raw either); a word over 200 characters in a message (64 KiB
//! in a diff line) is cut to its first 100 and `… (N bytes)`, and a message over 2,000
//! characters to its first 1,000.
//!
//! The diff is computed only around the edits: the plan knows every changed byte range, so
//! each hunk diffs a few lines of context, never the whole file. A 13 MB kubeconfig with
//! thousands of fixes costs time linear in its size.

use std::fmt::Write as _;
use std::ops::Range;

use crate::plan::FilePlan;
use crate::rules::{EntryRef, Severity};
use crate::secrets;
use crate::yaml::LineIndex;
use serde::Serialize;

const CONTEXT: usize = 3;

/// ANSI colours, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Write a JSON report and a final newline. Buffered: the report of a merged kubeconfig
/// runs to megabytes, and standard output flushes at every line break.
pub fn write_json(out: &mut dyn std::io::Write, report: &impl serde::Serialize) {
    use std::io::Write as _;
    let mut buf = std::io::BufWriter::with_capacity(64 * 1024, out);
    let _ = serde_json::to_writer_pretty(&mut buf, report);
    let _ = writeln!(buf);
    let _ = buf.flush();
}

/// The marker a secret is shown as (see [`crate::secrets::redaction`]).
pub use crate::secrets::redaction;

/// `512 B`, `1.6 KiB`, `3.0 MiB`.
pub fn human_size(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

/// One hunk window: a line range in the old text and the matching one in the new text.
struct Window {
    old_lines: Range<usize>, // 0-based, half-open
    new_lines: Range<usize>,
}

/// Unified diff of a plan, with `---`/`+++` headers; empty when nothing changes.
pub fn diff(plan: &FilePlan, label: &str, show_secrets: bool, style: Style) -> String {
    // Headers, then a mode change (as git shows one), then the hunks.
    let mut out = String::new();
    let label = clean(label);
    let _ = writeln!(out, "{}", style.paint("1", &format!("--- {label}")));
    let _ = writeln!(out, "{}", style.paint("1", &format!("+++ {label} (fixed)")));
    let mode_changed = match (plan.old_mode, plan.new_mode) {
        (Some(old), Some(new)) if old != new => {
            let _ = writeln!(out, "{}", style.paint("1", &format!("old mode {old:04o}")));
            let _ = writeln!(out, "{}", style.paint("1", &format!("new mode {new:04o}")));
            true
        }
        _ => false,
    };
    let Some(new) = plan.new_text.as_deref() else {
        return if mode_changed { out } else { String::new() };
    };
    let old = plan.original.as_str();
    let old_idx = &plan.lines_old;
    let built;
    let new_idx = match &plan.lines_new {
        Some(idx) => idx,
        None => {
            built = LineIndex::new(new);
            &built
        }
    };
    let total_old = line_total(old, old_idx);
    let total_new = line_total(new, new_idx);

    // Map each edit to line ranges in both texts; new offsets shift by the edits before it.
    let mut windows: Vec<Window> = Vec::new();
    let mut shift: isize = 0;
    for e in &plan.edits {
        let new_start = (e.range.start as isize + shift) as usize;
        let new_end = new_start + e.replacement.len();
        shift += e.replacement.len() as isize - e.range.len() as isize;
        let ol = old_idx.line(e.range.start) - 1..old_idx.line(e.range.end) - 1 + 1;
        let nl = new_idx.line(new_start) - 1..new_idx.line(new_end) - 1 + 1;
        let w = Window {
            old_lines: ol.start.saturating_sub(CONTEXT)..(ol.end + CONTEXT).min(total_old),
            new_lines: nl.start.saturating_sub(CONTEXT)..(nl.end + CONTEXT).min(total_new),
        };
        match windows.last_mut() {
            Some(last) if w.old_lines.start <= last.old_lines.end => {
                last.old_lines.end = last.old_lines.end.max(w.old_lines.end);
                last.new_lines.end = last.new_lines.end.max(w.new_lines.end);
            }
            _ => windows.push(w),
        }
    }

    for w in windows {
        let ob = byte_range(old, old_idx, &w.old_lines, total_old);
        let nb = byte_range(new, new_idx, &w.new_lines, total_new);
        let (os, ns) = if show_secrets {
            (old[ob].to_string(), new[nb].to_string())
        } else {
            (
                secrets::redact_spans(old, ob, &plan.secrets_old),
                secrets::redact_spans(new, nb, &plan.secrets_new),
            )
        };
        let td = similar::TextDiff::from_lines(&os, &ns);
        let _ = writeln!(
            out,
            "{}",
            style.paint(
                "36",
                &format!(
                    "@@ -{},{} +{},{} @@",
                    w.old_lines.start + 1,
                    w.old_lines.len(),
                    w.new_lines.start + 1,
                    w.new_lines.len()
                )
            )
        );
        for change in td.iter_all_changes() {
            let (sign, code) = match change.tag() {
                similar::ChangeTag::Delete => ('-', "31"),
                similar::ChangeTag::Insert => ('+', "32"),
                similar::ChangeTag::Equal => (' ', ""),
            };
            let line = change.value();
            let body = line.strip_suffix('\n').unwrap_or(line);
            let body = body.strip_suffix('\r').unwrap_or(body);
            let body = if show_secrets {
                std::borrow::Cow::Borrowed(body)
            } else {
                secrets::redact_line(body)
            };
            let text = format!("{sign}{}", clean_diff_line(&body));
            if code.is_empty() {
                let _ = writeln!(out, "{text}");
            } else {
                let _ = writeln!(out, "{}", style.paint(code, &text));
            }
            if change.missing_newline() {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
    out
}

/// Number of lines, not counting an empty last "line" after a final newline.
fn line_total(text: &str, idx: &LineIndex) -> usize {
    if text.ends_with('\n') {
        idx.line_count() - 1
    } else {
        idx.line_count()
    }
}

fn byte_range(text: &str, idx: &LineIndex, lines: &Range<usize>, total: usize) -> Range<usize> {
    let start = idx.line_start(lines.start + 1);
    let end = if lines.end >= total {
        text.len()
    } else {
        idx.line_start(lines.end + 1)
    };
    start..end
}

// ---------------------------------------------------------------------------------------
// JSON report. Schema version 1; fields are only ever added, never renamed or removed.

pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonReport {
    pub schema_version: u32,
    pub mode: &'static str,
    pub files: Vec<JsonFile>,
    pub errors: Vec<JsonError>,
    pub summary: JsonSummary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFile {
    pub path: String,
    pub changed: bool,
    pub backup: Option<String>,
    pub findings: Vec<JsonFinding>,
    /// The redacted unified diff (empty when nothing changes).
    pub diff: String,
    /// Every client certificate, JWT token and cluster CA with its expiry.
    pub expiry: Vec<crate::inspect::ExpiryRow>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFinding {
    pub rule: &'static str,
    /// A finer code within the rule (e.g. `cert-expired`), when the rule has several.
    pub code: Option<&'static str>,
    pub severity: Severity,
    pub message: String,
    pub entry: Option<EntryRef>,
    pub line: usize,
    pub fixable: bool,
    pub fixed: bool,
    pub fix: Option<String>,
    pub kubectl_error: Option<String>,
    pub hint: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonError {
    pub path: Option<String>,
    pub message: String,
}

/// The JSON form of every error, in order.
pub fn json_errors(errors: &[crate::error::Error]) -> Vec<JsonError> {
    errors
        .iter()
        .map(|e| JsonError {
            path: crate::error_path(e).map(|p| p.display().to_string()),
            message: clean_field(&e.to_string()),
        })
        .collect()
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct JsonSummary {
    pub files: usize,
    pub findings: usize,
    pub fixable: usize,
    pub fixed: usize,
    pub errors: usize,
}

/// The human report of one file: its findings, then its diff.
pub fn human_findings(
    plan: &FilePlan,
    label: &str,
    applied: bool,
    verbose: bool,
    style: Style,
) -> String {
    let mut out = String::new();
    let label = clean(label);
    let label = label.as_str();
    if plan.findings.is_empty() {
        if verbose && plan.empty {
            let _ = writeln!(
                out,
                "{label}: no problems found\n  note: the file is empty (no YAML content); kubectl reads it as a kubeconfig with nothing in it"
            );
        } else if verbose {
            let _ = writeln!(out, "{label}: no problems found");
        }
        return out;
    }
    let _ = writeln!(out, "{}", style.paint("1", label));
    for f in &plan.findings {
        let sev = match f.severity {
            Severity::Error => style.paint("31;1", "error"),
            Severity::Warning => style.paint("33;1", "warning"),
            Severity::Info => style.paint("34", "info"),
        };
        let entry = f
            .entry
            .as_ref()
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        let id = match f.code {
            Some(code) => format!("{}: {code}", f.rule),
            None => f.rule.to_string(),
        };
        let _ = writeln!(
            out,
            "  {sev}{entry} (line {}): {} [{id}]",
            f.line, f.message
        );
        if let Some(k) = &f.kubectl_error {
            let _ = writeln!(out, "    kubectl says: {k}");
        }
        if let Some(fix) = &f.fix {
            let verb = if applied { "fixed" } else { "fix" };
            let _ = writeln!(out, "    {verb}: {}", fix.title);
        }
        if let Some(h) = &f.hint {
            let _ = writeln!(out, "    hint: {h}");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Taming: every name and value from a kubeconfig is hostile. Text output never carries a raw
// control character (ESC sequences retitle or clear a terminal, a newline forges a log line,
// bidi overrides reorder what a reader sees), and no value is echoed unbounded.

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
pub fn tame_finding(f: &mut crate::rules::Finding) {
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
