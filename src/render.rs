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
//! A context line's long `*-data` blob that is no secret (a `certificate-authority-data` of
//! 1,500 characters on one line) is shown as kubectl's `kubectl config view` shows it,
//! `DATA+OMITTED`, unless `--show-secrets` or `-v`; changed lines are shown in full.
//!
//! The diff is computed only around the edits: the plan knows every changed byte range, so
//! each hunk diffs a few lines of context, never the whole file. A 13 MB kubeconfig with
//! thousands of fixes costs time linear in its size.

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::backup::Scan;
use crate::cli::{Mode, Output};
use crate::error::{display_path, Error};

/// A path for people, safe to print (controls escaped).
pub(crate) fn shown_path(path: &std::path::Path) -> String {
    clean_path(&display_path(path))
}

/// A path for JSON, with controls escaped (`jq -r` would print them raw).
pub(crate) fn json_path(path: &std::path::Path) -> String {
    clean_path(&path.display().to_string())
}
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
/// `full_data`: show long `*-data` blobs of context lines in full (`--show-secrets`, `-v`).
pub fn diff(
    plan: &FilePlan,
    label: &str,
    show_secrets: bool,
    full_data: bool,
    style: Style,
) -> String {
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
            diff_line(&mut out, &change, show_secrets, full_data, style);
        }
    }
    out
}

/// What `kubectl config view` prints for a `*-data` value.
pub const DATA_OMITTED: &str = "DATA+OMITTED";

/// A `*-data` value at least this long (base64 characters) is omitted from context lines.
pub const DATA_SHOWN_MAX: usize = 64;

/// `line` with every long `*-data` value (`KEY-data: BASE64`, block or flow style, quoted or
/// not) replaced by [`DATA_OMITTED`]. Secret values were redacted before (by span), so what
/// is left to omit is public: cluster CAs, an OIDC provider's CA.
pub fn omit_data(line: &str) -> std::borrow::Cow<'_, str> {
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(i) = line[from..].find("-data:") {
        let mut start = from + i + "-data:".len();
        from = start;
        while start < bytes.len() && bytes[start] == b' ' {
            start += 1;
        }
        let quote = bytes
            .get(start)
            .copied()
            .filter(|b| matches!(b, b'"' | b'\''));
        let body = start + usize::from(quote.is_some());
        let mut end = body;
        while end < bytes.len() && is_b64(bytes[end]) {
            end += 1;
        }
        if end - body < DATA_SHOWN_MAX {
            continue;
        }
        out.push_str(&line[copied..body]);
        out.push_str(DATA_OMITTED);
        copied = end;
        from = end;
    }
    if copied == 0 {
        std::borrow::Cow::Borrowed(line)
    } else {
        out.push_str(&line[copied..]);
        std::borrow::Cow::Owned(out)
    }
}

/// One line of a diff, the only way diff lines are printed: secrets redacted by pattern
/// (unless `show_secrets`), controls escaped, overlong words cut.
fn diff_line(
    out: &mut String,
    change: &similar::Change<&str>,
    show_secrets: bool,
    full_data: bool,
    style: Style,
) {
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
    let body = if full_data || change.tag() != similar::ChangeTag::Equal {
        body
    } else {
        std::borrow::Cow::Owned(omit_data(&body).into_owned())
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
                diff_line(&mut out, &change, show_secrets, show_secrets, style);
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
    /// How many problems the finding stands for: 1, or N for the "… and N more" finding
    /// (code `more`) that closes a list cut at 50 findings per rule and file.
    pub count: usize,
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
            path: crate::error::error_path(e).map(json_path),
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
    // Said once under the file's name, with -v or when the file is rewritten.
    let encoding_note = (plan.encoding != crate::yaml::Encoding::Utf8
        && (verbose || plan.new_text.is_some()))
    .then(|| {
        format!(
            "  note: the file is {0} text (with a byte-order mark), which kubectl reads; a fix is written back as {0}\n",
            plan.encoding.label()
        )
    });
    if plan.findings.is_empty() {
        if verbose && plan.empty {
            let _ = writeln!(
                out,
                "{label}: no problems found\n  note: the file is empty (no YAML content); kubectl reads it as a kubeconfig with nothing in it"
            );
        } else if verbose {
            let _ = writeln!(out, "{label}: no problems found");
            out.push_str(encoding_note.as_deref().unwrap_or(""));
        }
        return out;
    }
    let _ = writeln!(out, "{}", style.paint("1", label));
    out.push_str(encoding_note.as_deref().unwrap_or(""));
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
                shown_path(b)
            );
        }
        if nothing_written && kept.is_empty() {
            let _ = writeln!(err, "kubefix: nothing was written");
        }
    }
    !errors.is_empty()
}

