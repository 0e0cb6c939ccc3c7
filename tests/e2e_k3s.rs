//! The stale-copy outage end to end with the real kubectl: a loopback API server that
//! authenticates client certificates like kube-apiserver (after the handshake; an expired
//! certificate is simply not authenticated), a node kubeconfig with fresh credentials (K3s,
//! RKE2 or kubeadm shaped), and the user's stale copy. kubectl fails on the copy, `kubefix
//! --apply` swaps in the fresh credentials, kubectl then authenticates as the admin.
//!
//! Needs `kubectl` on PATH; skips with a reason otherwise, unless `KUBEFIX_REQUIRE_E2E=1`.

mod k3s_support;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use k3s_support::{changed_lines, k3s_yaml, kubeadm_admin_conf, stale_copy, Node};
use support::apiserver::{Auth, ClientCertMode, ServerOptions, TestApiServer};
use support::output_text as text;
use support::pki::{Issued, Validity};

fn get_pods(kubectl: &Path, config: &Path, cache: &Path) -> Output {
    support::kubectl_command(kubectl, config, cache)
        .args(["get", "pods"])
        .output()
        .expect("run kubectl")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Distro {
    K3s,
    Rke2,
    Kubeadm,
}

fn stale_copy_story(distro: Distro) {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // K3s and RKE2 sign clients with their own client CA; kubeadm uses the cluster CA.
    let mut node = Node::new("");
    let kubeadm_ca = (distro == Distro::Kubeadm).then(|| support::pki::Ca::new("kubernetes"));
    let client_ca_pem = match &kubeadm_ca {
        Some(ca) => ca.cert_pem.clone(),
        None => node.client_ca.cert_pem.clone(),
    };
    let server = TestApiServer::start(ServerOptions {
        ca: kubeadm_ca,
        client_ca_pem: Some(client_ca_pem),
        client_cert_mode: ClientCertMode::Authenticator,
        ..ServerOptions::default()
    });
    node.server_ca_pem = server.ca_pem.clone();
    let (cn, org) = match distro {
        Distro::Kubeadm => ("kubernetes-admin", "kubeadm:cluster-admins"),
        _ => ("system:admin", "system:masters"),
    };
    let issue = |validity: Validity| -> Issued {
        match distro {
            Distro::Kubeadm => server.ca().client_cert(cn, &[org], validity),
            _ => node.client(cn, &[org], validity),
        }
    };
    let old = issue(Validity::Expired);
    let fresh = issue(Validity::Valid);
    let (source_name, source_text, flag) = match distro {
        Distro::K3s => (
            "k3s.yaml",
            k3s_yaml(&server.url, &server.ca_pem, &fresh),
            "--k3s-config",
        ),
        Distro::Rke2 => (
            "rke2.yaml",
            k3s_yaml(&server.url, &server.ca_pem, &fresh),
            "--from",
        ),
        Distro::Kubeadm => (
            "admin.conf",
            kubeadm_admin_conf(&server.url, &server.ca_pem, &fresh),
            "--from",
        ),
    };
    let source = dir.path().join(source_name);
    std::fs::write(&source, source_text).unwrap();
    // The user's copy points at the node by another name than the source does.
    let copy_url = server.url.replace("127.0.0.1", "localhost");
    let original = match distro {
        Distro::Kubeadm => format!(
            "# scp'd from the control plane\n{}",
            kubeadm_admin_conf(&copy_url, &server.ca_pem, &old)
        ),
        _ => stale_copy(&copy_url, &server.ca_pem, &old),
    };
    let config = dir.path().join("config");
    std::fs::write(&config, &original).unwrap();

    // Before: the expired certificate does not authenticate.
    let before = get_pods(&kubectl, &config, &cache);
    assert!(!before.status.success(), "{}", text(&before));
    let stderr = String::from_utf8_lossy(&before.stderr);
    // Cold discovery cache: kubectl's exact last line.
    assert_eq!(
        stderr.lines().last(),
        Some("error: You must be logged in to the server (the server has asked for the client to provide credentials)"),
        "{}",
        text(&before)
    );
    let raw = support::kubectl_command(&kubectl, &config, &cache)
        .args(["get", "--raw", "/version"])
        .output()
        .unwrap();
    assert!(!raw.status.success());
    assert_eq!(
        String::from_utf8_lossy(&raw.stderr).lines().last(),
        Some("error: You must be logged in to the server (Unauthorized)"),
        "{}",
        text(&raw)
    );
    let reqs = server.requests();
    assert!(!reqs.is_empty());
    assert!(reqs.iter().all(|r| r.auth == Auth::None && r.status == 401));
    assert!(
        reqs.iter().any(|r| r
            .client_cert_error
            .as_deref()
            .is_some_and(|e| e.contains("expired"))),
        "{reqs:?}"
    );

    // Fix.
    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["--apply", "--kubeconfig"])
        .arg(&config)
        .arg(flag)
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = text(&out);
    assert!(!printed.contains(&fresh.key_b64()) && !printed.contains(&old.key_b64()));
    let after_text = std::fs::read_to_string(&config).unwrap();
    let changed = changed_lines(&original, &after_text);
    assert_eq!(
        changed.len(),
        2,
        "exactly the two credential lines: {changed:?}"
    );
    assert_eq!(
        changed[0].2,
        format!("    client-certificate-data: {}", fresh.cert_b64())
    );
    assert_eq!(
        changed[1].2,
        format!("    client-key-data: {}", fresh.key_b64())
    );

    // After: kubectl authenticates as the admin.
    let after = get_pods(&kubectl, &config, &cache);
    assert!(after.status.success(), "{}", text(&after));
    let ns = if distro == Distro::Kubeadm {
        "default"
    } else {
        "media"
    };
    assert!(
        String::from_utf8_lossy(&after.stderr)
            .contains(&format!("No resources found in {ns} namespace.")),
        "{}",
        text(&after)
    );
    let want = Auth::ClientCert {
        cn: cn.into(),
        orgs: vec![org.into()],
    };
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.auth == want && r.status == 200),
        "the server saw no request as {want:?}"
    );

    // Idempotent.
    let again = Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["--check", "--kubeconfig"])
        .arg(&config)
        .arg(flag)
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    server.stop();
}

