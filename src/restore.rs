//! `kubefix restore`: put a kubefix backup back; `restore --list`; and `--keep-backups` pruning.
//!
//! A backup is recognised only by its exact name, `<file>.kubefix-YYYYMMDDTHHMMSSZ.bak` or
//! `<file>.kubefix-YYYYMMDDTHHMMSSZ-N.bak` (N counts backups taken within one second), a
//! regular file in the backup directory (beside the real file, or `--backup-dir`). Nothing
//! else is ever listed, restored from or deleted.
//!
//! Restoring goes through the same safe path as `--apply` ([`persist::replace`]): the lock,
//! a backup of the current content (so a restore can itself be undone), a temp file, fsync,
//! an atomic rename. Restoring never deletes a backup.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::cli::{Cli, Output};
use crate::error::{Error, Result};
use crate::{display_path, persist, source, ExitCode};

/// One kubefix backup of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    /// The UTC time in its name (when it was taken).
    pub time: SystemTime,
    /// The `-N` suffix (0 without one).
    pub seq: u32,
    pub size: u64,
}

/// The time and sequence number of `name` if it is exactly a kubefix backup name of
/// `file_name`, else `None`.
pub fn parse_backup_name(name: &str, file_name: &str) -> Option<(SystemTime, u32)> {
    let rest = name
        .strip_prefix(file_name)?
        .strip_prefix(".kubefix-")?
        .strip_suffix(".bak")?;
    let (stamp, seq) = match rest.split_once('-') {
        Some((stamp, seq)) => {
            if seq.is_empty() || seq.starts_with('0') || !seq.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (stamp, seq.parse().ok()?)
        }
        None => (rest, 0),
    };
    // YYYYMMDDTHHMMSSZ
    let b = stamp.as_bytes();
    if b.len() != 16
        || b[8] != b'T'
        || b[15] != b'Z'
        || !b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
    {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    let time = humantime::parse_rfc3339(&rfc).ok()?;
    Some((time, seq))
}

/// Where the backups of `path` live, and the file name they are named after: the real file
/// (through symlinks), as [`persist::replace`] names them.
pub fn backup_location(path: &Path, backup_dir: Option<&Path>) -> Result<(PathBuf, String)> {
    let real = fs::canonicalize(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file_name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let dir = match backup_dir {
        Some(d) => d.to_path_buf(),
        None => real
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    Ok((dir, file_name))
}

/// kubefix backups of `file_name` in `dir`, oldest first. A missing directory has none.
pub fn list_backups(dir: &Path, file_name: &str) -> std::io::Result<Vec<Backup>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((time, seq)) = parse_backup_name(name, file_name) else {
            continue;
        };
        // Regular files only: never follow or count a symlink or directory of that name.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        out.push(Backup {
            path: entry.path(),
            time,
            seq,
            size: meta.len(),
        });
    }
    out.sort_by(|a, b| (a.time, a.seq, &a.path).cmp(&(b.time, b.seq, &b.path)));
    Ok(out)
}

