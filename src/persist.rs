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
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// The largest file kubefix reads: 256 MiB. A hand-kept kubeconfig is a few KiB, but
/// generated ones for platform teams reach tens of MiB (50,000 contexts with embedded
/// certificates are about 150 MiB, which the benchmark covers). Anything bigger is refused
/// before it is read, so a wrong path (a disk image, `/dev/zero`) costs nothing.
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Where backups go and how many to keep.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Put backups here instead of beside the file.
    pub backup_dir: Option<PathBuf>,
    /// After a successful write, delete the oldest kubefix backups of the file beyond this
    /// many (the one just written always stays). `None` keeps every backup.
    pub keep_backups: Option<usize>,
    /// Permission bits for the new file instead of the original's (`file-permissions`).
    pub mode: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub backup: PathBuf,
}

/// Test hook: with the `fault-injection` feature, `KUBEFIX_FAULT=<step>` aborts the process
/// at that step, and `KUBEFIX_FAULT=<step>:pause` waits for stdin to close first. Compiled to
/// nothing otherwise. Steps, in order: `before-lock`, `after-lock`, `after-backup`,
/// `temp-created`, `after-temp`, `before-rename`, `after-rename`.
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

/// Read a file, refusing (before reading it) anything over [`MAX_FILE_SIZE`]. Devices and
/// pipes are read up to the limit and no further.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let rerr = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |size: Option<u64>| Error::InvalidNoPosition {
        path: path.to_path_buf(),
        message: format!(
            "the file is {}; kubefix refuses files over {} MiB (a kubeconfig is a few KiB)",
            match size {
                Some(n) => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
                None => format!("over {} MiB", MAX_FILE_SIZE >> 20),
            },
            MAX_FILE_SIZE >> 20
        ),
    };
    let file = File::open(path).map_err(rerr)?;
    let meta = file.metadata().map_err(rerr)?;
    if meta.is_file() && meta.len() > MAX_FILE_SIZE {
        return Err(too_large(Some(meta.len())));
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() {
        meta.len() as usize
    } else {
        0
    });
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(rerr)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(None));
    }
    Ok(bytes)
}

/// Whether the file at `path` still holds exactly `expected`: compared in 64 KiB pieces as
/// it is read, so checking a big kubeconfig costs no second copy of it in memory.
fn same_content(path: &Path, expected: &[u8]) -> io::Result<bool> {
    let mut file = File::open(path)?;
    if file.metadata()?.len() != expected.len() as u64 {
        return Ok(false);
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(at == expected.len()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // A file that grew after its size was read is not the same either.
        if expected.len() - at < n || buf[..n] != expected[at..at + n] {
            return Ok(false);
        }
        at += n;
    }
}

/// What kubefix writes into its lock file (client-go writes nothing), so a lock left behind
/// by a killed kubefix can be recognised.
fn lock_marker() -> String {
    format!("kubefix pid {}\n", std::process::id())
}

/// client-go's lock file: `<path>.lock`, created with O_EXCL, removed when dropped.
///
/// A lock that already exists is never broken: client-go itself never breaks one, and a lock
/// whose owner looks dead may still belong to a kubectl on another machine sharing the file.
/// When the lock holds kubefix's marker and that process is gone, the error says so, so the
/// user knows it is safe to remove.
pub struct Lock {
    path: PathBuf,
    /// When the lock was taken (its mtime): temp files of ours older than this are stale.
    taken: SystemTime,
}

impl Lock {
    pub fn acquire(target: &Path) -> Result<Lock> {
        fault_point("before-lock");
        let mut lock = target.as_os_str().to_owned();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&lock)
        {
            Ok(mut f) => {
                // Best effort: the lock works without its marker.
                let _ = f.write_all(lock_marker().as_bytes());
                let taken = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|_| SystemTime::now());
                fault_point("after-lock");
                Ok(Lock { path: lock, taken })
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if let Some(pid) = stale_kubefix_lock(&lock) {
                    return Err(Error::StaleLock {
                        path: target.to_path_buf(),
                        lock,
                        pid,
                    });
                }
                Err(Error::Locked {
                    path: target.to_path_buf(),
                    lock,
                })
            }
            Err(e) => Err(werr(target, "cannot create the lock file")(e)),
        }
    }
}