#[test]
fn k3s_stale_copy_is_refreshed_and_kubectl_authenticates() {
    stale_copy_story(Distro::K3s);
}

#[test]
fn rke2_stale_copy_is_refreshed_and_kubectl_authenticates() {
    stale_copy_story(Distro::Rke2);
}

#[test]
fn kubeadm_admin_conf_copy_is_refreshed_and_kubectl_authenticates() {
    stale_copy_story(Distro::Kubeadm);
}

/// Issue #12 with the real kubectl: root (the post-upgrade hook) refreshes a user's stale copy
/// whose expired certificate was issued by the node's client CA, and the user's kubectl then
/// authenticates as the admin; the same user refreshes it themselves from a copy they can
/// read; a forged self-signed `system:masters` certificate next to it gets nothing, and
/// kubectl stays unauthenticated.
#[test]
fn k3s_copy_owned_by_a_user_is_refreshed_by_root_only_when_it_proves_its_certificate() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    if !kubefix::privilege::is_root() {
        eprintln!("skipped: needs root to give the kubeconfig to another uid");
        return;
    }
    let chmod =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    let chown = |p: &Path, u: u32| std::os::unix::fs::chown(p, Some(u), Some(u)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    let cache = dir.path().join("cache");
    let mut node = Node::new("");
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(node.client_ca.cert_pem.clone()),
        client_cert_mode: ClientCertMode::Authenticator,
        ..ServerOptions::default()
    });
    node.server_ca_pem = server.ca_pem.clone();
    let fresh = node.admin(Validity::Valid);
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    chmod(&etc, 0o700);
    let k3s = etc.join("k3s.yaml");
    std::fs::write(&k3s, k3s_yaml(&server.url, &server.ca_pem, &fresh)).unwrap();
    chmod(&k3s, 0o600);
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    chown(&home, 4242);
    let copy_url = server.url.replace("127.0.0.1", "localhost");
    let bin = assert_cmd::cargo::cargo_bin("kubefix");
    let root_run = |config: &Path| {
        Command::new(&bin)
            .env_remove("KUBECONFIG")
            .args(["--apply", "--kubeconfig"])
            .arg(config)
            .args(["--k3s-config"])
            .arg(&k3s)
            .output()
            .unwrap()
    };
    let user_file = |name: &str, text: &str| {
        let f = home.join(name);
        std::fs::write(&f, text).unwrap();
        chmod(&f, 0o600);
        chown(&f, 4242);
        f
    };

    // The legitimate copy, refreshed by root.
    let old = node.admin(Validity::Expired);
    let config = user_file("config", &stale_copy(&copy_url, &server.ca_pem, &old));
    assert!(!get_pods(&kubectl, &config, &cache).status.success());
    let out = root_run(&config);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(&fresh.key_b64()));
    let after = get_pods(&kubectl, &config, &cache);
    assert!(after.status.success(), "{}", text(&after));
    let md = std::fs::metadata(&config).unwrap();
    assert_eq!((md.uid(), md.mode() & 0o777), (4242, 0o600));

    // The forged one: no key, kubectl still unauthenticated.
    let forged =
        support::pki::self_signed_client("system:admin", "system:masters", Validity::Expired);
    let forged_text = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    insecure-skip-tls-verify: true\n    server: {}\n  name: pwn\ncontexts:\n- context:\n    cluster: pwn\n    user: pwn\n  name: pwn\ncurrent-context: pwn\nkind: Config\nusers:\n- name: pwn\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        server.url,
        forged.cert_b64(),
        forged.key_b64()
    );
    let pwn = user_file("pwn", &forged_text);
    let out = root_run(&pwn);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(&fresh.key_b64()));
    assert_eq!(std::fs::read_to_string(&pwn).unwrap(), forged_text);
    let denied = get_pods(&kubectl, &pwn, &dir.path().join("cache2"));
    assert!(!denied.status.success(), "{}", text(&denied));
    let want = Auth::ClientCert {
        cn: "system:admin".into(),
        orgs: vec!["system:masters".into()],
    };
    let admin_requests = server
        .requests()
        .iter()
        .filter(|r| r.auth == want && r.status == 200)
        .count();

    // The same user, without root, from a copy of k3s.yaml that is theirs.
    let Some(setpriv) = support::which("setpriv") else {
        eprintln!("skipped the user's own run: setpriv not found");
        return;
    };
    let own_source = home.join("k3s.yaml");
    std::fs::copy(&k3s, &own_source).unwrap();
    chown(&own_source, 4242);
    let config2 = user_file("config2", &stale_copy(&copy_url, &server.ca_pem, &old));
    let o = Command::new(setpriv)
        .args(["--reuid=4242", "--regid=4242", "--clear-groups"])
        .arg(&bin)
        .args(["--apply", "--kubeconfig"])
        .arg(&config2)
        .arg("--k3s-config")
        .arg(&own_source)
        .env_remove("KUBECONFIG")
        .env("HOME", &home)
        .output()
        .unwrap();
    if !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("Permission denied") {
        eprintln!("skipped the user's own run: uid 4242 cannot run the test binary here");
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = get_pods(&kubectl, &config2, &dir.path().join("cache3"));
    assert!(after.status.success(), "{}", text(&after));
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.auth == want && r.status == 200)
            .count()
            > admin_requests
    );
    server.stop();
}
