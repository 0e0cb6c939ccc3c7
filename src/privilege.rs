//! Who kubefix runs as, who owns the file it works on, and acting as that owner.
//!
//! kubefix is run as root by automation (`examples/post-upgrade.sh`, the K3s path unit) over
//! every user's kubeconfig. Such a file, and every file and program it names, is controlled by
//! its owner, so root must not do for it anything its owner could not do alone. The one
//! exception is reading the node's credential sources (root-only), which happens before any
//! of the owner's files is touched. This module answers "is this someone else's file?" and
//! switches the *effective* user and groups to that owner for the filesystem work on it
//! ([`AsOwner`]); the real and saved user stay root, so the owner can neither signal nor trace
//! kubefix meanwhile, and root comes back when the guard is dropped.
//!
//! User and group lookups go through `nix` (getpwuid_r / getpwnam_r / getgrouplist), never by
//! reading `/etc/passwd` or `/proc` by hand.

use std::ffi::CString;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Group, Uid, User};

/// The group used for a user the user database does not know, when the file's own group is
/// root's (Debian's `nogroup`, the kernel's overflow gid).
pub const NOGROUP: u32 = 65534;

/// The effective user id of this process.
pub fn euid() -> u32 {
    Uid::effective().as_raw()
}

/// Whether kubefix runs with root's powers (effective uid 0).
pub fn is_root() -> bool {
    Uid::effective().is_root()
}

/// Whether kubefix was started as root (real uid 0), also while an [`AsOwner`] guard has
/// made it act as someone else: the question "am I root working on someone else's file?"
/// has the same answer inside and outside the guard.
pub fn started_as_root() -> bool {
    Uid::current().is_root()
}

/// The owner of a file, with what is needed to act as them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    /// The user's primary group (from the user database), else the file's group.
    pub gid: u32,
    /// Login name, when the user database knows the uid.
    pub name: Option<String>,
    /// Home directory, when the user database knows the uid.
    pub home: Option<PathBuf>,
    /// Supplementary groups (from the group database); empty for an unknown uid.
    pub groups: Vec<u32>,
}

impl Owner {
    /// The owner of the file `meta` describes.
    pub fn of_metadata(meta: &std::fs::Metadata) -> Owner {
        Owner::of_uid(meta.uid(), meta.gid())
    }

    /// The user `uid`, falling back to `fallback_gid` when the user database does not know
    /// them (a file chowned to a bare number).
    pub fn of_uid(uid: u32, fallback_gid: u32) -> Owner {
        match User::from_uid(Uid::from_raw(uid)) {
            Ok(Some(user)) => {
                let groups = CString::new(user.name.as_bytes())
                    .ok()
                    .and_then(|c| nix_getgrouplist(&c, user.gid))
                    .unwrap_or_else(|| vec![user.gid.as_raw()]);
                Owner {
                    uid,
                    gid: user.gid.as_raw(),
                    name: Some(user.name),
                    home: Some(user.dir),
                    groups,
                }
            }
            _ => {
                // A file root copied and then chowned to a bare uid keeps group root: never
                // act with group 0 for a user the database does not know.
                let gid = if fallback_gid == 0 {
                    NOGROUP
                } else {
                    fallback_gid
                };
                Owner {
                    uid,
                    gid,
                    name: None,
                    home: None,
                    groups: vec![gid],
                }
            }
        }
    }

    /// The user named `name`, if the user database knows them.
    pub fn by_name(name: &str) -> Option<Owner> {
        let user = User::from_name(name).ok()??;
        Some(Owner::of_uid(user.uid.as_raw(), user.gid.as_raw()))
    }

