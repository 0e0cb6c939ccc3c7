//! Finding and running credential plugins for the rules that need the real program: PATH
//! lookup as client-go does it, the aws-cli version, and `--probe-exec`.
//!
//! Trust: a kubeconfig, and every program it names, is untrusted input. Nothing here starts a
//! process unless the caller was asked to (`--probe-exec`); without it, the aws-cli version is
//! only read from the install layout of the `aws` on the invoking user's own `PATH`
//! ([`aws_version::aws_version_from_layout`]). A probe of a file that belongs to someone else, when kubefix
//! was started as root, runs the plugin as that user ([`run_as`]): real, effective and saved
//! uid and gid are theirs, their supplementary groups (none for a uid the user database does
//! not know), a minimal environment, their home as the working directory, a new session (no
//! controlling terminal to push input into), no inherited descriptors.
//!
//! Rules run twice per file (once on the original, once more to verify the repair), so every
//! result that costs a process is cached for the whole run, keyed by what determines it
//! (including who it ran as). A probe runs with stdin closed, `KUBERNETES_EXEC_INFO` set as
//! client-go sets it, the entry's `env` added, and a time limit; a plugin still running then
//! is killed. At most [`OUTPUT_LIMIT`] bytes of its output are read.

use std::collections::HashMap;
use std::ffi::CString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

pub mod aws_version;

use crate::privilege::{self, Owner};

/// How long a probed plugin may run before it is killed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a plugin's stdout (and stderr, which is only counted) is read.
pub const OUTPUT_LIMIT: u64 = 1 << 20;

/// `PATH` of a plugin run as another user: the system's directories only.
pub const OWNER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Group of a plugin run for a uid the user database does not know (`nogroup`): the file's
/// group says nothing about its owner (root may have left it `root`).
const UNKNOWN_USER_GID: u32 = 65534;

/// Who runs a program that anyone could have replaced.
const NOBODY: u32 = 65534;

/// Is `path` a file with an execute bit?
pub(super) fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `name` looked up on the invoking user's `$PATH`, as `exec.LookPath` does.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    find_in(name, &std::env::var_os("PATH")?)
}

/// `name` looked up on the given `PATH` value. Empty and relative entries are skipped, as Go's
/// `exec.LookPath` refuses a result relative to the current directory (`ErrDot`): a program in
/// whatever directory kubefix happens to run in is never picked up.
pub fn find_in(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    if name.is_empty() || name.contains('/') {
        return None;
    }
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

/// Does an exec `command` name a program by path (`./aws`, `bin/aws`, `/tmp/x/aws`) rather
/// than by a name looked up on `PATH`?
pub fn has_path_component(command: &str) -> bool {
    command.contains('/')
}

/// The program an exec `command` runs, for `--probe-exec` only: client-go resolves a command
/// containing a `/` against the kubeconfig's directory and looks a bare name up on `$PATH`.
/// The result is absolute (the plugin may run in another working directory).
pub fn resolve_command(command: &str, kubeconfig: &Path) -> Option<PathBuf> {
    if has_path_component(command) {
        let p = Path::new(command);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            let dir = kubeconfig.parent().unwrap_or(Path::new(""));
            std::path::absolute(dir).ok()?.join(p)
        };
        executable(&p).then_some(p)
    } else {
        find_on_path(command)
    }
}

/// Whom a probe of `program` for the kubeconfig at `kubeconfig` runs as: `None` (as kubefix
/// itself) unless kubefix was started as root and either the kubeconfig belongs to another
/// user, or the program, or a directory on the way to it (as named or as resolved), does:
/// that user could replace the program, so it runs with no more than their rights. A program
/// that others could replace through a group- or world-writable file or directory (other than
/// a sticky one such as `/tmp`) runs as `nobody` (uid 65534).
pub fn run_identity(kubeconfig: &Path, program: Option<&Path>) -> Option<Owner> {
    if !privilege::started_as_root() {
        return None;
    }
    if let Some(owner) = privilege::foreign_owner(kubeconfig) {
        return Some(owner);
    }
    let program = program?;
    let mut paths = vec![program.to_path_buf()];
    paths.extend(std::fs::canonicalize(program).ok());
    paths.iter().find_map(|p| {
        p.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .find_map(|a| {
                let m = std::fs::symlink_metadata(a).ok()?;
                let mode = m.mode();
                let sticky_dir = m.is_dir() && mode & 0o1000 != 0;
                if m.uid() != 0 {
                    Some(Owner::of_uid(m.uid(), m.gid()))
                } else if !m.file_type().is_symlink() && mode & 0o022 != 0 && !sticky_dir {
                    Some(Owner::of_uid(NOBODY, NOBODY))
                } else {
                    None
                }
            })
    })
}

