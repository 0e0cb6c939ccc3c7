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

/// The issue's example: `kubefix --k3s-config k3s.yaml --kubeconfig user.yaml` used to advise
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

/// The `--force-identity` hint keeps the files and the source. It is for an admin identity
/// under another name (here `O=system:masters`), never for a user's own certificate.
#[test]
fn force_identity_hint_is_a_working_command() {
    let sh = Shell::new();
    let (user, fresh) = k3s_node(&sh, Some(("alice", &["system:masters"])));
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

/// The command in backquotes after `marker` in `text`.
fn command_after(text: &str, marker: &str) -> String {
    let (_, rest) = text
        .split_once(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    let rest = rest.split_once('`').expect("a backquoted command").1;
    rest.split('`').next().unwrap().to_string()
}

/// An executable script in the shell's bin directory (a stand-in for a tool the advice names).
fn stub(sh: &Shell, name: &str, script: &str) {
    let p = sh.bin.join(name);
    let _ = std::fs::remove_file(&p);
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// k3s.yaml is root's alone (0600): the third way out copies it for the user. The copy must be
/// the user's alone too under the usual umask (`sudo cat … > ~/k3s.yaml` left the admin key
/// readable by every local user), and the follow-up keeps the files the user named.
#[test]
fn unreadable_source_copy_is_private_and_the_follow_up_works() {
    use std::os::unix::fs::MetadataExt;
    let sh = Shell::new();
    let (user, fresh) = k3s_node(&sh, None);
    let k3s = sh.path("k3s.yaml");
    let is_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    // As the user: the source is root's (0600). As root, drop to nobody to see the advice.
    let o = if is_root {
        let Some(setpriv) = support::which("setpriv") else {
            eprintln!("skipping: setpriv not found (needed to drop root)");
            return;
        };
        for d in [sh.dir.path(), &sh.bin, &sh.home] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o644)).unwrap();
        let line = "kubefix --kubeconfig user.yaml --k3s-config k3s.yaml";
        let o = sh.sh(
            &format!(
                "{} --reuid=65534 --regid=65534 --clear-groups sh -c {}",
                setpriv.display(),
                "'".to_string() + line + "'"
            ),
            &[],
        );
        if !text(&o).contains("k3s") {
            eprintln!("skipping: uid 65534 cannot run the test binary here");
            return;
        }
        o
    } else {
        std::fs::set_permissions(&k3s, std::fs::Permissions::from_mode(0o000)).unwrap();
        sh.sh("kubefix --kubeconfig user.yaml --k3s-config k3s.yaml", &[])
    };
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let advice = command_after(&text(&o), "3. pass --k3s-config PATH");
    assert_eq!(
        advice,
        "sudo install -m 600 -o \"$(id -u)\" -g \"$(id -g)\" k3s.yaml ~/k3s.yaml && kubefix --kubeconfig user.yaml --apply --k3s-config ~/k3s.yaml"
    );
    // Pasted by the owner of user.yaml, `sudo` standing for root's rights.
    std::fs::set_permissions(&k3s, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o600)).unwrap();
    stub(&sh, "sudo", "#!/bin/sh\nexec \"$@\"\n");
    follow(&sh, &format!("umask 022; {advice}"), &[]);
    let copy = std::fs::metadata(sh.home.join("k3s.yaml")).unwrap();
    assert_eq!(copy.mode() & 0o777, 0o600, "the copy holds the admin key");
    assert_eq!(copy.uid(), std::fs::metadata(&user).unwrap().uid());
    assert!(std::fs::read_to_string(&user).unwrap().contains(&fresh));
}

/// The hint of the finding of `rule` in a JSON report.
fn json_hint(o: &Output, rule: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)));
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .and_then(|f| f["hint"].as_str())
        .unwrap_or_else(|| panic!("no {rule} hint: {v:#}"))
        .to_string()
}

