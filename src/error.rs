//! Every way kubefix can fail, each naming the file (and line:column where there is one).
//! All of them map to exit code 2; see [`ExitCode`].

use std::io;
use std::path::{Path, PathBuf};

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

/// kubefix's documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing to fix, dry run done, or fixes applied.
    Ok = 0,
    /// `--check` found something that needs attention.
    NeedsAttention = 1,
    /// Usage error, unreadable or invalid input, refused or failed write.
    Error = 2,
}

/// A path for people: the home directory shown as `~`.
pub fn display_path(path: &Path) -> String {
    if let Some(home) = dirs::home_dir() {
        if let Ok(rest) = path.strip_prefix(&home) {
            if !home.as_os_str().is_empty() && home != Path::new("/") {
                return format!("~/{}", rest.display());
            }
        }
    }
    path.display().to_string()
}

/// The file an error is about, if it names one.
pub fn error_path(e: &Error) -> Option<&Path> {
    match e {
        Error::Read { path, .. }
        | Error::IsDirectory { path }
        | Error::Invalid { path, .. }
        | Error::InvalidNoPosition { path, .. }
        | Error::Verify { path, .. }
        | Error::Locked { path, .. }
        | Error::StaleLock { path, .. }
        | Error::Changed { path }
        | Error::Write { path, .. } => Some(path),
        Error::Usage(_) => None,
    }
}

/// kubefix's diagnostics (stderr) under the name it was invoked by: a line that starts with
/// `kubefix:` (an error, a note) starts with `kubectl fix:` instead when kubefix runs as that
/// kubectl plugin, as kubectl's own messages name the command that was typed. Lines pass
/// through as soon as they end; a last unterminated one on flush (and drop).
pub struct Diagnostics<'a> {
    inner: &'a mut dyn io::Write,
    /// The prefix that replaces `kubefix`, or `None` to pass everything through.
    program: Option<String>,
    line: Vec<u8>,
}

impl<'a> Diagnostics<'a> {
    /// Diagnostics to `inner` for `program` (`kubefix`, `kubectl fix`, ...).
    pub fn new(inner: &'a mut dyn io::Write, program: &str) -> Diagnostics<'a> {
        Diagnostics {
            inner,
            program: (program != "kubefix").then(|| program.to_string()),
            line: Vec::new(),
        }
    }

    fn emit(&mut self, line: &[u8]) -> io::Result<()> {
        match (&self.program, line.strip_prefix(b"kubefix:")) {
            (Some(program), Some(rest)) => {
                self.inner.write_all(program.as_bytes())?;
                self.inner.write_all(b":")?;
                self.inner.write_all(rest)
            }
            _ => self.inner.write_all(line),
        }
    }
}

impl io::Write for Diagnostics<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.program.is_none() {
            return self.inner.write(buf);
        }
        self.line.extend_from_slice(buf);
        if let Some(end) = memchr::memrchr(b'\n', &self.line) {
            let rest = self.line.split_off(end + 1);
            let done = std::mem::replace(&mut self.line, rest);
            for line in done.split_inclusive(|&b| b == b'\n') {
                self.emit(line)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.emit(&line)?;
        }
        self.inner.flush()
    }
}

impl Drop for Diagnostics<'_> {
    fn drop(&mut self) {
        let _ = io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn through(program: &str, writes: &[&str]) -> String {
        let mut sink = Vec::new();
        {
            let mut d = Diagnostics::new(&mut sink, program);
            for w in writes {
                d.write_all(w.as_bytes()).unwrap();
            }
        }
        String::from_utf8(sink).unwrap()
    }

    #[test]
    fn diagnostics_name_the_plugin_at_line_starts_only() {
        let writes = [
            "kubefix: error: a: cannot read\nkub",
            "efix: note: kubefix: stays\n",
            "not kubefix: here\nkubefix: last, unterminated",
        ];
        assert_eq!(
            through("kubectl fix", &writes),
            "kubectl fix: error: a: cannot read\nkubectl fix: note: kubefix: stays\n\
             not kubefix: here\nkubectl fix: last, unterminated"
        );
        assert_eq!(through("kubefix", &writes), writes.concat());
    }
}
