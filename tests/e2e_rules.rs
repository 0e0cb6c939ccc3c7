//! The rules of issue #4 with the real client: kubectl fails on the broken kubeconfig with
//! the message kubefix quotes, `kubefix --apply` repairs it, and kubectl then authenticates
//! against a loopback HTTPS API server (through fake `gke-gcloud-auth-plugin` and `kubelogin`
//! scripts on PATH for the auth-providers). For the report-only rules, kubectl's own error
//! must contain the `kubectlError` kubefix reports.
//!
//! Needs `kubectl` on PATH; skips with a reason otherwise, unless `KUBEFIX_REQUIRE_E2E=1`.

mod support;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use support::apiserver::{kubeconfig_yaml, Auth, ServerOptions, TestApiServer};
use support::output_text as text;

const TOKEN: &str = "kubefix-e2e-rules-token-42";

/// `bin` in front of the real PATH (so kubectl finds our fake plugins first).
fn path_with(bin: &Path) -> OsString {
    let mut dirs = vec![bin.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

fn kubectl_get_pods(kubectl: &Path, config: &Path, cache: &Path, path: &OsString) -> Output {
    support::kubectl_command(kubectl, config, cache)
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .args(["get", "pods"])
        .output()
        .expect("run kubectl")
}

fn kubefix(config: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .arg("--kubeconfig")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// A credential plugin printing an ExecCredential with TOKEN; it fails unless its args are
/// `want_args` (when given), so the test proves what kubectl passed.
fn fake_plugin(bin: &Path, name: &str, want_args: Option<&str>) -> PathBuf {
    let p = bin.join(name);
    let check = want_args
        .map(|a| format!("[ \"$*\" = '{a}' ] || {{ echo \"unexpected args: $*\" >&2; exit 7; }}\n"))
        .unwrap_or_default();
    fs::write(
        &p,
        format!(
            "#!/bin/sh\n{check}printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}\\n'\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// kubectl fails with `before_msg` and reaches no server; kubefix --apply; kubectl then
/// authenticates with TOKEN. Returns the fixed text.
fn broken_then_fixed(
    config_text: &str,
    bin: &Path,
    server: &TestApiServer,
    before_msg: &str,
    args: &[&str],
) -> Option<String> {
    let kubectl = support::require_or_skip("kubectl")?;
    let dir = bin.parent().unwrap();
    let cache = dir.join("cache");
    let config = dir.join("config");
    fs::write(&config, config_text).unwrap();
    let path = path_with(bin);

    let before = kubectl_get_pods(&kubectl, &config, &cache, &path);
    assert!(!before.status.success(), "{}", text(&before));
    assert!(
        String::from_utf8_lossy(&before.stderr).contains(before_msg),
        "want {before_msg:?}: {}",
        text(&before)
    );
    assert!(server.requests().is_empty());

    let mut a = vec!["--apply"];
    a.extend_from_slice(args);
    let out = kubefix(&config, &a);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fixed = fs::read_to_string(&config).unwrap();

    let after = kubectl_get_pods(&kubectl, &config, &cache, &path);
    assert!(after.status.success(), "{}\n{fixed}", text(&after));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.auth == Auth::Token(TOKEN.into()) && r.status == 200),
        "no authenticated request"
    );
    Some(fixed)
}

#[test]
fn insecure_with_ca_fixed_and_verified_against_the_server_ca() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let cfg = kubeconfig_yaml(&server, &format!("token: {TOKEN}\n")).replace(
        "    certificate-authority-data:",
        "    insecure-skip-tls-verify: true # temporary\n    certificate-authority-data:",
    );
    assert!(cfg.contains("insecure-skip-tls-verify"));
    let Some(fixed) = broken_then_fixed(
        &cfg,
        &bin,
        &server,
        "error: specifying a root certificates file with the insecure flag is not allowed",
        &[],
    ) else {
        return;
    };
    assert_eq!(
        fixed,
        cfg.replace("    insecure-skip-tls-verify: true # temporary\n", "")
    );
    server.stop();
}

#[test]
fn ca_data_and_file_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    fs::write(dir.path().join("ca.crt"), &server.ca().cert_pem).unwrap();
    let cfg = kubeconfig_yaml(&server, &format!("token: {TOKEN}\n")).replace(
        "    certificate-authority-data:",
        "    certificate-authority: ca.crt\n    certificate-authority-data:",
    );
    let Some(fixed) = broken_then_fixed(
        &cfg,
        &bin,
        &server,
        "certificate-authority-data and certificate-authority are both specified for test. certificate-authority-data will override.",
        &[],
    ) else {
        return;
    };
    assert_eq!(
        fixed,
        cfg.replace("    certificate-authority: ca.crt\n", "")
    );
    server.stop();
}

#[test]
fn gcp_auth_provider_becomes_gke_gcloud_auth_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fake_plugin(&bin, "gke-gcloud-auth-plugin", None);
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let cfg = kubeconfig_yaml(
        &server,
        "# GKE, before gke-gcloud-auth-plugin\nauth-provider:\n  config:\n    access-token: ya29.FAKE-old\n    cmd-args: config config-helper --format=json\n    cmd-path: /usr/lib/google-cloud-sdk/bin/gcloud\n    expiry-key: '{.credential.token_expiry}'\n    token-key: '{.credential.access_token}'\n  name: gcp\n",
    );
    let Some(fixed) = broken_then_fixed(
        &cfg,
        &bin,
        &server,
        "The gcp auth plugin has been removed.\nPlease use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead.",
        &[],
    ) else {
        return;
    };
    assert!(fixed.contains("    # GKE, before gke-gcloud-auth-plugin\n    exec:\n"));
    assert!(!fixed.contains("ya29"));
    server.stop();
}

#[test]
fn azure_auth_provider_becomes_kubelogin() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fake_plugin(
        &bin,
        "kubelogin",
        Some("get-token --login devicecode --server-id 00000000-aaaa-4bbb-8ccc-000000000001 --client-id 00000000-aaaa-4bbb-8ccc-000000000002 --tenant-id 00000000-aaaa-4bbb-8ccc-000000000003 --environment AzurePublicCloud --legacy"),
    );
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let cfg = kubeconfig_yaml(
        &server,
        "auth-provider:\n  config:\n    access-token: FAKE-aks-token\n    apiserver-id: 00000000-aaaa-4bbb-8ccc-000000000001\n    client-id: 00000000-aaaa-4bbb-8ccc-000000000002\n    environment: AzurePublicCloud\n    tenant-id: 00000000-aaaa-4bbb-8ccc-000000000003\n  name: azure\n",
    );
    let Some(_) = broken_then_fixed(
        &cfg,
        &bin,
        &server,
        "The azure auth plugin has been removed.\nPlease use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.",
        &[],
    ) else {
        return;
    };
    server.stop();
}