/// The backquoted commands of a hint, in order.
fn backquoted(hint: &str) -> Vec<String> {
    hint.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// Follow the new-certificate advice for `CN=jane, O=developers`: the request carries jane's
/// identity (the `openssl` step), the CertificateSigningRequest kubectl receives holds that
/// request, and the signed certificate goes into user `user` of `file` (the real kubectl).
fn follow_new_certificate_advice(sh: &Shell, hint: &str, file: &std::path::Path, user: &str) {
    let cmds = backquoted(hint);
    let find = |start: &str| {
        cmds.iter()
            .find(|c| c.starts_with(start) || c.contains(&format!("| {start}")))
            .unwrap_or_else(|| panic!("no `{start}` in {hint}"))
            .clone()
    };
    // 1. The key and the request.
    let req = find("openssl req");
    let o = sh.sh(&req, &[]);
    assert_eq!(o.status.code(), Some(0), "`{req}`: {}", text(&o));
    let subject = sh.sh(
        "openssl req -in jane.csr -noout -subject -nameopt RFC2253",
        &[],
    );
    assert_eq!(stdout(&subject).trim(), "subject=O=developers,CN=jane");
    // 2. The CertificateSigningRequest, as kubectl would receive it on stdin.
    stub(
        sh,
        "kubectl",
        "#!/bin/sh\ncase \"$*\" in 'create -f -') cat > \"$HOME/csr.json\"; exit 0;; esac\nexit 99\n",
    );
    let create = find("printf");
    let o = sh.sh(&create, &[]);
    assert_eq!(o.status.code(), Some(0), "`{create}`: {}", text(&o));
    let csr: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sh.home.join("csr.json")).unwrap()).unwrap();
    assert_eq!(csr["kind"], "CertificateSigningRequest");
    assert_eq!(csr["metadata"]["name"], "jane");
    assert_eq!(
        csr["spec"]["signerName"],
        "kubernetes.io/kube-apiserver-client"
    );
    let pem = std::fs::read_to_string(sh.path("jane.csr")).unwrap();
    assert_eq!(csr["spec"]["request"], support::b64(pem.as_bytes()));
    assert!(
        hint.contains("`kubectl certificate approve jane`"),
        "{hint}"
    );
    // 3. The approved certificate (here: one the test signs) into the file, by kubectl.
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let signed = Ca::new("cluster-ca").client_cert("jane", &["developers"], Validity::Valid);
    stub(
        sh,
        "kubectl",
        &format!(
            "#!/bin/sh\ncase \"$1 $2\" in 'get csr') printf '%s' '{}'; exit 0;; esac\nexec {} \"$@\"\n",
            signed.cert_b64(),
            real.display()
        ),
    );
    let get = find("kubectl get csr");
    let o = sh.sh(&get, &[]);
    assert_eq!(o.status.code(), Some(0), "`{get}`: {}", text(&o));
    let set = find("kubectl --kubeconfig");
    assert!(set.contains(" config set-credentials "), "{set}");
    let o = sh.sh(&set, &[]);
    assert_eq!(o.status.code(), Some(0), "`{set}`: {}", text(&o));
    let after = sh.sh(
        &format!(
            "kubectl --kubeconfig {} config view --raw -o jsonpath='{{.users[?(@.name==\"{user}\")].user.client-certificate-data}}'",
            file.display()
        ),
        &[],
    );
    assert_eq!(stdout(&after), signed.cert_b64(), "{}", text(&after));
}

/// A user's own expired certificate next to a K3s node (#14): the node's admin credentials
/// would make jane system:masters, so there is no `--force-identity` and no "copy of a K3s
/// admin kubeconfig"; the advice is a new certificate for jane, and it works when pasted.
#[test]
fn a_users_own_certificate_is_told_to_get_a_new_one() {
    let sh = Shell::new();
    let (user, _) = k3s_node(&sh, Some(("jane", &["developers"])));
    let o = sh.sh(
        "kubefix --kubeconfig user.yaml --k3s-config k3s.yaml -o json",
        &[],
    );
    let hint = json_hint(&o, "k3s-credentials");
    assert!(!hint.contains("--force-identity"), "{hint}");
    assert!(!hint.contains("copy of a K3s"), "{hint}");
    assert!(hint.contains("CN=jane, O=developers"), "{hint}");
    follow_new_certificate_advice(&sh, &hint, &user, "homelab-admin");
}

