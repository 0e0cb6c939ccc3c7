//! Issue #12, item 1: nothing a kubeconfig names runs unless `--probe-exec`, and with it, as
//! root on another user's file, a plugin runs as that user.
//!
//! Written as the attacker: a user who controls `~/.kube/config` and everything beside it,
//! waiting for root's automation (`kubefix --apply` over every home) to check the file.
//! Every planted program writes a marker file when it runs; the tests assert on markers, not
//! on kubefix's own report.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

const NO_HOME: &str = "/nonexistent/kubefix-trust-exec-home";
const MODES: [&[&str]; 5] = [
    &["--dry-run"],
    &["--check"],
    &["-o", "json"],
    &["--check", "-o", "json"],
    &["--apply"],
];

fn kubefix(path_env: &str) -> Command {
    let mut cmd = Command::cargo_bin("kubefix").expect("binary kubefix is built");
    cmd.env_remove("KUBECONFIG")
        .env_remove("SUDO_USER")
        .env("HOME", NO_HOME)
        .env("NO_COLOR", "1")
        .env("PATH", path_env)
        .timeout(Duration::from_secs(60));
    cmd
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// A shell script at `path` (mode 0755).
fn script(path: &Path, body: &str) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    chmod(path, 0o755);
    path.to_path_buf()
}

/// A program that, when run, appends its arguments to `marker` and claims to be an old
/// aws-cli (so a run would also show in the report).
fn planted(path: &Path, marker: &Path) -> PathBuf {
    script(
        path,
        &format!(
            "echo \"ran $(id -u) $*\" >> '{}'\necho 'aws-cli/1.18.0 Python/3.8.10 Linux/5.15 botocore/1.17.0'",
            marker.display()
        ),
    )
}

/// An exec user with `command` (v1alpha1, so `--apply` fixes the file and the rules run a
/// second time to verify the result).
fn config(path: &Path, command: &str, api: &str) {
    fs::write(
        path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: https://127.0.0.1:6443}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
users:
- name: u
  user:
    exec:
      apiVersion: {api}
      command: {command}
"
        ),
    )
    .unwrap();
    chmod(path, 0o600);
}

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

fn findings(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)));
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().clone())
        .filter(|f| f["rule"] == "exec-plugin-version")
        .collect()
}

fn ran(marker: &Path) -> String {
    fs::read_to_string(marker).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// (a) without --probe-exec, nothing runs

/// `command: ./aws` with an executable `./aws` beside the kubeconfig (and `bin/aws`, and an
/// absolute path): kubefix used to run `<dir>/aws --version` in every mode, as root when
/// root's hook checked the file.
#[test]
fn aws_named_by_path_never_runs_in_any_mode() {
    let d = tempfile::tempdir().unwrap();
    let kube = d.path().join("kube");
    let marker = d.path().join("marker");
    planted(&kube.join("aws"), &marker);
    planted(&kube.join("bin/aws"), &marker);
    let abs = kube.join("bin/aws").display().to_string();
    for command in ["./aws", "bin/aws", abs.as_str()] {
        let cfg = kube.join("config");
        for mode in MODES {
            config(&cfg, command, V1ALPHA1);
            let out = kubefix("/usr/bin:/bin")
                .arg("--kubeconfig")
                .arg(&cfg)
                .args(mode)
                .output()
                .unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{command} {mode:?}: {}",
                text(&out)
            );
            assert_eq!(ran(&marker), "", "{command} {mode:?} ran the planted aws");
        }
        // The same from inside the directory, with a relative --kubeconfig.
        config(&cfg, command, V1ALPHA1);
        let out = kubefix("/usr/bin:/bin")
            .current_dir(&kube)
            .args(["--kubeconfig", "config", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(ran(&marker), "", "{command} from its directory");
        // It is reported, as not checked, with the way to check it.
        let f = findings(&out);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["severity"], "info");
        assert!(
            f[0]["message"].as_str().unwrap().contains("not checked"),
            "{f:?}"
        );
        assert!(
            f[0]["hint"].as_str().unwrap().contains("--probe-exec"),
            "{f:?}"
        );
    }
}

/// An `aws` found first on PATH whose layout says nothing: its version is unknown (info),
/// and `aws --version` is not run for it. With `--probe-exec` it is (which shows the marker
/// would have caught a run).
#[test]
fn aws_on_path_runs_only_with_probe_exec() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    let marker = d.path().join("marker");
    let aws = planted(&bin.join("aws"), &marker);
    let path_env = format!("{}:/usr/bin:/bin", bin.display());
    let cfg = d.path().join("config");
    for mode in MODES {
        config(&cfg, "aws", V1ALPHA1);
        let out = kubefix(&path_env)
            .arg("--kubeconfig")
            .arg(&cfg)
            .args(mode)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
        assert_eq!(ran(&marker), "", "{mode:?} ran aws from PATH");
    }
    config(&cfg, "aws", V1BETA1);
    let out = kubefix(&path_env)
        .arg("--kubeconfig")
        .arg(&cfg)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(
        f[0]["message"],
        format!(
            "the version of aws-cli {} is unknown: its install layout does not tell it, and kubefix runs no program without --probe-exec",
            aws.display()
        )
    );
    // `--check` does not fail on it.
    let out = kubefix(&path_env)
        .arg("--kubeconfig")
        .arg(&cfg)
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&marker), "");

    let out = kubefix(&path_env)
        .arg("--kubeconfig")
        .arg(&cfg)
        .args(["--probe-exec", "-o", "json"])
        .output()
        .unwrap();
    assert!(ran(&marker).contains("--version"), "{}", ran(&marker));
    let f = findings(&out);
    assert!(
        f.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .starts_with("aws-cli 1.18.0 (")),
        "{f:?}"
    );
}

