//! `kubefix probe` against the loopback API server (`support::apiserver`): each way a context
//! fails, with the exact cause and fix kubefix names; where `kubectl` is installed, also what
//! kubectl printed on the same setup (skipped without it, unless `KUBEFIX_REQUIRE_E2E=1`).

mod k3s_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use base64::Engine as _;
use support::apiserver::{ClientCertMode, ServerOptions, SsrApi, TestApiServer};
use support::b64;
use support::pki::{Ca, Issued, Validity};

/// A kubeconfig with cluster `test` (server, optional CA, extra cluster lines), context
/// `test` and user `test-user` (`user` is the block body, un-indented).
fn kubeconfig(server: &str, ca_pem: Option<&str>, cluster_extra: &[&str], user: &str) -> String {
    let mut cluster = format!("    server: {server}\n");
    if let Some(ca) = ca_pem {
        cluster.push_str(&format!(
            "    certificate-authority-data: {}\n",
            b64(ca.as_bytes())
        ));
    }
    for l in cluster_extra {
        cluster.push_str(&format!("    {l}\n"));
    }
    let user = if user.trim().is_empty() {
        "  user: {}\n".to_string()
    } else {
        let mut s = "  user:\n".to_string();
        for l in user.lines() {
            s.push_str(&format!("    {l}\n"));
        }
        s
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n{cluster}contexts:\n- name: test\n  context:\n    cluster: test\n    user: test-user\ncurrent-context: test\nusers:\n- name: test-user\n{user}"
    )
}

fn cert_user(c: &Issued) -> String {
    format!(
        "client-certificate-data: {}\nclient-key-data: {}",
        c.cert_b64(),
        c.key_b64()
    )
}

struct Setup {
    dir: tempfile::TempDir,
    kc: PathBuf,
}

fn setup(yaml: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, yaml).unwrap();
    Setup { dir, kc }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// [`probe`] with extra environment variables.
fn probe_env(s: &Setup, env: &[(&str, &str)], args: &[&str]) -> Run {
    probe_with(s, &[], env, args)
}

fn probe(s: &Setup, pre: &[&str], args: &[&str]) -> Run {
    probe_with(s, pre, &[], args)
}

/// `kubefix [pre…] probe --kubeconfig KC [args…]`, isolated: no proxy variables, no node
/// kubeconfig of this machine (a missing `--k3s-config` unless `pre` names one).
fn probe_with(s: &Setup, pre: &[&str], env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("kubefix").unwrap();
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "KUBECONFIG",
    ] {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    if pre.is_empty() {
        cmd.arg("--k3s-config")
            .arg(s.dir.path().join("no-k3s.yaml"));
    }
    cmd.args(pre)
        .arg("probe")
        .arg("--kubeconfig")
        .arg(&s.kc)
        .args(["--timeout", "5s"])
        .args(args);
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// What kubectl prints (last line of stderr) for `get --raw /version`... as `get pods` would
/// authenticate too, `get --raw /apis/...` needs no discovery; `None` without kubectl.
fn kubectl_says(s: &Setup) -> Option<String> {
    let kubectl = support::require_or_skip("kubectl")?;
    let cache = s.dir.path().join("kcache");
    let o = support::kubectl_command(&kubectl, &s.kc, &cache)
        .args(["get", "pods"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("kubectl said: {}", err.lines().last().unwrap_or(""));
    Some(err.lines().last().unwrap_or("").to_string())
}

/// The kubefix command advice names for a run of [`probe`] (`k3s`: its `--k3s-config`).
fn kubefix_cmd(s: &Setup, k3s: Option<&Path>) -> String {
    let no_k3s = s.dir.path().join("no-k3s.yaml");
    format!(
        "kubefix --kubeconfig {} --k3s-config {}",
        s.kc.display(),
        k3s.unwrap_or(&no_k3s).display()
    )
}

fn assert_lines(r: &Run, expected: &[&str]) {
    let got: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(got, expected, "stderr:\n{}", r.stderr);
}

fn cert_server(ca: Ca, mode: ClientCertMode) -> TestApiServer {
    TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        ca: Some(ca),
        client_cert_mode: mode,
        ..Default::default()
    })
}

/// `-v` adds a table of every context: name, status, cause, server, user, version, time.
#[test]
fn verbose_adds_a_table_of_every_context() {
    let ca = Ca::new("cluster-ca");
    let alice = ca.client_cert("alice", &["dev"], Validity::Valid);
    let server = cert_server(ca, ClientCertMode::Authenticator);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &["-v"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("CONTEXT"))
        .unwrap_or_else(|| panic!("no table:\n{}", r.stdout));
    let cols: Vec<&str> = lines[head].split_whitespace().collect();
    assert_eq!(
        cols,
        ["CONTEXT", "STATUS", "CAUSE", "SERVER", "USER", "VERSION", "TIME"]
    );
    let row: Vec<&str> = lines[head + 1].split_whitespace().collect();
    assert_eq!(&row[..5], ["test", "ok", "-", server.url.as_str(), "alice"]);
    assert!(row[6].parse::<u64>().is_ok() && row[7] == "ms", "{row:?}");
    // Without -v, no table.
    let r = probe(&s, &[], &[]);
    assert!(!r.stdout.contains("CONTEXT"), "{}", r.stdout);
}

#[test]
fn ok_names_the_user_and_groups_from_a_selfsubjectreview() {
    let ca = Ca::new("cluster-ca");
    let alice = ca.client_cert("alice", &["system:masters", "dev"], Validity::Valid);
    let server = cert_server(ca, ClientCertMode::Authenticator);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_lines(
        &r,
        &["test: ok user=alice groups=system:masters,dev,system:authenticated"],
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/version");
    assert_eq!(
        reqs[0].auth,
        support::apiserver::Auth::None,
        "the first request is anonymous"
    );
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(
        reqs[1].path,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    );
}

#[test]
fn selfsubjectreview_falls_back_to_v1beta1_on_404() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        self_subject_review: SsrApi::V1beta1Only,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_lines(
        &r,
        &["test: ok user=token-user groups=system:authenticated"],
    );
    let paths: Vec<(u16, String)> = server
        .requests()
        .into_iter()
        .map(|q| (q.status, q.path))
        .collect();
    assert_eq!(
        paths[1..],
        [
            (
                404,
                "/apis/authentication.k8s.io/v1/selfsubjectreviews".to_string()
            ),
            (
                201,
                "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews".to_string()
            )
        ]
    );
}

#[test]
fn no_selfsubjectreview_api_is_ok_with_a_warning() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        self_subject_review: SsrApi::None,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0);
    assert_lines(&r, &[
        "test: ok",
        "  warning: the server has no SelfSubjectReview API (Kubernetes 1.27 and later have it): the credentials were accepted, but the server does not say whose they are",
    ]);
}

