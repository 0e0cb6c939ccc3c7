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
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;

use crate::error::{display_path, Error};
use crate::finding::Severity;
use crate::kubeconfig::EntryRef;
use crate::plan::FilePlan;
use crate::sanitize::{clean, clean_diff_line, clean_field, clean_path};
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
            diff_line(&mut out, &change, show_secrets, style);
        }
    }
    out
}

/// One line of a diff, the only way diff lines are printed: secrets redacted by pattern
/// (unless `show_secrets`), controls escaped, overlong words cut.
fn diff_line(out: &mut String, change: &similar::Change<&str>, show_secrets: bool, style: Style) {
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

/// Unified diff of two whole texts (`kubefix restore`), with `---`/`+++` headers and three
/// lines of context, every line printed as [`diff`] prints its lines. The texts are already
/// redacted by span (the caller parsed them); this redacts by pattern and escapes.
pub fn text_diff(
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    show_secrets: bool,
) -> String {
    let style = Style { color: false };
    let td = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    let groups = td.grouped_ops(CONTEXT);
    if groups.is_empty() {
        return out;
    }
    let _ = writeln!(out, "--- {}", clean(old_label));
    let _ = writeln!(out, "+++ {}", clean(new_label));
    for group in groups {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let (o, n) = (first.old_range().start, first.new_range().start);
        let (ol, nl) = (last.old_range().end - o, last.new_range().end - n);
        // As `diff -u` writes ranges: `5` for one line, `0,0` before the first line.
        let range = |start: usize, len: usize| match len {
            0 => format!("{start},0"),
            1 => format!("{}", start + 1),
            _ => format!("{},{len}", start + 1),
        };
        let _ = writeln!(out, "@@ -{} +{} @@", range(o, ol), range(n, nl));
        for op in &group {
            for change in td.iter_changes(op) {
                diff_line(&mut out, &change, show_secrets, style);
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
            path: crate::error::error_path(e).map(|p| clean_path(&p.display().to_string())),
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
        if verbose {
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

/// Print `errors` to `err`; whether there were any. When `nothing_written`, also say that
/// nothing was written, unless backups were (`kept`: written before a write failed): then
/// say that the file is unchanged and where its backup is.
pub(crate) fn print_errors(
    errors: &[Error],
    err: &mut dyn Write,
    nothing_written: bool,
    kept: &[PathBuf],
) -> bool {
    for e in errors {
        let _ = writeln!(err, "kubefix: error: {}", clean_field(&e.to_string()));
    }
    if !errors.is_empty() {
        for b in kept {
            let _ = writeln!(
                err,
                "kubefix: the file was not changed, but its backup was written before the failure: {}",
                clean_path(&display_path(b))
            );
        }
        if nothing_written && kept.is_empty() {
            let _ = writeln!(err, "kubefix: nothing was written");
        }
    }
    !errors.is_empty()
}