/// The same without a node: `credential-expiry` gives jane the same advice, and an admin
/// certificate keeps the K3s/RKE2/kubeadm one.
#[test]
fn credential_expiry_advice_follows_the_identity() {
    let sh = Shell::new();
    let ca = Ca::new("cluster-ca");
    let jane = ca.client_cert("jane", &["developers"], Validity::Expired);
    let file = sh.write(
        "user.yaml",
        &stale_copy("https://127.0.0.1:6443", &ca.cert_pem, &jane),
    );
    let o = sh.sh("kubefix --kubeconfig user.yaml -o json", &[]);
    let hint = json_hint(&o, "credential-expiry");
    assert!(!hint.contains("--force-identity"), "{hint}");
    assert!(!hint.contains("copy of a K3s"), "{hint}");
    follow_new_certificate_advice(&sh, &hint, &file, "homelab-admin");

    let admin = ca.client_cert("system:admin", &["system:masters"], Validity::Expired);
    sh.write(
        "admin.yaml",
        &stale_copy("https://127.0.0.1:6443", &ca.cert_pem, &admin),
    );
    let o = sh.sh("kubefix --kubeconfig admin.yaml -o json", &[]);
    let hint = json_hint(&o, "credential-expiry");
    assert!(
        hint.contains("copy of a K3s, RKE2 or kubeadm admin kubeconfig"),
        "{hint}"
    );
    assert!(!hint.contains("openssl"), "{hint}");
}

fn b64url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes())
}

/// An expired bound token of service account `ci/build-bot` (unsigned: kubefix reads `exp`).
fn expired_sa_token() -> String {
    format!(
        "{}.{}.c2ln",
        b64url(r#"{"alg":"RS256"}"#),
        b64url(
            r#"{"exp":1600000000,"iat":1500000000,"kubernetes.io":{"namespace":"ci","serviceaccount":{"name":"build-bot","uid":"0f"}},"sub":"system:serviceaccount:ci:build-bot"}"#
        )
    )
}

/// A kubeconfig where user `bot` holds the expired token, and, when `admin`, a second context
/// `admin` on the same cluster with a working credential.
fn token_config(admin: bool) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: ci\n  context:\n    cluster: c\n    user: bot\ncurrent-context: ci\nusers:\n- name: bot\n  user:\n    token: {}\n",
        expired_sa_token()
    );
    if admin {
        s = s.replace(
            "current-context: ci\n",
            "- name: admin\n  context:\n    cluster: c\n    user: root\ncurrent-context: ci\n",
        );
        s.push_str("- name: root\n  user:\n    token: opaque-admin-token\n");
    }
    s
}

/// Paste the token advice with the real kubectl for `config set-credentials` and a stub for
/// `create token` (it records its arguments and prints a new token); returns those arguments.
fn paste_token_advice(sh: &Shell, hint: &str, real: &std::path::Path) -> String {
    let cmd = hint_command(hint);
    stub(
        sh,
        "kubectl",
        &format!(
            "#!/bin/sh\ncase \" $* \" in *' create token '*) printf '%s\\n' \"$*\" > \"$HOME/create-args\"; echo new-token-for-bot; exit 0;; esac\nexec {} \"$@\"\n",
            real.display()
        ),
    );
    let o = sh.sh(&cmd, &[]);
    assert_eq!(o.status.code(), Some(0), "`{cmd}`: {}", text(&o));
    std::fs::read_to_string(sh.home.join("create-args"))
        .unwrap()
        .trim()
        .to_string()
}