#[test]
fn unknown_authority_names_both_cas_and_sends_no_credentials() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let old = Ca::new("old-cluster-ca");
    let s = setup(&kubeconfig(
        &server.url,
        Some(&old.cert_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the server's certificate is signed by CN=kubefix-test-ca, but cluster test trusts only CN=old-cluster-ca [unknown-authority]",
        "  kubectl says: Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority",
        &format!("  fix: put the cluster's current CA in certificate-authority-data (from the node: /var/lib/rancher/k3s/server/tls/server-ca.crt, /etc/kubernetes/pki/ca.crt; or your provider's get-credentials command); if a proxy inspects TLS, trust its CA instead. On a K3s/RKE2/kubeadm node, `{} --from ADMIN-KUBECONFIG --apply` does it (ADMIN-KUBECONFIG: the node's admin kubeconfig)", kubefix_cmd(&s, None)),
    ]);
    assert!(
        server.requests().is_empty(),
        "no request may reach a server that failed verification"
    );
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.contains("x509: certificate signed by unknown authority"),
            "{k}"
        );
    }
}

#[test]
fn unknown_authority_matching_the_node_ca_is_a_rotation_kubefix_fixes() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let node = k3s_support::Node::new(&server.ca_pem);
    let k3s = server.url.clone();
    let old = Ca::new("k3s-server-ca-before-reinstall");
    let s = setup(&kubeconfig(
        &server.url,
        Some(&old.cert_pem),
        &[],
        "token: good-token",
    ));
    let source = s.dir.path().join("k3s.yaml");
    std::fs::write(
        &source,
        k3s_support::k3s_yaml(&k3s, &server.ca_pem, &node.admin(Validity::Valid)),
    )
    .unwrap();
    let r = probe(&s, &["--k3s-config", source.to_str().unwrap()], &[]);
    assert_eq!(r.code, 1);
    let shown = source.display();
    assert_lines(&r, &[
        &format!("test: the server's certificate is signed by CN=kubefix-test-ca, the CA in {shown} (K3s), not by the certificate-authority of cluster test: the cluster's CA changed (reinstalled or rotated) [ca-rotated]"),
        "  kubectl says: Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority",
        &format!("  fix: `{} --apply` copies the new CA and client credentials from {shown} (rule k3s-credentials)", kubefix_cmd(&s, Some(&source))),
    ]);
    assert!(server.requests().is_empty());
}

#[test]
fn name_mismatch_lists_the_sans_and_offers_a_tls_server_name_that_verifies() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec![
            "kubernetes".into(),
            "kubernetes.default".into(),
            "10.43.0.1".into(),
        ]),
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the server's certificate is not valid for 127.0.0.1; it names kubernetes, kubernetes.default, 10.43.0.1 [name-mismatch]",
        "  kubectl says: Unable to connect to the server: tls: failed to verify certificate: x509: certificate is valid for 10.43.0.1, not 127.0.0.1",
        &format!("  fix: verify the server as kubernetes, a name its certificate has: kubectl --kubeconfig {} config set-cluster --tls-server-name=kubernetes -- test (or `{} probe --context=test --apply`)", s.kc.display(), kubefix_cmd(&s, None)),
    ]);
    assert!(server.requests().is_empty());
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.ends_with("x509: certificate is valid for 10.43.0.1, not 127.0.0.1"),
            "{k}"
        );
    }
    // The offered fix works.
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &["tls-server-name: kubernetes"],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_lines(
        &r,
        &["test: ok user=token-user groups=system:authenticated"],
    );
}

