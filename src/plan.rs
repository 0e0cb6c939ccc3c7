//! From a file's bytes to its findings and, if anything is fixable, the verified new text.
//!
//! One parse, every rule over the same view, all fixes spliced in one pass, then the result is
//! parsed again and checked: it must mean exactly the original plus the intended changes, read
//! as a kubeconfig, and leave nothing for a second run to fix. Any doubt is an error, and
//! nothing gets written.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::kubeconfig::Kubeconfig;
use crate::rules::{self, Context, Finding, RuleOptions};
use crate::schema;
use crate::yaml::{self, Document, Edit, Patch};

/// Everything kubefix knows about one file before writing anything.
#[derive(Debug)]
pub struct FilePlan {
    pub path: PathBuf,
    /// The file's text (decoded from UTF-16 when it is, see `encoding`).
    pub original: String,
    /// How the file is encoded; the new text is written back the same way.
    pub encoding: yaml::Encoding,
    pub findings: Vec<Finding>,
    /// The repaired text, when at least one fix applies and it passed verification.
    pub new_text: Option<String>,
    /// The edits, sorted and de-duplicated, in original-text offsets.
    pub edits: Vec<Edit>,
    /// Byte ranges of secret values in the original and in the new text (for redaction).
    pub secrets_old: Vec<Range<usize>>,
    pub secrets_new: Vec<Range<usize>>,
    /// Line starts of the original and of the new text (built by the parses; reused by the diff).
    pub lines_old: yaml::LineIndex,
    pub lines_new: Option<yaml::LineIndex>,
    /// Every credential with its expiry (the original's), marked where a fix renews it.
    pub expiry: Vec<crate::inspect::ExpiryRow>,
    /// The names this file defines and references, for the cross-file rules.
    pub names: crate::kubeconfig::names::FileNames,
    /// The file has no YAML content (empty, blanks, comments): kubectl reads an empty config.
    pub empty: bool,
    /// The file's permission bits when read, and the mode a fix sets (`file-permissions`).
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
}

impl FilePlan {
    /// Whether `--apply` writes anything: new text, or a new mode.
    pub fn changed(&self) -> bool {
        self.new_text.is_some() || self.new_mode.is_some()
    }

    pub fn fixable(&self) -> usize {
        self.findings.iter().map(Finding::fixes).sum()
    }
}

/// Swapping in another identity (`--force-identity`) is the owner's choice alone, never
/// root's for them: refused when `owner` (another user, kubefix running as root) is set.
pub fn refuse_force_identity(
    path: &Path,
    options: &RuleOptions,
    owner: Option<&crate::privilege::Owner>,
) -> Result<()> {
    match owner {
        Some(owner) if !options.force_identity.is_empty() && owner.uid != 0 => {
            Err(Error::Usage(format!(
                "{}: refusing --force-identity: the file belongs to {} and kubefix runs as root; only {} may choose to swap the identity of an entry, by running kubefix themselves",
                crate::error::display_path(path),
                owner.label(),
                owner.label()
            )))
        }
        _ => Ok(()),
    }
}

/// Read a kubeconfig: a regular file of at most 256 MiB, refused (exit 2) otherwise; a FIFO
/// or device is never opened (see [`crate::source::read_regular`]).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    crate::source::read_kubeconfig(path)
}

fn invalid(path: &Path, e: yaml::YamlError) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        line: e.position.line,
        column: e.position.column,
        message: e.message,
    }
}

/// Parse a kubeconfig text (the same steps for the original and the result). An empty text
/// (or only blanks and comments) parses to a document without root: client-go reads such a
/// file as an empty config, and so does kubefix.
fn load<'a>(path: &Path, text: &'a str) -> Result<Document<'a>> {
    let doc = Document::parse(text).map_err(|e| invalid(path, e))?;
    if doc.root.is_none() {
        // go-yaml v2 (libyaml) does not skip a tab that starts a line in block context, even
        // on a blank line: kubectl refuses such a file where the parser here reads nothing.
        let tab = text.split('\n').enumerate().find_map(|(i, line)| {
            let col = line.len() - line.trim_start_matches([' ', '\u{feff}']).len();
            line[col..].starts_with('\t').then_some((i + 1, col + 1))
        });
        if let Some((line, column)) = tab {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("a tab starts this line; kubectl refuses the file: yaml: line {line}: found character that cannot start any token"),
            });
        }
    }
    Ok(doc)
}

