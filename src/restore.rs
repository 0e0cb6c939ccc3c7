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

use crate::backup::{distrust, scan_backups, Backup, Scan};
use crate::error::ExitCode;
use crate::error::{Error, Result};
use crate::invocation::Invocation;
use crate::privilege::Owner;
use crate::render::shown_path;
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

/// A backup must read as a kubeconfig before it is put back: text kubectl reads (UTF-8, or
/// UTF-16 with a byte-order mark), the kubeconfig schema. Returns its text and encoding.
fn check_backup(path: &Path, bytes: Vec<u8>) -> Result<(String, crate::yaml::Encoding)> {
    let invalid = |line, column, message: String| Error::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        message: format!("not restoring this backup: {message}"),
    };
    let (text, encoding) = crate::yaml::decode_file(bytes)
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
        let view =
            crate::kubeconfig::Kubeconfig::new(&doc).map_err(|e| at(&doc, e.at, e.message))?;
        // kubectl would read it (as an empty config), but kubefix never backed it up as a
        // kubeconfig: not one to put back.
        if view.no_kubeconfig_keys {
            return Err(at(
                &doc,
                0,
                "none of the kubeconfig keys (apiVersion, kind, clusters, contexts, users, current-context) is present".into(),
            ));
        }
        drop(view);
        crate::schema::check(&doc)
            .map_err(|e| at(&doc, e.at, format!("not a valid kubeconfig: {}", e.message)))?;
    }
    Ok((text, encoding))
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
    let current = match crate::yaml::decode_file(current.to_vec()) {
        Ok((text, _)) => std::borrow::Cow::Owned(text),
        Err(_) => String::from_utf8_lossy(current),
    };
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
    render::text_diff(
        &old,
        &new,
        label,
        &format!("{from} (restored)"),
        show_secrets,
    )
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
    inv: &Invocation,
    env: &source::Env,
    list: bool,
    chosen: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let mut errors: Vec<Error> = Vec::new();
    let found = find_all(inv, env, &mut errors);
    if list {
        let listing: Vec<render::Listing<'_>> = found
            .iter()
            .map(|f| render::Listing {
                path: &f.path,
                dir: &f.dir,
                scan: &f.scan,
            })
            .collect();
        render::restore_list(out, inv.output, &listing, &errors);
        return finish(&errors, err, false, false, &[]);
    }
    // Restore: pick the backup for every file first; any problem means nothing is written.
    if chosen.is_some() && found.len() > 1 {
        errors.push(Error::Usage(
            "naming a backup needs exactly one kubeconfig; pass --kubeconfig PATH".into(),
        ));
    }
    let mut jobs: Vec<Job> = Vec::new();
    for f in &found {
        if !errors.is_empty() {
            break;
        }
        match pick(f, chosen) {
            Ok(j) => jobs.push(j),
            Err(e) => errors.push(e),
        }
    }
    let (results, batch) = if errors.is_empty() {
        put_back(inv, &jobs)
    } else {
        (Vec::new(), None)
    };
    let kept = batch.as_ref().map(persist::Batch::kept).unwrap_or_default();
    let wrote = batch.as_ref().is_some_and(persist::Batch::any_written);
    errors.extend(batch.and_then(|b| b.error));
    render::restore_report(out, inv.output, inv.quiet, &results, &errors);
    let notes: Vec<String> = results.iter().filter_map(|r| r.note.clone()).collect();
    render::print_notes(&notes, err);
    finish(&errors, err, wrote, true, &kept)
}