/// What running a program gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ran {
    Exited {
        code: Option<i32>,
        stdout: String,
        stderr: String,
    },
    TimedOut,
    NotStarted(String),
}

/// Run `program` with `args` and extra `env`, stdin closed, killed after `timeout`, as
/// kubefix itself (its environment, its working directory).
#[cfg(test)]
pub fn run(program: &Path, args: &[String], env: &[(String, String)], timeout: Duration) -> Ran {
    run_as(program, args, env, None, timeout)
}

/// The identity a child switches to, prepared before the fork: the child may not allocate.
struct Switch {
    uid: nix::libc::uid_t,
    gid: nix::libc::gid_t,
    groups: Vec<nix::libc::gid_t>,
    home: Option<CString>,
}

impl Switch {
    fn for_owner(owner: &Owner) -> Switch {
        let known = owner.name.is_some();
        let gid = if known { owner.gid } else { UNKNOWN_USER_GID };
        let mut groups: Vec<u32> = if known {
            owner.groups.clone()
        } else {
            Vec::new()
        };
        groups.sort_unstable();
        groups.dedup();
        Switch {
            uid: owner.uid,
            gid,
            groups,
            home: owner
                .home
                .as_deref()
                .and_then(|h| CString::new(h.as_os_str().as_bytes()).ok()),
        }
    }

    /// In the forked child, before exec. Only async-signal-safe calls.
    fn apply(&self) -> std::io::Result<()> {
        use nix::libc;
        let fail = || std::io::Error::last_os_error();
        // SAFETY: plain system calls on values prepared before the fork.
        unsafe {
            // Inside an `AsOwner` guard the effective uid is the owner's, the real and saved
            // ones root's: get root's powers back first, to drop them for good below.
            if libc::geteuid() != 0 && libc::seteuid(0) != 0 {
                return Err(fail());
            }
            // A new session: no controlling terminal (root's) to open or push input into.
            if libc::setsid() < 0 {
                return Err(fail());
            }
            if libc::setgroups(self.groups.len() as _, self.groups.as_ptr()) != 0 {
                return Err(fail());
            }
            if libc::setresgid(self.gid, self.gid, self.gid) != 0 {
                return Err(fail());
            }
            if libc::setresuid(self.uid, self.uid, self.uid) != 0 {
                return Err(fail());
            }
            // There must be no way back.
            if self.uid != 0
                && (libc::setuid(0) == 0
                    || libc::seteuid(0) == 0
                    || libc::getuid() != self.uid
                    || libc::geteuid() != self.uid)
            {
                libc::_exit(126);
            }
            // The owner's home, entered as the owner (not as root, who could pass directories
            // the owner cannot); else the root directory.
            let entered = match &self.home {
                Some(h) => libc::chdir(h.as_ptr()) == 0,
                None => false,
            };
            if !entered && libc::chdir(c"/".as_ptr()) != 0 {
                return Err(fail());
            }
            // Descriptors kubefix holds (a lock, a credential source) do not reach the plugin.
            close_descriptors_on_exec();
        }
        Ok(())
    }
}

/// Mark every descriptor from 3 up close-on-exec (std's own error pipe already is, and stays
/// open until the exec so that a failed exec is still reported).
unsafe fn close_descriptors_on_exec() {
    use nix::libc;
    #[cfg(target_os = "linux")]
    {
        const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
        if libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        ) == 0
        {
            return;
        }
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
        limit.rlim_cur.min(1 << 16) as libc::c_int
    } else {
        1024
    };
    for fd in 3..max {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

/// Run `program` like [`run`], or, with `owner`, as that user (see the module docs): a
/// minimal environment (`PATH` = [`OWNER_PATH`], `HOME`, `USER`, `LOGNAME`) plus `env`.
/// Only root can do the latter; kubefix inside an `AsOwner` guard counts as root here.
pub fn run_as(
    program: &Path,
    args: &[String],
    env: &[(String, String)],
    owner: Option<&Owner>,
    timeout: Duration,
) -> Ran {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let as_owner = owner.filter(|o| o.uid != 0);
    // Inside an `AsOwner` guard the real uid is still root's: a child started without the
    // full switch below could take root back (a shell does so by itself). Never start one.
    if as_owner.is_none() && privilege::started_as_root() && !privilege::is_root() {
        return Ran::NotStarted(
            "kubefix is acting as another user and would not drop root fully for this program"
                .into(),
        );
    }
    if let Some(owner) = as_owner {
        if !privilege::started_as_root() {
            return Ran::NotStarted("only root can run a program as another user".into());
        }
        let home = owner
            .home
            .as_deref()
            .filter(|h| h.is_absolute())
            .unwrap_or(Path::new("/"));
        cmd.env_clear().env("PATH", OWNER_PATH).env("HOME", home);
        if let Some(name) = &owner.name {
            cmd.env("USER", name).env("LOGNAME", name);
        }
        let switch = Switch::for_owner(owner);
        // SAFETY: `apply` makes only async-signal-safe system calls and does not allocate.
        unsafe {
            cmd.pre_exec(move || switch.apply());
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ran::NotStarted(e.to_string()),
    };
    // Read both pipes on their own threads so a chatty plugin cannot block on a full pipe;
    // past the limit the pipe is closed (the plugin gets EPIPE).
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.take(OUTPUT_LIMIT).read_to_end(&mut buf);
                let _ = tx.send(buf);
            });
        }
        rx
    };
    let out_rx = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err_rx = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                if as_owner.is_some() {
                    // The plugin leads its own session: stop what it started too.
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(child.id() as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill();
                let _ = child.wait();
                return Ran::TimedOut;
            }
        }
    };
    // A grandchild may still hold the pipes open; do not wait for it long.
    let collect = |rx: mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(Duration::from_secs(1))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ran::Exited {
        code: status.code(),
        stdout: collect(out_rx),
        stderr: collect(err_rx),
    }
}

