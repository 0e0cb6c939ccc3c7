//! Which kubeconfig files to check, with client-go's loading rules:
//! `--kubeconfig PATH` (must exist), else every file of `$KUBECONFIG` (colon-separated, empty
//! and missing entries skipped, duplicates once), else `~/.kube/config`. Under `sudo` the home
//! directory is the invoking user's, not root's: fixing root's kubeconfig is rarely the point.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment kubefix looks at, passed in so tests can set it.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub kubeconfig: Option<String>,
    /// `$KUBECONFIG` is set but is not UTF-8: kubefix cannot name its files yet, and must not
    /// fall back to `~/.kube/config` (kubectl would read the named files instead).
    pub kubeconfig_not_unicode: bool,
    pub home: Option<PathBuf>,
    /// `SUDO_USER`, honoured only when running as root.
    pub sudo_user: Option<String>,
    pub is_root: bool,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            kubeconfig: std::env::var("KUBECONFIG").ok(),
            kubeconfig_not_unicode: matches!(
                std::env::var("KUBECONFIG"),
                Err(std::env::VarError::NotUnicode(_))
            ),
            home: dirs::home_dir(),
            sudo_user: std::env::var("SUDO_USER")
                .ok()
                .filter(|u| !u.is_empty() && u != "root"),
            is_root: is_root(),
        }
    }

    /// The home directory whose kubeconfig is the default.
    pub fn user_home(&self) -> Option<PathBuf> {
        if self.is_root {
            if let Some(user) = &self.sudo_user {
                if let Some(home) = home_of(user) {
                    return Some(home);
                }
            }
        }
        self.home.clone()
    }
}

fn is_root() -> bool {
    crate::privilege::is_root()
}

/// Home directory of `user` from the user database (getpwnam_r).
fn home_of(user: &str) -> Option<PathBuf> {
    crate::privilege::home_of(user)
}

/// The files to check, in client-go's order.
pub fn select(explicit: Option<&Path>, env: &Env) -> Result<Vec<PathBuf>> {
    if let Some(p) = explicit {
        return Ok(vec![p.to_path_buf()]);
    }
    if env.kubeconfig_not_unicode {
        return Err(Error::Usage(
            "$KUBECONFIG names files whose paths are not UTF-8, which kubefix cannot read yet; \
             pass each file with --kubeconfig PATH (kubefix does not fall back to \
             ~/.kube/config, since kubectl reads the files $KUBECONFIG names)"
                .into(),
        ));
    }
    if let Some(list) = env.kubeconfig.as_deref().filter(|s| !s.is_empty()) {
        let mut out: Vec<PathBuf> = Vec::new();
        // One file spelled two ways (`./a` and `a`, or through a symlink) is one file:
        // compare what the paths resolve to.
        let mut seen: Vec<PathBuf> = Vec::new();
        for part in list.split(':').filter(|p| !p.is_empty()) {
            let p = PathBuf::from(part);
            let Ok(real) = std::fs::canonicalize(&p) else {
                continue; // missing entries are skipped, as client-go does
            };
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            out.push(p);
        }
        if out.is_empty() {
            return Err(Error::Usage(format!(
                "none of the files in $KUBECONFIG ({list}) exists"
            )));
        }
        return Ok(out);
    }
    let home = env.user_home().ok_or_else(|| {
        Error::Usage("cannot find the home directory; pass --kubeconfig PATH".into())
    })?;
    let p = home.join(".kube").join("config");
    if !p.exists() {
        return Err(Error::Usage(format!(
            "{} does not exist; pass --kubeconfig PATH or set KUBECONFIG",
            p.display()
        )));
    }
    Ok(vec![p])
}

/// What a file kubefix reads is for: it decides the size cap and how the file is named in
/// messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A kubeconfig to check or fix (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`).
    Kubeconfig,
    /// A credential source (`--k3s-config`, `--from`, the distributions' default paths).
    CredentialSource,
    /// A PEM certificate or bundle a kubeconfig names (`client-certificate`,
    /// `certificate-authority`).
    Certificate,
    /// A private key a kubeconfig names (`client-key`).
    Key,
    /// A bearer token file a kubeconfig names (`tokenFile`).
    Token,
    /// A small text file kubefix looks into to learn something (a plugin's script head, a
    /// Python `pyvenv.cfg` or `__init__.py`, `/proc/sys/kernel/hostname`).
    Text,
}

