//! Shared support code for integration tests: a throw-away PKI (`pki`), a
//! loopback HTTPS fake Kubernetes API server (`apiserver`), and helpers for
//! finding and running external tools such as `kubectl`.
//!
//! kubectl's discovery cache: `kubectl` honours the `KUBECACHEDIR`
//! environment variable as well as the `--cache-dir` flag (flag wins).
//! [`kubectl_command`] sets both to a caller-provided temp dir so tests never
//! touch `~/.kube/cache`.
#![allow(dead_code)]

pub mod apiserver;
pub mod pki;
pub mod proxy;
pub mod styles;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use base64::Engine as _;

/// `testdata/<name>` in this checkout.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// The names of the entries of `dir`, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Run kubefix in `dir` with `dir` as HOME, no `$KUBECONFIG` and no colour.
pub fn kubefix_in(dir: &Path, args: &[&str]) -> std::process::Output {
    use assert_cmd::prelude::*;
    Command::cargo_bin("kubefix")
        .unwrap()
        .current_dir(dir)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

/// stdout then stderr, as one text (to search both for what must or must not be printed).
pub fn stdout_and_stderr(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Assert a process's exit code, showing its whole output when it is wrong.
#[track_caller]
pub fn expect_code(out: &std::process::Output, want: i32) {
    assert_eq!(
        out.status.code(),
        Some(want),
        "unexpected exit code\n{}",
        output_text(out)
    );
}

/// A process's exit status, stdout and stderr, for assertion messages.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Finds an executable named `tool` on `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(tool))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// `kubectl` on `PATH`, if any.
pub fn kubectl() -> Option<PathBuf> {
    which("kubectl")
}

/// `Some(path)` if `tool` is on `PATH`. If absent: panics when the env var
/// `KUBEFIX_REQUIRE_E2E=1`, else prints `skipping: {tool} not found on PATH`
/// (once per tool per test binary) and returns `None`.
pub fn require_or_skip(tool: &str) -> Option<PathBuf> {
    if let Some(p) = which(tool) {
        return Some(p);
    }
    if std::env::var("KUBEFIX_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{tool} required (KUBEFIX_REQUIRE_E2E=1) but not found on PATH");
    }
    static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(tool.to_string())
    {
        eprintln!("skipping: {tool} not found on PATH");
    }
    None
}

/// A loopback port nothing listens on (bound, then released): kubectl pointed at it fails
/// with "connection refused" once it has accepted the kubeconfig.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    l.local_addr().unwrap().port()
}

/// Whether kubectl's output shows it got as far as dialing the server (the kubeconfig was
/// accepted): the oracle of `tests/parity.rs` and `tests/styles.rs`.
pub fn kubectl_dialed(out: &std::process::Output) -> bool {
    let text = stdout_and_stderr(out);
    !out.status.success()
        && ["connection refused", "was refused", "dial tcp"]
            .iter()
            .any(|p| text.contains(p))
}

/// Standard (padded) base64.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A `kubectl` command isolated from the developer's environment:
/// `--kubeconfig <kubeconfig>`, discovery cache in `cache_dir` (both the
/// `KUBECACHEDIR` env var and `--cache-dir`), `KUBECONFIG` removed, and a
/// request timeout so a broken server cannot hang a test. Append the
/// subcommand with `.args([...])`.
pub fn kubectl_command(kubectl: &Path, kubeconfig: &Path, cache_dir: &Path) -> Command {
    let mut cmd = Command::new(kubectl);
    cmd.env_remove("KUBECONFIG")
        .env("KUBECACHEDIR", cache_dir)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache_dir)
        .arg("--request-timeout=20s");
    cmd
}

/// A directory of fake credential plugins for the commands the testdata fixtures name
/// (`aws`, `aws-iam-authenticator`, `kubelogin`, `gke-gcloud-auth-plugin`), made once per
/// test binary: `exec-on-path` reports an exec plugin that is not installed, and the
/// fixtures are about other things. Each prints a v1beta1 ExecCredential. `aws` sits in the
/// AWS CLI v2 installer's layout (`…/v2/2.15.30/dist/aws`, linked from `bin/aws`), so
/// `exec-plugin-version` reads a current version from it and has nothing to say.
pub fn fake_plugins() -> &'static Path {
    use std::os::unix::fs::PermissionsExt;
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("kubefix-fake-plugins")
            .tempdir()
            .unwrap()
            .keep();
        let bin = root.join("bin");
        let dist = root.join("aws-cli/v2/2.15.30/dist");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&dist).unwrap();
        let body = "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"fake\"}}\\n'\n";
        for p in [
            dist.join("aws"),
            bin.join("aws-iam-authenticator"),
            bin.join("kubelogin"),
            bin.join("gke-gcloud-auth-plugin"),
        ] {
            std::fs::write(&p, body).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::symlink(dist.join("aws"), bin.join("aws")).unwrap();
        bin
    })
}

/// `PATH` for kubefix in tests: the [`fake_plugins`] and `/usr/bin:/bin` (no aws-cli of
/// this machine's, whose version would add findings to the exec fixtures).
pub fn fake_plugins_path() -> std::ffi::OsString {
    std::env::join_paths([fake_plugins(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap()
}

/// The shell commands in `text` that start with one of `starts` (`kubectl `), each up to
/// the first ` (`, `` ` ``, `, and ` or newline outside single quotes: what a user would
/// select and paste.
pub fn commands_in(text: &str, starts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for start in starts {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let begin = from + i;
            let rest = &text[begin..];
            let mut quoted = false;
            let mut escaped = false;
            let mut end = rest.len();
            for (j, c) in rest.char_indices() {
                if escaped {
                    escaped = false;
                } else if c == '\\' && !quoted {
                    escaped = true;
                } else if c == '\'' {
                    quoted = !quoted;
                } else if !quoted
                    && [" (", "`", ", and ", "\n"]
                        .iter()
                        .any(|t| rest[j..].starts_with(t))
                {
                    end = j;
                    break;
                }
            }
            out.push(rest[..end].to_string());
            from = begin + end.max(1);
        }
    }
    out
}

/// Paste `line` into `sh -c` in `dir`, with `kubectl` and `base64` stubs that exit 0 first
/// on PATH; panics if a file named `MARK` appears in `dir` (the line ran something hostile).
pub fn paste_is_harmless(line: &str, dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["kubectl", "base64", "kubefix", "sudo"] {
        let p = bin.join(tool);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let _ = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        !dir.join("MARK").exists(),
        "pasting {line:?} ran a command from the kubeconfig"
    );
}

/// Names and claims a hostile kubeconfig author picks: each runs `touch MARK` when pasted
/// unquoted.
pub const HOSTILE_WORDS: &[&str] = &["x$(touch MARK)", "prod;touch MARK;#", "a`touch MARK`"];
