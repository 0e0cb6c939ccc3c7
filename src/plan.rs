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
    pub original: String,
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
    pub names: rules::names::FileNames,
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
        self.findings.iter().filter(|f| f.fix.is_some()).count()
    }
}

/// Read and plan one file.
pub fn plan_file(path: &Path, options: &RuleOptions) -> Result<FilePlan> {
    let bytes = read(path)?;
    plan_owned(path, bytes, options)
}

pub fn read(path: &Path) -> Result<Vec<u8>> {
    if path.is_dir() {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    // Files over the size limit are refused before they are read.
    crate::persist::read_bounded(path)
}

fn invalid(path: &Path, e: yaml::YamlError) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        line: e.position.line,
        column: e.position.column,
        message: e.message,
    }
}

/// Parse a kubeconfig text (the same steps for the original and the result).
fn load<'a>(path: &Path, text: &'a str) -> Result<Document<'a>> {
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(Error::InvalidNoPosition {
            path: path.to_path_buf(),
            message: "the file is empty; a kubeconfig has at least apiVersion, kind and clusters"
                .into(),
        });
    }
    Document::parse(text).map_err(|e| invalid(path, e))
}

/// The kubeconfig view of a parsed text, after client-go's schema check when asked.
fn kubeconfig_view<'d, 'a>(
    path: &Path,
    doc: &'d Document<'a>,
    check_schema: bool,
) -> Result<Kubeconfig<'d, 'a>> {
    let at = |at: usize, message: String| {
        let p = doc.position(at);
        Error::Invalid {
            path: path.to_path_buf(),
            line: p.line,
            column: p.column,
            message,
        }
    };
    let view = Kubeconfig::new(doc).map_err(|e| at(e.at, e.message))?;
    if check_schema {
        schema::check(doc)
            .map_err(|e| at(e.at, format!("not a valid kubeconfig: {}", e.message)))?;
    }
    Ok(view)
}

/// Plan a file from its bytes (`path` is used for messages and relative paths only).
pub fn plan_bytes(path: &Path, bytes: &[u8], options: &RuleOptions) -> Result<FilePlan> {
    plan_owned(path, bytes.to_vec(), options)
}

