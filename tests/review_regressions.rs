//! Regressions found by reviewing kubefix as a user would; each test is one finding.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use assert_cmd::prelude::*;

const HEAD: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";

use support::kubefix_in as kubefix;

use support::stdout_and_stderr as all;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

#[test]
fn one_file_spelled_twice_in_kubeconfig_is_checked_once_and_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a",
        &format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n"),
    );
    std::os::unix::fs::symlink(&a, dir.path().join("link")).unwrap();
    let o = Command::cargo_bin("kubefix")
        .unwrap()
        .current_dir(dir.path())
        .env("KUBECONFIG", format!("./a:a:{}:link", a.display()))
        .args(["--apply", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["summary"]["fixed"], 1);
    let findings = report["files"][0]["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["rule"] != "duplicate-name"),
        "{report}"
    );
    assert!(std::fs::read_to_string(&a).unwrap().contains("v1beta1"));
}

#[test]
fn null_interactive_mode_is_replaced_when_moving_to_v1() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: /bin/true\n      interactiveMode: null\n- name: v\n  user:\n    exec: {{apiVersion: client.authentication.k8s.io/v1, command: /bin/true, interactiveMode: \"\"}}\n");
    let f = write(dir.path(), "config", &src);
    let o = kubefix(
        dir.path(),
        &[
            "--apply",
            "--exec-api-version",
            "v1",
            "--kubeconfig",
            "config",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let want = src
        .replace(
            "client.authentication.k8s.io/v1alpha1\n      command: /bin/true\n      interactiveMode: null",
            "client.authentication.k8s.io/v1\n      command: /bin/true\n      interactiveMode: IfAvailable",
        )
        .replace("interactiveMode: \"\"}", "interactiveMode: \"IfAvailable\"}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), want);
    let o = kubefix(dir.path(), &["--check", "--kubeconfig", "config"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
}

#[test]
fn null_or_empty_api_version_is_reported_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    for value in ["null", "~", "\"\"", ""] {
        let src = format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: {value}\n      command: /bin/true\n");
        write(dir.path(), "config", &src);
        let o = kubefix(dir.path(), &["--check", "--kubeconfig", "config"]);
        assert_eq!(o.status.code(), Some(1), "{value}: {}", all(&o));
        let text = all(&o);
        assert!(
            text.contains("exec plugin has no apiVersion"),
            "{value}: {text}"
        );
        assert!(
            text.contains("apiVersion must be specified for u to use exec authentication plugin"),
            "{value}: {text}"
        );
    }
}

#[test]
fn empty_interactive_mode_on_v1beta1_is_accepted_as_kubectl_does() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/true\n      interactiveMode: \"\"\n");
    write(dir.path(), "config", &src);
    let o = kubefix(dir.path(), &["--check", "--kubeconfig", "config"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
}

#[test]
fn secret_exec_arguments_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: helper\n      args: [\"--aws-secret-access-key\", \"ARGSECRET1\", \"--api-key=ARGSECRET2\", \"--token\", \"ARGSECRET3\", \"--region\", \"eu-west-1\"]\n");
    write(dir.path(), "config", &src);
    for extra in [&[][..], &["-o", "json"][..]] {
        let mut args = vec!["--kubeconfig", "config"];
        args.extend_from_slice(extra);
        let o = kubefix(dir.path(), &args);
        let text = all(&o);
        for secret in ["ARGSECRET1", "ARGSECRET2", "ARGSECRET3"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(
            text.contains("eu-west-1"),
            "ordinary arguments stay visible: {text}"
        );
    }
    let o = kubefix(dir.path(), &["--kubeconfig", "config", "--show-secrets"]);
    assert!(all(&o).contains("ARGSECRET1"));
}

#[test]
fn read_only_file_keeps_read_only_when_permissions_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "config",
        &format!("{HEAD}users:\n- name: u\n  user: {{token: abc}}\n"),
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = kubefix(dir.path(), &["--kubeconfig", "config"]);
    assert!(all(&o).contains("set mode 0444 -> 0400"), "{}", all(&o));
    let o = kubefix(dir.path(), &["--apply", "--kubeconfig", "config"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
        0o400
    );
}

#[test]
fn missing_backup_dir_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n");
    let f = write(dir.path(), "config", &src);
    let o = kubefix(
        dir.path(),
        &["--apply", "--kubeconfig", "config", "--backup-dir", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--backup-dir nope: no such directory"),
        "{}",
        all(&o)
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), src);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["config"]);
}

#[test]
fn as_kubectl_plugin_the_summary_names_kubectl_fix() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config",
        &format!("{HEAD}users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n"),
    );
    let link = dir.path().join("kubectl-fix");
    std::os::unix::fs::symlink(cargo_bin("kubefix"), &link).unwrap();
    let o = Command::new(&link)
        .current_dir(dir.path())
        .args(["--kubeconfig", "config"])
        .output()
        .unwrap();
    let text = all(&o);
    assert!(
        text.contains("run kubectl fix --kubeconfig config --apply"),
        "{text}"
    );
    assert!(!text.contains("run kubefix --apply"), "{text}");
}