fn token_of(sh: &Shell, file: &std::path::Path, user: &str) -> String {
    let o = sh.sh(
        &format!(
            "kubectl --kubeconfig '{}' config view --raw -o jsonpath='{{.users[?(@.name==\"{user}\")].user.token}}'",
            file.display()
        ),
        &[],
    );
    stdout(&o)
}

/// The expired service-account token (#14): the advice mints a new one with another working
/// context of the same file and puts it back into the user, in the file kubefix checked.
#[test]
fn token_advice_is_the_full_round_trip() {
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let sh = Shell::new();
    let file = sh.write("my configs/ci.yaml", &token_config(true));
    let o = sh.sh("kubefix --kubeconfig 'my configs/ci.yaml' -o json", &[]);
    let hint = json_hint(&o, "credential-expiry");
    assert_eq!(
        hint_command(&hint),
        "kubectl --kubeconfig 'my configs/ci.yaml' config set-credentials bot --token=\"$(kubectl --kubeconfig 'my configs/ci.yaml' --context admin -n ci create token build-bot --duration=8760h)\""
    );
    let args = paste_token_advice(&sh, &hint, &real);
    assert_eq!(
        args,
        "--kubeconfig my configs/ci.yaml --context admin -n ci create token build-bot --duration=8760h"
    );
    assert_eq!(token_of(&sh, &file, "bot"), "new-token-for-bot");
    assert_eq!(token_of(&sh, &file, "root"), "opaque-admin-token");
}

/// In the default file the commands need no --kubeconfig; without another context the hint
/// says that creating a token needs one.
#[test]
fn token_advice_in_the_default_file() {
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let sh = Shell::new();
    let file = sh.home.join(".kube/config");
    std::fs::write(&file, token_config(false)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = sh.sh("kubefix -o json", &[]);
    let hint = json_hint(&o, "credential-expiry");
    assert_eq!(
        hint_command(&hint),
        "kubectl config set-credentials bot --token=\"$(kubectl -n ci create token build-bot --duration=8760h)\""
    );
    assert!(
        hint.contains("no other context in this file has one"),
        "{hint}"
    );
    paste_token_advice(&sh, &hint, &real);
    assert_eq!(token_of(&sh, &file, "bot"), "new-token-for-bot");
}

/// A kubeconfig with the contexts `names` (all on cluster `c`, user `u`) and `current`.
fn contexts_config(names: &[&str], current: &str) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n");
    for n in names {
        s.push_str(&format!(
            "- name: {n}\n  context:\n    cluster: c\n    user: u\n"
        ));
    }
    s.push_str(&format!(
        "current-context: {current}\nusers:\n- name: u\n  user:\n    token: opaque\n"
    ));
    s
}

/// current-context names nothing (#14): the hint lists the contexts that exist, nearest
/// first, at most five, and its `kubectl config use-context` works when pasted.
#[test]
fn dangling_current_context_lists_what_exists() {
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let sh = Shell::new();
    let names = [
        "staging",
        "dev",
        "production",
        "qa",
        "prod-eu",
        "test",
        "my laptop",
    ];
    let file = sh.write("my configs/k.yaml", &contexts_config(&names, "prodution"));
    let o = sh.sh("kubefix --kubeconfig 'my configs/k.yaml' -o json", &[]);
    let hint = json_hint(&o, "dangling-reference");
    assert!(
        hint.contains("the contexts: production, prod-eu, "),
        "{hint}"
    );
    assert!(hint.ends_with(", … 2 more"), "{hint}");
    std::fs::remove_file(sh.bin.join("kubectl")).unwrap();
    std::os::unix::fs::symlink(&real, sh.bin.join("kubectl")).unwrap();
    let cmd = hint_command(&hint);
    assert_eq!(
        cmd,
        "kubectl --kubeconfig 'my configs/k.yaml' config use-context production"
    );
    let o = sh.sh(&cmd, &[]);
    assert_eq!(o.status.code(), Some(0), "`{cmd}`: {}", text(&o));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("current-context: production\n"));
    let again = sh.sh("kubefix --kubeconfig 'my configs/k.yaml' -o json", &[]);
    assert!(
        !stdout(&again).contains("dangling-reference"),
        "{}",
        text(&again)
    );
}