// ---------------------------------------------------------------------------------------
// The report of a check (or a dry run, or --apply): every file's findings, expiry table,
// diff and backup, then one summary line; or the JSON report.

/// How the text report of a check looks.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub mode: Mode,
    /// `-v`: also report files with no problems.
    pub verbose: bool,
    /// `--show-secrets`.
    pub show_secrets: bool,
    pub style: Style,
}

/// What happened to each planned file (same order as the plans): whether it was written, and
/// its backup (also one written before a failed write).
pub struct Outcome<'a> {
    pub written: &'a [bool],
    pub backups: &'a [Option<PathBuf>],
}

/// The JSON report of a check.
pub fn json_report(
    plans: &[FilePlan],
    done: &Outcome<'_>,
    errors: &[Error],
    view: &View,
) -> JsonReport {
    let mut summary = JsonSummary {
        files: plans.len(),
        errors: errors.len(),
        ..JsonSummary::default()
    };
    let files = plans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let file = json_file(p, done.written[i], done.backups[i].as_deref(), view);
            summary.findings += p.findings.iter().map(|f| f.count).sum::<usize>();
            summary.fixable += p.fixable();
            if done.written[i] {
                summary.fixed += p.fixable();
            }
            file
        })
        .collect();
    JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        mode: view.mode.name(),
        files,
        errors: json_errors(errors),
        summary,
    }
}

/// The JSON object of one file.
fn json_file(p: &FilePlan, written: bool, backup: Option<&Path>, view: &View) -> JsonFile {
    let label = json_path(&p.path);
    let findings = p
        .findings
        .iter()
        .map(|f| JsonFinding {
            rule: f.rule,
            code: f.code,
            severity: f.severity,
            message: f.message.clone(),
            entry: f.entry.clone(),
            line: f.line,
            fixable: f.fix.is_some(),
            fixed: f.fix.is_some() && written,
            fix: f.fix.as_ref().map(|x| x.title.clone()),
            kubectl_error: f.kubectl_error.clone(),
            hint: f.hint.clone(),
            count: f.count,
        })
        .collect();
    JsonFile {
        diff: diff(
            p,
            &label,
            view.show_secrets,
            view.show_secrets || view.verbose,
            Style { color: false },
        ),
        path: label,
        changed: written,
        backup: backup.map(json_path),
        findings,
        expiry: p.expiry.clone(),
    }
}

/// The text report of a check: each file's block, then (when `summary` is given, i.e. no
/// error) the summary line. `apply` is the command that applies pending fixes.
pub fn text_report(
    plans: &[FilePlan],
    done: &Outcome<'_>,
    view: &View,
    summary: Option<&str>,
) -> String {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        out.push_str(&file_block(
            p,
            done.written[i],
            done.backups[i].as_deref(),
            view,
        ));
    }
    if let Some(apply) = summary {
        let line = summary_line(plans, done.written, view.mode, apply);
        let _ = writeln!(out, "{}", clean(&line));
    }
    out
}

/// One file in the text report: findings, expiry table, diff (unless --check), backup.
fn file_block(p: &FilePlan, written: bool, backup: Option<&Path>, view: &View) -> String {
    let mut out = String::new();
    let label = shown_path(&p.path);
    out.push_str(&human_findings(
        p,
        &label,
        written,
        view.verbose,
        view.style,
    ));
    let table = crate::inspect::expiry::render_text(&p.expiry, written);
    if !table.is_empty() {
        if p.findings.is_empty() && !view.verbose {
            let _ = writeln!(out, "{}", clean(&label));
        }
        out.push_str(&table);
    }
    if view.mode != Mode::Check {
        let d = diff(
            p,
            &label,
            view.show_secrets,
            view.show_secrets || view.verbose,
            view.style,
        );
        if !d.is_empty() {
            let _ = write!(out, "\n{d}");
        }
    }
    if let Some(b) = backup {
        let _ = writeln!(out, "backup: {}", clean(&shown_path(b)));
    }
    out
}

