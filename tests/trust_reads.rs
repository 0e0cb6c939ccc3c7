//! Every file kubefix opens is hostile input (issue #12, item 4): a kubeconfig, a credential
//! source, and every certificate, key, CA and token file a kubeconfig names may be a FIFO (an
//! `open` that never returns), a device that never ends (`/dev/zero`), or a huge file. Each
//! case must end within a second or two with a message naming the file, in little memory.
//!
//! Every run here is bounded: the child gets a 1 GiB address-space limit (an unbounded read
//! dies quickly instead of eating the machine) and is killed after a few seconds (a hang fails
//! the test instead of blocking CI). Its peak memory comes from `wait4`.

mod k3s_support;
mod support;

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k3s_support::{k3s_yaml, Node};
use nix::libc;
use support::pki::{Ca, Validity};

/// Killed after this long: a hang.
const KILL_AFTER: Duration = Duration::from_secs(4);
/// Must have finished within this (a typical run takes milliseconds).
const MAX_ELAPSED: Duration = Duration::from_secs(2);
/// Peak resident memory allowed (KiB): a few MiB for kubefix itself, nothing for the input.
const MAX_RSS_KIB: i64 = 64 * 1024;

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    max_rss_kib: i64,
}

impl Run {
    fn all(&self) -> String {
        format!(
            "exit {:?} signal {:?} after {:?}, {} KiB\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.signal, self.elapsed, self.max_rss_kib, self.stdout, self.stderr
        )
    }

    /// Finished quickly, in little memory, on its own.
    fn assert_bounded(&self, what: &str) {
        assert!(
            self.signal.is_none(),
            "{what}: killed (hang or memory) {}",
            self.all()
        );
        assert!(
            self.elapsed < MAX_ELAPSED,
            "{what}: too slow {}",
            self.all()
        );
        assert!(
            self.max_rss_kib < MAX_RSS_KIB,
            "{what}: too much memory {}",
            self.all()
        );
    }
}

fn kubefix<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    kubefix_env(args, None)
}

/// `kubefix ARGS` with `$KUBECONFIG` set to `kubeconfig` (else unset).
fn kubefix_env<I, S>(args: I, kubeconfig: Option<&std::ffi::OsStr>) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubefix"));
    cmd.args(args.into_iter().map(Into::into))
        .env_remove("KUBECONFIG");
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    cmd.env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-trust-reads-home")
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut status = 0;
    // SAFETY: plain system calls on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let elapsed = loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break start.elapsed();
        }
        assert_eq!(r, 0, "wait4 failed");
        if start.elapsed() > KILL_AFTER {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            assert_eq!(r, pid);
            break start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::mem::forget(child); // reaped by wait4 above
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Run {
        code,
        signal,
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
    }
}

/// A FIFO nobody writes to, in `dir`.
fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("pipe");
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    p
}

/// The hostile files: a device that never ends and a FIFO that never opens, with the word
/// the message must use for each.
fn hostile(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut v = Vec::new();
    if Path::new("/dev/zero").exists() {
        v.push((PathBuf::from("/dev/zero"), "character device"));
    }
    v.push((fifo(dir), "FIFO"));
    v
}

const HEAD: &str = "apiVersion: v1\nkind: Config\n";

fn config_naming(key: &str, file: &Path) -> String {
    let (cluster_extra, user_extra) = if key == "certificate-authority" {
        (format!("    {key}: {}\n", file.display()), String::new())
    } else {
        (String::new(), format!("    {key}: {}\n", file.display()))
    };
    format!(
        "{HEAD}clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n{cluster_extra}\
         users:\n- name: u\n  user:\n    username: someone\n{user_extra}\
         contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
    )
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_kubeconfig_that_is_a_fifo_or_device_is_refused_without_opening_it() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, word) in hostile(dir.path()) {
        for extra in [&[][..], &["--apply"][..], &["--check"][..]] {
            let mut args: Vec<OsString> = vec!["--kubeconfig".into(), bad.clone().into()];
            args.extend(extra.iter().map(OsString::from));
            let r = kubefix(args);
            r.assert_bounded(&format!("--kubeconfig {}", bad.display()));
            assert_eq!(r.code, Some(2), "{}", r.all());
            assert!(
                r.stderr.contains(&bad.display().to_string()) && r.stderr.contains(word),
                "{}",
                r.all()
            );
        }
        // The same through $KUBECONFIG.
        let r = kubefix_env(["--apply"], Some(bad.as_os_str()));
        r.assert_bounded("$KUBECONFIG");
        assert_eq!(r.code, Some(2), "{}", r.all());
        assert!(r.stderr.contains(word), "{}", r.all());
    }
    // Process substitution: the message says what to do instead.
    let r = kubefix(["--kubeconfig".into(), fifo_in(dir.path()).into_os_string()]);
    assert!(
        r.stderr.contains("save the output to a file"),
        "{}",
        r.all()
    );
}