#[test]
fn expired_server_certificate_with_the_server_clock_agreeing() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_validity: Some(Validity::Expired),
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("test: the server's certificate (CN=kube-apiserver) expired on ")
            && first.contains("; the server's clock agrees (Date ")
            && first.ends_with(" [server-cert-expired]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  kubectl says: Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time "));
    assert!(r.stdout.contains("  fix: renew the API server's certificate on the server: K3s/RKE2 renew it on restart (systemctl restart k3s); kubeadm: kubeadm certs renew apiserver, then restart the kube-apiserver\n"));
    // Only the anonymous Date peek (no credentials) reached the server.
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .all(|q| q.presented_token.is_none() && q.method == "GET"),
        "{reqs:?}"
    );
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.contains("x509: certificate has expired or is not yet valid: current time"),
            "{k}"
        );
    }
}

#[test]
fn a_certificate_valid_by_the_server_clock_means_this_clock_is_wrong() {
    // Issued for tomorrow onwards; the server's clock says it is two days later than here.
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_validity: Some(Validity::Window {
            not_before_days_from_now: 1,
            not_after_days_from_now: 30,
        }),
        date_offset_secs: 2 * 86_400,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("test: this machine's clock is 2days ")
            && first.contains(" behind the server's (server Date ")
            && first.ends_with("looks not yet valid here [clock-skew]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "  fix: sync this machine's clock (timedatectl set-ntp true, or your OS's time settings)\n"
    ));
}

#[test]
fn a_server_date_an_hour_off_is_a_warning_on_a_working_context() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        date_offset_secs: -3600,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "test: ok user=token-user groups=system:authenticated"
    );
    assert!(
        lines[1].starts_with("  warning: this machine's clock is 1h ")
            && lines[1].contains(" ahead of the server's (server Date ")
            && lines[1].ends_with("): certificates and tokens can look expired or not yet valid to one side; fix: sync the clock (timedatectl set-ntp true)"),
        "{}",
        r.stdout
    );
}

#[test]
fn expired_client_certificate_401() {
    let ca = Ca::new("cluster-ca");
    let alice = ca.client_cert("alice", &["dev"], Validity::Expired);
    let server = cert_server(ca, ClientCertMode::Authenticator);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let expired = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() - Duration::from_secs(35 * 86_400),
    )
    .to_string()[..10]
        .to_string();
    assert_lines(&r, &[
        &format!("test: the server refused the client certificate from client-certificate-data of user test-user: it (CN=alice, O=dev) expired on {expired} [client-cert-expired]"),
        "  kubectl says: error: You must be logged in to the server (the server has asked for the client to provide credentials)",
        &format!("  fix: issue a new client certificate (K3s/RKE2: copy the node's kubeconfig again; kubeadm: kubeadm kubeconfig user --client-name NAME; a managed cluster: its get-credentials command); `{} --from NODE-KUBECONFIG --apply` installs it (NODE-KUBECONFIG: the node's admin kubeconfig)", kubefix_cmd(&s, None)),
    ]);
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.starts_with("error: You must be logged in to the server"),
            "{k}"
        );
    }
}

#[test]
fn client_certificate_rejected_in_the_handshake() {
    let ca = Ca::new("cluster-ca");
    let alice = ca.client_cert("alice", &["dev"], Validity::Expired);
    let server = cert_server(ca, ClientCertMode::Handshake);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("test: the server rejected the client certificate from client-certificate-data during the TLS handshake (expired certificate); it is CN=alice, O=dev (issued by CN=cluster-ca), and it expired on ")
            && first.ends_with(" [client-cert-rejected]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "  kubectl says: Unable to connect to the server: remote error: tls: expired certificate\n"
    ));
    if let Some(k) = kubectl_says(&s) {
        assert!(k.contains("remote error: tls: expired certificate"), "{k}");
    }
}

#[test]
fn client_certificate_from_a_replaced_client_ca() {
    // The node's client CA changed (reinstall): the copy's certificate is from the old one.
    let server_ca = Ca::new("k3s-server-ca");
    let node = k3s_support::Node::new(&server_ca.cert_pem);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(node.client_ca.cert_pem.clone()),
        ca: Some(server_ca),
        client_cert_mode: ClientCertMode::Authenticator,
        ..Default::default()
    });
    let old_client_ca = Ca::new("k3s-client-ca-before-reinstall");
    let stale = old_client_ca.client_cert("system:admin", &["system:masters"], Validity::Valid);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&stale),
    ));
    let source = s.dir.path().join("k3s.yaml");
    std::fs::write(
        &source,
        k3s_support::k3s_yaml(&server.url, &server.ca_pem, &node.admin(Validity::Valid)),
    )
    .unwrap();
    let r = probe(&s, &["--k3s-config", source.to_str().unwrap()], &[]);
    assert_eq!(r.code, 1);
    let shown = source.display();
    assert_lines(&r, &[
        &format!("test: the server refused the client certificate from client-certificate-data of user test-user: it is signed by CN=k3s-client-ca-before-reinstall, not by the cluster's client CA (CN=k3s-client-ca) named in {shown}: the cluster's CA changed [client-cert-unknown-ca]"),
        "  kubectl says: error: You must be logged in to the server (the server has asked for the client to provide credentials)",
        &format!("  fix: `{} --apply` replaces the client certificate and key with the fresh ones from {shown} (rule k3s-credentials)", kubefix_cmd(&s, Some(&source))),
    ]);
}