/// The locks of all `paths`, taken before anything is written: if kubectl (or another
/// kubefix) holds any of them, the error comes back, the locks taken so far are released,
/// and nothing at all is written.
pub fn lock_all<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Result<Vec<Lock>> {
    paths.into_iter().map(Lock::acquire).collect()
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The pid of the kubefix that left `lock` behind, if the lock carries kubefix's marker and
/// that process no longer exists on this machine (checked through `/proc`; where there is no
/// `/proc`, nothing is ever called stale).
fn stale_kubefix_lock(lock: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(lock)
        .ok()?
        .take(64)
        .read_to_string(&mut text)
        .ok()?;
    let pid: u32 = text
        .strip_prefix("kubefix pid ")?
        .strip_suffix('\n')?
        .parse()
        .ok()?;
    let proc_ = Path::new("/proc");
    if !proc_.join("self").exists() || proc_.join(pid.to_string()).exists() {
        return None;
    }
    Some(pid)
}

/// `config.kubefix-20261123T101500Z.bak`: sortable, and recognisably ours.
pub fn backup_name(file_name: &str, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let stamp: String = stamp.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{file_name}.kubefix-{stamp}.bak")
}

/// Prefix and suffix of kubefix's temp files for `file_name`: `.config.kubefix-XXXXXX.tmp`.
fn temp_affixes(file_name: &str) -> (String, &'static str) {
    (format!(".{file_name}.kubefix-"), ".tmp")
}

/// A new temp file (created 0600, never chmod-ed later to get there) in `dir`.
fn new_temp(dir: &Path, file_name: &str) -> io::Result<tempfile::NamedTempFile> {
    let (prefix, suffix) = temp_affixes(file_name);
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(suffix)
        .rand_bytes(TEMP_RAND)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
}

const TEMP_RAND: usize = 6;

/// Write a complete backup named `base` (or `<stem>-N.bak` if taken) in `dir`: the bytes go
/// to a 0600 temp file first, which is fsynced and then linked to the backup name without
/// overwriting anything. A backup therefore never exists half-written, even if kubefix is
/// killed or the disk fills up while writing it.
fn create_backup(
    dir: &Path,
    file_name: &str,
    base: &str,
    bytes: &[u8],
    owner: Option<(u32, u32)>,
) -> io::Result<PathBuf> {
    let mut tmp = new_temp(dir, file_name)?;
    tmp.write_all(bytes)?;
    if let Some((uid, gid)) = owner {
        // The backup belongs to whoever owns the kubeconfig (matters under sudo).
        if tmp.as_file().metadata()?.uid() != uid {
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid));
        }
    }
    tmp.as_file().sync_all()?;
    let stem = base.trim_end_matches(".bak");
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{stem}-{n}.bak")
        };
        let path = dir.join(name);
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(e.error),
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