/// 1 MiB.
const MIB: u64 = 1024 * 1024;

impl Kind {
    /// The most kubefix reads of such a file. Kubeconfigs and credential sources share the
    /// historical limit (a merged kubeconfig of thousands of contexts is tens of MiB).
    /// Certificates and keys: the largest real bundle, the system's Mozilla CA bundle of
    /// ~150 roots, is about 220 KiB; 4 MiB is eighteen times that. Tokens: a JWT is a few
    /// KiB (a service-account token is ~1 KiB); 1 MiB is far above the 16 KiB kube-apiserver
    /// accepts in a header. Text files kubefix peeks into: 1 MiB.
    pub fn cap(self) -> u64 {
        match self {
            Kind::Kubeconfig | Kind::CredentialSource => MAX_FILE_SIZE,
            Kind::Certificate | Kind::Key => 4 * MIB,
            Kind::Token | Kind::Text => MIB,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Kubeconfig => "a kubeconfig",
            Kind::CredentialSource => "a credential source",
            Kind::Certificate => "a certificate file",
            Kind::Key => "a key file",
            Kind::Token => "a token file",
            Kind::Text => "this file",
        }
    }
}

/// The size limit for kubeconfigs and credential sources: 256 MiB (a kubeconfig is a few KiB,
/// the biggest merged ones tens of MiB). Kept equal to `persist::MAX_FILE_SIZE`.
pub const MAX_FILE_SIZE: u64 = 256 * MIB;

/// Why [`read_regular`] read nothing.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (`NotFound`, `PermissionDenied`, …).
    Io(io::Error),
    /// The path is a directory, FIFO, device or socket: `what` says which.
    NotRegular { what: &'static str },
    /// Larger than [`Kind::cap`]; `size` when known before reading.
    TooLarge { size: Option<u64>, cap: u64 },
}

impl ReadError {
    /// The I/O error kind, for callers that treat a missing file differently.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            ReadError::Io(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// The message with the file named: `cannot read PATH: …` / `PATH is a FIFO …`.
    pub fn naming(&self, path: &Path, kind: Kind) -> String {
        match self {
            ReadError::Io(e) => format!("cannot read {}: {e}", path.display()),
            _ => format!("{}: {}", path.display(), self.describe(kind)),
        }
    }

    /// The message without the file's name (for callers that put it first themselves).
    pub fn describe(&self, kind: Kind) -> String {
        match self {
            ReadError::Io(e) => e.to_string(),
            ReadError::NotRegular { what } => {
                let mut m = format!(
                    "is {what}, not a regular file; kubefix reads {} only from a regular file (up to {} MiB) and does not open {}",
                    kind.noun(),
                    kind.cap() / MIB,
                    short_name(what),
                );
                if *what == "a FIFO (named pipe)" {
                    m.push_str(
                        " (for a shell process substitution `<(…)`, save the output to a file first)",
                    );
                }
                m
            }
            ReadError::TooLarge { size, cap } => {
                format!(
                    "{}; kubefix refuses {} over {} MiB",
                    match size {
                        Some(n) => format!("the file is {:.1} MiB", *n as f64 / MIB as f64),
                        None => format!("the file is over {} MiB", cap / MIB),
                    },
                    match kind {
                        Kind::Kubeconfig => "files",
                        _ => "such files",
                    },
                    cap / MIB
                ) + match kind {
                    Kind::Kubeconfig => " (a kubeconfig is a few KiB)",
                    _ => "",
                }
            }
        }
    }
}

/// "a FIFO (named pipe)" -> "a FIFO": the long name once is enough.
fn short_name(what: &str) -> &str {
    what.split(" (").next().unwrap_or(what)
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Kind::Text))
    }
}

/// What a non-regular file type is, for messages.
fn file_type_name(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// What `path` is when it exists but is no regular file (a directory, FIFO, device or
/// socket), by `stat` alone: nothing is opened, so a FIFO cannot block and a device is not
/// touched. `None` for a regular file, a missing one, or one that cannot be stat-ed.
pub fn non_regular(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    (!meta.file_type().is_file()).then(|| file_type_name(meta.file_type()))
}

/// Read the regular file at `path` (symlinks followed), at most `kind.cap()` bytes. Never
/// blocks and never reads without bound: the path is stat-ed first (a FIFO, device, socket
/// or directory is refused without being opened), then opened non-blocking, without becoming
/// a controlling terminal and closed on exec, and the *opened handle* is checked again (the
/// path may have been swapped in between). A regular file over the cap is refused by its
/// size before any byte is read; one that grows while read is cut at cap + 1 and refused.
pub fn read_regular(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    read_capped(path, kind.cap())
}

/// [`read_regular`], up to `limit` bytes, and a file longer than that is not an error: its
/// first `limit` bytes are returned (for peeking at a script's first lines).
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    Ok(bytes)
}