/// An error at byte `at` of a parsed text.
fn invalid_at(path: &Path, doc: &Document<'_>, at: usize, message: String) -> Error {
    let p = doc.position(at);
    Error::Invalid {
        path: path.to_path_buf(),
        line: p.line,
        column: p.column,
        message,
    }
}

/// The kubeconfig view of a parsed text.
fn kubeconfig_view<'d, 'a>(path: &Path, doc: &'d Document<'a>) -> Result<Kubeconfig<'d, 'a>> {
    Kubeconfig::new(doc).map_err(|e| invalid_at(path, doc, e.at, e.message))
}

/// Plan a file from its bytes (`path` is used for messages and relative paths only).
pub fn plan_bytes(path: &Path, bytes: &[u8], options: &RuleOptions) -> Result<FilePlan> {
    plan_owned(path, bytes.to_vec(), options)
}

/// From this size on, the repaired text is verified on a second thread while the schema
/// check and the report-only rules run on this one (below it, a thread costs more than it
/// saves: a typical kubeconfig plans in well under a millisecond).
const PARALLEL_FROM: usize = 256 * 1024;

/// The repaired text and what each of its edits means.
struct Repair {
    edits: Vec<Edit>,
    intents: Vec<yaml::Intent>,
    new_text: Option<String>,
}

/// What the file's own checks found (the part of the plan that reads only the original).
struct Report {
    findings: Vec<Finding>,
    names: crate::kubeconfig::names::FileNames,
    secrets_old: Vec<Range<usize>>,
}

/// Plan a file from bytes it owns: the text is decoded in place, never copied.
///
/// The fixing rules run first, and their edits are applied; then two jobs that need only
/// the original tree and the new text run side by side on a big file: verifying the new text
/// (a second full parse, the biggest cost after the first) and everything else (the schema
/// check, the report-only rules, the expiry table, names, secret spans). Errors keep their
/// sequential precedence: an invalid original is reported before any repair problem.
pub fn plan_owned(path: &Path, bytes: Vec<u8>, options: &RuleOptions) -> Result<FilePlan> {
    let (original, encoding) = yaml::decode_file(bytes).map_err(|e| invalid(path, e))?;
    let text = original.as_str();
    let doc = load(path, text)?;
    let view = kubeconfig_view(path, &doc)?;
    let cx = Context::new(path, &view, options);
    let mut fixes = rules::run_kind(&cx, true);
    shared_anchor_guard(
        &doc,
        fixes.iter_mut().flat_map(|(_, f)| f.iter_mut()).collect(),
    );
    rehome_anchors(
        &doc,
        fixes.iter_mut().flat_map(|(_, f)| f.iter_mut()).collect(),
    );
    // Only a credential refresh changes what the expiry table says after the fix.
    let renews = fixes
        .iter()
        .flat_map(|(_, f)| f)
        .any(|f| f.rule == "k3s-credentials" && f.fix.is_some());
    let repair = repair(path, &doc, &fixes);

    let verify_job = || match &repair {
        Ok(Repair {
            intents,
            new_text: Some(new_text),
            ..
        }) => Some(verify(path, &doc, intents, new_text, options, renews)),
        _ => None,
    };
    let report_job = || -> Result<Report> {
        schema::check(&doc).map_err(|e| {
            invalid_at(
                path,
                &doc,
                e.at,
                format!("not a valid kubeconfig: {}", e.message),
            )
        })?;
        let mut found = rules::run_kind(&cx, false);
        found.extend(fixes);
        let names = crate::kubeconfig::names::FileNames::collect(path, &view);
        let secrets_old = secret_spans(&view);
        cx.expiry_table();
        Ok(Report {
            findings: rules::merge(found),
            names,
            secrets_old,
        })
    };
    let (report, verified) = if text.len() >= PARALLEL_FROM {
        std::thread::scope(|s| {
            let verifying = s.spawn(verify_job);
            let report = report_job();
            // As on one thread: an invalid original is the answer, whatever verifying its
            // repair did (even a panic, which would be a kubefix bug, is not raised then).
            let verified = match (verifying.join(), &report) {
                (_, Err(_)) => None,
                (Ok(verified), Ok(_)) => verified,
                (Err(panic), Ok(_)) => std::panic::resume_unwind(panic),
            };
            (report, verified)
        })
    } else {
        let report = report_job();
        let verified = if report.is_ok() { verify_job() } else { None };
        (report, verified)
    };
    let report = report?;
    let Repair {
        edits, new_text, ..
    } = repair?;
    // Computed by the report job (the credential-expiry rule needs it anyway).
    let mut expiry = cx.expiry.into_inner().unwrap_or_default();
    let (secrets_new, lines_new) = match verified {
        None => (Vec::new(), None),
        Some(v) => {
            let v = v?;
            v.check_against(path, &report.findings)?;
            if let Some(after) = &v.expiry {
                crate::inspect::expiry::mark_renewed(&mut expiry, after);
            }
            (v.secrets, Some(v.lines))
        }
    };
    let new_mode = report
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref().and_then(|x| x.mode))
        .min();
    // No content, or a null document (`null`, an empty first document): an empty config.
    let empty = view.root.is_none();
    drop(view);
    let lines_old = doc.lines;
    // Names and values in findings and the expiry table come from the file: from here on
    // they are only shown, so they are made safe to show (controls escaped, bounded).
    let mut findings = cap_findings(report.findings);
    findings.iter_mut().for_each(crate::sanitize::tame_finding);
    expiry.iter_mut().for_each(crate::sanitize::tame_expiry);
    Ok(FilePlan {
        path: path.to_path_buf(),
        original,
        encoding,
        findings,
        new_text,
        edits,
        secrets_old: report.secrets_old,
        secrets_new,
        lines_old,
        lines_new,
        expiry,
        names: report.names,
        empty,
        old_mode: std::fs::metadata(path)
            .ok()
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777),
        new_mode,
    })
}