/// A context's user names nothing: the users that exist, and a `kubectl config set-context`
/// that points the context at the nearest one.
#[test]
fn dangling_user_points_at_the_nearest() {
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let sh = Shell::new();
    let text_ = contexts_config(&["ci"], "ci")
        .replace("    user: u\n", "    user: deploy-bto\n")
        .replace(
            "- name: u\n  user:\n    token: opaque\n",
            "- name: admin\n  user:\n    token: a\n- name: deploy-bot\n  user:\n    token: b\n",
        );
    let file = sh.write("k.yaml", &text_);
    let o = sh.sh("kubefix --kubeconfig k.yaml -o json", &[]);
    let hint = json_hint(&o, "dangling-reference");
    assert!(hint.ends_with("the users: deploy-bot, admin"), "{hint}");
    std::fs::remove_file(sh.bin.join("kubectl")).unwrap();
    std::os::unix::fs::symlink(&real, sh.bin.join("kubectl")).unwrap();
    let cmd = hint_command(&hint);
    assert_eq!(
        cmd,
        "kubectl --kubeconfig k.yaml config set-context ci --user=deploy-bot"
    );
    let o = sh.sh(&cmd, &[]);
    assert_eq!(o.status.code(), Some(0), "`{cmd}`: {}", text(&o));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("    user: deploy-bot\n"));
}

/// AKS on the removed azure auth-provider (#14): the fix names `kubelogin get-token`, the hint
/// says how to install kubelogin when it is not on PATH, and how to sign in another way
/// (`--azure-login`), which works when pasted.
#[test]
fn aks_advice_names_get_token_the_install_and_the_login_method() {
    let sh = Shell::new();
    let aks = std::fs::read_to_string(support::testdata("aks-azure-auth-provider.yaml")).unwrap();
    let file = sh.write("aks.yaml", &aks);
    let o = sh.sh("kubefix --kubeconfig aks.yaml", &[]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "fix: replace the auth-provider with exec: kubelogin get-token --login devicecode"
        ),
        "{}",
        text(&o)
    );
    let o = sh.sh("kubefix --kubeconfig aks.yaml -o json", &[]);
    let hint = json_hint(&o, "azure-auth-provider");
    assert!(hint.contains("kubelogin is not on PATH"), "{hint}");
    for install in [
        "`az aks install-cli`",
        "`brew install Azure/kubelogin/kubelogin`",
        "`winget install --id=Microsoft.Azure.Kubelogin -e`",
    ] {
        assert!(hint.contains(install), "{hint}");
    }
    assert!(hint.contains("workloadidentity"), "{hint}");
    let advice = hint_command(&hint);
    assert_eq!(
        advice,
        "kubefix --kubeconfig aks.yaml --apply --azure-login azurecli"
    );
    follow(&sh, &advice, &[]);
    let fixed = std::fs::read_to_string(&file).unwrap();
    assert!(
        fixed.contains("      - get-token\n      - --login\n      - azurecli\n"),
        "{fixed}"
    );
    // With kubelogin installed, and the method chosen, neither is said again.
    sh.write("aks2.yaml", &aks);
    stub(&sh, "kubelogin", "#!/bin/sh\nexit 0\n");
    let o = sh.sh(
        "kubefix --kubeconfig aks2.yaml --azure-login msi -o json",
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "azure-auth-provider")
        .unwrap()
        .clone();
    assert!(f["hint"].is_null(), "{f:#}");
}

