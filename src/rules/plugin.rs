//! Finding and running credential plugins for the rules that need the real program: PATH
//! lookup as client-go does it, `aws --version`, and `--probe-exec`.
//!
//! Rules run twice per file (once on the original, once more to verify the repair), so every
//! result that costs a process is cached for the whole run, keyed by what determines it.
//! A probe runs with stdin closed, `KUBERNETES_EXEC_INFO` set as client-go sets it, the
//! entry's `env` added, and a time limit; a plugin still running then is killed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// How long a probed plugin may run before it is killed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Is `path` a file with an execute bit?
pub(super) fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `name` looked up on `$PATH`, as `exec.LookPath` does.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    find_in(name, &std::env::var_os("PATH")?)
}

/// `name` looked up on the given `PATH` value.
pub fn find_in(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

/// The program an exec `command` runs: client-go resolves a command containing a `/`
/// against the kubeconfig's directory and looks a bare name up on `$PATH`.
pub fn resolve_command(command: &str, kubeconfig: &Path) -> Option<PathBuf> {
    if command.contains('/') {
        let p = Path::new(command);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            kubeconfig.parent().unwrap_or(Path::new(".")).join(p)
        };
        executable(&p).then_some(p)
    } else {
        find_on_path(command)
    }
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

/// Run `program` with `args` and extra `env`, stdin closed, killed after `timeout`.
pub fn run(program: &Path, args: &[String], env: &[(String, String)], timeout: Duration) -> Ran {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ran::NotStarted(e.to_string()),
    };
    // Read both pipes on their own threads so a chatty plugin cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.take(1 << 20).read_to_end(&mut buf);
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

/// The version of the aws-cli at `program`, once per run: read from its install layout
/// when that tells ([`super::aws_version`]), else from `aws --version`: the `X.Y.Z` of
/// `aws-cli/X.Y.Z` (old v1 releases print it on stderr), or `None` when it does not say.
pub fn aws_version(program: &Path) -> Option<Version> {
    static CACHE: Mutex<Option<HashMap<PathBuf, Option<Version>>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(v) = cache.get(program) {
        return *v;
    }
    let layout = super::aws_version::from_layout(program, &super::aws_version::Env::current());
    let v = layout.or_else(
        || match run(program, &["--version".into()], &[], PROBE_TIMEOUT) {
            Ran::Exited { stdout, stderr, .. } => {
                parse_aws_version(&stdout).or_else(|| parse_aws_version(&stderr))
            }
            _ => None,
        },
    );
    cache.insert(program.to_path_buf(), v);
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

/// Run a probe once per run (rules run again during verification).
pub fn probe(p: &Probe, timeout: Duration) -> Ran {
    static CACHE: Mutex<Option<HashMap<Probe, Ran>>> = Mutex::new(None);
    if let Some(r) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(p)
    {
        return r.clone();
    }
    let mut env = p.env.clone();
    env.push(("KUBERNETES_EXEC_INFO".into(), p.exec_info.clone()));
    let r = run(&p.program, &p.args, &env, timeout);
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(p.clone(), r.clone());
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
