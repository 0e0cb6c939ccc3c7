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
//!
//! **Trust boundary.** Every step works through directory handles: the path is resolved one
//! component at a time (`openat` with `O_NOFOLLOW`, symlinks read and followed by hand), and
//! the lock, backup, temp file, rename, fsync and sweep all act on the directory found, never
//! on a path that could be re-resolved elsewhere. When kubefix runs as root on a file owned by
//! someone else, all of it runs as that owner ([`as_owner`]), so the kernel refuses whatever
//! the owner could not do alone (create a file in a root-only directory, follow a symlink
//! into it). As root, a symlink on the way that belongs to another user than the file is
//! refused ([`owner_for`]). A file with other names (hard links) is not split silently, and
//! a file that cannot be renamed over (a bind mount) is rewritten in place, under the lock,
//! after its backup.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, renameat, AtFlags, OFlag, AT_FDCWD};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use nix::unistd::{linkat, unlinkat, UnlinkatFlags};

use crate::backup::backup_name;
use crate::error::{Error, Result};
use crate::privilege::{self, AsOwner, Owner};

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
    /// Replace a file that has other names (hard links) anyway: this name gets a new file,
    /// the other names keep the old content (`--break-hardlink`).
    pub break_hardlink: bool,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub backup: PathBuf,
    /// The file could not be renamed over (a bind mount: EBUSY or EXDEV), so it was
    /// rewritten in place under the lock, after its backup: not atomic.
    pub in_place: bool,
}

/// A failed [`replace`]: the error, and the backup if one was written before the failure
/// (the file itself is unchanged, but "nothing was written" would not be true).
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub backup: Option<PathBuf>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            backup: None,
        }
    }
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