/// A `major.minor.patch` version.
pub type Version = (u32, u32, u32);

/// `--probe-exec` only: `program --version`, once per run and user, run as `owner` when
/// given: the `X.Y.Z` of `aws-cli/X.Y.Z` (old v1 releases print it on stderr), or `None`.
pub fn aws_version_probed(program: &Path, owner: Option<&Owner>) -> Option<Version> {
    type Key = (PathBuf, Option<u32>);
    static CACHE: Mutex<Option<HashMap<Key, Option<Version>>>> = Mutex::new(None);
    let key = (program.to_path_buf(), owner.map(|o| o.uid));
    if let Some(v) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return *v;
    }
    let v = match run_as(program, &["--version".into()], &[], owner, PROBE_TIMEOUT) {
        Ran::Exited { stdout, stderr, .. } => {
            parse_aws_version(&stdout).or_else(|| parse_aws_version(&stderr))
        }
        _ => None,
    };
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, v);
    v
}

/// `aws-cli/1.22.0 Python/3.8.10 …` → `(1, 22, 0)`.
pub fn parse_aws_version(text: &str) -> Option<Version> {
    let rest = &text[text.find("aws-cli/")? + "aws-cli/".len()..];
    parse_version(rest.split(|c: char| c.is_whitespace()).next()?)
}

/// `1.45.11` → `(1, 45, 11)`; a missing patch is 0, trailing non-digits are ignored.
pub fn parse_version(ver: &str) -> Option<Version> {
    let mut parts = ver.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// One probe: which program, how, and which API version it was asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub exec_info: String,
}

