//! Writing a repaired kubeconfig without ever losing the old one.
//!
//! Order of operations, each step chosen so a crash at any point leaves either the original or
//! the complete new file at the path:
//!
//! 1. take client-go's lock `<file>.lock` (created exclusively; kubectl uses the same name);
//! 2. re-read the file and compare with what was planned on; refuse if it changed;
//! 3. write the backup (created 0600, never overwriting anything), fsync it;
//! 4. write the new text to a temp file in the same directory (created 0600), give it the
//!    original's mode and owner, fsync it;
//! 5. compare the file once more (an editor that ignores the lock), then rename the temp file
//!    over the real file (the symlink's target, if the path is a symlink), fsync the directory;
//! 6. release the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// Where backups go and what happened.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Put backups here instead of beside the file.
    pub backup_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub backup: PathBuf,
}

/// Test hook: with the `fault-injection` feature, `KUBEFIX_FAULT=<step>` aborts the process
/// at that step, and `KUBEFIX_FAULT=<step>:pause` waits for stdin to close first. Compiled to
/// nothing otherwise.
#[inline]
fn fault_point(_step: &str) {
    #[cfg(feature = "fault-injection")]
    if let Ok(spec) = std::env::var("KUBEFIX_FAULT") {
        let (step, action) = spec.split_once(':').unwrap_or((spec.as_str(), "abort"));
        if step == _step {
            if action == "pause" {
                eprintln!("kubefix: paused at {step}");
                let _ = io::Read::read_to_end(&mut io::stdin(), &mut Vec::new());
            } else {
                std::process::abort();
            }
        }
    }
}

fn werr<'p>(path: &'p Path, step: &'static str) -> impl FnOnce(io::Error) -> Error + 'p {
    move |source| Error::Write {
        path: path.to_path_buf(),
        step,
        source,
    }
}

/// client-go's lock file: `<path>.lock`, created with O_EXCL, removed when dropped.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    pub fn acquire(target: &Path) -> Result<Lock> {
        let mut lock = target.as_os_str().to_owned();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&lock)
        {
            Ok(_) => Ok(Lock { path: lock }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::Locked {
                path: target.to_path_buf(),
                lock,
            }),
            Err(e) => Err(werr(target, "cannot create the lock file")(e)),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// `config.kubefix-20261123T101500Z.bak`: sortable, and recognisably ours.
pub fn backup_name(file_name: &str, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let stamp: String = stamp.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{file_name}.kubefix-{stamp}.bak")
}

/// Create a new file that did not exist before, mode 0600, and write `bytes` to it.
fn create_new_file(dir: &Path, base: &str, bytes: &[u8]) -> io::Result<(PathBuf, File)> {
    let stem = base.trim_end_matches(".bak");
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{stem}-{n}.bak")
        };
        let path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                return Ok((path, f));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many backups with the same timestamp",
    ))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Replace `path` (whose content was `original` when planned) with `new`, safely.
///
/// The caller holds `path`'s [`Lock`] (taken for every file before any is written, so a
/// refused lock means nothing at all was written).
pub fn replace(
    path: &Path,
    original: &[u8],
    new: &[u8],
    opts: &WriteOptions,
    _lock: &Lock,
) -> Result<Written> {
    // Edit the target of a symlink, keep the link.
    let real = fs::canonicalize(path).map_err(werr(path, "cannot resolve the path"))?;
    let dir = real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file_name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());

    let meta = fs::metadata(&real).map_err(werr(path, "cannot stat the file"))?;
    let current = fs::read(&real).map_err(werr(path, "cannot re-read the file"))?;
    if current != original {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }

    // Backup first.
    let backup_dir = opts.backup_dir.clone().unwrap_or_else(|| dir.clone());
    let (backup, backup_file) = create_new_file(
        &backup_dir,
        &backup_name(&file_name, SystemTime::now()),
        original,
    )
    .map_err(werr(path, "cannot write the backup"))?;
    // The backup belongs to whoever owns the kubeconfig (matters under sudo).
    let _ = std::os::unix::fs::fchown(&backup_file, Some(meta.uid()), Some(meta.gid()));
    drop(backup_file);
    sync_dir(&backup_dir).map_err(werr(path, "cannot sync the backup directory"))?;
    fault_point("after-backup");

    // New content in a temp file beside the real one.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}.kubefix-"))
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(werr(path, "cannot create a temporary file"))?;
    tmp.write_all(new)
        .map_err(werr(path, "cannot write the temporary file"))?;
    keep_owner_and_mode(tmp.as_file(), &meta)
        .map_err(werr(path, "cannot keep the file's owner"))?;
    tmp.as_file()
        .sync_all()
        .map_err(werr(path, "cannot sync the temporary file"))?;
    fault_point("after-temp");

    // Someone who ignores the lock may have edited the file meanwhile.
    let now = fs::read(&real).map_err(werr(path, "cannot re-read the file"))?;
    let meta_now = fs::metadata(&real).map_err(werr(path, "cannot stat the file"))?;
    if now != original
        || meta_now.mtime() != meta.mtime()
        || meta_now.mtime_nsec() != meta.mtime_nsec()
    {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    fault_point("before-rename");
    tmp.persist(&real)
        .map_err(|e| werr(path, "cannot replace the file")(e.error))?;
    fault_point("after-rename");
    sync_dir(&dir).map_err(werr(path, "cannot sync the directory"))?;
    Ok(Written { backup })
}

/// Give the temp file the original's permission bits and owner. Changing the owner needs
/// privileges; it is only attempted when it differs, and a failure then is an error (a file
/// that silently changed hands could lock its user out).
fn keep_owner_and_mode(file: &File, meta: &fs::Metadata) -> io::Result<()> {
    let ours = file.metadata()?;
    if ours.uid() != meta.uid() || ours.gid() != meta.gid() {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn backup_names_sort_by_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(
            backup_name("config", t),
            "config.kubefix-20261118T110640Z.bak"
        );
    }

    #[test]
    fn backups_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = create_new_file(dir.path(), "c.kubefix-x.bak", b"1").unwrap();
        let (b, _) = create_new_file(dir.path(), "c.kubefix-x.bak", b"2").unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"1");
        assert_eq!(fs::read(&b).unwrap(), b"2");
        assert_eq!(fs::metadata(&a).unwrap().mode() & 0o777, 0o600);
    }
}