/// Plan a file from bytes it owns: the text is decoded in place, never copied.
pub fn plan_owned(path: &Path, bytes: Vec<u8>, options: &RuleOptions) -> Result<FilePlan> {
    yaml::decode(&bytes).map_err(|e| invalid(path, e))?;
    let original = String::from_utf8(bytes).expect("checked by decode");
    let text = original.as_str();
    let doc = load(path, text)?;
    let view = kubeconfig_view(path, &doc, true)?;
    let mut cx = Context::new(path, &view, options);
    let findings = rules::run_all(&cx);
    let new_mode = findings
        .iter()
        .filter_map(|f| f.fix.as_ref().and_then(|x| x.mode))
        .min();
    let names = rules::names::FileNames::collect(path, &view);
    let secrets_old = secret_spans(&view);
    cx.expiry_table();
    let mut expiry = cx.expiry.take().unwrap_or_default();
    // Only a credential refresh changes what the expiry table says after the fix.
    let renews = findings
        .iter()
        .any(|f| f.rule == "k3s-credentials" && f.fix.is_some());

    let mut patch = Patch::new();
    let mut intents = Vec::new();
    let mut seen: std::collections::HashSet<&Edit> = std::collections::HashSet::new();
    for f in &findings {
        for change in f.fix.iter().flat_map(|fix| fix.changes.iter()) {
            // One shared node (an anchor used by two users) is fixed once.
            if !seen.insert(&change.edit) {
                continue;
            }
            patch.push(change.edit.clone());
            intents.push(change.intent.clone());
        }
    }
    drop(seen);
    let edits = patch.normalized(text).map_err(|e| Error::Verify {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;

    let (new_text, secrets_new, lines_new) = if patch.is_empty() {
        (None, Vec::new(), None)
    } else {
        let new_text = patch.apply(text).map_err(|e| Error::Verify {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let renewed = if renews { Some(&mut expiry[..]) } else { None };
        let (secrets, lines) =
            verify(path, &doc, &intents, &new_text, options, renewed, &findings)?;
        (Some(new_text), secrets, Some(lines))
    };
    drop(view);
    let lines_old = doc.lines;
    Ok(FilePlan {
        path: path.to_path_buf(),
        original,
        findings,
        new_text,
        edits,
        secrets_old,
        secrets_new,
        lines_old,
        lines_new,
        expiry,
        names,
        old_mode: std::fs::metadata(path)
            .ok()
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777),
        new_mode,
    })
}

/// The cross-file rules (names shared by every loaded file), once all files are planned:
/// their findings join each file's own. Report only; no text changes.
pub fn cross_file(plans: &mut [FilePlan], selection: &rules::Selection) {
    let found = {
        let files: Vec<&rules::names::FileNames> = plans.iter().map(|p| &p.names).collect();
        rules::run_cross_file(&files, selection)
    };
    for (i, f) in found {
        plans[i].findings.push(f);
    }
}

/// Check the repaired text; returns its secret spans (for redaction) and line index.
fn verify(
    path: &Path,
    old: &Document<'_>,
    intents: &[yaml::Intent],
    new_text: &str,
    options: &RuleOptions,
    renewed: Option<&mut [crate::inspect::ExpiryRow]>,
    before: &[Finding],
) -> Result<(Vec<Range<usize>>, yaml::LineIndex)> {
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
    yaml::equivalent(old, &new_doc, intents).map_err(|where_| {
        fail(format!(
            "the repaired text differs from the original in more than the intended values ({where_}); this is a kubefix bug, please report it"
        ))
    })?;
    let view = kubeconfig_view(path, &new_doc, false).map_err(load_failed)?;
    let again = rules::run_fixers(&Context::new(path, &view, options));
    // Mode-only fixes read the file on disk, which is only changed when writing.
    if let Some(f) = again
        .iter()
        .find(|f| f.fix.as_ref().is_some_and(|x| !x.changes.is_empty()))
    {
        return Err(fail(format!(
            "after the fix, rule {} still wants to change line {}; this is a kubefix bug, please report it",
            f.rule, f.line
        )));
    }
    // A fix must not leave an entry with an error it did not have, or with a different one
    // (the fix would only trade one kubectl failure for another).
    let had = |f: &Finding| {
        before
            .iter()
            .any(|b| b.rule == f.rule && b.entry == f.entry && b.message == f.message)
    };
    if let Some(f) = again
        .iter()
        .find(|f| f.severity == rules::Severity::Error && !had(f))
    {
        return Err(fail(format!(
            "after the fix, line {} would still fail in kubectl: {} [{}]",
            f.line, f.message, f.rule
        )));
    }
    let secrets = secret_spans(&view);
    if let Some(expiry) = renewed.filter(|e| !e.is_empty()) {
        let after =
            crate::inspect::expiry::table(&view, path, options.renew_within, crate::inspect::now());
        crate::inspect::expiry::mark_renewed(expiry, &after);
    }
    drop(view);
    Ok((secrets, new_doc.lines))
}

/// Keys whose values are secrets, in a user body.
const SECRET_USER_KEYS: [&str; 4] = [
    "client-key-data",
    "client-certificate-data",
    "token",
    "password",
];

fn is_secret_config_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("token") || k.contains("secret") || k.contains("password") || k.contains("key")
}

/// `--client-secret`, `--oidc-client-secret`, `--password`, `--token`: flags whose value is a
/// secret (not `--token-cache-dir`).
fn is_secret_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-').to_ascii_lowercase();
    let name = name.replace('_', "-");
    ["secret", "password", "passwd", "token", "key", "credential"]
        .iter()
        .any(|w| name.ends_with(w))
        || name.contains("secret")
        || name.contains("password")
}

/// Byte spans of every secret value: client keys and certificates, tokens, passwords,
/// auth-provider tokens and secrets, exec env values.
pub fn secret_spans(view: &Kubeconfig<'_, '_>) -> Vec<Range<usize>> {
    let doc = view.doc;
    let mut out = Vec::new();
    let mut push = |id: yaml::NodeId| {
        let id = doc.resolve(id);
        if doc.scalar(id).is_some() {
            out.push(doc.node(id).span());
        }
    };
    for user in &view.users {
        let Some(body) = user.body else { continue };
        for key in SECRET_USER_KEYS {
            if let Some(v) = doc.get(body, key) {
                push(v);
            }
        }
        if let Some(config) = doc
            .get(body, "auth-provider")
            .and_then(|ap| doc.get(ap, "config"))
        {
            for &(k, v) in doc.entries(config).unwrap_or(&[]) {
                if doc.scalar(k).is_some_and(is_secret_config_key) {
                    push(v);
                }
            }
        }
        // Exec args that carry a secret: `--oidc-client-secret=S`, or `--client-secret S`.
        if let Some(args) = doc.get(body, "exec").and_then(|e| doc.get(e, "args")) {
            let mut next_is_secret = false;
            for &item in doc.items(args).unwrap_or(&[]) {
                let arg = doc.scalar(item).unwrap_or("");
                let (flag, inline) = match arg.split_once('=') {
                    Some((f, _)) => (f, true),
                    None => (arg, false),
                };
                let secret_flag = flag.starts_with('-') && is_secret_flag(flag);
                if next_is_secret || (secret_flag && inline) {
                    push(item);
                }
                next_is_secret = secret_flag && !inline;
            }
        }
        if let Some(env) = doc.get(body, "exec").and_then(|e| doc.get(e, "env")) {
            for &item in doc.items(env).unwrap_or(&[]) {
                if let Some(v) = doc.get(item, "value") {
                    push(v);
                }
            }
        }
    }
    out.sort_by_key(|r| r.start);
    out.dedup();
    out
}