/// Review: the CSR commands are pasted from the report, where words over 200 characters
/// are cut (`… (N bytes)`). For a CN longer than `jane` (an e-mail address) the request's
/// JSON must still come through whole, in the text report and in JSON: pasted, kubectl
/// receives the CertificateSigningRequest.
#[test]
fn csr_command_is_whole_for_a_long_name() {
    let sh = Shell::new();
    let ca = Ca::new("cluster-ca");
    let cn = "jane.doe@engineering.example.com";
    let stem = "jane.doe-engineering.example.com";
    let jane = ca.client_cert(cn, &["developers"], Validity::Expired);
    sh.write(
        "user.yaml",
        &stale_copy("https://127.0.0.1:6443", &ca.cert_pem, &jane),
    );
    let json = sh.sh("kubefix --kubeconfig user.yaml -o json", &[]);
    let json = json_hint(&json, "credential-expiry");
    let o = sh.sh("kubefix --kubeconfig user.yaml", &[]);
    let t = text(&o);
    let line = t
        .lines()
        .find(|l| l.trim_start().starts_with("hint:"))
        .unwrap_or_else(|| panic!("no hint: {t}"));
    stub(
        &sh,
        "kubectl",
        "#!/bin/sh\ncase \"$*\" in 'create -f -') cat > \"$HOME/csr.json\"; exit 0;; esac\nexit 99\n",
    );
    for hint in [json.as_str(), line] {
        let cmds = backquoted(hint);
        let req = cmds.iter().find(|c| c.starts_with("openssl req")).unwrap();
        let o = sh.sh(req, &[]);
        assert_eq!(o.status.code(), Some(0), "`{req}`: {}", text(&o));
        let create = cmds.iter().find(|c| c.starts_with("printf")).unwrap();
        let o = sh.sh(create, &[]);
        assert_eq!(o.status.code(), Some(0), "`{create}`: {}", text(&o));
        let csr: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sh.home.join("csr.json")).unwrap())
                .unwrap_or_else(|e| panic!("`{create}`: {e}"));
        assert_eq!(csr["metadata"]["name"], stem, "{create}");
        let pem = std::fs::read_to_string(sh.path(&format!("{stem}.csr"))).unwrap();
        assert_eq!(csr["spec"]["request"], support::b64(pem.as_bytes()));
    }
}

/// Review: names are the file author's. A context named `--current` (or a user named `-jane`)
/// would be a flag to kubectl: `set-context --current --user=X` edits the current context,
/// another one. Names that start with `-` go last, after `--`; pasted, the command edits the
/// context the finding names and no other.
#[test]
fn a_name_that_looks_like_a_flag_stays_a_name() {
    let Some(real) = support::require_or_skip("kubectl") else {
        return;
    };
    let sh = Shell::new();
    let text_ = contexts_config(&["ci", "'--current'"], "ci")
        .replace(
            "- name: '--current'\n  context:\n    cluster: c\n    user: u\n",
            "- name: '--current'\n  context:\n    cluster: c\n    user: deploy-bto\n",
        )
        .replace(
            "- name: u\n  user:\n    token: opaque\n",
            "- name: u\n  user:\n    token: a\n- name: deploy-bot\n  user:\n    token: b\n",
        );
    let file = sh.write("k.yaml", &text_);
    let o = sh.sh("kubefix --kubeconfig k.yaml -o json", &[]);
    let hint = json_hint(&o, "dangling-reference");
    std::fs::remove_file(sh.bin.join("kubectl")).unwrap();
    std::os::unix::fs::symlink(&real, sh.bin.join("kubectl")).unwrap();
    let cmd = hint_command(&hint);
    let o = sh.sh(&cmd, &[]);
    assert_eq!(o.status.code(), Some(0), "`{cmd}`: {}", text(&o));
    let user_of = |ctx: &str| {
        let o = sh.sh(
            &format!("kubectl --kubeconfig k.yaml config view -o jsonpath='{{.contexts[?(@.name==\"{ctx}\")].context.user}}'"),
            &[],
        );
        stdout(&o)
    };
    assert_eq!(
        user_of("ci"),
        "u",
        "`{cmd}` edited another context: {}",
        std::fs::read_to_string(&file).unwrap()
    );
    assert_eq!(user_of("--current"), "deploy-bot", "`{cmd}`");
}