/// Other plugins on PATH (not `aws`) do not run either.
#[test]
fn other_plugins_never_run_without_probe_exec() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    let marker = d.path().join("marker");
    planted(&bin.join("kubelogin"), &marker);
    planted(&d.path().join("helper"), &marker);
    let path_env = format!("{}:/usr/bin:/bin", bin.display());
    let cfg = d.path().join("config");
    for command in ["kubelogin", "./helper"] {
        for mode in MODES {
            config(&cfg, command, V1BETA1);
            let out = kubefix(&path_env)
                .arg("--kubeconfig")
                .arg(&cfg)
                .args(mode)
                .output()
                .unwrap();
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
            assert_eq!(ran(&marker), "", "{command} {mode:?}");
        }
    }
}

/// A relative PATH entry (`bin`, or an empty one meaning `.`) is skipped, as Go's
/// exec.LookPath refuses such results: running kubefix in a directory someone else controls
/// does not make their `aws` the one that is probed.
#[test]
fn relative_path_entries_are_never_searched() {
    let d = tempfile::tempdir().unwrap();
    let marker = d.path().join("marker");
    planted(&d.path().join("bin/aws"), &marker);
    planted(&d.path().join("aws"), &marker);
    let cfg = d.path().join("config");
    config(&cfg, "aws", V1BETA1);
    for path_env in ["bin:/usr/bin:/bin", ":/usr/bin:/bin", ".:/usr/bin:/bin"] {
        let out = kubefix(path_env)
            .current_dir(d.path())
            .args(["--kubeconfig", "config", "--probe-exec", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(ran(&marker), "", "PATH={path_env}");
        // The plugin counts as not installed, as kubectl would say.
        let f = findings(&out);
        assert!(
            f.iter()
                .any(|f| f["message"] == "exec plugin \"aws\" is not installed (not found on PATH)"),
            "PATH={path_env}: {f:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// (b) --probe-exec as root on another user's file runs the plugin as that user

const VICTIM_UID: u32 = 4242;

/// What a plugin saw, recorded into a world-writable directory by the plugin itself.
fn recorder(out_dir: &Path, secret: &Path) -> String {
    format!(
        "o='{out}'
id -u > \"$o/euid\"; id -ru > \"$o/ruid\"; id -g > \"$o/egid\"; id -rg > \"$o/rgid\"; id -G > \"$o/groups\"
grep -E '^(Uid|Gid|Groups):' /proc/$$/status > \"$o/status\"
echo \"$HOME\" > \"$o/home\"; pwd > \"$o/cwd\"; env > \"$o/env\"
if cat '{secret}' >/dev/null 2>&1; then echo readable; else echo denied; fi > \"$o/secret\"
echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\"}}}}'",
        out = out_dir.display(),
        secret = secret.display()
    )
}

fn read(out_dir: &Path, name: &str) -> String {
    fs::read_to_string(out_dir.join(name))
        .unwrap_or_else(|e| panic!("the plugin did not record {name}: {e}"))
        .trim()
        .to_string()
}

/// Asserts that the plugin ran as `uid`, with no root group, root's HOME or root's env.
fn assert_ran_as(out_dir: &Path, uid: u32) {
    let uid = uid.to_string();
    assert_eq!(read(out_dir, "euid"), uid);
    assert_eq!(read(out_dir, "ruid"), uid);
    // Real, effective, saved and filesystem uid: all the owner's, and the gids none root's.
    let status = read(out_dir, "status");
    let line = |key: &str| -> Vec<String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in {status}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(line("Uid:"), vec![uid.clone(); 4], "{status}");
    let gids = line("Gid:");
    assert_eq!(gids.len(), 4);
    assert!(gids.iter().all(|g| g != "0" && *g == gids[0]), "{status}");
    assert!(!line("Groups:").iter().any(|g| g == "0"), "{status}");
    assert_ne!(read(out_dir, "egid"), "0");
    assert_ne!(read(out_dir, "rgid"), "0");
    assert!(
        !read(out_dir, "groups").split_whitespace().any(|g| g == "0"),
        "{}",
        read(out_dir, "groups")
    );
    let home = read(out_dir, "home");
    assert!(home != "/root" && home != NO_HOME, "HOME={home}");
    assert_ne!(read(out_dir, "cwd"), "/root");
    assert_eq!(read(out_dir, "secret"), "denied");
    let env = read(out_dir, "env");
    assert!(
        !env.contains("KUBEFIX_TEST_ROOTS_ENV"),
        "root's environment leaked: {env}"
    );
    assert!(
        env.lines()
            .any(|l| l == "PATH=/usr/local/bin:/usr/bin:/bin"),
        "{env}"
    );
}

/// The scene: `<d>` (root, 0755) holds `out/` (world-writable, for the records), `secret`
/// (root, 0600) and `home/` (the victim's: its kubeconfig and plugin).
struct Scene {
    _d: tempfile::TempDir,
    out: PathBuf,
    secret: PathBuf,
    home: PathBuf,
}

fn scene() -> Scene {
    let d = tempfile::tempdir().unwrap();
    chmod(d.path(), 0o755);
    let out = d.path().join("out");
    fs::create_dir(&out).unwrap();
    chmod(&out, 0o777);
    let secret = d.path().join("secret");
    fs::write(&secret, "root only").unwrap();
    chmod(&secret, 0o600);
    let home = d.path().join("home");
    fs::create_dir(&home).unwrap();
    Scene {
        out,
        secret,
        home,
        _d: d,
    }
}

fn chown_tree(p: &Path, uid: u32, gid: u32) {
    for entry in walk(p) {
        std::os::unix::fs::lchown(&entry, Some(uid), Some(gid)).unwrap();
    }
}

fn walk(p: &Path) -> Vec<PathBuf> {
    let mut all = vec![p.to_path_buf()];
    if p.is_dir() {
        for e in fs::read_dir(p).unwrap() {
            all.extend(walk(&e.unwrap().path()));
        }
    }
    all
}

#[test]
fn probe_of_another_users_file_runs_the_plugin_as_that_user() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another uid");
        return;
    }
    let s = scene();
    script(&s.home.join("plugin"), &recorder(&s.out, &s.secret));
    let cfg = s.home.join("config");
    config(&cfg, "./plugin", V1BETA1);
    // Group root, as `cp k3s.yaml ~u/.kube/config && chown u ~u/.kube/config` leaves it: the
    // file's group is not the owner's, and must not become the plugin's.
    chown_tree(&s.home, VICTIM_UID, 0);
    let out = kubefix("/usr/bin:/bin")
        .env("KUBEFIX_TEST_ROOTS_ENV", "x")
        .arg("--kubeconfig")
        .arg(&cfg)
        .args(["--probe-exec", "-o", "json"])
        .output()
        .unwrap();
    assert_ran_as(&s.out, VICTIM_UID);
    let env = read(&s.out, "env");
    assert!(env.contains("KUBERNETES_EXEC_INFO={"), "{env}");
    // The uid is unknown to the user database: HOME and the working directory are `/`.
    assert_eq!(read(&s.out, "home"), "/");
    assert_eq!(read(&s.out, "cwd"), "/");
    // It answered a valid ExecCredential as that user: nothing to report.
    let f = findings(&out);
    assert!(f.is_empty(), "{f:?}");
}

/// `command: aws` on another user's file, with `--probe-exec`: the `aws` on root's PATH
/// (whose layout says nothing) is asked `--version` as the file's owner, and so is the probe
/// of `aws eks get-token`.
#[test]
fn aws_version_probe_of_another_users_file_runs_as_that_user() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another uid");
        return;
    }
    let s = scene();
    let bin = s.out.parent().unwrap().join("bin");
    script(&bin.join("aws"), &recorder(&s.out, &s.secret));
    chmod(&bin, 0o755);
    let cfg = s.home.join("config");
    config(&cfg, "aws", V1BETA1);
    chown_tree(&s.home, VICTIM_UID, VICTIM_UID);
    kubefix(&format!("{}:/usr/bin:/bin", bin.display()))
        .env("KUBEFIX_TEST_ROOTS_ENV", "x")
        .arg("--kubeconfig")
        .arg(&cfg)
        .args(["--probe-exec", "--check"])
        .output()
        .unwrap();
    assert_ran_as(&s.out, VICTIM_UID);
}

/// Root's own kubeconfig naming a program in a directory another user owns: that user could
/// swap the program, so the probe runs it as them, not as root.
#[test]
fn probe_of_a_program_another_user_can_replace_runs_as_that_user() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another uid");
        return;
    }
    let s = scene();
    let plugin = script(&s.home.join("bin/plugin"), &recorder(&s.out, &s.secret));
    chown_tree(&s.home, VICTIM_UID, VICTIM_UID);
    let root_cfg = s.out.parent().unwrap().join("root-config");
    config(&root_cfg, &plugin.display().to_string(), V1BETA1);
    kubefix("/usr/bin:/bin")
        .env("KUBEFIX_TEST_ROOTS_ENV", "x")
        .arg("--kubeconfig")
        .arg(&root_cfg)
        .args(["--probe-exec", "--check"])
        .output()
        .unwrap();
    assert_ran_as(&s.out, VICTIM_UID);
}

