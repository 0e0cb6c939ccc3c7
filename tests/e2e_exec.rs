//! End to end with the real client: kubectl fails on the broken kubeconfig with the message
//! users see, `kubefix --apply` repairs it, and kubectl then runs the exec plugin and
//! authenticates against a loopback HTTPS API server that each test starts and stops.
//!
//! Needs `kubectl` (and `aws` for the EKS test) on PATH; skips with a reason otherwise,
//! unless `KUBEFIX_REQUIRE_E2E=1`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use support::apiserver::{kubeconfig_yaml, Auth, ServerOptions, TestApiServer};
use support::output_text as text;

const TOKEN: &str = "kubefix-e2e-token-0123456789";

fn kubectl_get_pods(
    kubectl: &Path,
    kubeconfig: &Path,
    cache: &Path,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = support::kubectl_command(kubectl, kubeconfig, cache);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(["get", "pods"]).output().expect("run kubectl")
}

/// A plugin that prints an ExecCredential with TOKEN, echoing the apiVersion kubectl asked
/// for (from KUBERNETES_EXEC_INFO), as real plugins do.
fn write_plugin(dir: &Path) -> PathBuf {
    let path = dir.join("fake-credential-plugin");
    let script = format!(
        "#!/bin/sh\n\
         api=$(printf '%s' \"$KUBERNETES_EXEC_INFO\" | sed -n 's/.*\"apiVersion\":\"\\([^\"]*\\)\".*/\\1/p')\n\
         [ -n \"$api\" ] || api=client.authentication.k8s.io/v1beta1\n\
         printf '{{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}\\n' \"$api\"\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn kubefix_apply(kubeconfig: &Path, extra: &[&str]) -> Output {
    let out = Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .arg("--apply")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubefix --apply failed: {}",
        text(&out)
    );
    out
}

/// The whole story for one exec section, with `# comments` that must survive.
fn broken_then_fixed(exec_yaml: &str, extra: &[&str], expect_after: &[&str]) {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let plugin = write_plugin(dir.path());
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let user = format!(
        "# credentials come from the plugin\nexec:\n{}",
        exec_yaml
            .replace("PLUGIN", &plugin.display().to_string())
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let config = dir.path().join("config");
    let original = format!("# my clusters\n{}", kubeconfig_yaml(&server, &user));
    std::fs::write(&config, &original).unwrap();

    let before = kubectl_get_pods(&kubectl, &config, &cache, &[]);
    assert!(
        !before.status.success(),
        "kubectl should fail first: {}",
        text(&before)
    );
    assert!(
        String::from_utf8_lossy(&before.stderr)
            .contains("exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\""),
        "{}",
        text(&before)
    );
    assert!(
        server.requests().is_empty(),
        "no request may reach the server before the fix"
    );

    kubefix_apply(&config, extra);
    let fixed = std::fs::read_to_string(&config).unwrap();
    assert!(fixed.starts_with("# my clusters\n"));
    assert!(fixed.contains("# credentials come from the plugin"));
    for want in expect_after {
        assert!(fixed.contains(want), "missing {want:?} in\n{fixed}");
    }
    assert!(!fixed.contains("v1alpha1"));

    let after = kubectl_get_pods(&kubectl, &config, &cache, &[]);
    assert!(
        after.status.success(),
        "kubectl should work after the fix: {}",
        text(&after)
    );
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("No resources found"),
        "{}",
        text(&after)
    );
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .any(|r| r.auth == Auth::Token(TOKEN.into()) && r.status == 200),
        "the server saw no authenticated request: {reqs:?}"
    );
    // Idempotent: a second apply writes nothing.
    let backups = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".kubefix-")
            })
            .count()
    };
    assert_eq!(backups(), 1);
    kubefix_apply(&config, extra);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), fixed);
    assert_eq!(backups(), 1);
    server.stop();
}

#[test]
fn v1alpha1_plugin_is_fixed_to_v1beta1_and_kubectl_authenticates() {
    broken_then_fixed(
        "apiVersion: client.authentication.k8s.io/v1alpha1  # written by aws-cli 1.18\ncommand: PLUGIN\n",
        &[],
        &["apiVersion: client.authentication.k8s.io/v1beta1  # written by aws-cli 1.18"],
    );
}

#[test]
fn v1alpha1_plugin_is_fixed_to_v1_with_interactive_mode() {
    broken_then_fixed(
        "apiVersion: \"client.authentication.k8s.io/v1alpha1\"\ncommand: PLUGIN\nargs:\n- --flag\n",
        &["--exec-api-version", "v1"],
        &[
            "apiVersion: \"client.authentication.k8s.io/v1\"",
            "interactiveMode: IfAvailable",
        ],
    );
}

#[test]
fn v1_without_interactive_mode_is_fixed() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let plugin = write_plugin(dir.path());
    let server = TestApiServer::start(ServerOptions::with_token(TOKEN));
    let user = format!(
        "exec: {{apiVersion: client.authentication.k8s.io/v1, command: {}}}\n",
        plugin.display()
    );
    let config = dir.path().join("config");
    std::fs::write(&config, kubeconfig_yaml(&server, &user)).unwrap();
    let before = kubectl_get_pods(&kubectl, &config, &cache, &[]);
    assert!(!before.status.success());
    assert!(
        String::from_utf8_lossy(&before.stderr).contains(
            "interactiveMode must be specified for test-user to use exec authentication plugin"
        ),
        "{}",
        text(&before)
    );
    kubefix_apply(&config, &[]);
    let fixed = std::fs::read_to_string(&config).unwrap();
    assert!(fixed.contains(", interactiveMode: IfAvailable}"), "{fixed}");
    let after = kubectl_get_pods(&kubectl, &config, &cache, &[]);
    assert!(after.status.success(), "{}", text(&after));
    server.stop();
}

/// The real `aws eks get-token` (offline with dummy credentials: it presigns an STS URL
/// locally), configured the way old `aws eks update-kubeconfig` wrote it.
#[test]
fn real_aws_eks_get_token_works_after_fix() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let Some(aws) = support::require_or_skip("aws") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = TestApiServer::start(ServerOptions {
        token_prefixes: vec!["k8s-aws-v1.".into()],
        ..ServerOptions::default()
    });
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1alpha1\n  args:\n  - --region\n  - us-east-1\n  - eks\n  - get-token\n  - --cluster-name\n  - demo\n  command: {}\n  env:\n  - name: AWS_ACCESS_KEY_ID\n    value: AKIAIOSFODNN7EXAMPLE\n  - name: AWS_SECRET_ACCESS_KEY\n    value: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n",
        aws.display()
    );
    let config = dir.path().join("config");
    std::fs::write(&config, kubeconfig_yaml(&server, &user)).unwrap();
    let env = [
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let before = kubectl_get_pods(&kubectl, &config, &cache, &env);
    assert!(!before.status.success());
    assert!(String::from_utf8_lossy(&before.stderr).contains("invalid apiVersion"));

    let out = kubefix_apply(&config, &[]);
    // The secret access key is an exec env value: never printed.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"));

    let after = kubectl_get_pods(&kubectl, &config, &cache, &env);
    assert!(after.status.success(), "{}", text(&after));
    assert!(
        server.requests().iter().any(
            |r| matches!(&r.auth, Auth::Token(t) if t.starts_with("k8s-aws-v1."))
                && r.status == 200
        ),
        "the server saw no aws token"
    );
    server.stop();
}