#[test]
fn unknown_token_401_says_which_credential_was_sent() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: some-other-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the server refused the bearer token from token (an opaque token) of user test-user: it does not know it (revoked, for another cluster, or signed by a CA it does not trust), but does not say which [credentials-refused]",
        "  kubectl says: error: You must be logged in to the server (the server has asked for the client to provide credentials)",
        "  fix: get fresh credentials for this cluster from its provider or the node's kubeconfig",
    ]);
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.starts_with("error: You must be logged in to the server"),
            "{k}"
        );
    }
}

fn jwt(claims: serde_json::Value) -> String {
    let e = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        e(&serde_json::json!({"alg": "RS256"})),
        e(&claims)
    )
}

#[test]
fn expired_service_account_token_401() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let token = jwt(serde_json::json!({
        "iss": "https://kubernetes.default.svc",
        "sub": "system:serviceaccount:ci:build-bot",
        "exp": 1_700_000_000,
        "kubernetes.io": {"namespace": "ci", "serviceaccount": {"name": "build-bot"}},
    }));
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &format!("token: {token}"),
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the server refused the bearer token from token of user test-user: it expired on 2023-11-14T22:13:20Z (service account ci/build-bot) [token-expired]",
        "  kubectl says: error: You must be logged in to the server (the server has asked for the client to provide credentials)",
        "  fix: issue a new token: kubectl -n ci create token build-bot (with a working context), and put it in user test-user",
    ]);
}

#[test]
fn forbidden_403_means_the_credentials_work() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        forbid: true,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let msg = "selfsubjectreviews.authentication.k8s.io is forbidden: User \"token-user\" cannot create resource \"selfsubjectreviews\" in API group \"authentication.k8s.io\" at the cluster scope";
    assert_lines(&r, &[
        &format!("test: authenticated as token-user, but authorization (RBAC) denies even a SelfSubjectReview: {msg} [forbidden]"),
        &format!("  kubectl says: Error from server (Forbidden): {msg}"),
        &format!("  fix: the credentials work; ask the cluster's admin for a (Cluster)RoleBinding for this user (the default system:basic-user binding allows SelfSubjectReview to everyone authenticated) on {}", server.url),
    ]);
    if let Some(k) = kubectl_says(&s) {
        assert!(
            k.starts_with("Error from server (Forbidden): pods is forbidden: User \"token-user\""),
            "{k}"
        );
    }
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn nothing_listening_on_loopback_is_the_copied_k3s_yaml() {
    let port = closed_port();
    let s = setup(&kubeconfig(
        &format!("https://127.0.0.1:{port}"),
        Some(&Ca::new("x").cert_pem),
        &[],
        "token: t",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        &format!("test: nothing listens on 127.0.0.1:{port} on this machine (connection refused) [refused]"),
        &format!("  kubectl says: The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?"),
        &format!("  fix: a k3s.yaml (or rke2.yaml) copied from a node keeps https://127.0.0.1:6443, which points at this machine: replace 127.0.0.1 with the node's address: kubectl --kubeconfig {} config set-cluster --server=https://NODE-ADDRESS:{port} -- test", s.kc.display()),
    ]);
    if let Some(k) = kubectl_says(&s) {
        assert_eq!(k, format!("The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?"));
    }
}

#[test]
fn a_proxy_url_that_refuses_is_named() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let port = closed_port();
    let proxy = format!("proxy-url: http://127.0.0.1:{port}");
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[&proxy],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "test: the proxy http://127.0.0.1:{port} (from proxy-url) cannot be reached: "
        )) && first.ends_with(" [proxy]"),
        "{}",
        r.stdout
    );
    assert!(server.requests().is_empty());
    if let Some(k) = kubectl_says(&s) {
        // kubectl blames the server for the proxy's refusal.
        assert_eq!(k, format!("The connection to the server {} was refused - did you specify the right host or port?", server.addr));
    }
}

#[test]
fn a_silent_server_times_out_within_the_deadline() {
    // Accepts connections, never answers.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let s = setup(&kubeconfig(
        &format!("https://127.0.0.1:{port}"),
        Some(&Ca::new("x").cert_pem),
        &[],
        "token: t",
    ));
    let t = Instant::now();
    let mut cmd = Command::cargo_bin("kubefix").unwrap();
    let o = cmd
        .arg("probe")
        .arg("--kubeconfig")
        .arg(&s.kc)
        .args(["--timeout", "1s"])
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.starts_with(&format!(
            "test: connected to 127.0.0.1:{port}, but no TLS answer within 1s"
        )) && out.contains("[timeout]"),
        "{out}"
    );
    drop(l);
}