/// Delete the oldest kubefix backups of `file_name` in `dir` so that at most `keep` remain;
/// `keep == 0` keeps all. `just_written` is never deleted (even if the clock went backwards
/// and it sorts oldest). Returns what was deleted; failures to delete are skipped.
pub fn prune_backups(
    dir: &Path,
    file_name: &str,
    keep: usize,
    just_written: &Path,
) -> Vec<PathBuf> {
    if keep == 0 {
        return Vec::new();
    }
    let Ok(all) = list_backups(dir, file_name) else {
        return Vec::new();
    };
    let (mine, others): (Vec<Backup>, Vec<Backup>) =
        all.into_iter().partition(|b| b.path == just_written);
    let keep_others = keep.saturating_sub(mine.len().max(1));
    let excess = others.len().saturating_sub(keep_others);
    let mut deleted = Vec::new();
    for b in others.into_iter().take(excess) {
        if fs::remove_file(&b.path).is_ok() {
            deleted.push(b.path);
        }
    }
    deleted
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn human_size(n: u64) -> String {
    crate::render::human_size(usize::try_from(n).unwrap_or(usize::MAX))
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
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<F: Serialize> {
    schema_version: u32,
    mode: &'static str,
    files: Vec<F>,
    errors: Vec<crate::render::JsonError>,
}

fn finish(errors: &[Error], err: &mut dyn Write, wrote: bool, restoring: bool) -> ExitCode {
    if crate::print_errors(errors, err, restoring && !wrote) {
        ExitCode::Error
    } else {
        ExitCode::Ok
    }
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
    // Each file with its backups (oldest first).
    let mut found: Vec<(PathBuf, PathBuf, Vec<Backup>)> = Vec::new();
    for path in &files {
        let located = backup_location(path, cli.backup_dir.as_deref()).and_then(|(dir, name)| {
            list_backups(&dir, &name)
                .map(|b| (dir.clone(), b))
                .map_err(|source| Error::Read { path: dir, source })
        });
        match located {
            Ok((dir, backups)) => found.push((path.clone(), dir, backups)),
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
                        .map(|(path, dir, backups)| JsonListFile {
                            path: path.display().to_string(),
                            backup_dir: dir.display().to_string(),
                            backups: backups
                                .iter()
                                .rev()
                                .map(|b| JsonBackup {
                                    path: b.path.display().to_string(),
                                    time: rfc3339(b.time),
                                    size: b.size,
                                })
                                .collect(),
                        })
                        .collect(),
                    errors: crate::render::json_errors(&errors),
                };
                crate::render::write_json(out, &report);
            }
            Output::Text => {
                for (path, dir, backups) in &found {
                    let _ = writeln!(
                        out,
                        "{}: {} in {}",
                        display_path(path),
                        match backups.len() {
                            0 => "no kubefix backups".to_string(),
                            1 => "1 backup".to_string(),
                            n => format!("{n} backups, newest first"),
                        },
                        display_path(dir)
                    );
                    for (i, b) in backups.iter().rev().enumerate() {
                        let name = b.path.file_name().unwrap_or_default().to_string_lossy();
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
                }
            }
        }
        return finish(&errors, err, false, false);
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
        content: Vec<u8>,
        current: Vec<u8>,
        /// Whether the backup differs from the file (else nothing to write).
        changed: bool,
    }
    let mut jobs: Vec<Job> = Vec::new();
    for (path, dir, backups) in &found {
        if !errors.is_empty() {
            break;
        }
        let pick = match chosen {
            None => backups.last(),
            Some(c) => backups.iter().find(|b| {
                b.path == c
                    || (c.parent() == Some(Path::new(""))
                        && b.path.file_name() == Some(c.as_os_str()))
            }),
        };
        let Some(pick) = pick else {
            errors.push(Error::Usage(match chosen {
                None => format!(
                    "{}: no kubefix backup of it in {}; nothing to restore",
                    display_path(path),
                    display_path(dir)
                ),
                Some(c) => format!(
                    "{}: {} is not one of its kubefix backups (see kubefix restore --list)",
                    display_path(path),
                    c.display()
                ),
            }));
            break;
        };
        let content = match persist::read_bounded(&pick.path) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                break;
            }
        };
        let current = match crate::plan::read(path) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                break;
            }
        };
        jobs.push(Job {
            path: path.clone(),
            from: pick.path.clone(),
            changed: content != current,
            content,
            current,
        });
    }

    let mut results: Vec<(PathBuf, PathBuf, Option<PathBuf>)> = Vec::new();
    let mut wrote = false;
    if errors.is_empty() {
        let locks = persist::lock_all(jobs.iter().filter(|j| j.changed).map(|j| &*j.path))
            .unwrap_or_else(|e| {
                errors.push(e);
                Vec::new()
            });
        let wopts = persist::WriteOptions {
            backup_dir: cli.backup_dir.clone(),
            keep_backups: None,
            mode: None,
        };
        let mut locks = locks.into_iter();
        for j in &jobs {
            if !errors.is_empty() {
                break;
            }
            if !j.changed {
                results.push((j.path.clone(), j.from.clone(), None));
                continue;
            }
            let lock = locks.next().expect("one lock per changed file");
            match persist::replace(&j.path, &j.current, &j.content, &wopts, &lock) {
                Ok(w) => {
                    wrote = true;
                    results.push((j.path.clone(), j.from.clone(), Some(w.backup)));
                }
                Err(e) => errors.push(e),
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
                    .map(|(path, from, backup)| JsonRestoredFile {
                        path: path.display().to_string(),
                        restored_from: Some(from.display().to_string()),
                        backup: backup.as_ref().map(|b| b.display().to_string()),
                        changed: backup.is_some(),
                    })
                    .collect(),
                errors: crate::render::json_errors(&errors),
            };
            crate::render::write_json(out, &report);
        }
        Output::Text => {
            if !cli.quiet {
                for (path, from, backup) in &results {
                    match backup {
                        Some(b) => {
                            let _ = writeln!(
                                out,
                                "restored {} from {}\nbackup of the replaced content: {}",
                                display_path(path),
                                display_path(from),
                                display_path(b)
                            );
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "{} is already identical to {}; nothing written",
                                display_path(path),
                                display_path(from)
                            );
                        }
                    }
                }
            }
        }
    }
    finish(&errors, err, wrote, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn backup_names_parse_strictly() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let name = persist::backup_name("config", t);
        assert_eq!(parse_backup_name(&name, "config"), Some((t, 0)));
        assert_eq!(
            parse_backup_name("config.kubefix-20261118T110640Z-3.bak", "config"),
            Some((t, 3))
        );
        for bad in [
            "config.kubefix-20261118T110640Z.bak.tmp",
            "config.kubefix-20261118T110640Z-.bak",
            "config.kubefix-20261118T110640Z-03.bak",
            "config.kubefix-20261118T110640Z-x.bak",
            "config.kubefix-2026111T110640Z.bak",
            "config.kubefix-20261318T110640Z.bak",
            "other.kubefix-20261118T110640Z.bak",
            "xconfig.kubefix-20261118T110640Z.bak",
            ".config.kubefix-abc123.tmp",
            "config.kubefix-20261118T110640Z.bak.kubefix-20261118T110640Z.bak",
            "config.bak",
        ] {
            assert_eq!(parse_backup_name(bad, "config"), None, "{bad}");
        }
    }

    #[test]
    fn prune_keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut names = Vec::new();
        for i in 0..5 {
            let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + i * 60);
            let n = persist::backup_name("config", t);
            fs::write(d.join(&n), "x").unwrap();
            names.push(n);
        }
        let others = [
            "config",
            "config.bak",
            "other.kubefix-20261118T110640Z.bak",
            ".config.kubefix-abc123.tmp",
        ];
        for o in others {
            fs::write(d.join(o), "keep").unwrap();
        }
        // A directory with a backup's name is not a backup.
        fs::create_dir(d.join("config.kubefix-20201118T110640Z.bak")).unwrap();
        let newest = d.join(&names[4]);
        let deleted = prune_backups(d, "config", 2, &newest);
        assert_eq!(
            deleted,
            vec![d.join(&names[0]), d.join(&names[1]), d.join(&names[2])]
        );
        assert!(newest.exists() && d.join(&names[3]).exists());
        for o in others {
            assert_eq!(fs::read_to_string(d.join(o)).unwrap(), "keep");
        }
        assert!(d.join("config.kubefix-20201118T110640Z.bak").is_dir());
        // The backup just written survives even when it sorts oldest.
        let old = d.join(persist::backup_name("config", UNIX_EPOCH));
        fs::write(&old, "x").unwrap();
        let deleted = prune_backups(d, "config", 1, &old);
        assert_eq!(deleted.len(), 2);
        assert!(old.exists());
        // 0 keeps everything.
        assert!(prune_backups(d, "config", 0, &old).is_empty());
    }
}
