//! `kubefix restore`: put a kubefix backup back; `restore --list`; and `--keep-backups` pruning.
//!
//! A backup is recognised only by its exact name, `<file>.kubefix-YYYYMMDDTHHMMSSZ.bak` or
//! `<file>.kubefix-YYYYMMDDTHHMMSSZ-N.bak` (N counts backups taken within one second), a
//! regular file in the backup directory (beside the real file, or `--backup-dir`). Nothing
//! else is ever listed, restored from or deleted.
//!
//! A backup is trusted only when it is ours: owned by the file's owner (by the running user
//! when not root), not writable by group or others, not dated in the future (beyond a small
//! clock skew), in a directory others cannot write to, or a sticky one (`/tmp`-like, where
//! ownership decides). A shared `--backup-dir` may hold anybody's files under our names;
//! untrusted ones are never listed, restored from, counted for `--keep-backups` or deleted.
//!
//! Restoring goes through the same safe path as `--apply` ([`persist::replace`]): the lock,
//! a backup of the current content (so a restore can itself be undone), a temp file, fsync,
//! an atomic rename, all as the file's owner when run as root. The chosen backup must read as
//! a kubeconfig first, and the diff from the current file to it is shown (redacted).
//! Restoring never deletes a backup.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::backup::{distrust, scan_backups, Backup, Scan};
use crate::cli::{Cli, Output};
use crate::error::{display_path, ExitCode};
use crate::error::{Error, Result};
use crate::privilege::Owner;
use crate::{persist, render, source};

/// Where the backups of `path` live, and the file name they are named after: the real file
/// (through symlinks), as [`persist::replace`] names them.
pub fn backup_location(path: &Path, backup_dir: Option<&Path>) -> Result<(PathBuf, String)> {
    let (real_dir, file_name) = persist::locate(path)?;
    let dir = match backup_dir {
        Some(d) => d.to_path_buf(),
        None => real_dir,
    };
    Ok((dir, file_name))
}

/// Read a listed backup, checking on the open file (no symlink followed) that it is still
/// one we trust.
fn read_trusted(b: &Backup) -> Result<Vec<u8>> {
    let rerr = |source| Error::Read {
        path: b.path.clone(),
        source,
    };
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(&b.path)
        .map_err(rerr)?;
    let meta = file.metadata().map_err(rerr)?;
    if let Some(why) = distrust(&meta, b.time, SystemTime::now())
        .or((!meta.is_file()).then_some("it is not a regular file"))
    {
        return Err(Error::Verify {
            path: b.path.clone(),
            reason: format!("not a trusted kubefix backup: {why}"),
        });
    }
    persist::read_bounded_file(file, &b.path)
}

/// A backup must read as a kubeconfig before it is put back: UTF-8, one YAML document, the
/// kubeconfig schema. Returns its text.
fn check_backup(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let invalid = |line, column, message: String| Error::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        message: format!("not restoring this backup: {message}"),
    };
    let text = crate::yaml::decode_owned(bytes)
        .map_err(|e| invalid(e.position.line, e.position.column, e.message))?;
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(Error::InvalidNoPosition {
            path: path.to_path_buf(),
            message: "not restoring this backup: it is empty".into(),
        });
    }
    {
        let doc = crate::yaml::Document::parse(&text)
            .map_err(|e| invalid(e.position.line, e.position.column, e.message))?;
        let at = |doc: &crate::yaml::Document<'_>, at: usize, m: String| {
            let p = doc.position(at);
            invalid(p.line, p.column, m)
        };
        crate::kubeconfig::Kubeconfig::new(&doc).map_err(|e| at(&doc, e.at, e.message))?;
        crate::schema::check(&doc)
            .map_err(|e| at(&doc, e.at, format!("not a valid kubeconfig: {}", e.message)))?;
    }
    Ok(text)
}