#[test]
fn exec_plugin_runs_only_after_tls_verified_and_its_stderr_is_not_quoted() {
    let server = TestApiServer::start(ServerOptions::with_token("exec-token"));
    let s = setup("");
    let plugin = s.dir.path().join("plugin.sh");
    let marker = s.dir.path().join("ran");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\ntouch {}\necho 'SECRET-STDERR' >&2\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"%s\"}}}}' \"$TOKEN\"\nexit ${{CODE:-0}}\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let user = |code: u8| {
        format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  interactiveMode: Never\n  command: ./plugin.sh\n  env:\n  - name: TOKEN\n    value: exec-token\n  - name: CODE\n    value: \"{code}\""
        )
    };
    // A CA the server does not use: TLS fails, the plugin never runs.
    std::fs::write(
        &s.kc,
        kubeconfig(&server.url, Some(&Ca::new("other").cert_pem), &[], &user(0)),
    )
    .unwrap();
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("[unknown-authority]"));
    assert!(
        !marker.exists(),
        "the exec plugin ran for a server that failed verification"
    );
    // Verified: it runs, and its token authenticates.
    std::fs::write(
        &s.kc,
        kubeconfig(&server.url, Some(&server.ca_pem), &[], &user(0)),
    )
    .unwrap();
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_lines(
        &r,
        &["test: ok user=token-user groups=system:authenticated"],
    );
    // Failing: the exit status, not its stderr.
    std::fs::write(
        &s.kc,
        kubeconfig(&server.url, Some(&server.ca_pem), &[], &user(3)),
    )
    .unwrap();
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the exec plugin ./plugin.sh of user test-user failed (exit status 3); its output is not shown here [exec-failed]",
        "  fix: run it by hand to see why (a login that expired, a missing profile or tool)",
    ]);
    assert!(!r.stdout.contains("SECRET") && !r.stderr.contains("SECRET"));
}