fn rerr(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// A kubeconfig already open: a regular file of at most [`MAX_FILE_SIZE`], read with the
/// checks of [`crate::source::read_kubeconfig`] (`path` names it in errors).
pub fn read_bounded_file(file: File, path: &Path) -> Result<Vec<u8>> {
    crate::source::read_open_kubeconfig(file, path)
}

/// Whether the open file still holds exactly `expected`: compared in 64 KiB pieces as it is
/// read, so checking a big kubeconfig costs no second copy of it in memory.
fn same_content(mut file: &File, expected: &[u8]) -> io::Result<bool> {
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

// ---------------------------------------------------------------------------------------
// Acting as the file's owner, and resolving paths without being redirected

/// Run `f` as `owner` when kubefix runs as root and `owner` is another user, so that every
/// filesystem call in it is checked by the kernel against the owner's permissions. Without an
/// owner, or when not root, `f` runs as is. Inside a guard for the same owner it runs as is
/// (guards do not nest); inside a guard for someone else it refuses.
pub fn as_owner<T>(owner: Option<&Owner>, path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match owner {
        Some(o) if o.uid != 0 && privilege::is_root() => {
            let _guard = AsOwner::enter(o).map_err(werr(path, "cannot act as the file's owner"))?;
            f()
        }
        Some(o) if o.uid != privilege::euid() && privilege::started_as_root() => {
            Err(Error::Verify {
                path: path.to_path_buf(),
                reason: format!(
                    "kubefix is already acting as another user than {}",
                    o.label()
                ),
            })
        }
        _ => f(),
    }
}

/// A symlink met while resolving a path.
#[derive(Debug, Clone)]
struct Link {
    path: PathBuf,
    uid: u32,
}

/// A directory held open, and the path it was reached by (for names in messages).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    pub path: PathBuf,
}

impl Dir {
    fn stat(&self) -> io::Result<FileStat> {
        Ok(nix::sys::stat::fstat(self.fd.as_fd())?)
    }

    fn same_as(&self, other: &Dir) -> bool {
        match (self.stat(), other.stat()) {
            (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
            _ => false,
        }
    }

    fn sync(&self) -> io::Result<()> {
        Ok(nix::unistd::fsync(self.fd.as_fd())?)
    }

    /// `name` in this directory, never following a symlink there.
    fn open(&self, name: &OsStr, flags: OFlag) -> io::Result<File> {
        let fd = openat(
            self.fd.as_fd(),
            name,
            flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )?;
        Ok(File::from(fd))
    }

    fn lstat(&self, name: &OsStr) -> io::Result<FileStat> {
        Ok(fstatat(
            self.fd.as_fd(),
            name,
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?)
    }

    fn unlink(&self, name: &OsStr) -> io::Result<()> {
        Ok(unlinkat(self.fd.as_fd(), name, UnlinkatFlags::NoRemoveDir)?)
    }
}

/// Opening a directory only to walk through it: `O_PATH` where there is one (needs search
/// permission only, like the kernel's own lookup).
#[cfg(any(target_os = "linux", target_os = "android"))]
const SEARCH: OFlag = OFlag::O_PATH;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEARCH: OFlag = OFlag::O_RDONLY;

const MAX_SYMLINKS: usize = 40;

enum Step {
    Root,
    Parent,
    Name(OsString),
}

fn steps(p: &Path) -> Vec<Step> {
    p.components()
        .filter_map(|c| match c {
            Component::RootDir => Some(Step::Root),
            Component::ParentDir => Some(Step::Parent),
            Component::Normal(n) => Some(Step::Name(n.to_owned())),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn open_dir_at(at: impl AsFd, name: &OsStr, flags: OFlag) -> io::Result<OwnedFd> {
    Ok(openat(
        at,
        name,
        flags | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

fn is_symlink(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFLNK
}

/// Resolve `path` one component at a time: every directory is opened relative to the one
/// before with `O_NOFOLLOW`, and every symlink is read and followed by hand (and recorded),
/// so nothing swapped in meanwhile is followed unseen. With `follow_last`, a symlink in the
/// last place is followed too. Returns the directory holding the last name, that name
/// (`None` when the path names a directory itself, like `/` or `x/..`), and the symlinks met.
fn walk(path: &Path, follow_last: bool) -> io::Result<(Dir, Option<OsString>, Vec<Link>)> {
    let (mut cur, mut cur_path) = if path.is_absolute() {
        (
            open_dir_at(AT_FDCWD, OsStr::new("/"), SEARCH)?,
            PathBuf::from("/"),
        )
    } else {
        (
            open_dir_at(AT_FDCWD, OsStr::new("."), SEARCH)?,
            std::env::current_dir()?,
        )
    };
    let mut queue: VecDeque<Step> = steps(path).into();
    let mut links: Vec<Link> = Vec::new();
    let finish = |cur: OwnedFd, cur_path: PathBuf| -> Dir {
        // A real descriptor (for fsync and listing) where the directory can be read.
        let fd = open_dir_at(cur.as_fd(), OsStr::new("."), OFlag::O_RDONLY).unwrap_or(cur);
        Dir { fd, path: cur_path }
    };
    while let Some(step) = queue.pop_front() {
        match step {
            Step::Root => {
                cur = open_dir_at(AT_FDCWD, OsStr::new("/"), SEARCH)?;
                cur_path = PathBuf::from("/");
            }
            Step::Parent => {
                cur = open_dir_at(cur.as_fd(), OsStr::new(".."), SEARCH)?;
                cur_path.pop();
            }
            Step::Name(name) => {
                let last = queue.is_empty();
                if last && !follow_last {
                    return Ok((finish(cur, cur_path), Some(name), links));
                }
                let st = fstatat(cur.as_fd(), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
                if is_symlink(&st) {
                    if links.len() >= MAX_SYMLINKS {
                        return Err(Errno::ELOOP.into());
                    }
                    let target = readlinkat(cur.as_fd(), name.as_os_str())?;
                    links.push(Link {
                        path: cur_path.join(&name),
                        uid: st.st_uid,
                    });
                    for s in steps(Path::new(&target)).into_iter().rev() {
                        queue.push_front(s);
                    }
                    continue;
                }
                let is_dir =
                    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR;
                if last && !is_dir {
                    return Ok((finish(cur, cur_path), Some(name), links));
                }
                cur = open_dir_at(cur.as_fd(), &name, SEARCH)?;
                cur_path.push(&name);
            }
        }
    }
    Ok((finish(cur, cur_path), None, links))
}

/// The directory `path` names (following symlinks), held open.
fn open_dir(path: &Path) -> io::Result<(Dir, Vec<Link>)> {
    let (dir, name, links) = walk(path, true)?;
    match name {
        None => Ok((dir, links)),
        Some(_) => Err(Errno::ENOTDIR.into()),
    }
}

/// As root, a symlink on the way to a file must belong to root or to the file's owner: a
/// user's symlink to someone else's file (root's, another user's) is a request to edit a
/// file that user could not edit.
fn check_links(path: &Path, links: &[Link], file_uid: u32) -> Result<()> {
    if !privilege::started_as_root() {
        return Ok(());
    }
    for l in links {
        if l.uid != 0 && l.uid != file_uid {
            return Err(Error::Verify {
                path: path.to_path_buf(),
                reason: format!(
                    "the symlink {} belongs to {} but leads to a file of {}; running as root, \
                     kubefix follows a user's symlink only to that user's own files",
                    crate::error::display_path(&l.path),
                    Owner::of_uid(l.uid, l.uid).label(),
                    Owner::of_uid(file_uid, file_uid).label()
                ),
            });
        }
    }
    Ok(())
}

/// Whom kubefix acts as for `path`: `None` unless it was started as root and the file
/// belongs to another user, else that user. Decided from the path as given: a symlink on
/// the way that belongs to another user than the file is refused (a user's symlink to
/// root's file would otherwise make root edit root's file for them).
pub fn owner_for(path: &Path) -> Result<Option<Owner>> {
    if !privilege::started_as_root() {
        return Ok(None);
    }
    let (dir, name, links) = walk(path, true).map_err(rerr(path))?;
    let st = match &name {
        Some(n) => dir.lstat(n),
        None => dir.stat(),
    }
    .map_err(rerr(path))?;
    check_links(path, &links, st.st_uid)?;
    Ok((st.st_uid != 0).then(|| Owner::of_uid(st.st_uid, st.st_gid)))
}

/// Where the file `path` really is (through symlinks): its directory's path and its name.
pub fn locate(path: &Path) -> Result<(PathBuf, String)> {
    let (dir, name, links) = walk(path, true).map_err(rerr(path))?;
    let Some(name) = name else {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    };
    let st = dir.lstat(&name).map_err(rerr(path))?;
    check_links(path, &links, st.st_uid)?;
    Ok((dir.path, name.to_string_lossy().into_owned()))
}

// ---------------------------------------------------------------------------------------
// The lock

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
///
/// The lock is created (and removed) in the directory held open when it was taken, as the
/// file's owner when kubefix runs as root, so it is never root's and never lands elsewhere.
pub struct Lock {
    dir: Dir,
    name: OsString,
    ino: u64,
    uid: u32,
    owner: Option<Owner>,
    /// When the lock was taken (its mtime): temp files of ours older than this are stale.
    taken: SystemTime,
}

impl Lock {
    /// Take the lock of `target`, as `owner` (see [`owner_for`]).
    pub fn acquire(target: &Path, owner: Option<&Owner>) -> Result<Lock> {
        fault_point("before-lock");
        let mut shown = target.as_os_str().to_owned();
        shown.push(".lock");
        let shown = PathBuf::from(shown);
        let lock = as_owner(owner, target, || {
            let (dir, name, _) =
                walk(target, false).map_err(werr(target, "cannot create the lock file"))?;
            let Some(mut name) = name else {
                return Err(Error::IsDirectory {
                    path: target.to_path_buf(),
                });
            };
            name.push(".lock");
            match dir.open(&name, OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL) {
                Ok(mut f) => {
                    // Best effort: the lock works without its marker.
                    let _ = f.write_all(lock_marker().as_bytes());
                    let meta = f
                        .metadata()
                        .map_err(werr(target, "cannot create the lock file"))?;
                    Ok(Lock {
                        dir,
                        name,
                        ino: meta.ino(),
                        uid: meta.uid(),
                        owner: owner.cloned(),
                        taken: meta.modified().unwrap_or_else(|_| SystemTime::now()),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let stale = dir
                        .open(&name, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
                        .ok()
                        .and_then(stale_kubefix_lock);
                    if let Some(pid) = stale {
                        return Err(Error::StaleLock {
                            path: target.to_path_buf(),
                            lock: shown.clone(),
                            pid,
                        });
                    }
                    Err(Error::Locked {
                        path: target.to_path_buf(),
                        lock: shown.clone(),
                    })
                }
                Err(e) => Err(werr(target, "cannot create the lock file")(e)),
            }
        })?;
        fault_point("after-lock");
        Ok(lock)
    }
}

/// The locks of all `paths` (each with the owner to act as), taken before anything is
/// written: if kubectl (or another kubefix) holds any of them, the error comes back, the
/// locks taken so far are released, and nothing at all is written.
pub fn lock_all<'p>(
    paths: impl IntoIterator<Item = (&'p Path, Option<&'p Owner>)>,
) -> Result<Vec<Lock>> {
    paths
        .into_iter()
        .map(|(p, o)| Lock::acquire(p, o))
        .collect()
}

/// One file for [`write_all`]: what it held when planned, and what it becomes.
pub struct Job<'a> {
    pub path: &'a Path,
    /// Whom to act as (see [`owner_for`]).
    pub owner: Option<&'a Owner>,
    pub original: &'a [u8],
    /// The new content; `None` with a `mode` changes only the permission bits.
    pub new: Option<&'a [u8]>,
    /// New permission bits (`file-permissions`).
    pub mode: Option<u32>,
}

impl Job<'_> {
    /// Whether there is anything to write.
    pub fn changed(&self) -> bool {
        self.new.is_some() || self.mode.is_some()
    }
}

/// What [`write_all`] did with one job.
#[derive(Debug)]
pub enum Done {
    /// Nothing to write.
    Unchanged,
    /// The content was replaced.
    Replaced(Written),
    /// Only the permission bits changed (no backup).
    ModeSet,
    /// The write failed (the error is in [`Batch::error`]); the file is unchanged, but a
    /// backup may have been written before the failure.
    Failed { backup: Option<PathBuf> },
    /// Not attempted: an earlier file failed, or a lock was refused.
    Skipped,
}

impl Done {
    /// Whether the file was changed.
    pub fn written(&self) -> bool {
        matches!(self, Done::Replaced(_) | Done::ModeSet)
    }

    /// The backup written for the file, if any (also for a failed write).
    pub fn backup(&self) -> Option<&PathBuf> {
        match self {
            Done::Replaced(w) => Some(&w.backup),
            Done::Failed { backup } => backup.as_ref(),
            _ => None,
        }
    }
}

/// The outcome of [`write_all`]: one [`Done`] per job, and the error that stopped it.
#[derive(Debug)]
pub struct Batch {
    pub done: Vec<Done>,
    pub error: Option<Error>,
}

impl Batch {
    /// Backups written for files whose write then failed.
    pub fn kept(&self) -> Vec<PathBuf> {
        self.done
            .iter()
            .filter_map(|d| match d {
                Done::Failed { backup } => backup.clone(),
                _ => None,
            })
            .collect()
    }

    pub fn any_written(&self) -> bool {
        self.done.iter().any(Done::written)
    }
}

/// Write every changed job, as `--apply` and `kubefix restore` do: lock all of them first
/// (a refused lock writes nothing), then replace each in turn (each with its backup), stopping
/// at the first failure.
pub fn write_all(jobs: &[Job<'_>], opts: &WriteOptions) -> Batch {
    let mut done: Vec<Done> = jobs.iter().map(|_| Done::Skipped).collect();
    let locks = match lock_all(
        jobs.iter()
            .filter(|j| j.changed())
            .map(|j| (j.path, j.owner)),
    ) {
        Ok(l) => l,
        Err(e) => {
            return Batch {
                done,
                error: Some(e),
            }
        }
    };
    let mut locks = locks.into_iter();
    for (i, j) in jobs.iter().enumerate() {
        if !j.changed() {
            done[i] = Done::Unchanged;
            continue;
        }
        let lock = locks.next().expect("one lock per changed file");
        let result = match j.new {
            Some(new) => replace(
                j.path,
                j.original,
                new,
                &WriteOptions {
                    mode: j.mode,
                    ..opts.clone()
                },
                &lock,
            )
            .map(Done::Replaced),
            None => set_mode(
                j.path,
                j.original,
                j.mode
                    .expect("changed without new content means a new mode"),
                &lock,
            )
            .map(|()| Done::ModeSet)
            .map_err(Failure::from),
        };
        match result {
            Ok(d) => done[i] = d,
            Err(f) => {
                done[i] = Done::Failed { backup: f.backup };
                return Batch {
                    done,
                    error: Some(f.error),
                };
            }
        }
    }
    Batch { done, error: None }
}

impl Drop for Lock {
    #[allow(clippy::unnecessary_cast)] // st_ino is not u64 on every platform
    fn drop(&mut self) {
        let _guard = match &self.owner {
            Some(o) if o.uid != 0 && privilege::is_root() => AsOwner::enter(o).ok(),
            _ => None,
        };
        // Only our own lock file: never one that replaced it meanwhile.
        if self
            .dir
            .lstat(&self.name)
            .is_ok_and(|st| st.st_ino as u64 == self.ino)
        {
            let _ = self.dir.unlink(&self.name);
        }
    }
}

/// The pid of the kubefix that left the lock behind, if the lock carries kubefix's marker
/// and that process no longer exists on this machine (checked through `/proc`; where there
/// is no `/proc`, nothing is ever called stale).
fn stale_kubefix_lock(lock: File) -> Option<u32> {
    let mut text = String::new();
    lock.take(64).read_to_string(&mut text).ok()?;
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

// ---------------------------------------------------------------------------------------
// Backups and temp files

/// Prefix and suffix of kubefix's temp files for `file_name`: `.config.kubefix-XXXXXX.tmp`.
fn temp_affixes(file_name: &str) -> (String, &'static str) {
    (format!(".{file_name}.kubefix-"), ".tmp")
}

const TEMP_RAND: usize = 6;

/// Six random letters and digits (std's per-process random hash keys, a counter, the time).
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut x = h.finish();
    (0..TEMP_RAND)
        .map(|_| {
            let c = ALNUM[(x % ALNUM.len() as u64) as usize] as char;
            x /= ALNUM.len() as u64;
            c
        })
        .collect()
}

/// A temp file of ours in a directory held open: created 0600 with O_EXCL and O_NOFOLLOW
/// (never chmod-ed later to get there), removed when dropped unless kept.
struct TempFile<'d> {
    dir: &'d Dir,
    name: OsString,
    file: File,
    armed: bool,
}

impl<'d> TempFile<'d> {
    fn create(dir: &'d Dir, file_name: &str) -> io::Result<TempFile<'d>> {
        let (prefix, suffix) = temp_affixes(file_name);
        for _ in 0..100 {
            let name = OsString::from(format!("{prefix}{}{suffix}", random_suffix()));
            match dir.open(&name, OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL) {
                Ok(file) => {
                    return Ok(TempFile {
                        dir,
                        name,
                        file,
                        armed: true,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "cannot find a free temporary file name",
        ))
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.dir.unlink(&self.name);
        }
    }
}

/// Write a complete backup named `base` (or `<stem>-N.bak` if taken) in `dir`: the bytes go
/// to a 0600 temp file first, which is fsynced and then linked to the backup name without
/// overwriting anything. A backup therefore never exists half-written, even if kubefix is
/// killed or the disk fills up while writing it. It belongs to whoever kubefix acts as (the
/// file's owner, see [`as_owner`]).
fn create_backup(dir: &Dir, file_name: &str, base: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let mut tmp = TempFile::create(dir, file_name)?;
    tmp.file.write_all(bytes)?;
    tmp.file.sync_all()?;
    let stem = base.trim_end_matches(".bak");
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{stem}-{n}.bak")
        };
        match linkat(
            dir.fd.as_fd(),
            tmp.name.as_os_str(),
            dir.fd.as_fd(),
            name.as_str(),
            AtFlags::empty(),
        ) {
            Ok(()) => return Ok(dir.path.join(name)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many backups with the same timestamp",
    ))
}

/// Remove kubefix temp files for `file_name` in `dir` that a killed kubefix left behind:
/// exactly our name pattern, regular files (not symlinks), owned by the lock's owner, and last
/// modified before the lock was taken. Whoever holds the lock is the only kubefix that may
/// write this file, so such a temp file has no owner left. Errors are ignored: a temp file
/// that cannot be removed harms nothing (it is never read).
fn clean_stale_temps(dir: &Dir, file_name: &str, lock: &Lock) {
    let (prefix, suffix) = temp_affixes(file_name);
    let Ok(listing) = open_dir_at(dir.fd.as_fd(), OsStr::new("."), OFlag::O_RDONLY) else {
        return;
    };
    let Ok(mut listing) = nix::dir::Dir::from_fd(listing) else {
        return;
    };
    let taken = lock
        .taken
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| (d.as_secs() as i64, d.subsec_nanos() as i64))
        .unwrap_or((0, 0));
    let mut stale: Vec<OsString> = Vec::new();
    for entry in listing.iter().flatten() {
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
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
        stale.push(OsString::from(name));
    }
    for name in stale {
        let Ok(st) = dir.lstat(&name) else { continue };
        let regular =
            SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFREG;
        #[allow(clippy::unnecessary_cast)]
        let old = (st.st_mtime as i64, st.st_mtime_nsec as i64) < taken;
        if regular && st.st_uid == lock.uid && old {
            let _ = dir.unlink(&name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Replacing

/// Replace `path` (whose content was `original` when planned) with `new`, safely.
///
/// The caller holds `path`'s [`Lock`] (taken for every file before any is written, so a
/// refused lock means nothing at all was written). Everything runs as the lock's owner.
/// On failure the error comes with the backup, if one was written before it.
pub fn replace(
    path: &Path,
    original: &[u8],
    new: &[u8],
    opts: &WriteOptions,
    lock: &Lock,
) -> std::result::Result<Written, Failure> {
    let mut backup = None;
    let owner = lock.owner.clone();
    as_owner(owner.as_ref(), path, || {
        replace_as_owner(path, original, new, opts, lock, &mut backup)
    })
    .map_err(|error| Failure { error, backup })
}

fn replace_as_owner(
    path: &Path,
    original: &[u8],
    new: &[u8],
    opts: &WriteOptions,
    lock: &Lock,
    backup_out: &mut Option<PathBuf>,
) -> Result<Written> {
    // Edit the target of a symlink, keep the link.
    let (dir, name, links) = walk(path, true).map_err(werr(path, "cannot resolve the path"))?;
    let Some(name) = name else {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    };
    let file_name = name.to_string_lossy().into_owned();
    let file = dir
        .open(&name, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
        .map_err(|e| match e.raw_os_error() {
            // Swapped for a symlink since it was resolved.
            Some(libc_eloop) if libc_eloop == Errno::ELOOP as i32 => Error::Changed {
                path: path.to_path_buf(),
            },
            _ => werr(path, "cannot open the file")(e),
        })?;
    let meta = file
        .metadata()
        .map_err(werr(path, "cannot stat the file"))?;
    if !meta.is_file() {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    check_links(path, &links, meta.uid())?;
    if privilege::started_as_root() && meta.uid() != privilege::euid() {
        // The file changed hands since it was planned (as root, kubefix acts as its owner).
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    if meta.nlink() > 1 && !opts.break_hardlink {
        return Err(Error::Verify {
            path: path.to_path_buf(),
            reason: format!(
                "the file has {} names (hard links); replacing it would give this name a new \
                 file and leave the other names with the old content. Pass --break-hardlink \
                 to do that anyway; nothing was written",
                meta.nlink()
            ),
        });
    }
    if !same_content(&file, original).map_err(rerr(path))? {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }

    // Temp files a killed kubefix left behind (we hold the lock, so none is in use).
    let backup_dir = match &opts.backup_dir {
        Some(d) => {
            open_dir(d)
                .map_err(werr(path, "cannot open the backup directory"))?
                .0
        }
        None => Dir {
            fd: dir
                .fd
                .try_clone()
                .map_err(werr(path, "cannot open the directory"))?,
            path: dir.path.clone(),
        },
    };
    clean_stale_temps(&dir, &file_name, lock);
    if !backup_dir.same_as(&dir) {
        clean_stale_temps(&backup_dir, &file_name, lock);
    }

    // Backup first.
    let backup = create_backup(
        &backup_dir,
        &file_name,
        &backup_name(&file_name, SystemTime::now()),
        original,
    )
    .map_err(werr(path, "cannot write the backup"))?;
    *backup_out = Some(backup.clone());
    backup_dir
        .sync()
        .map_err(werr(path, "cannot sync the backup directory"))?;
    fault_point("after-backup");

    // New content in a temp file beside the real one. If anything below fails, dropping
    // `tmp` removes it.
    let mut tmp =
        TempFile::create(&dir, &file_name).map_err(werr(path, "cannot create a temporary file"))?;
    fault_point("temp-created");
    tmp.file
        .write_all(new)
        .map_err(werr(path, "cannot write the temporary file"))?;
    keep_owner_and_mode(&tmp.file, &meta, opts.mode)
        .map_err(werr(path, "cannot keep the file's owner"))?;
    tmp.file
        .sync_all()
        .map_err(werr(path, "cannot sync the temporary file"))?;
    fault_point("after-temp");

    // Someone who ignores the lock may have edited the file meanwhile.
    let changed = || Error::Changed {
        path: path.to_path_buf(),
    };
    let now = dir
        .open(&name, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
        .map_err(|_| changed())?;
    let meta_now = now.metadata().map_err(werr(path, "cannot stat the file"))?;
    if !meta_now.is_file()
        || !same_content(&now, original).unwrap_or(false)
        || meta_now.mtime() != meta.mtime()
        || meta_now.mtime_nsec() != meta.mtime_nsec()
        || meta_now.ino() != meta.ino()
        || meta_now.dev() != meta.dev()
    {
        return Err(changed());
    }
    fault_point("before-rename");
    let in_place = match renameat(
        dir.fd.as_fd(),
        tmp.name.as_os_str(),
        dir.fd.as_fd(),
        name.as_os_str(),
    ) {
        Ok(()) => {
            tmp.armed = false;
            false
        }
        // A bind mount (a file mounted into a container) cannot be renamed over: rewrite it
        // in place, under the lock, now that its backup is safe.
        Err(Errno::EBUSY) | Err(Errno::EXDEV) => {
            rewrite_in_place(&dir, &name, new, &meta, opts.mode).map_err(werr(
                path,
                "cannot rewrite the file in place (it is a mount point)",
            ))?;
            true
        }
        Err(e) => return Err(werr(path, "cannot replace the file")(e.into())),
    };
    drop(tmp);
    fault_point("after-rename");
    dir.sync()
        .map_err(werr(path, "cannot sync the directory"))?;

    if let Some(keep) = opts.keep_backups {
        crate::backup::prune_backups(&backup_dir.path, &file_name, keep, &backup);
    }
    Ok(Written { backup, in_place })
}

/// Write `new` over the file itself: from the start, fsync, cut to length. Not atomic (a
/// crash midway leaves a mixed file; the backup is already on disk), so only for files that
/// cannot be renamed over.
fn rewrite_in_place(
    dir: &Dir,
    name: &OsStr,
    new: &[u8],
    meta: &std::fs::Metadata,
    mode: Option<u32>,
) -> io::Result<()> {
    let mut f = dir.open(name, OFlag::O_WRONLY)?;
    let st = f.metadata()?;
    if st.ino() != meta.ino() || st.dev() != meta.dev() || !st.is_file() {
        return Err(io::Error::other("the file was replaced meanwhile"));
    }
    f.write_all(new)?;
    f.set_len(new.len() as u64)?;
    if let Some(mode) = mode {
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    f.sync_all()
}

/// Give the temp file the original's permission bits and owner. Changing the owner needs
/// privileges; it is only attempted when it differs, and a failure then is an error (a file
/// that silently changed hands could lock its user out).
fn keep_owner_and_mode(file: &File, meta: &std::fs::Metadata, mode: Option<u32>) -> io::Result<()> {
    let ours = file.metadata()?;
    if ours.uid() != meta.uid() || ours.gid() != meta.gid() {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    let mode = mode.unwrap_or(meta.mode() & 0o7777);
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// Change only the permission bits of `path` (whose content was `original` when planned),
/// under its lock, as the lock's owner. The text is untouched, so no backup is written.
pub fn set_mode(path: &Path, original: &[u8], mode: u32, lock: &Lock) -> Result<()> {
    as_owner(lock.owner.as_ref(), path, || {
        let (dir, name, links) = walk(path, true).map_err(werr(path, "cannot resolve the path"))?;
        let Some(name) = name else {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        };
        let file = dir
            .open(&name, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
            .map_err(werr(path, "cannot open the file"))?;
        let meta = file
            .metadata()
            .map_err(werr(path, "cannot stat the file"))?;
        check_links(path, &links, meta.uid())?;
        if !meta.is_file() || !same_content(&file, original).map_err(rerr(path))? {
            return Err(Error::Changed {
                path: path.to_path_buf(),
            });
        }
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(werr(path, "cannot change the file's mode"))?;
        file.sync_all().map_err(werr(path, "cannot sync the file"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
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
        let same = |expected: &[u8]| same_content(&File::open(&path).unwrap(), expected);
        assert!(same(&text).unwrap());
        let mut late = text.clone();
        late[150_000] = b'!';
        assert!(!same(&late).unwrap());
        assert!(!same(&text[..text.len() - 1]).unwrap());
        let mut longer = text.clone();
        longer.push(b'\n');
        assert!(!same(&longer).unwrap());
    }

    #[test]
    fn backups_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (d, _) = open_dir(dir.path()).unwrap();
        let a = create_backup(&d, "c", "c.kubefix-x.bak", b"1").unwrap();
        let b = create_backup(&d, "c", "c.kubefix-x.bak", b"2").unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"1");
        assert_eq!(fs::read(&b).unwrap(), b"2");
        assert_eq!(fs::metadata(&a).unwrap().mode() & 0o777, 0o600);
        // Only the two backups: the temp files are gone.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn walking_follows_symlinks_by_hand_and_records_them() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        fs::write(real.join("config"), "x").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("kube")).unwrap();
        std::os::unix::fs::symlink("../kube/config", real.join("link")).unwrap();
        let (d, name, links) = walk(&real.join("link"), true).unwrap();
        assert_eq!(name.as_deref(), Some(OsStr::new("config")));
        assert_eq!(d.path, real);
        assert_eq!(links.len(), 2);
        let (d, name, links) = walk(&real.join("link"), false).unwrap();
        assert_eq!(name.as_deref(), Some(OsStr::new("link")));
        assert_eq!(d.path, real);
        assert!(links.is_empty());
        let (d, name, _) = walk(&dir.path().join("real/.."), true).unwrap();
        assert!(name.is_none());
        assert_eq!(d.path, dir.path());
        // A loop ends.
        std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
        assert_eq!(
            walk(&dir.path().join("loop"), true)
                .unwrap_err()
                .raw_os_error(),
            Some(Errno::ELOOP as i32)
        );
    }
}