fn fifo_in(dir: &Path) -> PathBuf {
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let p = sub.join("pipe");
    if !p.exists() {
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    }
    p
}

#[test]
fn files_a_kubeconfig_names_are_never_read_without_bound() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, word) in hostile(dir.path()) {
        for key in [
            "client-certificate",
            "client-key",
            "certificate-authority",
            "tokenFile",
        ] {
            let config = dir.path().join("config");
            let text = config_naming(key, &bad);
            write_private(&config, &text);
            for extra in [&[][..], &["--apply"][..]] {
                let mut args: Vec<OsString> = vec!["--kubeconfig".into(), config.clone().into()];
                args.extend(extra.iter().map(OsString::from));
                let r = kubefix(args);
                let what = format!("{key}: {} {extra:?}", bad.display());
                r.assert_bounded(&what);
                // A finding, not a crash: the run reports and the file is untouched.
                assert!(
                    r.code == Some(0) || r.code == Some(1),
                    "{what}: {}",
                    r.all()
                );
                let said = format!("{key} {} is a {word}", bad.display());
                assert!(
                    r.stdout.contains(&said),
                    "{what}: wanted {said:?}: {}",
                    r.all()
                );
                assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
            }
        }
    }
}

#[test]
fn a_credential_source_that_is_a_fifo_or_device_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let text = config_naming("username", Path::new("nobody"));
    write_private(&config, &text);
    for (bad, word) in hostile(dir.path()) {
        for flag in ["--k3s-config", "--from"] {
            let r = kubefix([
                OsString::from("--kubeconfig"),
                config.clone().into(),
                "--apply".into(),
                flag.into(),
                bad.clone().into(),
            ]);
            let what = format!("{flag} {}", bad.display());
            r.assert_bounded(&what);
            assert_eq!(r.code, Some(2), "{what}: {}", r.all());
            let said = format!("{flag} {}: cannot read", bad.display());
            assert!(
                r.stderr.contains(&said) && r.stderr.contains(word),
                "{what}: {}",
                r.all()
            );
            assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
        }
    }
}

/// The credential refresh reads the target's CA file and certificate file to match them with
/// the source: those reads are bounded too.
#[test]
fn the_credential_refresh_reads_named_files_with_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("k3s-server-ca");
    let node = Node::new(&server_ca.cert_pem);
    let k3s = dir.path().join("k3s.yaml");
    write_private(
        &k3s,
        &k3s_yaml(
            "https://127.0.0.1:6443",
            &server_ca.cert_pem,
            &node.admin(Validity::Valid),
        ),
    );
    for (bad, word) in hostile(dir.path()) {
        let config = dir.path().join("config");
        let b = bad.display();
        let text = format!(
            "{HEAD}clusters:\n- name: c\n  cluster:\n    server: https://localhost:6443\n    certificate-authority: {b}\n\
             users:\n- name: u\n  user:\n    client-certificate: {b}\n    client-key: {b}\n\
             contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        );
        write_private(&config, &text);
        let r = kubefix([
            OsString::from("--kubeconfig"),
            config.clone().into(),
            "--apply".into(),
            "--k3s-config".into(),
            k3s.clone().into(),
        ]);
        let what = format!("refresh with {b}");
        r.assert_bounded(&what);
        assert!(
            r.code == Some(0) || r.code == Some(1),
            "{what}: {}",
            r.all()
        );
        assert!(r.stdout.contains(word), "{what}: {}", r.all());
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    }
}

/// A sparse 300 MiB certificate file is refused by its size, without being read; the cap for
/// certificates is 4 MiB.
#[test]
fn an_oversized_certificate_file_is_refused_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.crt");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let config = dir.path().join("config");
    write_private(&config, &config_naming("client-certificate", &big));
    let r = kubefix([
        OsString::from("--kubeconfig"),
        config.clone().into(),
        "--output".into(),
        "json".into(),
    ]);
    r.assert_bounded("300 MiB certificate");
    // The expiry row says why it has no date.
    let json: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.all()));
    let detail = json["files"][0]["expiry"][0]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(
        detail.contains(&big.display().to_string())
            && detail.contains("300.0 MiB")
            && detail.contains("4 MiB"),
        "{}",
        r.all()
    );
    // The same for a source: refused by its size, exit 2.
    let r = kubefix([
        OsString::from("--kubeconfig"),
        config.clone().into(),
        "--from".into(),
        big.clone().into(),
    ]);
    r.assert_bounded("300 MiB source");
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stderr.contains("300.0 MiB") && r.stderr.contains("256 MiB"),
        "{}",
        r.all()
    );
}
