//! Issue #12, the credential refresh across the trust boundary: root automation runs
//! `kubefix --apply` over every user's kubeconfig, so each of those files is written by an
//! attacker. The node's admin key may go only to an entry that proves it already holds a
//! credential from the node (a client certificate signed by the cluster's client CA *and*
//! its key), or whose owner can read the node's file anyway. Subject names prove nothing.
//!
//! Tests that need root (to own files as another uid, to drop to one) skip with a reason
//! otherwise.

mod k3s_support;
mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use k3s_support::{b64, k3s_yaml, stale_copy, Node};
use support::output_text as text;
use support::pki::{self, Ca, Issued, Validity};

const NODE_URL: &str = "https://127.0.0.1:6443";
const USER: u32 = 4242;
const GROUP: u32 = 4343;

fn is_root() -> bool {
    kubefix::privilege::is_root()
}

fn kubefix(args: &[&str]) -> Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
}

/// A node whose k3s.yaml is root-only (0600 in a 0700 directory, as K3s installs it) and a
/// home directory for a user, both under one traversable temp dir.
struct Machine {
    dir: tempfile::TempDir,
    server_ca: Ca,
    node: Node,
    fresh: Issued,
    k3s: PathBuf,
    kube: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o755);
        let server_ca = Ca::new("k3s-server-ca");
        let node = Node::new(&server_ca.cert_pem);
        let fresh = node.admin(Validity::Valid);
        let etc = dir.path().join("etc-rancher-k3s");
        std::fs::create_dir(&etc).unwrap();
        chmod(&etc, 0o700);
        let k3s = etc.join("k3s.yaml");
        std::fs::write(&k3s, k3s_yaml(NODE_URL, &server_ca.cert_pem, &fresh)).unwrap();
        chmod(&k3s, 0o600);
        let kube = dir.path().join("home").join(".kube");
        std::fs::create_dir_all(&kube).unwrap();
        Machine {
            dir,
            server_ca,
            node,
            fresh,
            k3s,
            kube,
        }
    }

    /// The user's kubeconfig with `text`, owned by `uid` (and its home), mode `mode`.
    fn user_file(&self, text: &str, uid: u32, mode: u32) -> PathBuf {
        let f = self.kube.join("config");
        std::fs::write(&f, text).unwrap();
        chmod(&f, mode);
        chown(&f, uid, GROUP);
        chown(&self.kube, uid, GROUP);
        chown(self.kube.parent().unwrap(), uid, GROUP);
        f
    }

    fn run(&self, config: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "--kubeconfig",
            config.to_str().unwrap(),
            "--k3s-config",
            self.k3s.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        kubefix(&args)
    }

    /// Every form in which the node's admin key could leak: the base64 kubeconfig value, the
    /// PEM, and each base64 line of the PEM.
    fn key_forms(&self) -> Vec<String> {
        let mut v = vec![self.fresh.key_b64(), self.fresh.key_pem.clone()];
        v.extend(
            self.fresh
                .key_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_string),
        );
        v
    }

    fn assert_no_key(&self, what: &str, haystack: &str) {
        for k in self.key_forms() {
            assert!(
                !haystack.contains(&k),
                "the node's admin key leaked into {what}"
            );
        }
    }
}

/// The attacker's kubeconfig: any certificate and key, pointed at the node's address.
fn forged_config(cert: &Issued) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    insecure-skip-tls-verify: true\n    server: {NODE_URL}\n  name: pwn\ncontexts:\n- context:\n    cluster: pwn\n    user: pwn\n  name: pwn\ncurrent-context: pwn\nkind: Config\npreferences: {{}}\nusers:\n- name: pwn\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        cert.cert_b64(),
        cert.key_b64()
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn k3s_findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "k3s-credentials")
        .cloned()
        .collect()
}

