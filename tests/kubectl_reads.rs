//! Files kubectl reads, kubefix reads, the way kubectl reads them (issue #13): duplicate
//! keys (the last wins), files without kubeconfig keys, empty files, several YAML documents
//! (the first is read), UTF-16 with a byte-order mark, explicit tags, and go-yaml v2's order
//! for merge keys. Where kubectl is on PATH, it confirms what the fixed file means.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use support::{expect_code, output_text, stdout_and_stderr};

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// kubefix with `$KUBECONFIG` set to `files` (joined with `:`), HOME in `dir`.
fn kubefix(dir: &Path, files: &[&Path], args: &[&str]) -> Output {
    let list = std::env::join_paths(files).unwrap();
    Command::cargo_bin("kubefix")
        .unwrap()
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", list)
        .args(args)
        .output()
        .unwrap()
}

/// `kubectl config view` of one file with `jsonpath`, or `None` without kubectl.
fn kubectl_view(file: &Path, jsonpath: &str) -> Option<String> {
    let kubectl = support::require_or_skip("kubectl")?;
    let cache = tempfile::tempdir().unwrap();
    let out = support::kubectl_command(&kubectl, file, cache.path())
        .args([
            "config",
            "view",
            "--raw",
            "-o",
            &format!("jsonpath={jsonpath}"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    Some(String::from_utf8(out.stdout).unwrap())
}

fn user(exec: &str) -> String {
    format!("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n{exec}")
}

#[test]
fn a_duplicate_key_is_a_warning_and_the_fix_goes_to_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    // kubectl reads the second apiVersion (v1alpha1): that one is the error, and the fix.
    let text = user(&format!(
        "      apiVersion: {V1BETA1}\n      command: aws\n      apiVersion: {V1ALPHA1}\n"
    ));
    let path = write(dir.path(), "config", &text);
    let out = kubefix(dir.path(), &[&path], &["--check"]);
    expect_code(&out, 1);
    let so = stdout_and_stderr(&out);
    assert!(
        so.contains("key \"apiVersion\" is written twice in this mapping (at line 7 and at line 9); kubectl uses the last one (line 9)"),
        "{so}"
    );
    assert!(so.contains("[exec-api-version]"), "{so}");
    let out = kubefix(dir.path(), &[&path], &["--apply"]);
    expect_code(&out, 0);
    let want = text.replace(
        &format!("apiVersion: {V1ALPHA1}"),
        &format!("apiVersion: {V1BETA1}"),
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), want);
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }

    // The other way round, kubectl reads v1beta1: nothing to fix, only the warning.
    let text = user(&format!(
        "      apiVersion: {V1ALPHA1}\n      command: aws\n      apiVersion: {V1BETA1}\n"
    ));
    let path = write(dir.path(), "config", &text);
    let out = kubefix(dir.path(), &[&path], &["--check", "-o", "json"]);
    expect_code(&out, 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = json["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["duplicate-key"], "{}", output_text(&out));
    assert_eq!(json["files"][0]["findings"][0]["severity"], "warning");
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
}

#[test]
fn a_duplicate_users_list_is_read_as_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let list = |name: &str, version: &str| {
        format!("users:\n- name: {name}\n  user:\n    exec:\n      apiVersion: {version}\n      command: aws\n")
    };
    // The first list (which kubectl ignores) is broken, the last is fine.
    let text = format!(
        "apiVersion: v1\nkind: Config\n{}{}",
        list("old", V1ALPHA1),
        list("new", V1BETA1)
    );
    let path = write(dir.path(), "config", &text);
    let out = kubefix(dir.path(), &[&path], &["--check", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["files"][0]["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["rule"] == "duplicate-key"),
        "{}",
        output_text(&out)
    );
    if let Some(v) = kubectl_view(&path, "{.users[*].name}") {
        assert_eq!(v, "new");
    }
    // The last list is broken: found and fixed there.
    let text = format!(
        "apiVersion: v1\nkind: Config\n{}{}",
        list("old", V1BETA1),
        list("new", V1ALPHA1)
    );
    let path = write(dir.path(), "config", &text);
    let out = kubefix(dir.path(), &[&path], &["--apply"]);
    expect_code(&out, 0);
    assert!(
        stdout_and_stderr(&out).contains("users/new"),
        "{}",
        output_text(&out)
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text.replacen(V1ALPHA1, V1BETA1, 1)
    );
}

#[test]
fn a_file_without_kubeconfig_keys_is_a_warning_and_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let values = write(dir.path(), "values.yaml", "foo: bar\n");
    let broken = write(
        dir.path(),
        "config",
        user(&format!(
            "      apiVersion: {V1ALPHA1}\n      command: aws\n"
        )),
    );
    let out = kubefix(dir.path(), &[&values], &["--check"]);
    expect_code(&out, 1);
    let so = stdout_and_stderr(&out);
    assert!(
        so.contains("kubectl reads this file as an empty config [no-kubeconfig-keys]"),
        "{so}"
    );
    assert!(!so.contains("error"), "{so}");
    let out = kubefix(dir.path(), &[&values, &broken], &["--apply"]);
    expect_code(&out, 0);
    assert!(fs::read_to_string(&broken).unwrap().contains(V1BETA1));
    assert_eq!(fs::read_to_string(&values).unwrap(), "foo: bar\n");
}

#[test]
fn an_empty_file_beside_a_broken_one_does_not_stop_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty", "");
    let broken = write(
        dir.path(),
        "config",
        user(&format!(
            "      apiVersion: {V1ALPHA1}\n      command: aws\n"
        )),
    );
    let out = kubefix(dir.path(), &[&empty, &broken], &["--apply", "-v"]);
    expect_code(&out, 0);
    let so = stdout_and_stderr(&out);
    assert!(so.contains("note: the file is empty"), "{so}");
    assert!(fs::read_to_string(&broken).unwrap().contains(V1BETA1));
    assert_eq!(fs::read(&empty).unwrap(), b"");
    // A null first document is an empty config too.
    let null = write(dir.path(), "null", "---\n---\nusers: [1]\n");
    let out = kubefix(dir.path(), &[&null], &["--check", "-v"]);
    let so = stdout_and_stderr(&out);
    assert!(so.contains("[extra-documents]"), "{so}");
    assert!(!so.contains("error"), "{so}");
}

#[test]
fn only_the_first_document_is_read_and_fixed_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let first = user(&format!(
        "      apiVersion: {V1ALPHA1}\n      command: aws\n"
    ));
    // kubectl never looks past the second `---`: not even at text that is not YAML.
    let rest = format!(
        "---\n# later\n{}: : [ not yaml\n",
        user(&format!("      apiVersion: {V1ALPHA1}\n"))
    );
    let path = write(dir.path(), "config", format!("---\n{first}{rest}"));
    let out = kubefix(dir.path(), &[&path], &["--check"]);
    expect_code(&out, 1);
    let so = stdout_and_stderr(&out);
    assert!(
        so.contains("warning (line 10): a second YAML document starts here"),
        "{so}"
    );
    assert_eq!(so.matches("[exec-api-version]").count(), 1, "{so}");
    let out = kubefix(dir.path(), &[&path], &["--apply"]);
    expect_code(&out, 0);
    let now = fs::read_to_string(&path).unwrap();
    assert_eq!(
        now,
        format!("---\n{}{rest}", first.replace(V1ALPHA1, V1BETA1))
    );
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
}

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn utf16_files_are_checked_and_fixed_in_their_own_encoding() {
    let dir = tempfile::tempdir().unwrap();
    // PowerShell's `>`: UTF-16 LE with a BOM and CRLF.
    let text = user(&format!(
        "      apiVersion: {V1ALPHA1}\n      command: aws # caf\u{e9} \u{1f600}\n"
    ))
    .replace('\n', "\r\n");
    for le in [true, false] {
        let path = write(dir.path(), "config", utf16(&text, le));
        let out = kubefix(dir.path(), &[&path], &["--check"]);
        expect_code(&out, 1);
        let so = stdout_and_stderr(&out);
        assert!(so.contains("(line 7): exec plugin asks for"), "{so}");
        let out = kubefix(dir.path(), &[&path], &["--apply"]);
        expect_code(&out, 0);
        let so = stdout_and_stderr(&out);
        assert!(
            so.contains("-      apiVersion: client.authentication.k8s.io/v1alpha1"),
            "{so}"
        );
        assert!(so.contains("a fix is written back as UTF-16"), "{so}");
        assert_eq!(
            fs::read(&path).unwrap(),
            utf16(&text.replace(V1ALPHA1, V1BETA1), le)
        );
        if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
            assert_eq!(v, V1BETA1);
        }
    }
    // Without a BOM, kubectl cannot read UTF-16 ("control characters are not allowed").
    let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let path = write(dir.path(), "config", bare);
    let out = kubefix(dir.path(), &[&path], &["--check"]);
    expect_code(&out, 2);
    assert!(
        stdout_and_stderr(&out).contains("yaml: control characters are not allowed"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn explicit_tags_are_read_as_kubectl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = |extra: &str| {
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: !!str https://127.0.0.1:6443\n{extra}")
    };
    let path = write(
        dir.path(),
        "config",
        cluster("    insecure-skip-tls-verify: !!bool \"true\"\n"),
    );
    expect_code(&kubefix(dir.path(), &[&path], &["--check"]), 0);
    if let Some(v) = kubectl_view(&path, "{.clusters[0].cluster.insecure-skip-tls-verify}") {
        assert_eq!(v, "true");
    }
    let path = write(
        dir.path(),
        "config",
        cluster("    insecure-skip-tls-verify: !!bool \"maybe\"\n"),
    );
    let out = kubefix(dir.path(), &[&path], &["--check"]);
    expect_code(&out, 2);
    assert!(
        stdout_and_stderr(&out).contains("config:7:38: not a valid kubeconfig: this value is tagged !!bool but reads as !!str; kubectl refuses the file: yaml: cannot decode !!str `…` as a !!bool"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn merge_keys_apply_in_go_yaml_order() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = format!("x-exec: &ex {{apiVersion: {V1ALPHA1}, command: aws}}\n");
    // A key written before `<<` is overridden by the merged one: kubectl uses v1alpha1.
    let after = format!(
        "{anchor}{}",
        user(&format!("      apiVersion: {V1BETA1}\n      <<: *ex\n"))
    );
    let path = write(dir.path(), "config", &after);
    let out = kubefix(dir.path(), &[&path], &["--check"]);
    expect_code(&out, 1);
    assert!(
        stdout_and_stderr(&out).contains("[exec-api-version]"),
        "{}",
        output_text(&out)
    );
    let out = kubefix(dir.path(), &[&path], &["--apply"]);
    expect_code(&out, 0);
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
    // A key written after `<<` wins: kubectl uses v1beta1, nothing to fix.
    let before = format!(
        "{anchor}{}",
        user(&format!("      <<: *ex\n      apiVersion: {V1BETA1}\n"))
    );
    let path = write(dir.path(), "config", &before);
    expect_code(&kubefix(dir.path(), &[&path], &["--check"]), 0);
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
    // An own v1alpha1 before a merged v1beta1 is what kubectl ignores: not "fixed".
    let ignored = format!(
        "x-exec: &ex {{apiVersion: {V1BETA1}, command: aws}}\n{}",
        user(&format!("      apiVersion: {V1ALPHA1}\n      <<: *ex\n"))
    );
    let path = write(dir.path(), "config", &ignored);
    expect_code(&kubefix(dir.path(), &[&path], &["--check"]), 0);
    if let Some(v) = kubectl_view(&path, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
}

/// The fixtures of files kubectl reads although they look broken (`testdata/quirks`).
#[test]
fn the_quirks_fixtures_are_read_as_kubectl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let dup = write(
        dir.path(),
        "dup",
        fs::read(support::testdata("quirks/duplicate-keys.yaml")).unwrap(),
    );
    let out = kubefix(dir.path(), &[&dup], &["--check"]);
    expect_code(&out, 1);
    let so = stdout_and_stderr(&out);
    assert!(
        so.contains("warning (line 20): key \"apiVersion\" is written twice"),
        "{so}"
    );
    assert!(!so.contains("[exec-api-version]"), "{so}");
    if let Some(v) = kubectl_view(&dup, "{.users[0].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }

    let original = fs::read_to_string(support::testdata("quirks/multi-doc.yaml")).unwrap();
    let multi = write(dir.path(), "multi", &original);
    let out = kubefix(dir.path(), &[&multi], &["--apply"]);
    expect_code(&out, 0);
    let now = fs::read_to_string(&multi).unwrap();
    let split = original.find("\n---").unwrap();
    assert_eq!(now[now.find("\n---").unwrap()..], original[split..]);
    assert_eq!(
        now[..now.find("\n---").unwrap()],
        original[..split].replace(V1ALPHA1, V1BETA1)
    );
    if let Some(v) = kubectl_view(&multi, "{.users[*].user.exec.apiVersion}") {
        assert_eq!(v, V1BETA1);
    }
}