/// Root's own kubeconfig naming a program in a world-writable directory that is not sticky:
/// anyone could have put it there, so it runs as nobody.
#[test]
fn probe_of_a_program_anyone_can_replace_runs_as_nobody() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another uid");
        return;
    }
    let s = scene();
    let open_dir = s.out.parent().unwrap().join("open");
    let plugin = script(&open_dir.join("plugin"), &recorder(&s.out, &s.secret));
    chmod(&open_dir, 0o777);
    let root_cfg = s.out.parent().unwrap().join("root-config");
    config(&root_cfg, &plugin.display().to_string(), V1BETA1);
    kubefix("/usr/bin:/bin")
        .env("KUBEFIX_TEST_ROOTS_ENV", "x")
        .arg("--kubeconfig")
        .arg(&root_cfg)
        .args(["--probe-exec", "--check"])
        .output()
        .unwrap();
    assert_ran_as(&s.out, 65534);
}

/// A plugin run as the owner cannot outlive its time limit through a child of its own: the
/// whole session is stopped.
#[test]
fn a_hanging_plugin_of_another_user_is_stopped_with_its_children() {
    if !is_root() {
        eprintln!("skipped: needs root to own files as another uid");
        return;
    }
    let s = scene();
    let pidfile = s.out.join("grandchild");
    script(
        &s.home.join("plugin"),
        &format!("sleep 300 &\necho $! > '{}'\nwait", pidfile.display()),
    );
    let cfg = s.home.join("config");
    config(&cfg, "./plugin", V1BETA1);
    chown_tree(&s.home, VICTIM_UID, VICTIM_UID);
    let out = kubefix("/usr/bin:/bin")
        .arg("--kubeconfig")
        .arg(&cfg)
        .args(["--probe-exec", "--check"])
        .output()
        .unwrap();
    assert!(
        text(&out).contains("did not answer within 10 s"),
        "{}",
        text(&out)
    );
    let pid: i32 = read(&s.out, "grandchild").parse().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let alive =
        fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|st| !st.contains(") Z "));
    assert!(!alive, "the plugin's child {pid} still runs");
}