#[test]
fn all_contexts_json_report() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let port = closed_port();
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: up\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\n- name: down\n  cluster:\n    server: https://127.0.0.1:{port}\ncontexts:\n- name: good\n  context: {{cluster: up, user: u}}\n- name: bad\n  context: {{cluster: down, user: u}}\n- name: dangling\n  context: {{cluster: nowhere, user: u}}\ncurrent-context: good\nusers:\n- name: u\n  user:\n    token: good-token\n",
        url = server.url,
        ca = b64(server.ca_pem.as_bytes())
    );
    let s = setup(&yaml);
    let r = probe(&s, &[], &["--all-contexts", "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["command"], "probe");
    let c = v["contexts"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!(c[0]["name"], "good");
    assert_eq!(c[0]["status"], "ok");
    assert_eq!(c[0]["identity"]["username"], "token-user");
    assert_eq!(
        c[0]["serverVersion"],
        serde_json::Value::Null,
        "anonymous /version is 401 here"
    );
    assert_eq!(c[1]["name"], "bad");
    assert_eq!(c[1]["status"], "failed");
    assert_eq!(c[1]["stage"], "reach");
    assert_eq!(c[1]["code"], "refused");
    assert_eq!(c[2]["code"], "no-cluster");
    assert_eq!(
        c[2]["cause"],
        "context dangling names cluster \"nowhere\", which is not defined"
    );
    assert_eq!(
        v["summary"],
        serde_json::json!({"contexts": 3, "ok": 1, "failed": 2})
    );
}

#[test]
fn usage_errors_exit_2() {
    let s = setup(&kubeconfig("https://127.0.0.1:1", None, &[], "token: t"));
    let r = probe(&s, &[], &["--context", "nope"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        format!(
            "kubefix: error: context \"nope\" is not defined in {}\n",
            s.kc.display()
        )
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn probe_never_writes_the_kubeconfig() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let yaml = kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &["insecure-skip-tls-verify: true"],
        "token: good-token",
    );
    let s = setup(&yaml);
    let before = std::fs::metadata(&s.kc).unwrap().modified().unwrap();
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0);
    assert_lines(&r, &[
        "test: ok user=token-user groups=system:authenticated",
        "  warning: cluster test has insecure-skip-tls-verify: true: the server's certificate is not checked, so anyone on the network path can pose as the server and receive your credentials",
    ]);
    assert_eq!(std::fs::read_to_string(&s.kc).unwrap(), yaml);
    assert_eq!(
        std::fs::metadata(&s.kc).unwrap().modified().unwrap(),
        before
    );
    let _: &Path = &s.kc;
}

#[test]
fn https_proxy_and_no_proxy_from_the_environment_as_client_go_reads_them() {
    // `kubernetes.test` resolves nowhere; the proxy tunnels it to the loopback server.
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["kubernetes.test".into()]),
        ..Default::default()
    });
    let proxy = support::proxy::TestProxy::start();
    let url = format!("https://kubernetes.test:{}", server.addr.port());
    let s = setup(&kubeconfig(
        &url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe_env(&s, &[("HTTPS_PROXY", &proxy.url)], &["-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["contexts"][0]["identity"]["username"], "token-user");
    assert_eq!(
        v["contexts"][0]["proxy"],
        format!("{} (from HTTPS_PROXY)", proxy.url)
    );
    assert_eq!(
        proxy.targets()[0],
        format!("kubernetes.test:{}", server.addr.port())
    );
    // NO_PROXY names it: dialled directly, and the name does not resolve.
    let r = probe_env(
        &s,
        &[("https_proxy", &proxy.url), ("NO_PROXY", ".test")],
        &[],
    );
    assert_eq!(r.code, 1);
    let first = r.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "test: the server name kubernetes.test does not resolve (DNS has no address for it) [dns]",
        "{}",
        r.stdout
    );
    if let Some(k) = kubectl_says(&s) {
        let ours = r
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .strip_prefix("kubectl says: ")
            .unwrap()
            .to_string();
        assert_eq!(k, ours);
    }
    // HTTP_PROXY is not for https servers.
    let r = probe_env(&s, &[("HTTP_PROXY", &proxy.url)], &[]);
    assert!(r.stdout.contains("[dns]"), "{}", r.stdout);
    // A loopback server never goes through the environment's proxy.
    let before = proxy.targets().len();
    let s = setup(&kubeconfig(
        &server.url.replace("127.0.0.1", "localhost"),
        Some(&server.ca_pem),
        &["tls-server-name: kubernetes.test"],
        "token: good-token",
    ));
    let r = probe_env(&s, &[("HTTPS_PROXY", &proxy.url)], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(proxy.targets().len(), before);
}

#[test]
fn a_proxy_that_cannot_reach_the_server_is_named() {
    let proxy = support::proxy::TestProxy::start();
    let port = closed_port();
    let proxy_line = format!("proxy-url: {}", proxy.url);
    let s = setup(&kubeconfig(
        &format!("https://kubernetes.test:{port}"),
        Some(&Ca::new("x").cert_pem),
        &[&proxy_line],
        "token: t",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        &format!("test: the proxy {} (from proxy-url) did not open a tunnel to kubernetes.test:{port}: proxy server responded 502/502 [proxy]", proxy.url),
        "  kubectl says: Unable to connect to the server: Bad Gateway",
        "  fix: check proxy-url or, if the server should be reached directly, add kubernetes.test to NO_PROXY",
    ]);
    if let Some(k) = kubectl_says(&s) {
        assert_eq!(k, "Unable to connect to the server: Bad Gateway");
    }
}

#[test]
fn apply_sets_the_tls_server_name_and_sends_no_credentials_in_the_same_run() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["kubernetes".into(), "10.43.0.1".into()]),
        ..Default::default()
    });
    let yaml = kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &["# the node's address"],
        "token: good-token",
    );
    let s = setup(&yaml);
    // kubectl, the judge, before and after: `get --raw /version` with the same file.
    let kubectl_version = |tag: &str| {
        support::require_or_skip("kubectl").map(|kubectl| {
            support::kubectl_command(&kubectl, &s.kc, &s.dir.path().join(tag))
                .args(["get", "--raw", "/version"])
                .output()
                .unwrap()
        })
    };
    if let Some(o) = kubectl_version("kcache-before") {
        assert!(!o.status.success(), "{}", support::output_text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("certificate is valid for"),
            "{}",
            support::output_text(&o)
        );
    }
    let r = probe(&s, &[], &["--apply"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].ends_with("[name-mismatch]"), "{}", r.stdout);
    let applied = format!(
        "  applied: set tls-server-name: kubernetes on cluster test in {} (backup ",
        s.kc.display()
    );
    let applied_line = lines.iter().find(|l| l.starts_with("  applied: ")).unwrap();
    assert!(applied_line.starts_with(&applied), "{}", r.stdout);
    assert!(
        applied_line.ends_with(&format!(
            "; not probed again in this run: check it with `kubefix --kubeconfig {} --k3s-config {} probe`",
            s.kc.display(),
            s.dir.path().join("no-k3s.yaml").display()
        )),
        "{}",
        r.stdout
    );
    // The name came from the server that failed: nothing, credentials least of all, went to
    // it after the write.
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // The next probe, which the user runs, works.
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_lines(
        &r,
        &["test: ok user=token-user groups=system:authenticated"],
    );
    if let Some(o) = kubectl_version("kcache-after") {
        assert!(o.status.success(), "{}", support::output_text(&o));
    }
    // Only that line was added; comments and everything else kept.
    let after = std::fs::read_to_string(&s.kc).unwrap();
    let added: Vec<&str> = after
        .lines()
        .filter(|l| !yaml.lines().any(|o| o == *l))
        .collect();
    assert_eq!(added, ["    tls-server-name: kubernetes"]);
    assert!(after.contains("    # the node's address\n"));
    let backups: Vec<String> = support::dir_names(s.dir.path())
        .into_iter()
        .filter(|n| n.starts_with("config.kubefix-") && n.ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join(&backups[0])).unwrap(),
        yaml
    );
    // Without --apply (or with nothing it may fix) nothing is written.
    let s2 = setup(&kubeconfig(
        &server.url,
        Some(&Ca::new("other").cert_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s2, &[], &["--apply"]);
    assert_eq!(r.code, 1);
    assert_eq!(support::dir_names(s2.dir.path()), ["config"]);
}

#[test]
fn a_server_requiring_a_client_certificate_in_the_handshake_is_still_probed() {
    let ca = Ca::new("cluster-ca");
    let alice = ca.client_cert("alice", &["dev"], Validity::Valid);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        ca: Some(ca),
        client_cert_required: true,
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_lines(&r, &["test: ok user=alice groups=dev,system:authenticated"]);
    // Without a certificate: the server's refusal is named.
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: t",
    ));
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1);
    assert_lines(&r, &[
        "test: the server requires a client certificate in the TLS handshake, and user test-user has none [client-cert-required]",
        "  kubectl says: Unable to connect to the server: remote error: tls: certificate required",
        "  fix: add the client certificate and key this server (or the mutual-TLS proxy in front of it) expects: client-certificate-data and client-key-data",
    ]);
    if let Some(k) = kubectl_says(&s) {
        // Go's HTTP transport sometimes reports the alert from its read loop, under load:
        // `…: readLoopPeekFailLocked: remote error: tls: certificate required`.
        assert!(
            k == "Unable to connect to the server: remote error: tls: certificate required"
                || k == "Unable to connect to the server: readLoopPeekFailLocked: remote error: tls: certificate required",
            "{k}"
        );
    }
}