/// Run a probe once per run and user (rules run again during verification), as `owner` when
/// given ([`run_as`]).
pub fn probe(p: &Probe, owner: Option<&Owner>, timeout: Duration) -> Ran {
    type Key = (Probe, Option<u32>);
    static CACHE: Mutex<Option<HashMap<Key, Ran>>> = Mutex::new(None);
    let key = (p.clone(), owner.map(|o| o.uid));
    if let Some(r) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return r.clone();
    }
    let mut env = p.env.clone();
    env.push(("KUBERNETES_EXEC_INFO".into(), p.exec_info.clone()));
    let r = run_as(&p.program, &p.args, &env, owner, timeout);
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, r.clone());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn parses_aws_versions() {
        assert_eq!(
            parse_aws_version("aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11\n"),
            Some((1, 45, 11))
        );
        assert_eq!(
            parse_aws_version(
                "aws-cli/2.6.3 Python/3.9.11 Linux/5.15 exe/x86_64.ubuntu.22 prompt/off"
            ),
            Some((2, 6, 3))
        );
        assert_eq!(parse_aws_version("aws-cli/2.0 Python"), Some((2, 0, 0)));
        assert_eq!(parse_aws_version("something else"), None);
    }

    #[test]
    fn run_kills_a_hanging_program_and_reads_output() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("p");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"out $X\"\necho err >&2\nexit 4\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            run(
                &script,
                &[],
                &[("X".into(), "1".into())],
                Duration::from_secs(5)
            ),
            Ran::Exited {
                code: Some(4),
                stdout: "out 1\n".into(),
                stderr: "err\n".into()
            }
        );
        let hang = dir.path().join("hang");
        std::fs::write(&hang, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = Instant::now();
        assert_eq!(
            run(&hang, &[], &[], Duration::from_millis(300)),
            Ran::TimedOut
        );
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn path_lookup_skips_relative_and_empty_entries() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let p = bin.join("plug");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let abs = std::env::join_paths([bin.as_path()]).unwrap();
        assert_eq!(find_in("plug", &abs), Some(p.clone()));
        // `bin` relative to wherever kubefix runs, `.` and the empty entry: never.
        for rel in ["bin", ".", "", "./bin", "bin/.."] {
            assert_eq!(find_in("plug", std::ffi::OsStr::new(rel)), None, "{rel:?}");
        }
        // A name with a slash is not a PATH lookup.
        assert_eq!(find_in("bin/plug", dir.path().as_os_str()), None);
        assert!(has_path_component("./aws") && has_path_component("/x/aws"));
        assert!(!has_path_component("aws"));
    }

    /// `run_as` from inside an `AsOwner` guard (effective uid another user's, real and saved
    /// root): the plugin still ends up with all its ids the owner's, no way back to root, and
    /// the guard's user plays no part. In a forked child: the guard is process-wide.
    #[test]
    fn run_as_switches_fully_also_inside_an_owner_guard() {
        if !privilege::is_root() {
            eprintln!("skipped: needs root to switch users");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = dir.path().join("p");
        std::fs::write(
            &script,
            "#!/bin/sh\ngrep -E '^(Uid|Gid|Groups):' /proc/$$/status | tr -s ' \\t' ' '\necho \"HOME=$HOME\"; pwd\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let guard_user = Owner::of_uid(4_000_321, 4_000_321);
        let owner = Owner::of_uid(4_000_123, 0); // a file left in group root
                                                 // SAFETY: the child runs the code under test and leaves with _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let code = {
                    let _guard = privilege::AsOwner::enter(&guard_user);
                    match run_as(&script, &[], &[], Some(&owner), Duration::from_secs(10)) {
                        Ran::Exited {
                            code: Some(0),
                            stdout,
                            ..
                        } if stdout
                            == "Uid: 4000123 4000123 4000123 4000123\n\
                                Gid: 65534 65534 65534 65534\n\
                                Groups: \n\
                                HOME=/\n/\n" =>
                        {
                            0
                        }
                        other => {
                            eprintln!("{other:?}");
                            1
                        }
                    }
                };
                // SAFETY: leaving the forked child without running the test harness's code.
                unsafe { nix::libc::_exit(code) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }

    /// Found in review (#12): a user who hid their kubeconfig for a moment made
    /// `run_identity` answer "nobody else's", and a plugin started without the full switch
    /// inside the guard took root back (ruid was 0). Now the guard's owner is the answer and
    /// a plugin is never started half-switched.
    #[test]
    fn inside_a_guard_plugins_run_as_its_owner_or_not_at_all() {
        if !privilege::is_root() {
            eprintln!("skipped: needs root to switch users");
            return;
        }
        let user = Owner::of_uid(4_000_321, 4_000_321);
        // SAFETY: the child runs the code under test and leaves with _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let mut code = 0;
                {
                    let _guard = privilege::AsOwner::enter(&user);
                    let gone = Path::new("/nonexistent/kubeconfig");
                    if run_identity(gone, Some(Path::new("/bin/sh"))).map(|o| o.uid)
                        != Some(4_000_321)
                    {
                        code |= 1;
                    }
                    let ran = run_as(
                        Path::new("/bin/sh"),
                        &["-c".into(), "id -u".into()],
                        &[],
                        None,
                        Duration::from_secs(10),
                    );
                    if !matches!(ran, Ran::NotStarted(_)) {
                        eprintln!("{ran:?}");
                        code |= 2;
                    }
                }
                // Outside a guard, a kubeconfig that cannot be examined is nobody's.
                if run_identity(Path::new("/nonexistent/kubeconfig"), None).map(|o| o.uid)
                    != Some(privilege::NOBODY)
                {
                    code |= 4;
                }
                // SAFETY: leaving the forked child without running the test harness's code.
                unsafe { nix::libc::_exit(code) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }

    #[test]
    fn relative_commands_resolve_against_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let p = dir.path().join("bin/plug");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cfg = dir.path().join("config");
        assert_eq!(
            resolve_command("./bin/plug", &cfg),
            Some(dir.path().join("./bin/plug"))
        );
        assert_eq!(resolve_command("./bin/nope", &cfg), None);
        assert_eq!(
            resolve_command("kubefix-surely-not-on-path-0xdead", &cfg),
            None
        );
    }
}
