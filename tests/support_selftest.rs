//! Self-test of the integration-test support code: the PKI generator and
//! the loopback fake API server, exercised with a raw rustls client and
//! (when installed) the real `kubectl` and `aws` CLIs.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::apiserver::{
    kubeconfig_yaml, subject_cn_and_orgs, Auth, ClientCertMode, ServerOptions, TestApiServer,
};
use support::pki::{pem_body, Ca, Issued, Validity};
use support::{kubectl_command, require_or_skip};

const GOOD: &str = "good-token-123";

/// Writes a kubeconfig for `user_yaml` into a fresh temp dir and runs
/// `kubectl <args>` against it with an isolated cache dir and stdin closed.
fn run_kubectl(
    kubectl: &Path,
    server: &TestApiServer,
    user_yaml: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, kubeconfig_yaml(server, user_yaml)).unwrap();
    let mut cmd = kubectl_command(kubectl, &kc, &dir.path().join("cache"));
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kubectl");
    eprintln!(
        "kubectl {args:?} -> {:?}\n--- stdout\n{}--- stderr\n{}---",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn cert_user_yaml(issued: &Issued) -> String {
    format!(
        "client-certificate-data: {}\nclient-key-data: {}",
        issued.cert_b64(),
        issued.key_b64()
    )
}

/// `get --raw /version` and `get pods` both succeed.
fn assert_kubectl_ok(
    kubectl: &Path,
    server: &TestApiServer,
    user_yaml: &str,
    envs: &[(&str, &str)],
) {
    let out = run_kubectl(
        kubectl,
        server,
        user_yaml,
        &["get", "--raw", "/version"],
        envs,
    );
    assert!(
        out.status.success(),
        "get --raw /version failed: {}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("version JSON");
    assert_eq!(v["gitVersion"], "v1.32.0");

    let out = run_kubectl(kubectl, server, user_yaml, &["get", "pods"], envs);
    assert!(out.status.success(), "get pods failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out).trim(),
        "No resources found in default namespace."
    );
}

// ---------------------------------------------------------------------------
// kubectl end-to-end

#[test]
fn kubectl_token_user_accepted() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    assert_kubectl_ok(&kubectl, &server, &format!("token: {GOOD}"), &[]);

    let reqs = server.requests();
    assert!(reqs.iter().any(|r| r.path == "/version" && r.status == 200));
    let pods = reqs
        .iter()
        .find(|r| r.path == "/api/v1/namespaces/default/pods")
        .expect("pod list request");
    assert_eq!(pods.status, 200);
    assert!(pods.accept.as_deref().unwrap_or("").contains("as=Table"));
    assert!(
        reqs.iter().all(|r| r.auth == Auth::Token(GOOD.into())),
        "{reqs:#?}"
    );
}

#[test]
fn kubectl_wrong_token_unauthorized() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    let user = "token: wrong-token";

    let out = run_kubectl(&kubectl, &server, user, &["get", "--raw", "/version"], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("error: You must be logged in to the server (Unauthorized)"),
        "{}",
        stderr(&out)
    );

    // With a cold discovery cache, `get pods` fails in discovery and words
    // it differently: "(the server has asked for the client to provide
    // credentials)".
    let out = run_kubectl(&kubectl, &server, user, &["get", "pods"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
        ),
        "{}",
        stderr(&out)
    );

    let reqs = server.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!(r.status, 401, "{r:?}");
        assert_eq!(r.auth, Auth::None);
        assert_eq!(r.presented_token.as_deref(), Some("wrong-token"));
    }
}

#[test]
fn kubectl_client_cert_user_accepted() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let ca = Ca::new("kubefix-client-ca");
    let alice = ca.client_cert("alice", &["system:masters", "dev"], Validity::Valid);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        ca: Some(ca),
        ..Default::default()
    });
    assert_kubectl_ok(&kubectl, &server, &cert_user_yaml(&alice), &[]);

    let reqs = server.requests();
    assert!(reqs.len() >= 2);
    let want = Auth::ClientCert {
        cn: "alice".into(),
        orgs: vec!["system:masters".into(), "dev".into()],
    };
    assert!(
        reqs.iter().all(|r| r.auth == want && r.status == 200),
        "{reqs:#?}"
    );
    assert!(server.tls_errors().is_empty());
}