/// `yaml` (from [`kubeconfig`]) with the cluster named `name` (YAML single-quoted).
fn cluster_named(yaml: &str, name: &str) -> String {
    let q = format!("'{}'", name.replace('\'', "''"));
    yaml.replace(
        "- name: test\n  cluster:",
        &format!("- name: {q}\n  cluster:"),
    )
    .replace("    cluster: test\n", &format!("    cluster: {q}\n"))
}

/// Every `kubectl …` command in the `fix:` lines of a run, pasted: none runs a command the
/// kubeconfig's author put in a name or a token claim.
fn fixes_are_harmless(r: &Run, dir: &Path) -> usize {
    let fixes: String = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  fix: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let cmds = support::commands_in(&fixes, &["kubectl "]);
    for c in &cmds {
        support::paste_is_harmless(c, dir);
    }
    cmds.len()
}

#[test]
fn probe_fixes_quote_names_and_claims_from_the_kubeconfig() {
    let mismatch = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["kubernetes".into()]),
        ..Default::default()
    });
    let unknown_ca = TestApiServer::start(ServerOptions::with_token("good-token"));
    let token_server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let port = closed_port();
    for w in support::HOSTILE_WORDS {
        let mut cases = vec![
            // no-server
            cluster_named(&kubeconfig("", None, &[], "token: t"), w).replace("    server: \n", ""),
            // refused on loopback
            cluster_named(
                &kubeconfig(&format!("https://127.0.0.1:{port}"), None, &[], "token: t"),
                w,
            ),
            // unknown authority, no CA
            cluster_named(&kubeconfig(&unknown_ca.url, None, &[], "token: t"), w),
            // name mismatch
            cluster_named(
                &kubeconfig(&mismatch.url, Some(&mismatch.ca_pem), &[], "token: t"),
                w,
            ),
        ];
        // token-expired: the service account's namespace and name come from the token.
        let token = jwt(serde_json::json!({
            "iss": "https://kubernetes.default.svc",
            "exp": 1_700_000_000,
            "kubernetes.io": {"namespace": w, "serviceaccount": {"name": w}},
        }));
        cases.push(kubeconfig(
            &token_server.url,
            Some(&token_server.ca_pem),
            &[],
            &format!("token: {token}"),
        ));
        for yaml in cases {
            let s = setup(&yaml);
            let r = probe(&s, &[], &[]);
            assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
            assert_eq!(fixes_are_harmless(&r, s.dir.path()), 1, "{}", r.stdout);
        }
    }
}

#[test]
fn no_tls_server_name_is_offered_but_the_names_every_api_server_has() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["evil.example".into(), "10.43.0.1".into()]),
        ..Default::default()
    });
    let yaml = kubeconfig(&server.url, Some(&server.ca_pem), &[], "token: good-token");
    let s = setup(&yaml);
    let r = probe(&s, &[], &["--apply"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("[name-mismatch]"), "{}", r.stdout);
    assert!(!r.stdout.contains("tls-server-name"), "{}", r.stdout);
    assert!(!r.stdout.contains("applied"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&s.kc).unwrap(), yaml);
    assert_eq!(support::dir_names(s.dir.path()), ["config"]);
    assert!(server.requests().is_empty());
    // kubernetes.default.svc is one of those names.
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["evil.example".into(), "kubernetes.default.svc".into()]),
        ..Default::default()
    });
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe(&s, &[], &[]);
    assert!(
        r.stdout
            .contains("config set-cluster --tls-server-name=kubernetes.default.svc -- test"),
        "{}",
        r.stdout
    );
}