/// Remove kubefix temp files for `file_name` in `dir` that a killed kubefix left behind:
/// exactly our name pattern, regular files (not symlinks), owned by the lock's owner, and last
/// modified before the lock was taken. Whoever holds the lock is the only kubefix that may
/// write this file, so such a temp file has no owner left. Errors are ignored: a temp file
/// that cannot be removed harms nothing (it is never read).
fn clean_stale_temps(dir: &Path, file_name: &str, lock: &Lock) {
    let (prefix, suffix) = temp_affixes(file_name);
    let Ok(lock_meta) = fs::symlink_metadata(&lock.path) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name
            .strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_suffix(suffix))
        else {
            continue;
        };
        if middle.len() != TEMP_RAND || !middle.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let old = meta.modified().is_ok_and(|m| m < lock.taken);
        if meta.file_type().is_file() && meta.uid() == lock_meta.uid() && old {
            let _ = fs::remove_file(&path);
        }
    }
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
    lock: &Lock,
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
    if !meta.is_file() {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !same_content(&real, original).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })? {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }

    // Temp files a killed kubefix left behind (we hold the lock, so none is in use).
    let backup_dir = opts.backup_dir.clone().unwrap_or_else(|| dir.clone());
    clean_stale_temps(&dir, &file_name, lock);
    if backup_dir != dir {
        clean_stale_temps(&backup_dir, &file_name, lock);
    }

    // Backup first.
    let backup = create_backup(
        &backup_dir,
        &file_name,
        &backup_name(&file_name, SystemTime::now()),
        original,
        Some((meta.uid(), meta.gid())),
    )
    .map_err(werr(path, "cannot write the backup"))?;
    sync_dir(&backup_dir).map_err(werr(path, "cannot sync the backup directory"))?;
    fault_point("after-backup");

    // New content in a temp file beside the real one. If anything below fails, dropping
    // `tmp` removes it.
    let mut tmp =
        new_temp(&dir, &file_name).map_err(werr(path, "cannot create a temporary file"))?;
    fault_point("temp-created");
    tmp.write_all(new)
        .map_err(werr(path, "cannot write the temporary file"))?;
    keep_owner_and_mode(tmp.as_file(), &meta, opts.mode)
        .map_err(werr(path, "cannot keep the file's owner"))?;
    tmp.as_file()
        .sync_all()
        .map_err(werr(path, "cannot sync the temporary file"))?;
    fault_point("after-temp");

    // Someone who ignores the lock may have edited the file meanwhile.
    let meta_now = fs::metadata(&real).map_err(werr(path, "cannot stat the file"))?;
    if !meta_now.is_file() {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    let same = same_content(&real, original).unwrap_or(false);
    if !same
        || meta_now.mtime() != meta.mtime()
        || meta_now.mtime_nsec() != meta.mtime_nsec()
        || meta_now.ino() != meta.ino()
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

    if let Some(keep) = opts.keep_backups {
        crate::restore::prune_backups(&backup_dir, &file_name, keep, &backup);
    }
    Ok(Written { backup })
}

/// Give the temp file the original's permission bits and owner. Changing the owner needs
/// privileges; it is only attempted when it differs, and a failure then is an error (a file
/// that silently changed hands could lock its user out).
fn keep_owner_and_mode(file: &File, meta: &fs::Metadata, mode: Option<u32>) -> io::Result<()> {
    let ours = file.metadata()?;
    if ours.uid() != meta.uid() || ours.gid() != meta.gid() {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    let mode = mode.unwrap_or(meta.mode() & 0o7777);
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Change only the permission bits of `path` (whose content was `original` when planned),
/// under its lock. The text is untouched, so no backup is written.
pub fn set_mode(path: &Path, original: &[u8], mode: u32, _lock: &Lock) -> Result<()> {
    let real = fs::canonicalize(path).map_err(werr(path, "cannot resolve the path"))?;
    let file = File::open(&real).map_err(werr(path, "cannot open the file"))?;
    let same = same_content(&real, original).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !same {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(werr(path, "cannot change the file's mode"))?;
    file.sync_all().map_err(werr(path, "cannot sync the file"))
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
    fn same_content_compares_every_byte_without_reading_it_all_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // Over two read pieces, so a difference in the second one must be found too.
        let text: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        fs::write(&path, &text).unwrap();
        assert!(same_content(&path, &text).unwrap());
        let mut late = text.clone();
        late[150_000] = b'!';
        assert!(!same_content(&path, &late).unwrap());
        assert!(!same_content(&path, &text[..text.len() - 1]).unwrap());
        let mut longer = text.clone();
        longer.push(b'\n');
        assert!(!same_content(&path, &longer).unwrap());
        assert!(same_content(&dir.path().join("missing"), b"").is_err());
    }

    #[test]
    fn backups_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let a = create_backup(dir.path(), "c", "c.kubefix-x.bak", b"1", None).unwrap();
        let b = create_backup(dir.path(), "c", "c.kubefix-x.bak", b"2", None).unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"1");
        assert_eq!(fs::read(&b).unwrap(), b"2");
        assert_eq!(fs::metadata(&a).unwrap().mode() & 0o777, 0o600);
    }
}