/// Each selected file with its backups (oldest first), looked at as the file's owner.
fn find_all(inv: &Invocation, env: &source::Env, errors: &mut Vec<Error>) -> Vec<Found> {
    let files = source::select(inv.kubeconfig.as_deref(), env).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let mut found: Vec<Found> = Vec::new();
    for path in &files {
        let located = persist::owner_for(path).and_then(|owner| {
            persist::as_owner(owner.as_ref(), path, || {
                let (dir, name) = backup_location(path, inv.write.backup_dir.as_deref())?;
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
    found
}

/// One file to put back: the backup chosen, read and checked, and the current content.
struct Job {
    path: PathBuf,
    from: PathBuf,
    content: String,
    /// The backup's bytes (its text in its own encoding).
    bytes: Vec<u8>,
    current: Vec<u8>,
    owner: Option<Owner>,
    /// Whether the backup differs from the file (else nothing to write).
    changed: bool,
}

/// The backup of `f` to put back (the newest, or `chosen`), read and checked as its owner.
fn pick(f: &Found, chosen: Option<&Path>) -> Result<Job> {
    let matches = |p: &Path, c: &Path| {
        p == c || (c.parent() == Some(Path::new("")) && p.file_name() == Some(c.as_os_str()))
    };
    let pick = match chosen {
        None => f.scan.backups.last(),
        Some(c) => f.scan.backups.iter().find(|b| matches(&b.path, c)),
    };
    let Some(pick) = pick else {
        let ignored = chosen.and_then(|c| f.scan.ignored.iter().find(|(p, _)| matches(p, c)));
        return Err(Error::Usage(match (chosen, ignored) {
            (Some(_), Some((p, why))) => format!(
                "{}: refusing to restore {}: not a trusted kubefix backup ({why})",
                shown_path(&f.path),
                shown_path(p)
            ),
            (None, _) => format!(
                "{}: no kubefix backup of it in {}{}; nothing to restore",
                shown_path(&f.path),
                shown_path(&f.dir),
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
                shown_path(&f.path),
                c.display()
            ),
        }));
    };
    let (content, current) = persist::as_owner(f.owner.as_ref(), &f.path, || {
        let content = check_backup(&pick.path, read_trusted(pick)?)?;
        let current = crate::plan::read(&f.path)?;
        Ok((content, current))
    })?;
    let (content, encoding) = content;
    let bytes = encoding.encode(&content).into_owned();
    Ok(Job {
        path: f.path.clone(),
        from: pick.path.clone(),
        changed: bytes != current,
        content,
        bytes,
        current,
        owner: f.owner.clone(),
    })
}

/// Write every job whose backup differs from the file ([`persist::write_all`]; backups of
/// the replaced content are kept, never pruned). Returns what was restored (or found
/// identical) before any failure, and the batch.
fn put_back(inv: &Invocation, jobs: &[Job]) -> (Vec<render::Restored>, Option<persist::Batch>) {
    let wjobs: Vec<persist::Job<'_>> = jobs
        .iter()
        .map(|j| persist::Job {
            path: &j.path,
            owner: j.owner.as_ref(),
            original: &j.current,
            new: j.changed.then_some(j.bytes.as_slice()),
            mode: None,
        })
        .collect();
    let wopts = persist::WriteOptions {
        keep_backups: None,
        ..inv.write.clone()
    };
    let batch = persist::write_all(&wjobs, &wopts);
    let mut results = Vec::new();
    for (j, d) in jobs.iter().zip(&batch.done) {
        let (backup, diff, note) = match d {
            persist::Done::Unchanged => (None, String::new(), None),
            persist::Done::Replaced(w) => (
                Some(w.backup.clone()),
                restore_diff(
                    &shown_path(&j.path),
                    &shown_path(&j.from),
                    &j.current,
                    &j.content,
                    inv.view.show_secrets,
                ),
                w.in_place.then(|| {
                    format!(
                        "{} was rewritten in place (a mount point cannot be renamed over); \
                         not atomic, its backup is {}",
                        shown_path(&j.path),
                        shown_path(&w.backup)
                    )
                }),
            ),
            _ => continue,
        };
        results.push(render::Restored {
            path: j.path.clone(),
            from: j.from.clone(),
            backup,
            diff,
            note,
        });
    }
    (results, Some(batch))
}
