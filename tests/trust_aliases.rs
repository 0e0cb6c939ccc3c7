//! An edit of an anchored node changes every alias of it, and an edit of a mapping merged with
//! `<<: *base` changes every mapping that merges it (issue #12, item 8). kubefix applies such
//! an edit only when every place kubectl sees the node is itself an intended change; else the
//! fix is refused with a hint naming the anchor, and independent fixes still apply. What
//! kubectl sees is checked with the real kubectl when it is installed.

mod support;

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

const HEAD: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: a\ncurrent-context: x\n";

fn kubefix(config: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-trust-aliases-home")
        .env("NO_COLOR", "1")
        .arg("--kubeconfig")
        .arg(config)
        .args(extra)
        .output()
        .unwrap()
}

fn write_private(dir: &Path, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("config");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// What kubectl reads at `jsonpath` in `config`, when kubectl is installed.
fn kubectl_sees(config: &Path, jsonpath: &str) -> Option<String> {
    let kubectl = support::require_or_skip("kubectl")?;
    let cache = tempfile::tempdir().unwrap();
    let out = support::kubectl_command(&kubectl, config, cache.path())
        .args(["config", "view", "--raw", "-o"])
        .arg(format!("jsonpath={jsonpath}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::output_text(&out));
    Some(String::from_utf8(out.stdout).unwrap())
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// The attack: user a's exec apiVersion is anchored `&v`, user b's username is `*v`. Fixing
/// a's apiVersion through the anchor would rename b. Refused; an independent fix (user c)
/// still applies.
#[test]
fn an_anchor_aliased_by_another_users_field_is_not_changed() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}users:\n- name: a\n  user:\n    exec:\n      apiVersion: &v {V1ALPHA1}\n      command: aws\n\
         - name: b\n  user:\n    username: *v\n    password: hunter2\n\
         - name: c\n  user:\n    exec:\n      apiVersion: {V1ALPHA1}\n      command: aws\n"
    );
    let config = write_private(dir.path(), &text);
    let b_username = r#"{.users[?(@.name=="b")].user.username}"#;
    if let Some(before) = kubectl_sees(&config, b_username) {
        assert_eq!(before, V1ALPHA1);
    }
    let out = kubefix(&config, &["--apply"]);
    let all = support::output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let after = std::fs::read_to_string(&config).unwrap();
    // b's username as written and as kubectl reads it: unchanged.
    assert!(
        after.contains(&format!("apiVersion: &v {V1ALPHA1}")),
        "{after}"
    );
    assert!(after.contains("username: *v"), "{after}");
    if let Some(seen) = kubectl_sees(&config, b_username) {
        assert_eq!(seen, V1ALPHA1, "kubectl sees b's username changed");
    }
    // c's own value is fixed.
    let c_exec = r#"{.users[?(@.name=="c")].user.exec.apiVersion}"#;
    assert_eq!(after.matches(V1BETA1).count(), 1, "{after}");
    if let Some(seen) = kubectl_sees(&config, c_exec) {
        assert_eq!(seen, V1BETA1);
    }
    // The refused finding explains the anchor with its lines.
    let anchor = line_of(&text, "&v");
    let alias = line_of(&text, "*v");
    let hint = format!("&v at line {anchor} is also used at line {alias} (users/b: user.username)");
    assert!(all.contains(&hint), "wanted {hint:?} in {all}");
    // As JSON: a's finding is not fixable, c's was fixed.
    let json = kubefix(&config, &["--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = v["files"][0]["findings"].as_array().unwrap();
    let a = findings
        .iter()
        .find(|f| f["entry"]["name"] == "a" && f["rule"] == "exec-api-version")
        .expect("a's finding stays");
    assert_eq!(a["fixable"], false, "{a}");
    assert!(a["hint"].as_str().unwrap().contains("&v"), "{a}");
}

/// Nothing to apply but the refused fix: nothing is written at all (no backup either).
#[test]
fn a_refused_shared_edit_alone_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}users:\n- name: a\n  user:\n    exec:\n      apiVersion: &v {V1ALPHA1}\n      command: aws\n\
         - name: b\n  user:\n    username: *v\n    password: hunter2\n"
    );
    let config = write_private(dir.path(), &text);
    let out = kubefix(&config, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::output_text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    assert_eq!(support::dir_names(dir.path()), ["config"]);
}

/// One entry that sees the anchor at two places (its exec apiVersion, which the fix means,
/// and its username, which it does not): refused too.
#[test]
fn one_entry_seeing_the_anchor_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}users:\n- name: a\n  user:\n    exec:\n      apiVersion: &v {V1ALPHA1}\n      command: aws\n\
         - name: b\n  user:\n    username: *v\n    exec:\n      apiVersion: *v\n      command: aws\n"
    );
    let config = write_private(dir.path(), &text);
    let out = kubefix(&config, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::output_text(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}

/// Merge keys: user a's exec mapping is anchored and merged into an extension of user b.
/// Fixing a's apiVersion inside the anchored mapping would change b's extension: refused.
#[test]
fn a_key_of_a_mapping_merged_elsewhere_is_not_changed() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}users:\n- name: a\n  user:\n    exec: &e\n      apiVersion: {V1ALPHA1}\n      command: aws\n\
         - name: b\n  user:\n    token: abc\n    extensions:\n    - name: saved\n      extension:\n        <<: *e\n        note: kept\n"
    );
    let config = write_private(dir.path(), &text);
    let ext = r#"{.users[?(@.name=="b")].user.extensions[0].extension.apiVersion}"#;
    if let Some(before) = kubectl_sees(&config, ext) {
        assert_eq!(before, V1ALPHA1);
    }
    let out = kubefix(&config, &["--apply"]);
    let all = support::output_text(&out);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text, "{all}");
    if let Some(after) = kubectl_sees(&config, ext) {
        assert_eq!(after, V1ALPHA1);
    }
    let hint = format!(
        "&e at line {} is also used at line {} (users/b: user.extensions.0.extension.apiVersion)",
        line_of(&text, "&e"),
        line_of(&text, "*e")
    );
    assert!(all.contains(&hint), "wanted {hint:?} in {all}");
}

/// Every place the anchored value is seen is itself an intended change: user b's exec is
/// an alias of a's, user d merges it (`<<: *e`) with its own command, so every one of them
/// needs the same fix. Applied once, at the anchor, and kubectl sees it everywhere.
#[test]
fn a_shared_edit_every_site_of_which_is_intended_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}users:\n- name: a\n  user:\n    exec: &e\n      apiVersion: {V1ALPHA1}\n      command: aws\n\
         - name: b\n  user:\n    exec: *e\n\
         - name: d\n  user:\n    exec:\n      <<: *e\n      command: aws-iam-authenticator\n\
         x-unread-by-kubectl:\n  copy: *e\n"
    );
    let config = write_private(dir.path(), &text);
    let out = kubefix(&config, &["--apply"]);
    let all = support::output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let after = std::fs::read_to_string(&config).unwrap();
    assert_eq!(after, text.replace(V1ALPHA1, V1BETA1), "{all}");
    for user in ["a", "b", "d"] {
        let path = format!(r#"{{.users[?(@.name=="{user}")].user.exec.apiVersion}}"#);
        if let Some(seen) = kubectl_sees(&config, &path) {
            assert_eq!(seen, V1BETA1, "user {user}");
        }
    }
}