/// An alias whose anchor holds `<<` is an ordinary key to go-yaml (kubectl shows user `u`
/// with its token only), not a merge key, even when the file has real merge keys elsewhere:
/// the exec section under it does not exist for kubectl, and kubefix must not "fix" it.
#[test]
fn alias_to_a_merge_key_scalar_is_not_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "config",
        "apiVersion: v1\nkind: Config\npreferences:\n  <<: {}\nx-merge-key: &m <<\n\
         clusters: [{name: c, cluster: {server: https://127.0.0.1:6443}}]\n\
         contexts: [{name: ctx, context: {cluster: c, user: u}}]\ncurrent-context: ctx\n\
         users:\n- name: u\n  user:\n    token: abc\n    \
         *m : {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws}}\n",
    );
    let before = std::fs::read(&file).unwrap();
    let out = kubefix(
        dir.path(),
        &["--apply", "--kubeconfig", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(all(&out).contains("no fixes needed"), "{}", all(&out));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// A cluster with both a CA and insecure-skip-tls-verify (kubectl refuses it), whose
/// `tls-server-name` is a double-quoted value over two lines, the second starting with `#`.
/// The removal must not take that line for a comment above the removed key (exit 2, "the
/// repaired text would not load": unclosed quote).
#[test]
fn a_quoted_line_starting_with_hash_is_not_a_comment_of_the_removed_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "config",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority: /etc/ssl/certs/ca.pem\n    tls-server-name: \"kube\n    # insecure-skip-tls-verify\"\n    insecure-skip-tls-verify: true\n",
    );
    let o = kubefix(
        dir.path(),
        &["--apply", "--kubeconfig", f.to_str().unwrap()],
    );
    assert_ne!(o.status.code(), Some(2), "{}", all(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority: /etc/ssl/certs/ca.pem\n    tls-server-name: \"kube\n    # insecure-skip-tls-verify\"\n"
    );
}

/// A removed value anchored on the line above (`&t` then the value, holding `&`, on the
/// next line; or `!!binary` above `&t …`) is not moved to its alias without its
/// properties: the finding keeps a hint, nothing is written, and kubefix does not exit 2.
#[test]
fn a_removed_anchor_with_its_tag_or_anchor_above_is_left_with_a_hint() {
    for value in [
        "&t\n      /tmp/a&b.crt",
        "!!binary\n      &t L3RtcC9hLmNydA==",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: x\n    certificate-authority: {value}\n- name: b\n  cluster:\n    server: https://127.0.0.1:2\n    certificate-authority: *t\n");
        let f = write(dir.path(), "config", &text);
        let o = kubefix(
            dir.path(),
            &["--apply", "--kubeconfig", f.to_str().unwrap()],
        );
        assert_ne!(o.status.code(), Some(2), "{}", all(&o));
        assert!(all(&o).contains("anchored as &t"), "{}", all(&o));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
    }
}
