//! The `k3s-credentials` rule through the CLI, without a server: matching, the safety guards
//! (identity, newer-only), CA rotation, file-path entries, missing and unreadable sources,
//! ownership, and secrets never printed. Fixtures are generated per test.

mod k3s_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use k3s_support::{changed_lines, k3s_yaml, stale_copy, Node};
use support::output_text as text;
use support::pki::{Ca, Validity};

const NODE_URL: &str = "https://127.0.0.1:6443";
const COPY_URL: &str = "https://localhost:6443";

fn kubefix(args: &[&str]) -> Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    node: Node,
    server_ca: Ca,
    k3s: PathBuf,
    config: PathBuf,
}

impl Setup {
    /// A node with a fresh admin cert in k3s.yaml and a copy holding `stale` credentials.
    fn new(
        stale: Validity,
        fresh: Validity,
    ) -> (Setup, support::pki::Issued, support::pki::Issued) {
        let server_ca = Ca::new("k3s-server-ca");
        let node = Node::new(&server_ca.cert_pem);
        let old = node.admin(stale);
        let new = node.admin(fresh);
        let dir = tempfile::tempdir().unwrap();
        let k3s = dir.path().join("k3s.yaml");
        std::fs::write(&k3s, k3s_yaml(NODE_URL, &server_ca.cert_pem, &new)).unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, stale_copy(COPY_URL, &server_ca.cert_pem, &old)).unwrap();
        // Mode 0600 whatever the umask: a group- or world-readable kubeconfig is a
        // `file-permissions` finding of its own.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        (
            Setup {
                dir,
                node,
                server_ca,
                k3s,
                config,
            },
            old,
            new,
        )
    }

    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "--kubeconfig",
            self.config.to_str().unwrap(),
            "--k3s-config",
            self.k3s.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        kubefix(&args)
    }

    fn config(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn findings<'a>(v: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn expired_copy_is_refreshed_and_only_the_two_values_change() {
    let (s, old, new) = Setup::new(Validity::Expired, Validity::Valid);
    let before = s.config();
    let out = s.run(&["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = s.config();
    let changed = changed_lines(&before, &after);
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert_eq!(
        changed[0].1,
        format!("    client-certificate-data: {}", old.cert_b64())
    );
    assert_eq!(
        changed[0].2,
        format!("    client-certificate-data: {}", new.cert_b64())
    );
    assert_eq!(
        changed[1].2,
        format!("    client-key-data: {}", new.key_b64())
    );
    // The report names the source, the entry and the fix; the key never appears.
    let printed = text(&out);
    assert!(printed.contains("users/homelab-admin"), "{printed}");
    assert!(
        printed.contains("client certificate expired on"),
        "{printed}"
    );
    assert!(printed.contains("[k3s-credentials]"), "{printed}");
    assert!(printed.contains(
        "kubectl says: You must be logged in to the server (the server has asked for the client to provide credentials)"
    ));
    assert!(
        printed.contains("CN=system:admin, O=system:masters"),
        "{printed}"
    );
    for secret in [
        &old.key_b64(),
        &new.key_b64(),
        &old.cert_b64(),
        &new.cert_b64(),
    ] {
        assert!(
            !printed.contains(secret.as_str()),
            "a credential was printed"
        );
    }
    // The expiry table says what happened.
    assert!(printed.contains("EXPIRED, renewed: until"), "{printed}");
    // A second run finds nothing more to do.
    let again = s.run(&["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let _ = &s.node;
    let _ = &s.server_ca;
}

/// A big merged file is planned on two threads (the repair is verified on one); the renewed
/// credential must still be marked in the expiry table, which reads the repaired text.
#[test]
fn expired_copy_in_a_big_file_is_refreshed_and_marked_renewed() {
    let (s, old, new) = Setup::new(Validity::Expired, Validity::Valid);
    let comment = "# a big merged kubeconfig: this comment block takes it over 256 KiB\n";
    let big = format!(
        "{}{}",
        comment.repeat(300 * 1024 / comment.len()),
        s.config()
    );
    assert!(big.len() > 300 * 1024);
    std::fs::write(&s.config, &big).unwrap();
    let out = s.run(&["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = text(&out);
    assert!(printed.contains("EXPIRED, renewed: until"), "{printed}");
    let after = s.config();
    assert_eq!(
        after,
        big.replace(&old.cert_b64(), &new.cert_b64())
            .replace(&old.key_b64(), &new.key_b64())
    );
    let again = s.run(&["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn expiring_within_renew_within_is_refreshed_and_outside_is_not() {
    let (s, _, new) = Setup::new(Validity::ExpiresInDays(10), Validity::Valid);
    let out = s.run(&["--renew-within", "5d", "-o", "json"]);
    let v = json(&out);
    assert!(findings(&v, "k3s-credentials").is_empty(), "{v:#}");
    let out = s.run(&["-o", "json"]);
    let v = json(&out);
    let f = findings(&v, "k3s-credentials");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["fixable"], true);
    assert!(
        f[0]["message"].as_str().unwrap().contains("(in 9 days)")
            || f[0]["message"].as_str().unwrap().contains("(in 10 days)")
    );
    // Dry run: nothing written, the diff is redacted.
    let diff = v["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("<redacted:"), "{diff}");
    assert!(!diff.contains(&new.key_b64()));
    let out = s.run(&["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(s.config().contains(&new.cert_b64()));
}

#[test]
fn fresh_copy_is_left_alone() {
    let (s, _, _) = Setup::new(Validity::Valid, Validity::Valid);
    let before = s.config();
    let out = s.run(&["--apply", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert!(findings(&v, "k3s-credentials").is_empty(), "{v:#}");
    assert_eq!(s.config(), before);
}

#[test]
fn source_not_newer_is_reported_not_swapped() {
    // The copy expires in 5 days; k3s.yaml's expires in 3 (K3s has not renewed yet).
    let (s, _, _) = Setup::new(Validity::ExpiresInDays(5), Validity::ExpiresInDays(3));
    let before = s.config();
    let out = s.run(&["--apply", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.config(), before, "nothing may be written");
    let v = json(&out);
    let f = findings(&v, "k3s-credentials");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["fixable"], false);
    assert!(
        f[0]["message"].as_str().unwrap().contains("is not newer"),
        "{v:#}"
    );
    assert!(f[0]["hint"]
        .as_str()
        .unwrap()
        .contains("systemctl restart k3s"));
}

#[test]
fn other_identity_is_refused_unless_forced() {
    let server_ca = Ca::new("k3s-server-ca");
    let node = Node::new(&server_ca.cert_pem);
    let dir = tempfile::tempdir().unwrap();
    // An admin under another name: --force-identity is offered (a user's own certificate is
    // told to get a new one instead, see tests/advice.rs).
    let old = node.client("alice", &["system:masters"], Validity::Expired);
    let fresh_admin = node.admin(Validity::Valid);
    let k3s = dir.path().join("k3s.yaml");
    std::fs::write(&k3s, k3s_yaml(NODE_URL, &server_ca.cert_pem, &fresh_admin)).unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, stale_copy(COPY_URL, &server_ca.cert_pem, &old)).unwrap();
    let before = std::fs::read_to_string(&config).unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "--kubeconfig".to_string(),
            config.display().to_string(),
            "--k3s-config".into(),
            k3s.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .args(args(&["--apply", "-o", "json"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    let v = json(&out);
    let f = findings(&v, "k3s-credentials");
    assert_eq!(f.len(), 1, "{v:#}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("CN=alice, O=system:masters"), "{msg}");
    assert!(msg.contains("CN=system:admin, O=system:masters"), "{msg}");
    assert!(f[0]["hint"]
        .as_str()
        .unwrap()
        .contains("--force-identity homelab-admin"));
    assert_eq!(f[0]["fixable"], false);

    // The flag names the entry it applies to (#12): a bare flag is a usage error, another
    // entry's name changes nothing here.
    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .args(args(&["--apply", "--force-identity"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .args(args(&["--apply", "--force-identity", "other"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .args(args(&["--apply", "--force-identity", "homelab-admin"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = std::fs::read_to_string(&config).unwrap();
    assert_eq!(changed_lines(&before, &after).len(), 2);
    assert!(after.contains(&fresh_admin.cert_b64()));
}

#[test]
fn ca_rotation_replaces_the_ca_too_when_matched_by_server() {
    // K3s reinstalled: new server CA, new client CA; the copy still has the old ones.
    let old_server_ca = Ca::new("old-server-ca");
    let old_node = Node::new(&old_server_ca.cert_pem);
    let old = old_node.admin(Validity::Valid); // still valid, but from the old CA
    let new_server_ca = Ca::new("new-server-ca");
    let new_node = Node::new(&new_server_ca.cert_pem);
    let fresh = new_node.admin(Validity::Window {
        not_before_days_from_now: -1,
        not_after_days_from_now: 400,
    });
    let dir = tempfile::tempdir().unwrap();
    let k3s = dir.path().join("k3s.yaml");
    std::fs::write(&k3s, k3s_yaml(NODE_URL, &new_server_ca.cert_pem, &fresh)).unwrap();
    let config = dir.path().join("config");
    let before = stale_copy(COPY_URL, &old_server_ca.cert_pem, &old);
    std::fs::write(&config, &before).unwrap();
    let out = kubefix(&[
        "--apply",
        "--kubeconfig",
        config.to_str().unwrap(),
        "--k3s-config",
        k3s.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = text(&out);
    assert!(
        printed.contains("is not signed by the CA that signed K3s's certificate"),
        "{printed}"
    );
    assert!(
        printed.contains("certificate-authority-data (the cluster CA changed)"),
        "{printed}"
    );
    let after = std::fs::read_to_string(&config).unwrap();
    let changed = changed_lines(&before, &after);
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert!(changed[0]
        .2
        .contains(&k3s_support::b64(&new_server_ca.cert_pem)));
    assert!(after.contains("server: https://localhost:6443  # the node, not 127.0.0.1"));
}

#[test]
fn different_server_and_ca_do_not_match_unless_the_context_is_named() {
    let (s, _, new) = Setup::new(Validity::Expired, Validity::Valid);
    // Point the copy elsewhere and give it another CA: nothing ties it to the node.
    let other_ca = Ca::new("unrelated");
    let before = s
        .config()
        .replace(COPY_URL, "https://192.0.2.7:6443")
        .replace(
            &k3s_support::b64(&s.server_ca.cert_pem),
            &k3s_support::b64(&other_ca.cert_pem),
        );
    std::fs::write(&s.config, &before).unwrap();
    // The source's context is called `default`; naming our context `default` would not help.
    let out = s.run(&["--apply", "-o", "json"]);
    let v = json(&out);
    assert!(findings(&v, "k3s-credentials").is_empty(), "{v:#}");
    assert_eq!(s.config(), before);
    let out = s.run(&["--apply", "--k3s-context", "homelab"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = s.config();
    assert!(after.contains(&new.cert_b64()));
    // Named context, CA differs: the CA is replaced as well.
    assert_eq!(changed_lines(&before, &after).len(), 3);
}

#[test]
fn file_path_entries_get_exact_commands_or_are_inlined_on_request() {
    let (s, old, new) = Setup::new(Validity::Expired, Validity::Valid);
    let certs = s.dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join("admin.crt"), &old.cert_pem).unwrap();
    std::fs::write(certs.join("admin.key"), &old.key_pem).unwrap();
    let before = s
        .config()
        .replace(
            &format!("client-certificate-data: {}", old.cert_b64()),
            "client-certificate: certs/admin.crt",
        )
        .replace(
            &format!("client-key-data: {}", old.key_b64()),
            "client-key: certs/admin.key",
        );
    std::fs::write(&s.config, &before).unwrap();
    let out = s.run(&["--apply", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        s.config(),
        before,
        "files are not converted without --inline-credentials"
    );
    let v = json(&out);
    let f = findings(&v, "k3s-credentials");
    assert_eq!(f.len(), 1, "{v:#}");
    let hint = f[0]["hint"].as_str().unwrap();
    let want = format!(
        "kubectl --kubeconfig {} config view --raw -o jsonpath='{{.users[?(@.name==\"default\")].user.client-certificate-data}}' | base64 -d > {}",
        s.k3s.display(),
        certs.join("admin.crt").display()
    );
    assert!(hint.contains(&want), "{hint}\nwant {want}");
    assert!(hint.contains("--inline-credentials"));
    // The expiry table shows the file.
    let rows = v["files"][0]["expiry"].as_array().unwrap();
    assert!(
        rows.iter().any(
            |r| r["location"] == certs.join("admin.crt").display().to_string()
                && r["status"] == "expired"
        ),
        "{rows:?}"
    );

    let out = s.run(&["--apply", "--inline-credentials"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = s.config();
    assert!(
        after.contains(&format!(
            "    client-certificate-data: {}\n",
            new.cert_b64()
        )),
        "{after}"
    );
    assert!(after.contains(&format!("    client-key-data: {}\n", new.key_b64())));
    assert!(!after.contains("certs/admin"));
    assert!(after.contains("    # admin credentials from k3s.yaml\n"));
}

#[test]
fn missing_source_named_explicitly_is_an_error_and_nothing_is_written() {
    let (s, _, _) = Setup::new(Validity::Expired, Validity::Valid);
    let before = s.config();
    let missing = s.dir.path().join("nope.yaml");
    let out = kubefix(&[
        "--apply",
        "--kubeconfig",
        s.config.to_str().unwrap(),
        "--k3s-config",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("--k3s-config {}: no such file", missing.display())),
        "{err}"
    );
    assert!(err.contains("nothing was written"));
    assert_eq!(s.config(), before);
}

#[test]
fn invalid_source_is_an_error() {
    let (s, _, _) = Setup::new(Validity::Expired, Validity::Valid);
    std::fs::write(&s.k3s, "apiVersion: v1\nkind: [").unwrap();
    let out = s.run(&["--apply"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a usable kubeconfig"));
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// k3s.yaml is root-only (0600); as another user kubefix says how to get at it. As root the
/// test drops to uid 65534 with setpriv, as a plain user chmod 000 is enough.
#[test]
fn unreadable_source_names_three_ways_out() {
    let (s, _, _) = Setup::new(Validity::Expired, Validity::Valid);
    std::fs::set_permissions(&s.k3s, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("kubefix");
    let out = if is_root() {
        let Some(setpriv) = support::which("setpriv") else {
            eprintln!("skipping: setpriv not found (needed to drop root)");
            return;
        };
        // The unprivileged user must reach the binary and the kubeconfig.
        std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&s.config, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["--check", "--kubeconfig"])
            .arg(&s.config)
            .arg("--k3s-config")
            .arg(&s.k3s)
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stderr).contains("Permission denied")
            && !String::from_utf8_lossy(&o.stderr).contains("k3s")
        {
            eprintln!("skipping: uid 65534 cannot run the test binary here");
            return;
        }
        o
    } else {
        std::fs::set_permissions(&s.k3s, std::fs::Permissions::from_mode(0o000)).unwrap();
        s.run(&["--check"])
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read the K3s kubeconfig"), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    // The commands keep the files the user named (#14): a bare `sudo kubefix --apply` would
    // check root's idea of ~/.kube/config and drop --k3s-config.
    let sudo = format!(
        "1. run kubefix with sudo: `sudo kubefix --kubeconfig {} --k3s-config {} --apply`",
        s.config.display(),
        s.k3s.display()
    );
    assert!(err.contains(&sudo), "{err}\nwant {sudo}");
    let copy = format!(
        "&& kubefix --kubeconfig {} --apply --k3s-config ~/k3s.yaml`",
        s.config.display()
    );
    assert!(err.contains(&copy), "{err}\nwant {copy}");
    assert!(
        err.contains("2. set `write-kubeconfig-mode: \"0644\"` in /etc/rancher/k3s/config.yaml"),
        "{err}"
    );
    assert!(
        err.contains("3. pass --k3s-config PATH with a copy only you can read"),
        "{err}"
    );
}

/// Under sudo kubefix writes the invoking user's file as root: it must stay theirs.
#[test]
fn replaced_file_keeps_its_owner_and_mode() {
    if !is_root() {
        eprintln!("skipping: needs root to give the file to another user");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let (s, _, new) = Setup::new(Validity::Expired, Validity::Valid);
    std::os::unix::fs::chown(&s.config, Some(4242), Some(4343)).unwrap();
    // The user's file is in the user's directory: as root, kubefix writes it as its owner (#12).
    std::os::unix::fs::chown(s.config.parent().unwrap(), Some(4242), Some(4343)).unwrap();
    // Not 0600, which `file-permissions` would set anyway; no group or other bits, which it
    // would remove (below).
    std::fs::set_permissions(&s.config, std::fs::Permissions::from_mode(0o400)).unwrap();
    let out = s.run(&["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(s.config().contains(&new.cert_b64()));
    let m = std::fs::metadata(&s.config).unwrap();
    assert_eq!((m.uid(), m.gid()), (4242, 4343));
    assert_eq!(m.permissions().mode() & 0o777, 0o400);

    // Group-readable: the owner is still kept, the mode becomes 0600.
    let (s, _, new) = Setup::new(Validity::Expired, Validity::Valid);
    std::os::unix::fs::chown(&s.config, Some(4242), Some(4343)).unwrap();
    // The user's file is in the user's directory: as root, kubefix writes it as its owner (#12).
    std::os::unix::fs::chown(s.config.parent().unwrap(), Some(4242), Some(4343)).unwrap();
    std::fs::set_permissions(&s.config, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = s.run(&["--apply", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    let f = findings(&v, "file-permissions");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["fixed"], true, "{v}");
    assert_eq!(findings(&v, "k3s-credentials")[0]["fixed"], true, "{v}");
    assert!(s.config().contains(&new.cert_b64()));
    let m = std::fs::metadata(&s.config).unwrap();
    assert_eq!((m.uid(), m.gid()), (4242, 4343));
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
}

/// The default target under sudo is SUDO_USER's kubeconfig (resolved through /etc/passwd).
#[test]
fn sudo_user_home_is_the_default_target() {
    let env = kubefix::source::Env {
        home: Some(PathBuf::from("/root")),
        sudo_user: Some("root-does-not-count".into()),
        is_root: true,
        ..Default::default()
    };
    // An unknown user falls back to the process home.
    assert_eq!(env.user_home(), Some(PathBuf::from("/root")));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let Some((user, home)) = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[0] != "root" && f[5].starts_with('/'))
            .then(|| (f[0].to_string(), f[5].to_string()))
    }) else {
        return;
    };
    let env = kubefix::source::Env {
        sudo_user: Some(user),
        ..env
    };
    assert_eq!(env.user_home(), Some(PathBuf::from(home)));
    let _ = Path::new("");
}

#[test]
fn the_ca_file_command_quotes_the_paths() {
    // K3s reinstalled; the copy reads its (old) CA from a file in a directory its author
    // named.
    let old_server_ca = Ca::new("old-server-ca");
    let new_server_ca = Ca::new("new-server-ca");
    // The client credentials are already the node's: only the CA file is out of date.
    let fresh = Node::new(&new_server_ca.cert_pem).admin(Validity::Window {
        not_before_days_from_now: -1,
        not_after_days_from_now: 400,
    });
    for w in support::HOSTILE_WORDS {
        let dir = tempfile::tempdir().unwrap();
        let node_dir = dir.path().join(w);
        std::fs::create_dir(&node_dir).unwrap();
        let k3s = node_dir.join("k3s.yaml");
        std::fs::write(&k3s, k3s_yaml(NODE_URL, &new_server_ca.cert_pem, &fresh)).unwrap();
        let ca_file = format!("{w}.crt");
        std::fs::write(dir.path().join(&ca_file), &old_server_ca.cert_pem).unwrap();
        let config = dir.path().join("config");
        let copy = stale_copy(COPY_URL, &old_server_ca.cert_pem, &fresh).replacen(
            &format!(
                "certificate-authority-data: {}",
                support::b64(old_server_ca.cert_pem.as_bytes())
            ),
            &format!("certificate-authority: '{ca_file}'"),
            1,
        );
        std::fs::write(&config, &copy).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = kubefix(&[
            "--check",
            "-o",
            "json",
            "--kubeconfig",
            config.to_str().unwrap(),
            "--k3s-config",
            k3s.to_str().unwrap(),
        ]);
        let v = json(&out);
        let hints: String = findings(&v, "k3s-credentials")
            .iter()
            .filter_map(|f| f["hint"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(hints.contains("the cluster CA changed"), "{v:#}");
        let cmds = support::commands_in(&hints, &["kubectl "]);
        assert!(!cmds.is_empty(), "{hints}");
        let paste = tempfile::tempdir().unwrap();
        for c in cmds {
            support::paste_is_harmless(&c, paste.path());
        }
    }
}