#[test]
fn proxy_passwords_and_server_strings_are_tamed_in_json_and_text() {
    let server = TestApiServer::start(ServerOptions::with_token("good-token"));
    let port = closed_port();
    let proxy = format!("proxy-url: http://user:s3cretPASS@127.0.0.1:{port}");
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[&proxy],
        "token: good-token",
    ));
    for args in [&["-o", "json"][..], &[]] {
        let r = probe(&s, &[], args);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("127.0.0.1"), "{}", r.stdout);
        assert!(!r.stdout.contains("s3cretPASS"), "{}", r.stdout);
        assert!(!r.stderr.contains("s3cretPASS"), "{}", r.stderr);
    }
    // The same password in HTTPS_PROXY (used for a name that is not loopback).
    let s = setup(&kubeconfig(
        "https://kubernetes.test:6443",
        Some(&server.ca_pem),
        &[],
        "token: good-token",
    ));
    let r = probe_env(
        &s,
        &[(
            "HTTPS_PROXY",
            &format!("http://user:s3cretPASS@127.0.0.1:{port}"),
        )],
        &["-o", "json"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("HTTPS_PROXY"), "{}", r.stdout);
    assert!(!r.stdout.contains("s3cretPASS"), "{}", r.stdout);

    // A server that names the user with a hundred groups: the list is cut.
    let ca = Ca::new("cluster-ca");
    let orgs: Vec<String> = (0..120).map(|i| format!("g{i}")).collect();
    let orgs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    let alice = ca.client_cert("alice", &orgs, Validity::Valid);
    let server = cert_server(ca, ClientCertMode::Authenticator);
    let s = setup(&kubeconfig(
        &server.url,
        Some(&server.ca_pem),
        &[],
        &cert_user(&alice),
    ));
    let r = probe(&s, &[], &["-o", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let groups = v["contexts"][0]["identity"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 51, "{groups:?}");
    assert_eq!(groups[50], "… 71 more");
}

#[test]
fn probe_advice_names_the_users_file_and_pastes_as_is() {
    let server = TestApiServer::start(ServerOptions {
        tokens: vec!["good-token".into()],
        server_sans: Some(vec!["kubernetes".into()]),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my kube's dir");
    std::fs::create_dir(&sub).unwrap();
    let kc = sub.join("config");
    std::fs::write(
        &kc,
        kubeconfig(&server.url, Some(&server.ca_pem), &[], "token: good-token"),
    )
    .unwrap();
    let s = Setup { dir, kc };
    let r = probe(&s, &[], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let fix = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  fix: "))
        .unwrap()
        .to_string();
    // The kubectl command edits the user's file, not ~/.kube/config.
    let kubectl = support::commands_in(&fix, &["kubectl "]);
    assert_eq!(kubectl.len(), 1, "{fix}");
    let bin = s.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let args_file = s.dir.path().join("kubectl-args");
    let stub = bin.join("kubectl");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("kubefix");
    std::os::unix::fs::symlink(&exe, bin.join("kubefix")).unwrap();
    let mut path = bin.clone().into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap());
    let sh = |line: &str| {
        let o = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(s.dir.path())
            .env("PATH", &path)
            .env("HOME", s.dir.path())
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        assert!(o.status.code().is_some(), "{line}");
        o
    };
    sh(&kubectl[0]);
    let got = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        got.lines().collect::<Vec<_>>(),
        [
            "--kubeconfig",
            s.kc.to_str().unwrap(),
            "config",
            "set-cluster",
            "--tls-server-name=kubernetes",
            "--",
            "test"
        ]
    );
    // ~/.kube/config is what kubectl edits anyway: no --kubeconfig.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".kube")).unwrap();
    let default = home.path().join(".kube/config");
    std::fs::copy(&s.kc, &default).unwrap();
    let d = Setup {
        dir: home,
        kc: default,
    };
    let r = probe_env(&d, &[("HOME", d.dir.path().to_str().unwrap())], &[]);
    assert!(
        r.stdout
            .contains(": kubectl config set-cluster --tls-server-name=kubernetes -- test (or `"),
        "{}",
        r.stdout
    );
    // The kubefix command, as printed between backticks, runs and does what it says.
    let kubefix = fix.split('`').nth(1).unwrap();
    assert!(
        kubefix.starts_with("kubefix ") && !kubefix.contains("(rule"),
        "{fix}"
    );
    let o = sh(kubefix);
    assert!(
        std::fs::read_to_string(&s.kc)
            .unwrap()
            .contains("tls-server-name: kubernetes"),
        "{kubefix}: {}",
        support::output_text(&o)
    );
}

/// A plain-http API server on loopback that answers `/version` at once and each
/// SelfSubjectReview after `delay`: v1 with 404, v1beta1 with the user.
fn slow_ssr_server(delay: Duration) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = c.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(head_end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let len = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < head_end + 4 + len {
                        continue;
                    }
                    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                    buf.drain(..head_end + 4 + len);
                    let (status, body) = if path == "/version" {
                        ("200 OK", r#"{"gitVersion":"v1.26.0"}"#.to_string())
                    } else if path.contains("/v1/") {
                        std::thread::sleep(delay);
                        ("404 Not Found", "{}".to_string())
                    } else {
                        std::thread::sleep(delay);
                        (
                            "201 Created",
                            r#"{"status":{"userInfo":{"username":"slow","groups":[]}}}"#
                                .to_string(),
                        )
                    };
                    let _ = write!(
                        c,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    url
}

#[test]
fn the_v1beta1_fallback_gets_the_time_left_not_a_new_timeout() {
    let url = slow_ssr_server(Duration::from_millis(1500));
    let s = setup(&kubeconfig(&url, None, &[], "token: t"));
    let started = Instant::now();
    let mut cmd = Command::cargo_bin("kubefix").unwrap();
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "KUBECONFIG",
    ] {
        cmd.env_remove(v);
    }
    let o = cmd
        .arg("--k3s-config")
        .arg(s.dir.path().join("no-k3s.yaml"))
        .args(["probe", "--kubeconfig"])
        .arg(&s.kc)
        .args(["--timeout", "2s"])
        .output()
        .unwrap();
    let took = started.elapsed();
    // v1 answers after 1.5s; v1beta1 would answer after 3s, past the 2s deadline.
    assert_eq!(o.status.code(), Some(1), "{}", support::output_text(&o));
    assert!(took < Duration::from_millis(2900), "took {took:?}");
}