/// Where kubectl sees an edited node.
enum Place {
    /// Under a top-level key kubectl does not read (`x-defaults: &d …`).
    Unread,
    /// In an entry: the entry and the key path inside it.
    Entry(rules::EntryRef, Vec<String>),
    /// Anywhere else kubectl reads (`preferences`, `extensions`, …).
    Other(Vec<String>),
}

fn place(doc: &Document<'_>, o: &yaml::Occurrence) -> Place {
    let text = |steps: &[yaml::Step]| -> Vec<String> {
        steps
            .iter()
            .map(|s| match *s {
                yaml::Step::Key(k) => doc.scalar(k).unwrap_or("?").to_string(),
                yaml::Step::Index(i, _) => i.to_string(),
            })
            .collect()
    };
    let Some(&yaml::Step::Key(top)) = o.path.first() else {
        return Place::Other(Vec::new());
    };
    let top = doc.scalar(top).unwrap_or("");
    let section = crate::kubeconfig::Section::ALL
        .into_iter()
        .find(|s| s.key() == top);
    match (section, o.path.get(1)) {
        (Some(kind), Some(&yaml::Step::Index(_, item))) => {
            let name = doc
                .get(item, "name")
                .and_then(|n| doc.scalar(n))
                .unwrap_or("<unnamed>")
                .to_string();
            Place::Entry(rules::EntryRef { kind, name }, text(&o.path[2..]))
        }
        _ if [
            "apiVersion",
            "kind",
            "clusters",
            "contexts",
            "users",
            "current-context",
            "preferences",
            "extensions",
        ]
        .contains(&top) =>
        {
            Place::Other(text(&o.path))
        }
        _ => Place::Unread,
    }
}