fn open_regular(path: &Path) -> Result<(std::fs::File, u64), ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            what: file_type_name(meta.file_type()),
        });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            what: file_type_name(meta.file_type()),
        });
    }
    Ok((file, meta.len()))
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path)?;
    read_opened(file, cap)
}

/// Read a file that is already open (through a directory handle, say), with the same checks
/// as [`read_regular`] on the handle: a regular file of at most `cap` bytes.
fn read_opened(file: std::fs::File, cap: u64) -> Result<Vec<u8>, ReadError> {
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            what: file_type_name(meta.file_type()),
        });
    }
    let len = meta.len();
    if len > cap {
        return Err(ReadError::TooLarge {
            size: Some(len),
            cap,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge { size: None, cap });
    }
    Ok(bytes)
}

/// A kubeconfig already open (by `persist`'s directory-handle walk or `restore`), read with
/// the checks and errors of [`read_kubeconfig`]; `path` names it in errors.
pub fn read_open_kubeconfig(file: std::fs::File, path: &Path) -> Result<Vec<u8>> {
    read_opened(file, Kind::Kubeconfig.cap()).map_err(|e| kubeconfig_error(path, e))
}

/// Read a kubeconfig to check or fix, with the errors that stop kubefix (exit 2).
pub fn read_kubeconfig(path: &Path) -> Result<Vec<u8>> {
    read_regular(path, Kind::Kubeconfig).map_err(|e| kubeconfig_error(path, e))
}

fn kubeconfig_error(path: &Path, e: ReadError) -> Error {
    match e {
        ReadError::Io(source) => Error::Read {
            path: path.to_path_buf(),
            source,
        },
        ReadError::NotRegular {
            what: "a directory",
        } => Error::IsDirectory {
            path: path.to_path_buf(),
        },
        other => Error::InvalidNoPosition {
            path: path.to_path_buf(),
            message: other.describe(Kind::Kubeconfig),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_list_skips_missing_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let list = format!(
            "{}::{}:{}:{}",
            a.display(),
            dir.path().join("missing").display(),
            b.display(),
            a.display()
        );
        let env = Env {
            kubeconfig: Some(list),
            ..Env::default()
        };
        assert_eq!(select(None, &env).unwrap(), vec![a, b]);
    }

    /// Found in review: a `$KUBECONFIG` that is not UTF-8 was ignored and kubefix worked on
    /// `~/.kube/config`, a file kubectl was not using.
    #[test]
    fn kubeconfig_that_is_not_unicode_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".kube")).unwrap();
        std::fs::write(dir.path().join(".kube/config"), "").unwrap();
        let env = Env {
            kubeconfig_not_unicode: true,
            home: Some(dir.path().to_path_buf()),
            ..Env::default()
        };
        let e = select(None, &env).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        // --kubeconfig still works.
        let p = Path::new("/x/config");
        assert_eq!(select(Some(p), &env).unwrap(), vec![p.to_path_buf()]);
    }

    #[test]
    fn explicit_path_wins() {
        let env = Env {
            kubeconfig: Some("/nonexistent".into()),
            ..Env::default()
        };
        let p = Path::new("/x/config");
        assert_eq!(select(Some(p), &env).unwrap(), vec![p.to_path_buf()]);
    }

    #[test]
    fn default_is_home_kube_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".kube")).unwrap();
        std::fs::write(dir.path().join(".kube/config"), "").unwrap();
        let env = Env {
            home: Some(dir.path().to_path_buf()),
            ..Env::default()
        };
        assert_eq!(
            select(None, &env).unwrap(),
            vec![dir.path().join(".kube/config")]
        );
        let env = Env {
            home: Some(dir.path().join("nowhere")),
            ..Env::default()
        };
        assert!(select(None, &env).is_err());
    }

    #[test]
    fn all_missing_in_kubeconfig_is_an_error() {
        let env = Env {
            kubeconfig: Some("/nonexistent/a:/nonexistent/b".into()),
            ..Env::default()
        };
        assert!(select(None, &env).is_err());
    }
}