/// The attack of #12: a self-signed `O=system:masters, CN=system:admin` certificate with
/// `insecure-skip-tls-verify`. Root must not copy the admin key into the file, whatever rules
/// are selected, and must not print it.
#[test]
fn forged_system_masters_certificate_gets_no_key_from_root() {
    if !is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let m = Machine::new();
    for validity in [Validity::Expired, Validity::ExpiresInDays(5)] {
        let forged = pki::self_signed_client("system:admin", "system:masters", validity);
        let original = forged_config(&forged);
        let config = m.user_file(&original, USER, 0o600);
        for extra in [
            &[][..],
            &["--rule", "k3s-credentials"][..],
            &["--skip", "file-permissions"][..],
            &["--show-secrets"][..],
        ] {
            let mut args = vec!["--apply"];
            args.extend_from_slice(extra);
            let out = m.run(&config, &args);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            let after = std::fs::read_to_string(&config).unwrap();
            m.assert_no_key("the user's file", &after);
            m.assert_no_key("kubefix's output", &text(&out));
            assert_eq!(after, original, "nothing may be written");
            let md = std::fs::metadata(&config).unwrap();
            assert_eq!((md.uid(), md.mode() & 0o777), (USER, 0o600));
        }
        let out = m.run(&config, &["--apply", "-o", "json", "--show-secrets"]);
        m.assert_no_key("the JSON report", &text(&out));
        let f = k3s_findings(&json(&out));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["fixable"], false);
        let msg = f[0]["message"].as_str().unwrap();
        assert!(
            msg.contains("nothing shows that uid 4242 already holds a credential"),
            "{msg}"
        );
        assert!(msg.contains("kubefix hands over no key"), "{msg}");
        let hint = f[0]["hint"].as_str().unwrap();
        let copy = m.kube.join("k3s.yaml");
        assert!(
            hint.contains(&format!(
                "`sudo install -m 600 -o 4242 -g 4343 {} {}`",
                m.k3s.display(),
                copy.display()
            )),
            "{hint}"
        );
        assert!(
            hint.contains(&format!(
                "`kubefix --apply --kubeconfig {} --k3s-config {}`",
                config.display(),
                copy.display()
            )),
            "{hint}"
        );
    }
}

