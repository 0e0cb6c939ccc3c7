//! Advice is a command that works when pasted (#14): every command kubefix suggests is run
//! here as the user would paste it (`sh -c`, same directory, same environment, no
//! ~/.kube/config), and must do what the advice promised: exit 0 and the fix in the file.

mod k3s_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use k3s_support::{k3s_yaml, stale_copy, Node};
use support::output_text as text;
use support::pki::{Ca, Validity};

const V1ALPHA1: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: x
  context:
    cluster: c
    user: u
current-context: x
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1alpha1
      command: aws
";

/// A user's shell: a working directory, a HOME without a kubeconfig, and a PATH holding
/// `kubefix`, `kubectl-fix` (the same binary) and a `kubectl` that runs plugins as kubectl
/// does (`kubectl fix ARGS` runs `kubectl-fix ARGS`).
struct Shell {
    dir: tempfile::TempDir,
    bin: PathBuf,
    home: PathBuf,
}

impl Shell {
    fn new() -> Shell {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(home.join(".kube")).unwrap();
        let exe = assert_cmd::cargo::cargo_bin("kubefix");
        std::os::unix::fs::symlink(&exe, bin.join("kubefix")).unwrap();
        std::os::unix::fs::symlink(&exe, bin.join("kubectl-fix")).unwrap();
        let kubectl = bin.join("kubectl");
        std::fs::write(
            &kubectl,
            "#!/bin/sh\ncase \"$1\" in fix) shift; exec kubectl-fix \"$@\";; esac\nexit 99\n",
        )
        .unwrap();
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        Shell { dir, bin, home }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write a kubeconfig (mode 0600, so `file-permissions` stays quiet).
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// Run a command line in this shell, with `envs` added to its environment.
    fn sh(&self, line: &str, envs: &[(&str, &str)]) -> Output {
        let mut path = self.bin.clone().into_os_string();
        path.push(":/usr/bin:/bin");
        Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .envs(envs.iter().copied())
            .output()
            .unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command the summary line tells to run: `… pending in FILES; run CMD[; N problems …]`.
fn summary_advice(o: &Output) -> String {
    let out = stdout(o);
    let last = out.lines().last().unwrap_or_default().to_string();
    let (_, cmd) = last
        .split_once("; run ")
        .unwrap_or_else(|| panic!("no advice in the last line: {}", text(o)));
    cmd.split("; ").next().unwrap().to_string()
}

/// The command in backquotes after `run ` in a hint.
fn hint_command(hint: &str) -> String {
    let (_, rest) = hint
        .split_once("run `")
        .unwrap_or_else(|| panic!("no command in the hint: {hint}"));
    rest.split('`').next().unwrap().to_string()
}

/// Run the advice; it must succeed, say it applied fixes, and leave nothing pending.
fn follow(sh: &Shell, advice: &str, envs: &[(&str, &str)]) -> Output {
    assert!(advice.contains("--apply"), "{advice}");
    let o = sh.sh(advice, envs);
    assert_eq!(o.status.code(), Some(0), "`{advice}`:\n{}", text(&o));
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    assert!(last.contains("applied in"), "`{advice}`:\n{}", text(&o));
    o
}

#[test]
fn kubeconfig_with_a_space_in_its_path() {
    let sh = Shell::new();
    let file = sh.write("my configs/user.yaml", V1ALPHA1);
    let o = sh.sh("kubefix --kubeconfig 'my configs/user.yaml'", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let advice = summary_advice(&o);
    assert_eq!(
        advice,
        "kubefix --kubeconfig 'my configs/user.yaml' --apply"
    );
    follow(&sh, &advice, &[]);
    let fixed = std::fs::read_to_string(&file).unwrap();
    assert!(
        fixed.contains("client.authentication.k8s.io/v1beta1"),
        "{fixed}"
    );
}

#[test]
fn as_kubectl_plugin_the_advice_runs_through_kubectl() {
    let sh = Shell::new();
    let file = sh.write("user.yaml", V1ALPHA1);
    let o = sh.sh(
        "kubectl fix --kubeconfig user.yaml --exec-api-version v1",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let advice = summary_advice(&o);
    assert_eq!(
        advice,
        "kubectl fix --kubeconfig user.yaml --exec-api-version v1 --apply"
    );
    follow(&sh, &advice, &[]);
    let fixed = std::fs::read_to_string(&file).unwrap();
    // The setting the user chose is the one applied.
    assert!(
        fixed.contains("client.authentication.k8s.io/v1\n"),
        "{fixed}"
    );
    assert!(fixed.contains("interactiveMode: IfAvailable"), "{fixed}");
}

#[test]
fn rule_selection_is_kept() {
    let sh = Shell::new();
    // Two fixable problems of two rules; the user asked about one.
    let both = V1ALPHA1.replace(
        "    server: https://127.0.0.1:6443\n",
        "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n    certificate-authority-data: Zm9v\n",
    );
    let file = sh.write("user.yaml", &both);
    let o = sh.sh(
        "kubefix --kubeconfig user.yaml --rule exec-api-version",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let advice = summary_advice(&o);
    assert_eq!(
        advice,
        "kubefix --kubeconfig user.yaml --rule exec-api-version --apply"
    );
    let done = follow(&sh, &advice, &[]);
    assert!(stdout(&done).contains("1 fix applied"), "{}", text(&done));
    let fixed = std::fs::read_to_string(&file).unwrap();
    assert!(
        fixed.contains("client.authentication.k8s.io/v1beta1"),
        "{fixed}"
    );
    // Only what was shown is applied: the other rule's fix was not promised.
    assert!(fixed.contains("insecure-skip-tls-verify: true"), "{fixed}");
}

#[test]
fn kubeconfig_env_with_two_files() {
    let sh = Shell::new();
    let a = sh.write("a.yaml", V1ALPHA1);
    let b = sh.write("b dir/b.yaml", &V1ALPHA1.replace("name: c", "name: c2"));
    let list = "a.yaml:b dir/b.yaml";
    // As `KUBECONFIG=… kubefix` typed once: the variable is not in the shell afterwards.
    let o = sh.sh("kubefix", &[("KUBECONFIG", list)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let advice = summary_advice(&o);
    assert_eq!(advice, "KUBECONFIG='a.yaml:b dir/b.yaml' kubefix --apply");
    let done = follow(&sh, &advice, &[]);
    assert!(stdout(&done).contains("2 fixes applied"), "{}", text(&done));
    for f in [&a, &b] {
        let fixed = std::fs::read_to_string(f).unwrap();
        assert!(
            fixed.contains("client.authentication.k8s.io/v1beta1"),
            "{fixed}"
        );
    }
    // And in a shell that exports it, the same advice works too.
    let again = sh.sh("kubefix", &[("KUBECONFIG", list)]);
    assert!(
        stdout(&again).contains("no fixes needed"),
        "{}",
        text(&again)
    );
}

/// A K3s node: the admin kubeconfig `k3s.yaml` with a fresh certificate, and the user's copy
/// `user.yaml` with the expired one of `stale` (CN, groups).
fn k3s_node(sh: &Shell, stale: Option<(&str, &[&str])>) -> (PathBuf, String) {
    let server_ca = Ca::new("k3s-server-ca");
    let node = Node::new(&server_ca.cert_pem);
    let old = match stale {
        Some((cn, orgs)) => node.client(cn, orgs, Validity::Expired),
        None => node.admin(Validity::Expired),
    };
    let new = node.admin(Validity::Valid);
    sh.write(
        "k3s.yaml",
        &k3s_yaml("https://127.0.0.1:6443", &server_ca.cert_pem, &new),
    );
    let user = sh.write(
        "user.yaml",
        &stale_copy("https://localhost:6443", &server_ca.cert_pem, &old),
    );
    (user, new.cert_b64())
}

/// The example: `kubefix --k3s-config k3s.yaml --kubeconfig user.yaml` used to advise
/// `kubefix --apply`, which checked ~/.kube/config instead.
#[test]
fn k3s_config_is_kept() {
    let sh = Shell::new();
    let (user, fresh) = k3s_node(&sh, None);
    let o = sh.sh("kubefix --k3s-config k3s.yaml --kubeconfig user.yaml", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let advice = summary_advice(&o);
    assert_eq!(
        advice,
        "kubefix --kubeconfig user.yaml --k3s-config k3s.yaml --apply"
    );
    follow(&sh, &advice, &[]);
    assert!(std::fs::read_to_string(&user).unwrap().contains(&fresh));
    // What the old advice did: nothing, successfully-looking or not, to user.yaml.
    let bare = sh.sh("kubefix --apply", &[]);
    assert_ne!(bare.status.code(), Some(0), "{}", text(&bare));
}

/// The `--force-identity` hint keeps the files and the source.
#[test]
fn force_identity_hint_is_a_working_command() {
    let sh = Shell::new();
    let (user, fresh) = k3s_node(&sh, Some(("alice", &["developers"])));
    let o = sh.sh(
        "kubefix --kubeconfig user.yaml --k3s-config k3s.yaml -o json",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hint = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "k3s-credentials")
        .and_then(|f| f["hint"].as_str())
        .unwrap_or_else(|| panic!("{v:#}"))
        .to_string();
    let advice = hint_command(&hint);
    assert_eq!(
        advice,
        "kubefix --kubeconfig user.yaml --k3s-config k3s.yaml --apply --force-identity homelab-admin"
    );
    // -o json was the user's choice of output, not part of the advice.
    follow(&sh, &advice, &[]);
    assert!(std::fs::read_to_string(&user).unwrap().contains(&fresh));
}

#[test]
fn output_only_flags_are_left_out() {
    let sh = Shell::new();
    sh.write("user.yaml", V1ALPHA1);
    let o = sh.sh(
        "kubefix --kubeconfig user.yaml -v --color never --show-secrets --keep-backups 3 --backup-dir . --break-hardlink",
        &[],
    );
    assert_eq!(
        summary_advice(&o),
        "kubefix --kubeconfig user.yaml --backup-dir . --keep-backups 3 --break-hardlink --apply"
    );
}