#[test]
fn kubectl_client_cert_from_other_ca_fails_handshake() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let other = Ca::new("some-other-ca");
    let mallory = other.client_cert("mallory", &["system:masters"], Validity::Valid);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(Ca::new("the-client-ca").cert_pem),
        ..Default::default()
    });
    let out = run_kubectl(
        &kubectl,
        &server,
        &cert_user_yaml(&mallory),
        &["get", "--raw", "/version"],
        &[],
    );
    assert!(!out.status.success());
    // An untrusted client cert fails the handshake (rustls sends
    // unknown_ca), as with a real apiserver.
    assert!(
        stderr(&out).contains("remote error: tls: unknown certificate authority"),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());
}

#[test]
fn kubectl_expired_client_cert_fails_handshake() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let ca = Ca::new("kubefix-client-ca");
    let bob = ca.client_cert("bob", &["dev"], Validity::Expired);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        ca: Some(ca),
        ..Default::default()
    });
    let user = cert_user_yaml(&bob);
    for args in [&["get", "--raw", "/version"][..], &["get", "pods"][..]] {
        let out = run_kubectl(&kubectl, &server, &user, args, &[]);
        assert_eq!(out.status.code(), Some(1));
        // The last stderr line is usually exactly "Unable to connect to the
        // server: remote error: tls: expired certificate"; with TLS 1.3 the
        // alert can race Go's idle-connection reader, which adds a
        // "readLoopPeekFailLocked: " infix. `get pods` (cold discovery
        // cache) first logs memcache.go "couldn't get current server API
        // group list: Get ...: remote error: tls: expired certificate" lines.
        let err = stderr(&out);
        let last = err.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("Unable to connect to the server: "),
            "{err}"
        );
        assert!(
            last.ends_with("remote error: tls: expired certificate"),
            "{err}"
        );
    }
    assert!(
        server.requests().is_empty(),
        "no HTTP request may get through"
    );
    let errs = server.tls_errors();
    assert!(!errs.is_empty());
    assert!(
        errs.iter().all(|e| e.contains("certificate expired")),
        "{errs:?}"
    );
}

#[test]
fn kubectl_expired_client_cert_authenticator_mode_is_unauthorized() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let ca = Ca::new("kubefix-client-ca");
    let bob = ca.client_cert("bob", &["dev"], Validity::Expired);
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        client_cert_mode: ClientCertMode::Authenticator,
        tokens: vec![GOOD.into()],
        ca: Some(ca),
        ..Default::default()
    });
    // Like a real kube-apiserver: the handshake succeeds, authn fails.
    let out = run_kubectl(
        &kubectl,
        &server,
        &cert_user_yaml(&bob),
        &["get", "--raw", "/version"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );
    let reqs = server.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!((r.status, &r.auth), (401, &Auth::None));
        let e = r.client_cert_error.as_deref().unwrap_or("");
        assert!(e.contains("certificate expired"), "{e}");
    }
    assert!(server.tls_errors().is_empty());

    // An expired cert next to a valid token: the token authenticates.
    let user = format!("{}\ntoken: {GOOD}", cert_user_yaml(&bob));
    let out = run_kubectl(&kubectl, &server, &user, &["get", "--raw", "/version"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        server.requests().last().unwrap().auth,
        Auth::Token(GOOD.into())
    );
}

#[test]
fn kubectl_valid_client_cert_authenticator_mode_accepted() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let ca = Ca::new("kubefix-client-ca");
    let alice = ca.client_cert("alice", &["system:masters"], Validity::ExpiresInDays(2));
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        client_cert_mode: ClientCertMode::Authenticator,
        ca: Some(ca),
        ..Default::default()
    });
    assert_kubectl_ok(&kubectl, &server, &cert_user_yaml(&alice), &[]);
    let want = Auth::ClientCert {
        cn: "alice".into(),
        orgs: vec!["system:masters".into()],
    };
    assert!(server
        .requests()
        .iter()
        .all(|r| r.auth == want && r.client_cert_error.is_none()));
}

#[test]
fn kubectl_user_without_credentials_prompts_for_basic_auth() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    // An empty `user: {}` makes kubectl ask for basic-auth credentials on
    // stdin; with stdin closed it fails with EOF before sending anything.
    let out = run_kubectl(&kubectl, &server, "", &["get", "--raw", "/version"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Please enter Username: ");
    assert_eq!(stderr(&out).trim(), "error: EOF");
}

fn write_exec_plugin(dir: &Path, token: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("cred-plugin.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn kubectl_exec_plugin_v1beta1_accepted() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = write_exec_plugin(dir.path(), GOOD);
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: {}\n  interactiveMode: Never",
        script.display()
    );
    assert_kubectl_ok(&kubectl, &server, &user, &[]);
    let reqs = server.requests();
    assert!(reqs.len() >= 2);
    assert!(
        reqs.iter().all(|r| r.auth == Auth::Token(GOOD.into())),
        "{reqs:#?}"
    );
}

#[test]
fn kubectl_exec_plugin_v1alpha1_rejected() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = write_exec_plugin(dir.path(), GOOD);
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1alpha1\n  command: {}\n  interactiveMode: Never",
        script.display()
    );
    let out = run_kubectl(&kubectl, &server, &user, &["get", "--raw", "/version"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\""
    );
    // Rejected while loading the config: nothing reaches the server.
    assert!(server.requests().is_empty());
}