/// Without kubelogin installed, kubectl accepts the new stanza and shows our installHint.
#[test]
fn azure_without_kubelogin_shows_the_install_hint() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let config = dir.path().join("config");
    fs::write(
        &config,
        kubeconfig_yaml(
            &server,
            "auth-provider:\n  config:\n    apiserver-id: s\n    client-id: c\n    tenant-id: t\n  name: azure\n",
        ),
    )
    .unwrap();
    assert_eq!(kubefix(&config, &["--apply"]).status.code(), Some(0));
    // Only bin/ (empty) on PATH: kubelogin is certainly absent.
    let out = kubectl_get_pods(
        &kubectl,
        &config,
        &dir.path().join("cache"),
        &bin.into_os_string(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("exec: executable kubelogin not found"),
        "{err}"
    );
    assert!(
        err.contains(
            "kubelogin is not installed which is required to connect to AAD enabled cluster."
        ),
        "{err}"
    );
    assert!(server.requests().is_empty());
    server.stop();
}

/// For the report-only rules, kubectl's error contains what kubefix says kubectl says.
#[test]
fn kubectl_says_what_kubefix_quotes() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (fixture, rule) in [
        ("missing-file.yaml", "missing-file"),
        ("dangling-reference.yaml", "dangling-reference"),
        ("duplicate-name.yaml", "duplicate-name"),
        ("insecure-with-ca.yaml", "insecure-with-ca"),
    ] {
        let config = dir.path().join(fixture);
        fs::copy(Path::new("testdata").join(fixture), &config).unwrap();
        let out = kubefix(&config, &["-o", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let said: Vec<String> = report["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .filter_map(|f| f["kubectlError"].as_str())
            .map(|s| s.trim_end_matches(" in list: […]").to_string())
            .collect();
        assert!(!said.is_empty(), "{fixture}: no {rule} finding");
        let k = kubectl_get_pods(
            &kubectl,
            &config,
            &dir.path().join("cache"),
            &std::env::var_os("PATH").unwrap_or_default(),
        );
        let err = String::from_utf8_lossy(&k.stderr);
        assert!(!k.status.success());
        assert!(
            said.iter().any(|s| err.contains(s.as_str())),
            "{fixture}: kubectl said\n{err}\nkubefix quoted {said:?}"
        );
    }
}