/// An edit of an anchored node changes it wherever it is aliased, and an edit of a mapping
/// merged with `<<: *base` changes every mapping that merges it. Such an edit is applied only
/// when every place kubectl sees the node is itself an intended change: an entry whose own
/// finding asks for this very edit, seeing the node at one key path. Otherwise every finding
/// that needs the edit loses its fix (nothing is written for it; independent fixes still
/// apply) and keeps a hint naming the anchor and where else it is used.
fn shared_anchor_guard(doc: &Document<'_>, mut fixes: Vec<&mut Finding>) {
    use std::collections::{HashMap, HashSet};
    if !doc.has_aliases() {
        return; // every node is seen in one place only
    }
    let changes = |fixes: &[&mut Finding]| -> Vec<(yaml::NodeId, Option<rules::EntryRef>)> {
        fixes
            .iter()
            .flat_map(|f| {
                f.fix
                    .iter()
                    .flat_map(|x| x.changes.iter())
                    .map(move |c| (c.intent.target(), f.entry.clone()))
            })
            .collect()
    };
    let targets: HashSet<yaml::NodeId> = changes(&fixes).into_iter().map(|(t, _)| t).collect();
    let mut seen: HashMap<yaml::NodeId, Vec<(Place, &yaml::Occurrence)>> = HashMap::new();
    let occurrences = yaml::occurrences(doc, &targets);
    for o in &occurrences {
        let p = place(doc, o);
        if !matches!(p, Place::Unread) {
            seen.entry(o.node).or_default().push((p, o));
        }
    }
    seen.retain(|_, v| v.len() > 1);
    if seen.is_empty() {
        return;
    }
    // Refusing one finding's fix can leave another's edit without the entry that asked for
    // it: repeat until nothing changes (each round removes at least one fix).
    loop {
        // An entry by section and name (hashable, so a shared anchor used by thousands of
        // entries is checked in linear time).
        type Key<'e> = (&'static str, &'e str);
        let key =
            |e: &rules::EntryRef| -> (&'static str, String) { (e.kind.key(), e.name.clone()) };
        let mut requested: HashMap<yaml::NodeId, HashSet<(&'static str, String)>> = HashMap::new();
        for (t, e) in changes(&fixes) {
            if let Some(e) = e {
                requested.entry(t).or_default().insert(key(&e));
            }
        }
        let mut refused: HashMap<yaml::NodeId, String> = HashMap::new();
        for (&t, places) in &seen {
            let Some(asked) = requested.get(&t) else {
                continue;
            };
            // Each entry must see the node at one key path (not as `username` and as
            // `exec.apiVersion` both).
            let mut paths: HashMap<Key<'_>, &Vec<String>> = HashMap::new();
            let bad = places.iter().find(|(p, _)| match p {
                Place::Entry(e, path) => {
                    if !asked.contains(&key(e)) {
                        return true;
                    }
                    *paths.entry((e.kind.key(), e.name.as_str())).or_insert(path) != path
                }
                _ => true,
            });
            if let Some((p, o)) = bad {
                refused.insert(t, anchor_hint(doc, p, o, places));
            }
        }
        if refused.is_empty() {
            return;
        }
        for f in fixes.iter_mut() {
            let Some(fix) = &f.fix else { continue };
            let Some(hint) = fix
                .changes
                .iter()
                .find_map(|c| refused.get(&c.intent.target()))
            else {
                continue;
            };
            f.hint = Some(match f.hint.take() {
                Some(h) => format!("{hint}; {h}"),
                None => hint.clone(),
            });
            f.fix = None;
        }
    }
}

/// "the value is anchored as &v at line 8 and also used at line 14 (users/other: username)".
fn anchor_hint(
    doc: &Document<'_>,
    bad: &Place,
    o: &yaml::Occurrence,
    all: &[(Place, &yaml::Occurrence)],
) -> String {
    let line_of = |n: yaml::NodeId| doc.position(doc.node(n).span().start).line;
    let alias = o
        .via
        .or_else(|| all.iter().find_map(|(_, x)| x.via))
        .filter(|&a| matches!(doc.kind(a), yaml::NodeKind::Alias { .. }));
    let where_ = match bad {
        Place::Entry(e, path) if path.is_empty() => format!(" ({e})"),
        Place::Entry(e, path) => format!(" ({e}: {})", path.join(".")),
        Place::Other(path) => format!(" ({})", path.join(".")),
        Place::Unread => String::new(),
    };
    let used_at = |a: yaml::NodeId| {
        let yaml::NodeKind::Alias { target } = doc.kind(a) else {
            return String::new();
        };
        let name = doc.anchor(target).unwrap_or("?");
        let at = doc
            .anchor_line(target)
            .map(|l| format!(" at line {l}"))
            .unwrap_or_default();
        let shown = if o.via == Some(a) {
            format!("line {}{where_}", line_of(a))
        } else {
            format!("line {}, and where it is written{where_}", line_of(a))
        };
        format!("&{name}{at} is also used at {shown}")
    };
    match alias {
        Some(a) => format!(
            "not fixed automatically: the value is shared through a YAML anchor: {}, which no fix means to change; changing the anchor would change it there too. Give that place its own copy of the value, then run kubefix again",
            used_at(a)
        ),
        None => format!(
            "not fixed automatically: the value is shared through a YAML anchor and also seen{where_}, which no fix means to change"
        ),
    }
}

/// A removed (or replaced) entry takes an anchor with it that an alias elsewhere still uses: the fix also
/// writes the value out at the first alias that stays, anchor included (`*t` becomes
/// `&t true`), so what kubectl sees there does not change. Where that cannot be done, the
/// finding keeps a hint instead of its fix.
fn rehome_anchors(doc: &Document<'_>, mut fixes: Vec<&mut Finding>) {
    if !doc.has_aliases() || doc.anchors.is_empty() {
        return;
    }
    let removals = |f: &Finding| -> Vec<(yaml::NodeId, yaml::NodeId, Range<usize>)> {
        f.fix
            .iter()
            .flat_map(|x| x.changes.iter())
            .filter_map(|c| match c.intent {
                yaml::Intent::Remove { map, key } | yaml::Intent::Replace { map, key, .. } => {
                    let value = doc.entries(map)?.iter().find(|&&(k, _)| k == key)?.1;
                    Some((key, value, c.edit.range.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let removed: Vec<Range<usize>> = fixes
        .iter()
        .flat_map(|f| removals(f))
        .map(|(_, _, r)| r)
        .collect();
    if removed.is_empty() {
        return;
    }
    let aliases = yaml::alias_index(doc);
    for f in fixes.iter_mut() {
        let mut extra = Vec::new();
        for (key, value, _) in removals(f) {
            match yaml::rehome_anchors(doc, &aliases, key, value, &removed) {
                Ok(changes) => extra.extend(changes),
                Err(e) => {
                    f.hint = Some(match f.hint.take() {
                        Some(h) => format!("not fixed automatically: {e}; {h}"),
                        None => format!("not fixed automatically: {e}"),
                    });
                    f.fix = None;
                    break;
                }
            }
        }
        if let Some(fix) = &mut f.fix {
            fix.changes.extend(extra);
        }
    }
}

/// Splice every fix's edits into the text (one shared node, say an anchor used by two users,
/// is fixed once; removals from one flow mapping are joined).
fn repair(path: &Path, doc: &Document<'_>, fixes: &[rules::RuleFindings]) -> Result<Repair> {
    let text = doc.src;
    let fail = |e: yaml::PatchError| Error::Verify {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut patch = Patch::new();
    let mut seen: std::collections::HashSet<(&Edit, &yaml::Intent)> =
        std::collections::HashSet::new();
    let mut unique = Vec::new();
    let changes = fixes
        .iter()
        .flat_map(|(_, f)| f)
        .flat_map(|f| f.fix.iter().flat_map(|fix| fix.changes.iter()));
    for change in changes {
        if seen.insert((&change.edit, &change.intent)) {
            unique.push((change.edit.clone(), change.intent.clone()));
        }
    }
    drop(seen);
    let (edits, intents) = yaml::join_flow_removals(doc, unique);
    for edit in edits {
        patch.push(edit);
    }
    let edits = patch.normalized(text).map_err(fail)?;
    let new_text = if patch.is_empty() {
        None
    } else {
        Some(yaml::splice(text, &edits))
    };
    Ok(Repair {
        edits,
        intents,
        new_text,
    })
}

/// The cross-file rules (names shared by every loaded file), once all files are planned:
/// their findings join each file's own. Report only; no text changes.
pub fn cross_file(plans: &mut [FilePlan], options: &rules::RuleOptions) {
    let found = {
        let files: Vec<&crate::kubeconfig::names::FileNames> =
            plans.iter().map(|p| &p.names).collect();
        rules::run_cross_file(&files, options)
    };
    let mut per_file: Vec<Vec<Finding>> = plans.iter().map(|_| Vec::new()).collect();
    for (i, f) in found {
        per_file[i].push(f);
    }
    for (plan, found) in plans.iter_mut().zip(per_file) {
        for mut f in cap_findings(found) {
            crate::sanitize::tame_finding(&mut f);
            plan.findings.push(f);
        }
    }
}

/// How many findings of one rule a file lists; the rest are summed up in one finding. A
/// small file whose entries are one anchor aliased thousands of times (which kubectl reads,
/// below its aliasing limit) would otherwise print megabytes of the same lines.
pub const MAX_FINDINGS_PER_RULE: usize = 50;

/// Keep the first [`MAX_FINDINGS_PER_RULE`] findings of each rule and put, after them, one
/// "… and N more" finding for the rest (with the worst severity among them, and a fix
/// without changes when some of them were fixed: their edits are already in the patch).
fn cap_findings(found: Vec<Finding>) -> Vec<Finding> {
    use std::collections::HashMap;
    struct Omitted {
        count: usize,
        fixed: usize,
        severity: rules::Severity,
        line: usize,
    }
    let mut kept: HashMap<&'static str, usize> = HashMap::new();
    let mut omitted: HashMap<&'static str, Omitted> = HashMap::new();
    let mut out = Vec::with_capacity(found.len().min(4 * MAX_FINDINGS_PER_RULE));
    for f in found {
        let n = kept.entry(f.rule).or_default();
        if *n < MAX_FINDINGS_PER_RULE {
            *n += 1;
            out.push(f);
            continue;
        }
        let o = omitted.entry(f.rule).or_insert(Omitted {
            count: 0,
            fixed: 0,
            severity: f.severity,
            line: f.line,
        });
        o.count += 1;
        o.fixed += usize::from(f.fix.is_some());
        o.severity = o.severity.min(f.severity);
    }
    // After the last listed finding of its rule, from the back so indices stay valid.
    let mut at: Vec<(usize, &'static str)> = omitted
        .keys()
        .filter_map(|&rule| Some((out.iter().rposition(|f| f.rule == rule)? + 1, rule)))
        .collect();
    at.sort_unstable();
    for (i, rule) in at.into_iter().rev() {
        let o = &omitted[rule];
        let mut more = Finding::new(
            rule,
            o.severity,
            o.line,
            format!(
                "… and {} more {rule} finding{} in this file (not listed; the first is at line {})",
                o.count,
                if o.count == 1 { "" } else { "s" },
                o.line
            ),
        )
        .code("more");
        more.count = o.count;
        more.fixed_count = o.fixed;
        if o.fixed > 0 {
            more = more.fix(
                format!("the same fixes for {} of them", o.fixed),
                Vec::new(),
            );
        }
        out.insert(i, more);
    }
    out
}

/// What the re-parse of the repaired text found.
struct Verified {
    /// The fixing rules' findings on the new text.
    again: Vec<Finding>,
    secrets: Vec<Range<usize>>,
    lines: yaml::LineIndex,
    /// The new text's expiry table, when a fix renews credentials.
    expiry: Option<Vec<crate::inspect::ExpiryRow>>,
}

impl Verified {
    /// A second run must want no change, and a fix must not leave an entry with an error it
    /// did not have, or with a different one (the fix would only trade one kubectl failure
    /// for another).
    fn check_against(&self, path: &Path, before: &[Finding]) -> Result<()> {
        let fail = |reason: String| Error::Verify {
            path: path.to_path_buf(),
            reason,
        };
        // Mode-only fixes read the file on disk, which is only changed when writing.
        if let Some(f) = self
            .again
            .iter()
            .find(|f| f.fix.as_ref().is_some_and(|x| !x.changes.is_empty()))
        {
            return Err(fail(format!(
                "after the fix, rule {} still wants to change line {}; this is a kubefix bug, please report it",
                f.rule, f.line
            )));
        }
        let had = |f: &Finding| {
            before
                .iter()
                .any(|b| b.rule == f.rule && b.entry == f.entry && b.message == f.message)
        };
        if let Some(f) = self
            .again
            .iter()
            .find(|f| f.severity == rules::Severity::Error && !had(f))
        {
            return Err(fail(format!(
                "after the fix, line {} would still fail in kubectl: {} [{}]",
                f.line, f.message, f.rule
            )));
        }
        // A fix that does not take: its finding is still there after it (more of an error
        // than the file had without a fix), e.g. a removed key that a merge key (`<<`)
        // supplies again. kubectl would fail exactly as before, so nothing is written.
        let key = |f: &Finding| {
            (
                f.rule,
                f.entry.as_ref().map(|e| (e.kind, e.name.clone())),
                f.message.clone(),
            )
        };
        let errors_after: Vec<&Finding> = self
            .again
            .iter()
            .filter(|f| f.severity == rules::Severity::Error)
            .collect();
        if !errors_after.is_empty() {
            let mut unfixed: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
            for b in before.iter().filter(|b| b.fix.is_none()) {
                *unfixed.entry(key(b)).or_default() += 1;
            }
            for f in errors_after {
                let left = unfixed.entry(key(f)).or_default();
                if *left == 0 {
                    return Err(fail(format!(
                        "after the fix, line {} would still fail in kubectl the same way: {} [{}]; the fix does not take effect (a merge key (<<) may supply the value again); fix it by hand",
                        f.line, f.message, f.rule
                    )));
                }
                *left -= 1;
            }
        }
        Ok(())
    }
}

/// Parse the repaired text and check it means the original plus the intended changes.
fn verify(
    path: &Path,
    old: &Document<'_>,
    intents: &[yaml::Intent],
    new_text: &str,
    options: &RuleOptions,
    renews: bool,
) -> Result<Verified> {
    let fail = |reason: String| Error::Verify {
        path: path.to_path_buf(),
        reason,
    };
    // The schema check is not repeated: the node-by-node comparison below proves the new
    // document equals the checked original except for the intended values.
    let load_failed = |e: Error| {
        fail(format!(
            "the repaired text would not load ({e}); this is a kubefix bug, please report it"
        ))
    };
    let new_doc = load(path, new_text).map_err(load_failed)?;
    // Later YAML documents (which kubectl ignores) are kept byte for byte.
    let old_rest = old.rest.map(|at| &old.src[at..]);
    if old_rest != new_doc.rest.map(|at| &new_text[at..]) {
        return Err(fail(
            "the repaired text changes what follows the first YAML document; this is a kubefix bug, please report it".into(),
        ));
    }
    yaml::equivalent(old, &new_doc, intents).map_err(|where_| {
        fail(format!(
            "the repaired text differs from the original in more than the intended values ({where_}); this is a kubefix bug, please report it"
        ))
    })?;
    let view = kubeconfig_view(path, &new_doc).map_err(load_failed)?;
    let mut again = rules::run_fixers(&Context::new(path, &view, options));
    // A fix refused for a shared anchor is still wanted in the new text, and refused again.
    shared_anchor_guard(&new_doc, again.iter_mut().collect());
    let secrets = secret_spans(&view);
    let expiry = renews.then(|| {
        crate::inspect::expiry::table(&view, path, options.renew_within, crate::inspect::now())
    });
    drop(view);
    Ok(Verified {
        again,
        secrets,
        lines: new_doc.lines,
        expiry,
    })
}

// The secret-field and secret-flag rules and the span finder live in `secrets` (#16).
pub use crate::secrets::secret_spans;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn verified(again: Vec<Finding>) -> Verified {
        Verified {
            again,
            secrets: Vec::new(),
            lines: yaml::LineIndex::new(""),
            expiry: None,
        }
    }

    fn finding(fixed: bool) -> Finding {
        let f = Finding::new("r", Severity::Error, 3, "kubectl refuses this".into());
        if fixed {
            f.fix("remove it", Vec::new())
        } else {
            f
        }
    }

    /// A fix whose finding is still there after it (PoC §5: a key a merge key supplies
    /// again) is refused, not reported as applied.
    #[test]
    fn a_fix_whose_finding_still_fires_is_refused() {
        let path = Path::new("f");
        let e = verified(vec![finding(false)])
            .check_against(path, &[finding(true)])
            .unwrap_err();
        assert!(
            e.to_string().contains("the fix does not take effect"),
            "{e}"
        );
        // The same error twice, one fixed and one left with a hint: one may remain.
        let v = verified(vec![finding(false)]);
        assert!(v
            .check_against(path, &[finding(true), finding(false)])
            .is_ok());
        let v = verified(vec![finding(false), finding(false)]);
        assert!(v
            .check_against(path, &[finding(true), finding(false)])
            .is_err());
        // Fixed and gone.
        assert!(verified(Vec::new())
            .check_against(path, &[finding(true)])
            .is_ok());
    }
}