/// Certificates are not secret: an attacker who found an old admin certificate of this very
/// cluster (signed by its client CA) but not its key must not get the fresh key either. The
/// key in the file must belong to the certificate.
#[test]
fn a_real_admin_certificate_without_its_key_gets_no_key() {
    if !is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let m = Machine::new();
    let leaked = m.node.admin(Validity::Expired);
    let attacker = pki::self_signed_client("x", "y", Validity::Valid);
    for key in [
        attacker.key_pem.clone(),
        pki::sec1_key_pem(&attacker.key_pem),
    ] {
        let stolen = Issued {
            cert_pem: leaked.cert_pem.clone(),
            key_pem: key,
        };
        let original = forged_config(&stolen);
        let config = m.user_file(&original, USER, 0o600);
        let out = m.run(&config, &["--apply", "--skip", "file-permissions"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let after = std::fs::read_to_string(&config).unwrap();
        assert_eq!(after, original);
        m.assert_no_key("the user's file", &after);
        m.assert_no_key("kubefix's output", &text(&out));
        assert!(text(&out).contains("hands over no key"), "{}", text(&out));
    }
}

/// The legitimate user of the hook: their copy's expired certificate was issued by the same
/// client CA and they hold its key (PKCS#8 as rcgen writes it, or SEC1 as K3s writes it).
/// Root refreshes it; the file stays theirs and 0600.
#[test]
fn stale_copy_signed_by_the_client_ca_is_refreshed_by_root_for_its_owner() {
    if !is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let m = Machine::new();
    let old = m.node.admin(Validity::Expired);
    for old in [
        old.clone(),
        Issued {
            key_pem: pki::sec1_key_pem(&old.key_pem),
            ..old.clone()
        },
    ] {
        let original = stale_copy("https://localhost:6443", &m.server_ca.cert_pem, &old);
        let config = m.user_file(&original, USER, 0o600);
        let out = m.run(&config, &["--apply"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let after = std::fs::read_to_string(&config).unwrap();
        assert_eq!(
            after,
            original
                .replace(&old.cert_b64(), &m.fresh.cert_b64())
                .replace(&old.key_b64(), &m.fresh.key_b64())
        );
        let md = std::fs::metadata(&config).unwrap();
        assert_eq!(
            (md.uid(), md.gid(), md.mode() & 0o777),
            (USER, GROUP, 0o600)
        );
    }
}

/// K3s's CA rotated (or it was reinstalled): the copy's certificate is signed by a client CA
/// that no longer exists, so nothing proves its owner holds a credential of this cluster. No
/// key; the finding carries the exact commands, and they work: the copy they make is the
/// user's own and 0600, and the user refreshes their file from it without root.
#[test]
fn after_a_ca_rotation_the_user_gets_the_command_and_no_key() {
    if !is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let m = Machine::new();
    let old_node = Node::new(&Ca::new("old-server-ca").cert_pem);
    let old = old_node.admin(Validity::ExpiresInDays(100));
    let original = stale_copy("https://localhost:6443", &old_node.server_ca_pem, &old);
    let config = m.user_file(&original, USER, 0o600);
    let out = m.run(&config, &["--apply", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    m.assert_no_key("kubefix's output", &text(&out));
    let after = std::fs::read_to_string(&config).unwrap();
    assert_eq!(after, original, "no key, and no half-done CA swap either");
    let f = k3s_findings(&json(&out));
    assert_eq!(f.len(), 1, "{f:?}");
    let hint = f[0]["hint"].as_str().unwrap().to_string();
    let commands: Vec<&str> = hint.split('`').skip(1).step_by(2).collect();
    assert_eq!(commands.len(), 2, "{hint}");
    assert!(
        commands[0].starts_with("sudo install -m 600 -o 4242 -g 4343 "),
        "{hint}"
    );

    // The administrator's command (we are root already).
    let o = Command::new("sh")
        .arg("-c")
        .arg(commands[0].trim_start_matches("sudo "))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let copy = m.kube.join("k3s.yaml");
    let md = std::fs::metadata(&copy).unwrap();
    assert_eq!(
        (md.uid(), md.gid(), md.mode() & 0o777),
        (USER, GROUP, 0o600)
    );

    // The user's command, as the user.
    let Some(setpriv) = support::which("setpriv") else {
        eprintln!("skipped the user's half: setpriv not found");
        return;
    };
    let bin = assert_cmd::cargo::cargo_bin("kubefix");
    let args: Vec<&str> = commands[1].split(' ').collect();
    assert_eq!(args[0], "kubefix");
    let o = Command::new(setpriv)
        .args([
            &format!("--reuid={USER}"),
            &format!("--regid={GROUP}"),
            "--clear-groups",
        ])
        .arg(&bin)
        .args(&args[1..])
        .env_remove("KUBECONFIG")
        .env("HOME", m.kube.parent().unwrap())
        .output()
        .unwrap();
    if !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("Permission denied") {
        eprintln!("skipped the user's half: uid {USER} cannot run the test binary here");
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.contains(&m.fresh.cert_b64()), "{after}");
    assert!(after.contains(&b64(&m.server_ca.cert_pem)), "{after}");
    let md = std::fs::metadata(&config).unwrap();
    assert_eq!((md.uid(), md.mode() & 0o777), (USER, 0o600));
}

/// Whatever rules run, a file that receives the node's credentials ends readable by its owner
/// only; the diff shows the mode change.
#[test]
fn a_readable_file_that_receives_credentials_ends_0600() {
    let m = Machine::new();
    let old = m.node.admin(Validity::Expired);
    let original = stale_copy("https://localhost:6443", &m.server_ca.cert_pem, &old);
    let me = kubefix::privilege::euid();
    for (mode, extra) in [
        (0o644, &["--skip", "file-permissions"][..]),
        (0o640, &["--rule", "k3s-credentials"][..]),
        (
            0o604,
            &["--rule", "k3s-credentials", "--skip", "file-permissions"][..],
        ),
    ] {
        let config = m.kube.join("config");
        std::fs::write(&config, &original).unwrap();
        chmod(&config, mode);
        if is_root() {
            chown(&config, me, GROUP);
        }
        let mut args = vec!["-o", "json"];
        args.extend_from_slice(extra);
        let v = json(&m.run(&config, &args));
        let diff = v["files"][0]["diff"].as_str().unwrap();
        assert!(
            diff.contains(&format!("old mode {mode:04o}")) && diff.contains("new mode 0600"),
            "{diff}"
        );
        let fix = k3s_findings(&v)[0]["fix"].as_str().unwrap().to_string();
        assert!(
            fix.contains(&format!("set mode {mode:04o} -> 0600")),
            "{fix}"
        );
        let mut args = vec!["--apply"];
        args.extend_from_slice(extra);
        let out = m.run(&config, &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(std::fs::read_to_string(&config)
            .unwrap()
            .contains(&m.fresh.key_b64()));
        let md = std::fs::metadata(&config).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o600, "{extra:?}");
    }
}

/// `--force-identity` must name the entry, and root may not use it on another user's file.
#[test]
fn force_identity_names_an_entry_and_is_refused_on_another_users_file() {
    let m = Machine::new();
    // An admin identity under another name, to which --force-identity is offered.
    let alice = m
        .node
        .client("alice", &["system:masters"], Validity::Expired);
    let original = stale_copy("https://localhost:6443", &m.server_ca.cert_pem, &alice);
    let config = m.kube.join("config");
    std::fs::write(&config, &original).unwrap();
    chmod(&config, 0o600);

    // Without a name: a usage error, nothing written.
    let out = m.run(&config, &["--apply", "--force-identity"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);

    if !is_root() {
        eprintln!("skipped the other-user half: needs root");
        return;
    }
    chown(&config, USER, GROUP);
    let out = m.run(&config, &["--apply", "--force-identity", "homelab-admin"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing --force-identity"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    m.assert_no_key("kubefix's output", &text(&out));
    // Without the flag, the other identity is only reported.
    let out = m.run(&config, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert!(
        text(&out).contains("as uid 4242 (kubefix refuses it"),
        "{}",
        text(&out)
    );

    // Root's own file: forcing the named entry still works.
    chown(&config, 0, 0);
    let out = m.run(&config, &["--apply", "--force-identity", "homelab-admin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains(&m.fresh.key_b64()));
    let _ = &m.dir;
}

/// Not root: a user who cannot read the node's file gets nothing from it (and a user who can
/// read it holds its key already). As uid 65534 through setpriv when the tests run as root.
#[test]
fn an_unprivileged_user_gets_no_key_from_a_root_only_source() {
    if !is_root() {
        eprintln!("skipped: needs root to drop to another uid with setpriv");
        return;
    }
    let Some(setpriv) = support::which("setpriv") else {
        eprintln!("skipped: setpriv not found");
        return;
    };
    let m = Machine::new();
    let forged = pki::self_signed_client("system:admin", "system:masters", Validity::Expired);
    let original = forged_config(&forged);
    let config = m.user_file(&original, 65534, 0o600);
    let bin = assert_cmd::cargo::cargo_bin("kubefix");
    let o = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["--apply", "--kubeconfig"])
        .arg(&config)
        .arg("--k3s-config")
        .arg(&m.k3s)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    if err.contains("Permission denied") && !err.contains("k3s") {
        eprintln!("skipped: uid 65534 cannot run the test binary here");
        return;
    }
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    m.assert_no_key("kubefix's output", &text(&o));
}

/// An entry may name its certificate and key files: pointing them at the node's own root-only
/// admin certificate and key must not make root read them as the user's proof, even with
/// `--inline-credentials`.
#[test]
fn pointing_at_the_nodes_own_key_files_proves_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let m = Machine::new();
    let old = m.node.admin(Validity::Expired);
    let tls = m.k3s.parent().unwrap().join("tls");
    std::fs::create_dir(&tls).unwrap();
    std::fs::write(tls.join("client-admin.crt"), &old.cert_pem).unwrap();
    std::fs::write(tls.join("client-admin.key"), &old.key_pem).unwrap();
    chmod(&tls.join("client-admin.key"), 0o600);
    let original = stale_copy("https://localhost:6443", &m.server_ca.cert_pem, &old)
        .replace(
            &format!("client-certificate-data: {}", old.cert_b64()),
            &format!(
                "client-certificate: {}",
                tls.join("client-admin.crt").display()
            ),
        )
        .replace(
            &format!("client-key-data: {}", old.key_b64()),
            &format!("client-key: {}", tls.join("client-admin.key").display()),
        );
    let config = m.user_file(&original, USER, 0o600);
    for extra in [&["--inline-credentials"][..], &[][..]] {
        let mut args = vec!["--apply"];
        args.extend_from_slice(extra);
        let out = m.run(&config, &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let after = std::fs::read_to_string(&config).unwrap();
        assert_eq!(after, original);
        m.assert_no_key("kubefix's output", &text(&out));
        // The files a kubeconfig names are read as its owner, who cannot open the node's
        // root-only certificate: nothing about it is learnt, nothing is handed over.
        assert!(
            text(&out).contains("client-admin.crt: Permission denied"),
            "{}",
            text(&out)
        );
        assert!(!text(&out).contains("config view --raw"), "{}", text(&out));
    }
}