    /// How to name this user in messages: the login name, else `uid N`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("uid {}", self.uid),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn nix_getgrouplist(name: &CString, gid: Gid) -> Option<Vec<u32>> {
    nix::unistd::getgrouplist(name, gid)
        .ok()
        .map(|g| g.into_iter().map(Gid::as_raw).collect())
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn nix_getgrouplist(_name: &CString, gid: Gid) -> Option<Vec<u32>> {
    Some(vec![gid.as_raw()])
}

/// Home directory of the user called `name` (getpwnam_r).
pub fn home_of(name: &str) -> Option<PathBuf> {
    User::from_name(name).ok().flatten().map(|u| u.dir)
}

/// Name of group `gid`, for messages.
pub fn group_name(gid: u32) -> Option<String> {
    Group::from_gid(Gid::from_raw(gid))
        .ok()
        .flatten()
        .map(|g| g.name)
}

/// When kubefix was started as root and `path` (followed through symlinks) belongs to another
/// user: that user. `None` when not root or when root owns the file.
///
/// Inside an [`AsOwner`] guard the answer is the guard's owner, whatever the path says now:
/// the guard was entered for the file being worked on, and asking the path again would let
/// its owner hide the file for a moment (rename it away, swap in a link to a root-owned
/// file) and be taken for root. Outside a guard, a path that cannot be stat-ed fails closed:
/// it counts as belonging to `nobody`, never to root.
pub fn foreign_owner(path: &Path) -> Option<Owner> {
    if !started_as_root() {
        return None;
    }
    if let Some(owner) = acting_as() {
        return Some(owner);
    }
    match std::fs::metadata(path) {
        Ok(meta) => (meta.uid() != 0).then(|| Owner::of_metadata(&meta)),
        Err(_) => Some(Owner::of_uid(NOBODY, NOGROUP)),
    }
}

/// The user nothing belongs to: who a file that cannot be examined is taken to belong to.
pub const NOBODY: u32 = 65534;

/// The owner an [`AsOwner`] guard currently acts as (process-wide, like the guard).
static ACTING_AS: std::sync::Mutex<Option<Owner>> = std::sync::Mutex::new(None);

/// The owner kubefix acts as right now, inside an [`AsOwner`] guard.
pub fn acting_as() -> Option<Owner> {
    ACTING_AS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// While alive, the process's effective uid, gid and supplementary groups are the owner's;
/// dropping it restores root's. Only root can create one (returns an error otherwise, also
/// inside another guard: guards do not nest). The
/// switch is process-wide (glibc applies set*id calls to every thread), so create it only
/// where no other thread is doing root's work.
#[must_use = "the owner's identity lasts only while the guard lives"]
pub struct AsOwner {
    saved_groups: Vec<Gid>,
    saved_egid: Gid,
    active: bool,
}

impl AsOwner {
    /// Become `owner` (effective ids only). A no-op guard when `owner` is root.
    pub fn enter(owner: &Owner) -> io::Result<AsOwner> {
        if !is_root() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "only root can act as another user",
            ));
        }
        let saved_egid = Gid::effective();
        let saved_groups = nix::unistd::getgroups().map_err(io::Error::from)?;
        if owner.uid == 0 {
            return Ok(AsOwner {
                saved_groups,
                saved_egid,
                active: false,
            });
        }
        let groups: Vec<Gid> = owner.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        let switch = || -> nix::Result<()> {
            set_groups(&groups)?;
            nix::unistd::setegid(Gid::from_raw(owner.gid))?;
            nix::unistd::seteuid(Uid::from_raw(owner.uid))
        };
        let mut guard = AsOwner {
            saved_groups,
            saved_egid,
            active: true,
        };
        if let Err(e) = switch() {
            guard.restore();
            return Err(io::Error::from(e));
        }
        *ACTING_AS.lock().unwrap_or_else(|e| e.into_inner()) = Some(owner.clone());
        Ok(guard)
    }

    fn restore(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        *ACTING_AS.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // Failing to regain root would leave kubefix half-privileged: stop rather than go on.
        let ok = nix::unistd::seteuid(Uid::from_raw(0)).is_ok()
            && nix::unistd::setegid(self.saved_egid).is_ok()
            && set_groups(&self.saved_groups).is_ok();
        if !ok {
            eprintln!("kubefix: error: cannot switch back to root after acting as a file's owner");
            std::process::abort();
        }
    }
}