/// The last line: what was fixed, or what is pending and the command that applies it
/// (`apply`), and how many problems are left to fix by hand.
pub fn summary_line(plans: &[FilePlan], written: &[bool], mode: Mode, apply: &str) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let fixable: usize = plans.iter().map(FilePlan::fixable).sum();
    let other: usize = plans
        .iter()
        .map(|p| p.findings.iter().map(|f| f.count).sum::<usize>() - p.fixable())
        .sum();
    let names = |pred: &dyn Fn(usize) -> bool| {
        plans
            .iter()
            .enumerate()
            .filter(|(i, _)| pred(*i))
            .map(|(_, p)| shown_path(&p.path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = if fixable == 0 {
        format!("no fixes needed in {}", names(&|_| true))
    } else if mode == Mode::Apply {
        format!(
            "{} applied in {}",
            plural(fixable, "fix", "fixes"),
            names(&|i| written[i])
        )
    } else {
        format!(
            "{} pending in {}; run {apply}",
            plural(fixable, "fix", "fixes"),
            names(&|i| plans[i].changed())
        )
    };
    if other > 0 {
        format!(
            "{line}; {} to fix by hand (see hints above)",
            plural(other, "problem", "problems")
        )
    } else {
        line
    }
}

/// What to tell the user after a file was rewritten in place (a bind mount) by --apply.
pub fn in_place_note(path: &Path, backup: &Path) -> String {
    format!(
        "{} is a mount point (a bind mount, as `docker run -v` makes), which cannot be replaced \
         by a rename: it was rewritten in place under the lock instead, which is not atomic \
         (a crash during the write could leave it partial; the backup is {})",
        shown_path(path),
        shown_path(backup)
    )
}

/// Print notes (`kubefix: note: …`) to `err`.
pub fn print_notes(notes: &[String], err: &mut dyn Write) {
    for n in notes {
        let _ = writeln!(err, "kubefix: note: {n}");
    }
}

// ---------------------------------------------------------------------------------------
// `kubefix restore` and `kubefix restore --list`.

/// One file's backups, for `restore --list`.
pub struct Listing<'a> {
    pub path: &'a Path,
    pub dir: &'a Path,
    pub scan: &'a Scan,
}

/// One file `kubefix restore` put back (or found identical to the backup).
pub struct Restored {
    pub path: PathBuf,
    /// The backup put back.
    pub from: PathBuf,
    /// The backup of the replaced content; `None` when the file was already identical.
    pub backup: Option<PathBuf>,
    /// The diff from the replaced content to the restored one (redacted).
    pub diff: String,
    /// A note for standard error (the file was rewritten in place).
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonBackup {
    path: String,
    time: String,
    size: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonListFile {
    path: String,
    backup_dir: String,
    /// Newest first: the first one is what `kubefix restore` would put back.
    backups: Vec<JsonBackup>,
    /// Files named like backups that are not trusted (another user's, writable by others,
    /// dated in the future, in a directory others can write to).
    ignored: Vec<JsonIgnored>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonIgnored {
    path: String,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRestoredFile {
    path: String,
    /// The backup that was put back, or would have been.
    restored_from: Option<String>,
    /// The backup of the content that was replaced.
    backup: Option<String>,
    changed: bool,
    /// The diff from the replaced content to the restored one (redacted unless
    /// --show-secrets).
    diff: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRestoreReport<F: Serialize> {
    schema_version: u32,
    mode: &'static str,
    files: Vec<F>,
    errors: Vec<JsonError>,
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn human_size(n: u64) -> String {
    secrets::human_size(usize::try_from(n).unwrap_or(usize::MAX))
}

/// `kubefix restore --list`: each file's trusted backups, newest first, and the ignored ones.
pub fn restore_list(out: &mut dyn Write, output: Output, files: &[Listing<'_>], errors: &[Error]) {
    if output == Output::Json {
        let files = files.iter().map(json_listing).collect();
        write_json(
            out,
            &JsonRestoreReport {
                schema_version: JSON_SCHEMA_VERSION,
                mode: "restore-list",
                files,
                errors: json_errors(errors),
            },
        );
        return;
    }
    for f in files {
        let backups = &f.scan.backups;
        let _ = writeln!(
            out,
            "{}: {} in {}",
            shown_path(f.path),
            match backups.len() {
                0 => "no kubefix backups".to_string(),
                1 => "1 backup".to_string(),
                n => format!("{n} backups, newest first"),
            },
            shown_path(f.dir)
        );
        for (i, b) in backups.iter().rev().enumerate() {
            let name = clean_path(&b.path.file_name().unwrap_or_default().to_string_lossy());
            let note = if i == 0 {
                "  (restore puts this back)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {}  {:>9}  {name}{note}",
                rfc3339(b.time),
                human_size(b.size)
            );
        }
        for (p, why) in &f.scan.ignored {
            let name = clean_path(&p.file_name().unwrap_or_default().to_string_lossy());
            let _ = writeln!(out, "  ignored: {name} (not a trusted backup: {why})");
        }
    }
}

fn json_listing(f: &Listing<'_>) -> JsonListFile {
    JsonListFile {
        path: json_path(f.path),
        backup_dir: json_path(f.dir),
        backups: f
            .scan
            .backups
            .iter()
            .rev()
            .map(|b| JsonBackup {
                path: json_path(&b.path),
                time: rfc3339(b.time),
                size: b.size,
            })
            .collect(),
        ignored: f
            .scan
            .ignored
            .iter()
            .map(|(p, why)| JsonIgnored {
                path: json_path(p),
                reason: why,
            })
            .collect(),
    }
}

/// `kubefix restore`: what was put back, from which backup, and the backup of what it replaced.
pub fn restore_report(
    out: &mut dyn Write,
    output: Output,
    quiet: bool,
    results: &[Restored],
    errors: &[Error],
) {
    if output == Output::Json {
        let files = results
            .iter()
            .map(|r| JsonRestoredFile {
                path: json_path(&r.path),
                restored_from: Some(json_path(&r.from)),
                backup: r.backup.as_ref().map(|b| json_path(b)),
                changed: r.backup.is_some(),
                diff: r.diff.clone(),
            })
            .collect();
        write_json(
            out,
            &JsonRestoreReport::<JsonRestoredFile> {
                schema_version: JSON_SCHEMA_VERSION,
                mode: "restore",
                files,
                errors: json_errors(errors),
            },
        );
        return;
    }
    if quiet {
        return;
    }
    for r in results {
        match &r.backup {
            Some(b) => {
                let _ = write!(out, "{}", r.diff);
                let _ = writeln!(
                    out,
                    "restored {} from {}\nbackup of the replaced content: {}",
                    shown_path(&r.path),
                    shown_path(&r.from),
                    shown_path(b)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{} is already identical to {}; nothing written",
                    shown_path(&r.path),
                    shown_path(&r.from)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_is_omitted_short_and_other_values_are_not() {
        let long = "LS0t".repeat(40);
        let line = format!("    certificate-authority-data: {long}");
        assert_eq!(
            omit_data(&line),
            "    certificate-authority-data: DATA+OMITTED"
        );
        let quoted = format!("  idp-certificate-authority-data: \"{long}\"  # ca");
        assert_eq!(
            omit_data(&quoted),
            "  idp-certificate-authority-data: \"DATA+OMITTED\"  # ca"
        );
        let flow = format!("  cluster: {{certificate-authority-data: {long}, server: https://a}}");
        assert_eq!(
            omit_data(&flow),
            "  cluster: {certificate-authority-data: DATA+OMITTED, server: https://a}"
        );
        for kept in [
            "    certificate-authority-data: Zm9v".to_string(),
            format!("    server: {long}"),
            "    client-key-data: <redacted: under 1 KiB, tag 0f95a24b>".to_string(),
            "-data:".to_string(),
        ] {
            assert_eq!(omit_data(&kept), kept);
        }
    }
}