#[test]
fn kubectl_aws_eks_get_token_accepted_by_prefix() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let Some(_aws) = require_or_skip("aws") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let server = TestApiServer::start(ServerOptions {
        token_prefixes: vec!["k8s-aws-v1.".into()],
        ..Default::default()
    });
    let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: aws\n  args: [eks, get-token, --cluster-name, demo, --region, us-east-1]\n  interactiveMode: Never";
    let envs = [
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_CONFIG_FILE", missing),
        ("AWS_SHARED_CREDENTIALS_FILE", missing),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = run_kubectl(
        &kubectl,
        &server,
        user,
        &["get", "--raw", "/version"],
        &envs,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reqs = server.requests();
    let tok = reqs
        .iter()
        .find_map(|r| match &r.auth {
            Auth::Token(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a request authenticated by the aws token");
    assert!(tok.starts_with("k8s-aws-v1."));
}

// ---------------------------------------------------------------------------
// Server and PKI without kubectl (raw rustls client)

fn tls_client(
    server: &TestApiServer,
    client: Option<&Issued>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pem_body(&server.ca_pem).into()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(c) => builder
            .with_client_auth_cert(
                vec![pem_body(&c.cert_pem).into()],
                rustls_pemfile::private_key(&mut c.key_pem.as_bytes())
                    .unwrap()
                    .unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "127.0.0.1".try_into().unwrap()).unwrap();
    let sock = TcpStream::connect(server.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    rustls::StreamOwned::new(conn, sock)
}

/// Sends one GET and reads one response (Content-Length framed).
fn get(stream: &mut impl ReadWrite, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Accept: application/json\r\n\r\n"
    )
    .unwrap();
    stream.flush().unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

#[test]
fn server_routes_and_keep_alive() {
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    assert!(server.url.starts_with("https://127.0.0.1:"));
    let mut s = tls_client(&server, None);
    // Several requests on one keep-alive connection.
    let (st, body) = get(&mut s, "/version", Some(GOOD));
    assert_eq!(st, 200);
    assert!(body.contains("\"gitVersion\":\"v1.32.0\""));
    let (st, body) = get(&mut s, "/api", Some(GOOD));
    assert_eq!(st, 200);
    assert!(body.contains("APIVersions"));
    let (st, body) = get(&mut s, "/api/v1", Some(GOOD));
    assert_eq!(st, 200);
    assert!(body.contains("\"name\":\"pods\""));
    let (st, body) = get(
        &mut s,
        "/api/v1/namespaces/kube-system/pods?limit=500",
        Some(GOOD),
    );
    assert_eq!((st, body.contains("\"kind\":\"PodList\"")), (200, true));
    let (st, body) = get(&mut s, "/apis/apps/v1", Some(GOOD));
    assert_eq!(st, 404);
    assert!(body.contains("\"reason\":\"NotFound\""));
    let (st, body) = get(&mut s, "/version", Some("nope"));
    assert_eq!(st, 401);
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        status,
        serde_json::json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
    );
    let (st, _) = get(&mut s, "/version", None);
    assert_eq!(st, 401);

    let reqs = server.requests();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 404, 401, 401]);
    assert_eq!(reqs[3].path, "/api/v1/namespaces/kube-system/pods");
    assert_eq!(reqs[3].query.as_deref(), Some("limit=500"));
    assert_eq!(reqs[5].presented_token.as_deref(), Some("nope"));
    assert_eq!(reqs[6].auth, Auth::None);
}

#[test]
fn server_client_cert_identity_and_prefix_tokens() {
    let ca = Ca::new("ca");
    let carol = ca.client_cert("carol", &["a", "b", "c"], Validity::ExpiresInDays(3));
    let server = TestApiServer::start(ServerOptions {
        token_prefixes: vec!["k8s-aws-v1.".into()],
        client_ca_pem: Some(ca.cert_pem.clone()),
        ..Default::default()
    });
    let mut s = tls_client(&server, Some(&carol));
    assert_eq!(get(&mut s, "/apis", None).0, 200);
    let mut s = tls_client(&server, None);
    assert_eq!(get(&mut s, "/version", Some("k8s-aws-v1.abc")).0, 200);
    assert_eq!(get(&mut s, "/version", Some("k8s-aws-v2.abc")).0, 401);
    let auths: Vec<Auth> = server.requests().into_iter().map(|r| r.auth).collect();
    assert_eq!(
        auths,
        [
            Auth::ClientCert {
                cn: "carol".into(),
                orgs: vec!["a".into(), "b".into(), "c".into()]
            },
            Auth::Token("k8s-aws-v1.abc".into()),
            Auth::None,
        ]
    );
}

#[test]
fn pki_subjects_and_validity_windows() {
    let ca = Ca::new("ca");
    for orgs in [&[][..], &["one"][..], &["one", "two", "three"][..]] {
        let c = ca.client_cert("user", orgs, Validity::Valid);
        let (cn, got) = subject_cn_and_orgs(&pem_body(&c.cert_pem)).unwrap();
        assert_eq!(cn, "user");
        assert_eq!(got, orgs);
        assert!(c.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    assert_eq!(Validity::Expired.days(), (-400, -35));
    assert_eq!(Validity::ExpiresInDays(7).days(), (-1, 7));
    // Validity is enforced by the server's verifier: a not-yet-valid cert
    // is rejected at the handshake too.
    let future = ca.client_cert(
        "later",
        &[],
        Validity::Window {
            not_before_days_from_now: 2,
            not_after_days_from_now: 30,
        },
    );
    let server = TestApiServer::start(ServerOptions {
        client_ca_pem: Some(ca.cert_pem.clone()),
        ..Default::default()
    });
    let mut s = tls_client(&server, Some(&future));
    let _ = write!(s, "GET /version HTTP/1.1\r\nHost: x\r\n\r\n").and_then(|_| s.flush());
    let mut buf = [0u8; 16];
    assert!(s.read(&mut buf).is_err(), "handshake must fail");
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.tls_errors().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let errs = server.tls_errors();
    assert!(errs.iter().any(|e| e.contains("not valid yet")), "{errs:?}");
}

#[test]
fn kubeconfig_yaml_layout() {
    let server = TestApiServer::start(ServerOptions::default());
    let y = kubeconfig_yaml(&server, "exec:\n  command: foo\n  args: [a]\n");
    let ca = support::b64(server.ca_pem.as_bytes());
    let expected = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test-user\ncurrent-context: test\npreferences: {{}}\nusers:\n- name: test-user\n  user:\n    exec:\n      command: foo\n      args: [a]\n",
        server.url
    );
    assert_eq!(y, expected);
    assert!(kubeconfig_yaml(&server, "").ends_with("- name: test-user\n  user: {}\n"));
}

#[test]
fn server_stop_is_prompt_with_idle_connection() {
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    let mut s = tls_client(&server, None);
    assert_eq!(get(&mut s, "/version", Some(GOOD)).0, 200);
    // The connection stays open (idle keep-alive) while we stop.
    let t = Instant::now();
    server.stop();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    let mut buf = [0u8; 1];
    assert!(
        matches!(s.read(&mut buf), Ok(0) | Err(_)),
        "connection closed after stop"
    );
}

#[test]
fn kubectl_cache_dir_env_and_flag() {
    let Some(kubectl) = require_or_skip("kubectl") else {
        return;
    };
    let server = TestApiServer::start(ServerOptions::with_token(GOOD));
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, kubeconfig_yaml(&server, &format!("token: {GOOD}"))).unwrap();
    let home = dir.path().join("home");
    let (env_dir, flag_dir) = (dir.path().join("env-cache"), dir.path().join("flag-cache"));
    let run = |with_flag: bool| {
        let mut cmd = std::process::Command::new(&kubectl);
        cmd.env_remove("KUBECONFIG")
            .env("HOME", &home)
            .env("KUBECACHEDIR", &env_dir)
            .arg("--kubeconfig")
            .arg(&kc);
        if with_flag {
            cmd.arg("--cache-dir").arg(&flag_dir);
        }
        let out = cmd
            .args(["get", "pods"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    // The flag wins over the env var...
    run(true);
    assert!(flag_dir.join("discovery").is_dir());
    assert!(!env_dir.exists());
    // ...and the env var alone replaces $HOME/.kube/cache.
    run(false);
    assert!(env_dir.join("discovery").is_dir());
    assert!(env_dir.join("http").is_dir());
    assert!(!home.join(".kube").exists());
}