impl Drop for AsOwner {
    fn drop(&mut self) {
        self.restore();
    }
}

#[cfg(not(any(target_os = "macos", target_os = "ios")))]
fn set_groups(groups: &[Gid]) -> nix::Result<()> {
    nix::unistd::setgroups(groups)
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
fn set_groups(_groups: &[Gid]) -> nix::Result<()> {
    Ok(())
}

/// Whether `owner` could open `path` for reading on their own (permissions, ACLs, every
/// directory on the way), checked by trying it as them. Non-blocking, so a FIFO cannot hang.
/// As root it switches to `owner` for the attempt; otherwise (not root, or inside an
/// [`AsOwner`] guard for that owner) it answers for the current effective user.
pub fn owner_can_read(owner: &Owner, path: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let try_open = || {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .is_ok()
    };
    if !is_root() {
        return try_open();
    }
    match AsOwner::enter(owner) {
        Ok(_guard) => try_open(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_known() {
        let root = Owner::of_uid(0, 0);
        assert_eq!(root.name.as_deref(), Some("root"));
        assert_eq!(root.home, Some(PathBuf::from("/root")));
        assert_eq!(Owner::by_name("root").map(|o| o.uid), Some(0));
    }

    #[test]
    fn unknown_uid_falls_back_to_the_files_group() {
        let o = Owner::of_uid(4_000_123, 4_000_456);
        assert_eq!(o.name, None);
        assert_eq!(o.gid, 4_000_456);
        assert_eq!(o.groups, vec![4_000_456]);
        assert_eq!(o.label(), "uid 4000123");
        // Group root is never borrowed from a file root chowned to a bare uid.
        let o = Owner::of_uid(4_000_123, 0);
        assert_eq!((o.gid, o.groups), (NOGROUP, vec![NOGROUP]));
    }

    /// Runs in a forked child: the switch is process-wide and would disturb the other tests
    /// of this binary, which run on threads of the same process.
    #[test]
    fn acting_as_an_owner_is_enforced_by_the_kernel_and_undone() {
        if !is_root() {
            eprintln!("skipped: needs root to switch users");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("root-only");
        std::fs::write(&secret, "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let open_for_all = dir.path().join("open");
        std::fs::write(&open_for_all, "y").unwrap();
        std::fs::set_permissions(&open_for_all, std::fs::Permissions::from_mode(0o644)).unwrap();
        // SAFETY: the child only makes system calls and exits with _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let nobody = Owner::of_uid(4_000_123, 4_000_123);
                let mut code = 0;
                if owner_can_read(&nobody, &secret) {
                    code |= 1;
                }
                if !owner_can_read(&nobody, &open_for_all) {
                    code |= 2;
                }
                {
                    let guard = AsOwner::enter(&nobody);
                    if guard.is_err() || euid() != 4_000_123 || std::fs::read(&secret).is_ok() {
                        code |= 4;
                    }
                }
                if euid() != 0 || std::fs::read(&secret).is_err() {
                    code |= 8;
                }
                // Whose file is it? Inside a guard: the guard's owner, even when the path is
                // gone for a moment (found in review: hiding the file made root's checks
                // take it for root's). Outside: a path that cannot be examined is nobody's.
                let gone = secret.with_file_name("hidden-for-a-moment");
                {
                    let _g = AsOwner::enter(&nobody);
                    if foreign_owner(&gone).map(|o| o.uid) != Some(4_000_123) {
                        code |= 16;
                    }
                }
                if acting_as().is_some()
                    || foreign_owner(&gone).map(|o| o.uid) != Some(NOBODY)
                    || foreign_owner(&secret).is_some()
                {
                    code |= 32;
                }
                unsafe { nix::libc::_exit(code) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }
}