/// `text` with every secret value replaced by its redaction (a multi-line secret keeps its
/// line count), or `None` when the text is not a kubeconfig, so its secrets are unknown.
fn redacted(text: &str) -> Option<String> {
    let doc = crate::yaml::Document::parse(text).ok()?;
    let view = crate::kubeconfig::Kubeconfig::new(&doc).ok()?;
    let mut spans = crate::plan::secret_spans(&view);
    spans.sort_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        if s.start < at {
            continue;
        }
        out.push_str(&text[at..s.start]);
        let secret = &text[s.clone()];
        out.push_str(&crate::render::redaction(secret));
        for _ in 0..secret.matches('\n').count() {
            out.push('\n');
        }
        at = s.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// The unified diff from the current file to the backup, secrets redacted unless
/// `show_secrets`. A current file that is not a kubeconfig (its secrets cannot be found) is
/// not shown, only the backup's side.
fn restore_diff(
    label: &str,
    from: &str,
    current: &[u8],
    backup: &str,
    show_secrets: bool,
) -> String {
    let current = String::from_utf8_lossy(current);
    let (old, new) = if show_secrets {
        (Some(current.into_owned()), backup.to_string())
    } else {
        (
            redacted(&current),
            redacted(backup).unwrap_or_else(|| backup.to_string()),
        )
    };
    let Some(old) = old else {
        return format!(
            "{label} is not a valid kubeconfig, so its content is not shown; it is replaced by {from}\n"
        );
    };
    crate::render::text_diff(
        &old,
        &new,
        label,
        &format!("{from} (restored)"),
        show_secrets,
    )
}

/// A path for people, safe to print (controls escaped).
fn shown(path: &Path) -> String {
    crate::sanitize::clean_path(&display_path(path))
}

/// A path for JSON, with controls escaped (`jq -r` would print them raw).
fn json_path(path: &Path) -> String {
    crate::sanitize::clean_path(&path.display().to_string())
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn human_size(n: u64) -> String {
    crate::secrets::human_size(usize::try_from(n).unwrap_or(usize::MAX))
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
struct JsonReport<F: Serialize> {
    schema_version: u32,
    mode: &'static str,
    files: Vec<F>,
    errors: Vec<crate::render::JsonError>,
}

fn finish(
    errors: &[Error],
    err: &mut dyn Write,
    wrote: bool,
    restoring: bool,
    kept: &[PathBuf],
) -> ExitCode {
    if render::print_errors(errors, err, restoring && !wrote, kept) {
        ExitCode::Error
    } else {
        ExitCode::Ok
    }
}

/// One file to restore: where its backups are, which ones, and whom to act as.
struct Found {
    path: PathBuf,
    dir: PathBuf,
    scan: Scan,
    owner: Option<Owner>,
}

/// `kubefix restore [--list] [BACKUP]`.
pub fn run(
    cli: &Cli,
    env: &source::Env,
    list: bool,
    chosen: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let mut errors: Vec<Error> = Vec::new();
    let files = match source::select(cli.kubeconfig.as_deref(), env) {
        Ok(f) => f,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    // Each file with its backups (oldest first), looked at as the file's owner.
    let mut found: Vec<Found> = Vec::new();
    for path in &files {
        let located = persist::owner_for(path).and_then(|owner| {
            persist::as_owner(owner.as_ref(), path, || {
                let (dir, name) = backup_location(path, cli.backup_dir.as_deref())?;
                let scan = scan_backups(&dir, &name).map_err(|source| Error::Read {
                    path: dir.clone(),
                    source,
                })?;
                Ok((dir, scan))
            })
            .map(|(dir, scan)| Found {
                path: path.clone(),
                dir,
                scan,
                owner,
            })
        });
        match located {
            Ok(f) => found.push(f),
            Err(e) => errors.push(e),
        }
    }

    if list {
        match cli.output {
            Output::Json => {
                let report = JsonReport {
                    schema_version: crate::render::JSON_SCHEMA_VERSION,
                    mode: "restore-list",
                    files: found
                        .iter()
                        .map(|f| JsonListFile {
                            path: json_path(&f.path),
                            backup_dir: json_path(&f.dir),
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
                        })
                        .collect(),
                    errors: crate::render::json_errors(&errors),
                };
                crate::render::write_json(out, &report);
            }
            Output::Text => {
                for f in &found {
                    let backups = &f.scan.backups;
                    let _ = writeln!(
                        out,
                        "{}: {} in {}",
                        shown(&f.path),
                        match backups.len() {
                            0 => "no kubefix backups".to_string(),
                            1 => "1 backup".to_string(),
                            n => format!("{n} backups, newest first"),
                        },
                        shown(&f.dir)
                    );
                    for (i, b) in backups.iter().rev().enumerate() {
                        let name = crate::sanitize::clean_path(
                            &b.path.file_name().unwrap_or_default().to_string_lossy(),
                        );
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
                        let name = crate::sanitize::clean_path(
                            &p.file_name().unwrap_or_default().to_string_lossy(),
                        );
                        let _ = writeln!(out, "  ignored: {name} (not a trusted backup: {why})");
                    }
                }
            }
        }
        return finish(&errors, err, false, false, &[]);
    }

    // Restore: pick the backup for every file first; any problem means nothing is written.
    if chosen.is_some() && found.len() > 1 {
        errors.push(Error::Usage(
            "naming a backup needs exactly one kubeconfig; pass --kubeconfig PATH".into(),
        ));
    }
    struct Job {
        path: PathBuf,
        from: PathBuf,
        content: String,
        current: Vec<u8>,
        owner: Option<Owner>,
        /// Whether the backup differs from the file (else nothing to write).
        changed: bool,
    }
    let mut jobs: Vec<Job> = Vec::new();
    for f in &found {
        if !errors.is_empty() {
            break;
        }
        let matches = |p: &Path, c: &Path| {
            p == c || (c.parent() == Some(Path::new("")) && p.file_name() == Some(c.as_os_str()))
        };
        let pick = match chosen {
            None => f.scan.backups.last(),
            Some(c) => f.scan.backups.iter().find(|b| matches(&b.path, c)),
        };
        let Some(pick) = pick else {
            let ignored = chosen.and_then(|c| f.scan.ignored.iter().find(|(p, _)| matches(p, c)));
            errors.push(Error::Usage(match (chosen, ignored) {
                (Some(_), Some((p, why))) => format!(
                    "{}: refusing to restore {}: not a trusted kubefix backup ({why})",
                    shown(&f.path),
                    shown(p)
                ),
                (None, _) => format!(
                    "{}: no kubefix backup of it in {}{}; nothing to restore",
                    shown(&f.path),
                    shown(&f.dir),
                    match f.scan.ignored.len() {
                        0 => String::new(),
                        n => format!(
                            " ({n} file{} named like one ignored: not trusted, see kubefix restore --list)",
                            if n == 1 { "" } else { "s" }
                        ),
                    }
                ),
                (Some(c), None) => format!(
                    "{}: {} is not one of its kubefix backups (see kubefix restore --list)",
                    shown(&f.path),
                    crate::sanitize::clean_path(&c.display().to_string())
                ),
            }));
            break;
        };
        let read = persist::as_owner(f.owner.as_ref(), &f.path, || {
            let content = check_backup(&pick.path, read_trusted(pick)?)?;
            let current = crate::plan::read(&f.path)?;
            Ok((content, current))
        });
        let (content, current) = match read {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                break;
            }
        };
        jobs.push(Job {
            path: f.path.clone(),
            from: pick.path.clone(),
            changed: content.as_bytes() != current.as_slice(),
            content,
            current,
            owner: f.owner.clone(),
        });
    }

    // (file, restored from, backup of the replaced content, diff)
    let mut results: Vec<(PathBuf, PathBuf, Option<PathBuf>, String)> = Vec::new();
    let mut wrote = false;
    let mut kept: Vec<PathBuf> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if errors.is_empty() {
        let locks = persist::lock_all(
            jobs.iter()
                .filter(|j| j.changed)
                .map(|j| (&*j.path, j.owner.as_ref())),
        )
        .unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        let wopts = persist::WriteOptions {
            backup_dir: cli.backup_dir.clone(),
            keep_backups: None,
            mode: None,
            break_hardlink: cli.break_hardlink,
        };
        let mut locks = locks.into_iter();
        for j in &jobs {
            if !errors.is_empty() {
                break;
            }
            if !j.changed {
                results.push((j.path.clone(), j.from.clone(), None, String::new()));
                continue;
            }
            let lock = locks.next().expect("one lock per changed file");
            match persist::replace(&j.path, &j.current, j.content.as_bytes(), &wopts, &lock) {
                Ok(w) => {
                    wrote = true;
                    if w.in_place {
                        notes.push(format!(
                            "{} was rewritten in place (a mount point cannot be renamed over); \
                             not atomic, its backup is {}",
                            shown(&j.path),
                            shown(&w.backup)
                        ));
                    }
                    let diff = restore_diff(
                        &shown(&j.path),
                        &shown(&j.from),
                        &j.current,
                        &j.content,
                        cli.show_secrets,
                    );
                    results.push((j.path.clone(), j.from.clone(), Some(w.backup), diff));
                }
                Err(f) => {
                    kept.extend(f.backup);
                    errors.push(f.error);
                }
            }
        }
    }

    match cli.output {
        Output::Json => {
            let report = JsonReport {
                schema_version: crate::render::JSON_SCHEMA_VERSION,
                mode: "restore",
                files: results
                    .iter()
                    .map(|(path, from, backup, diff)| JsonRestoredFile {
                        path: json_path(path),
                        restored_from: Some(json_path(from)),
                        backup: backup.as_ref().map(|b| json_path(b)),
                        changed: backup.is_some(),
                        diff: diff.clone(),
                    })
                    .collect(),
                errors: crate::render::json_errors(&errors),
            };
            crate::render::write_json(out, &report);
        }
        Output::Text => {
            if !cli.quiet {
                for (path, from, backup, diff) in &results {
                    match backup {
                        Some(b) => {
                            let _ = write!(out, "{diff}");
                            let _ = writeln!(
                                out,
                                "restored {} from {}\nbackup of the replaced content: {}",
                                shown(path),
                                shown(from),
                                shown(b)
                            );
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "{} is already identical to {}; nothing written",
                                shown(path),
                                shown(from)
                            );
                        }
                    }
                }
            }
        }
    }
    for n in &notes {
        let _ = writeln!(err, "kubefix: note: {n}");
    }
    finish(&errors, err, wrote, true, &kept)
}
