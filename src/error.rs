//! Every way kubefix can fail, each naming the file (and line:column where there is one).
//! All of them map to exit code 2; see [`crate::ExitCode`].

use std::io;
use std::path::PathBuf;

use crate::display_path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", display_path(path))]
    Read { path: PathBuf, source: io::Error },

    #[error("{}: is a directory, not a kubeconfig file", display_path(path))]
    IsDirectory { path: PathBuf },

    #[error("{}:{line}:{column}: {message}", display_path(path))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{}: {message}", display_path(path))]
    InvalidNoPosition { path: PathBuf, message: String },

    #[error("{}: refusing to write: {reason}", display_path(path))]
    Verify { path: PathBuf, reason: String },

    #[error(
        "{}: refusing to write: the lock file {} exists (kubectl may be writing this kubeconfig right now); \
         retry in a moment, or remove the lock file if no kubectl is running",
        display_path(path),
        display_path(lock)
    )]
    Locked { path: PathBuf, lock: PathBuf },

    #[error(
        "{}: refusing to write: the lock file {} was left behind by kubefix (pid {pid}), which is no longer running \
         (it was killed or crashed); nothing was written. If no kubectl or kubefix is running, remove the lock file \
         and run kubefix again",
        display_path(path),
        display_path(lock)
    )]
    StaleLock {
        path: PathBuf,
        lock: PathBuf,
        pid: u32,
    },

    #[error(
        "{}: refusing to write: the file changed since kubefix read it (someone else edited it); nothing was written, run kubefix again",
        display_path(path)
    )]
    Changed { path: PathBuf },

    #[error("{}: {step}: {source}", display_path(path))]
    Write {
        path: PathBuf,
        step: &'static str,
        source: io::Error,
    },

    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
