//! The `kubefix` binary end to end: modes and exit codes, every fixture, broken inputs, file
//! selection, JSON, redaction, symlinks, backups, colour, help.
//!
//! Every test that writes works on a copy in its own temp directory; `testdata/` is only read.
//! Every command runs with a controlled environment (no `KUBECONFIG`, `NO_COLOR`, `SUDO_USER`;
//! `PATH` only `/usr/bin:/bin`;
//! `HOME` pointing nowhere unless a test sets it), so the developer's own kubeconfig is never
//! touched and paths are never shortened to `~`.

mod support;
use support::expect_code;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use support::testdata;

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
const V1: &str = "client.authentication.k8s.io/v1";
const EKS_ALPHA: &str = "eks-aws-cli-v1alpha1.yaml";
const EKS_BETA: &str = "eks-aws-cli-v1beta1.yaml";
const EKS_USER: &str = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
/// A HOME that does not exist: `display_path` never abbreviates, and no real
/// `~/.kube/config` is ever picked up.
const NO_HOME: &str = "/nonexistent/kubefix-cli-test-home";

// ---------------------------------------------------------------------------------------
// Helpers

/// `kubefix` with a clean, predictable environment.
fn kubefix() -> Command {
    let mut cmd = Command::cargo_bin("kubefix").expect("binary kubefix is built");
    cmd.env_remove("KUBECONFIG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SUDO_USER")
        .env("HOME", NO_HOME)
        // No aws-cli of this machine's: its version (read from its install layout, else
        // unknown) would add findings to the exec fixtures (issue #12). Fake plugins for
        // the commands the fixtures name, which `exec-on-path` looks for.
        .env("PATH", support::fake_plugins_path());
    cmd
}

/// `kubefix --kubeconfig PATH ARGS...`, run to completion.
fn run_on(path: &Path, args: &[&str]) -> Output {
    kubefix()
        .arg("--kubeconfig")
        .arg(path)
        .args(args)
        .output()
        .expect("kubefix runs")
}

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("kubefix killed by a signal: {out:?}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// stdout must be exactly one JSON document.
#[track_caller]
fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Copy `testdata/<name>` to `<dir>/<as_name>` with mode 0600 and return the new path.
///
/// Mode 0600 whatever the checkout gave testdata/: a group- or world-readable kubeconfig is a
/// `file-permissions` finding of its own, which only the tests of that rule want.
fn copy_fixture(dir: &Path, name: &str, as_name: &str) -> PathBuf {
    let dst = dir.join(as_name);
    fs::copy(testdata(name), &dst).unwrap();
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o600)).unwrap();
    dst
}

/// `file-permissions` off, for runs on testdata/ itself (whose mode is the checkout's).
const SKIP_MODE: [&str; 2] = ["--skip", "file-permissions"];

/// Sorted names of everything in `dir` (hidden files included).
fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = list(dir)
        .into_iter()
        .filter(|n| n.contains(".kubefix-") && n.ends_with(".bak"))
        .map(|n| dir.join(n))
        .collect();
    v.sort();
    v
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn fixtures(sub: Option<&str>) -> Vec<PathBuf> {
    let dir = match sub {
        Some(s) => testdata(s),
        None => testdata(""),
    };
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Does `text` contain `<path>:<digits>:<digits>:`?
fn has_position(text: &str, path: &str) -> bool {
    let needle = format!("{path}:");
    text.match_indices(&needle).any(|(i, _)| {
        let rest = &text[i + needle.len()..];
        let mut parts = rest.splitn(3, ':');
        let (Some(l), Some(c), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        !l.is_empty()
            && !c.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
            && l != "0"
            && c != "0"
    })
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn findings(report: &Value) -> Vec<&Value> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Modes and exit codes

#[test]
fn dry_run_default_and_flag_print_diff_and_write_nothing() {
    for flags in [&[][..], &["--dry-run"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
        let before = read(&path);
        let out = run_on(&path, flags);
        expect_code(&out, 0);
        let so = stdout(&out);
        assert!(
            so.contains(&format!("-      apiVersion: {V1ALPHA1}\n")),
            "{flags:?}: {so}"
        );
        assert!(
            so.contains(&format!("+      apiVersion: {V1BETA1}\n")),
            "{flags:?}: {so}"
        );
        assert!(so.contains(&format!("--- {}\n", path.display())), "{so}");
        assert!(so.contains("@@ -16,7 +16,7 @@"), "{so}");
        assert!(so.contains("exec-api-version"), "{so}");
        assert!(so.contains("1 fix pending"), "{so}");
        assert_eq!(stderr(&out), "", "{flags:?}");
        assert_eq!(read(&path), before, "{flags:?}: dry run changed the file");
        assert_eq!(
            list(dir.path()),
            ["config"],
            "{flags:?}: dry run left files"
        );
    }
}

#[test]
fn check_exits_1_on_broken_and_0_on_healthy() {
    let out = run_on(
        &testdata(EKS_ALPHA),
        &["--check", SKIP_MODE[0], SKIP_MODE[1]],
    );
    expect_code(&out, 1);
    let so = stdout(&out);
    assert!(so.contains("exec-api-version"), "{so}");
    assert!(so.contains("line 19"), "{so}");
    // --check reports; it does not print the diff.
    assert!(!so.contains("@@ "), "{so}");
    assert!(
        !so.contains(&format!("+      apiVersion: {V1BETA1}")),
        "{so}"
    );

    let out = run_on(
        &testdata(EKS_BETA),
        &["--check", SKIP_MODE[0], SKIP_MODE[1]],
    );
    expect_code(&out, 0);
    assert!(stdout(&out).contains("no fixes needed"), "{}", stdout(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn apply_fixes_only_the_value_keeps_mode_and_backs_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    // Not 0600, which `file-permissions` would set anyway; no group or other bits, which it
    // would remove (file_permissions_are_fixed_to_0600_without_a_backup_for_the_mode_alone).
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    let original = read(&path);
    let original_text = String::from_utf8(original.clone()).unwrap();
    assert_eq!(original_text.matches(V1ALPHA1).count(), 1);

    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "");
    let so = stdout(&out);
    assert!(so.contains("1 fix applied"), "{so}");
    assert!(so.contains("fixed: set apiVersion to"), "{so}");
    assert!(so.contains("backup: "), "{so}");

    let want = original_text.replace(V1ALPHA1, V1BETA1);
    assert_eq!(String::from_utf8(read(&path)).unwrap(), want);
    assert_eq!(mode(&path), 0o400, "the kubeconfig lost its mode");

    let backups = backups_in(dir.path());
    assert_eq!(backups.len(), 1, "{:?}", list(dir.path()));
    let bname = file_name(&backups[0]);
    assert!(
        bname.starts_with("config.kubefix-") && bname.ends_with(".bak"),
        "{bname}"
    );
    assert!(so.contains(&bname), "stdout names the backup: {so}");
    assert_eq!(
        read(&backups[0]),
        original,
        "backup holds the original bytes"
    );
    assert_eq!(mode(&backups[0]), 0o600, "backup must be private");
    // Nothing else: no lock, no temp file.
    assert_eq!(list(dir.path()), ["config".to_string(), bname.clone()]);

    // Second run: nothing to do, nothing written.
    let after_first = read(&path);
    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("no fixes needed"), "{}", stdout(&out));
    assert_eq!(read(&path), after_first);
    assert_eq!(list(dir.path()), ["config".to_string(), bname]);
    assert_eq!(mode(&path), 0o400);

    // And --check agrees.
    expect_code(&run_on(&path, &["--check"]), 0);
}

#[test]
fn file_permissions_are_fixed_to_0600_without_a_backup_for_the_mode_alone() {
    // A healthy kubeconfig as git or `cp` leaves it: 0644.
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_BETA, "config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let original = read(&path);

    // Dry run: the mode change is shown as git shows one; nothing is written, not even a mode.
    let out = run_on(&path, &[]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "");
    let so = stdout(&out);
    assert!(
        so.contains("mode 0644 lets group and others read this kubeconfig"),
        "{so}"
    );
    assert!(so.contains("[file-permissions]"), "{so}");
    assert!(so.contains("fix: set mode 0644 -> 0600"), "{so}");
    assert!(
        so.contains("world-readable"),
        "Helm's words in the hint: {so}"
    );
    assert!(so.contains(&format!("--- {}\n", path.display())), "{so}");
    assert!(so.contains("old mode 0644\nnew mode 0600\n"), "{so}");
    assert!(!so.contains("@@ "), "a text hunk for a mode change: {so}");
    assert!(so.contains("1 fix pending"), "{so}");
    assert_eq!(read(&path), original);
    assert_eq!(mode(&path), 0o644, "dry run changed the mode");
    assert_eq!(list(dir.path()), ["config"]);

    // JSON says the same.
    let r = json(&run_on(&path, &["-o", "json"]));
    let all = findings(&r);
    assert_eq!(all.len(), 1, "{r}");
    assert_eq!(all[0]["rule"], "file-permissions");
    assert_eq!(all[0]["severity"], "warning");
    assert_eq!(all[0]["fixable"], true);
    assert_eq!(all[0]["fix"], "set mode 0644 -> 0600");
    assert!(r["files"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("old mode 0644\nnew mode 0600\n"));

    // --check flags it.
    let out = run_on(&path, &["--check"]);
    expect_code(&out, 1);
    assert!(
        stdout(&out).contains("[file-permissions]"),
        "{}",
        stdout(&out)
    );
    assert_eq!(mode(&path), 0o644, "--check changed the mode");

    // --apply: mode 0600, the text untouched, and no backup (there is nothing to restore).
    let out = run_on(&path, &["--apply", "-o", "json"]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "");
    let r = json(&out);
    assert_eq!(r["files"][0]["changed"], true, "{r}");
    assert_eq!(r["files"][0]["backup"], Value::Null, "{r}");
    assert_eq!(r["summary"]["fixed"], 1, "{r}");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(read(&path), original, "a mode fix changed the text");
    assert_eq!(
        list(dir.path()),
        ["config"],
        "backup, lock or temp file left"
    );

    // Converged.
    let out = run_on(&path, &["--check"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("no fixes needed"), "{}", stdout(&out));

    // 0640 and a text fix: one backup of the original bytes, the text fixed, mode 0600.
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let original = read(&path);
    let out = run_on(&path, &[]);
    expect_code(&out, 0);
    let so = stdout(&out);
    assert!(so.contains("old mode 0640\nnew mode 0600\n"), "{so}");
    assert!(
        so.contains(&format!("+      apiVersion: {V1BETA1}\n")),
        "{so}"
    );
    assert!(so.contains("2 fixes pending"), "{so}");
    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "");
    let so = stdout(&out);
    assert!(
        so.contains("mode 0640 lets its group read this kubeconfig"),
        "{so}"
    );
    assert!(so.contains("fixed: set mode 0640 -> 0600"), "{so}");
    assert!(so.contains("2 fixes applied"), "{so}");
    assert_eq!(
        String::from_utf8(read(&path)).unwrap(),
        String::from_utf8(original.clone())
            .unwrap()
            .replace(V1ALPHA1, V1BETA1)
    );
    assert_eq!(mode(&path), 0o600);
    let backups = backups_in(dir.path());
    assert_eq!(backups.len(), 1, "{:?}", list(dir.path()));
    assert_eq!(read(&backups[0]), original);
    assert_eq!(mode(&backups[0]), 0o600);
    assert_eq!(list(dir.path()).len(), 2, "{:?}", list(dir.path()));
    expect_code(&run_on(&path, &["--check"]), 0);

    // --skip file-permissions: the text is fixed, the mode is left as it was.
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_on(&path, &["--apply", "--skip", "file-permissions"]);
    expect_code(&out, 0);
    assert!(
        !stdout(&out).contains("file-permissions"),
        "{}",
        stdout(&out)
    );
    assert!(String::from_utf8(read(&path)).unwrap().contains(V1BETA1));
    assert_eq!(
        mode(&path),
        0o644,
        "--skip file-permissions changed the mode"
    );
    assert_eq!(backups_in(dir.path()).len(), 1);
    expect_code(
        &run_on(&path, &["--check", "--skip", "file-permissions"]),
        0,
    );
    // The rule still sees it when it is not skipped.
    expect_code(&run_on(&path, &["--check"]), 1);
}

#[test]
fn apply_exec_api_version_v1_adds_interactive_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    let original = String::from_utf8(read(&path)).unwrap();
    let out = run_on(&path, &["--apply", "--exec-api-version", "v1"]);
    expect_code(&out, 0);
    let want = original.replace(V1ALPHA1, V1).replace(
        "      command: aws\n",
        "      command: aws\n      interactiveMode: IfAvailable\n",
    );
    assert_eq!(String::from_utf8(read(&path)).unwrap(), want);
    assert_eq!(backups_in(dir.path()).len(), 1);
    // v1 with interactiveMode is healthy.
    expect_code(&run_on(&path, &["--check"]), 0);
}

#[test]
fn modes_are_mutually_exclusive() {
    for pair in [
        ["--check", "--apply"],
        ["--dry-run", "--apply"],
        ["--dry-run", "--check"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
        let before = read(&path);
        let out = run_on(&path, &pair);
        expect_code(&out, 2);
        assert!(stderr(&out).contains("cannot be used with"), "{pair:?}");
        assert_eq!(stdout(&out), "");
        assert_eq!(read(&path), before);
        assert_eq!(list(dir.path()), ["config"]);
    }
}

#[test]
fn usage_errors_exit_2() {
    let p = testdata(EKS_ALPHA);
    for args in [
        &["--no-such-flag"][..],
        &["--exec-api-version", "v1alpha1"][..],
        &["-o", "yaml"][..],
        &["--color", "sometimes"][..],
        &["--quiet", "--verbose"][..],
    ] {
        let out = run_on(&p, args);
        expect_code(&out, 2);
        assert!(stderr(&out).contains("error"), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 2. Every good fixture

#[test]
fn every_fixture_dry_runs_applies_and_converges() {
    for fixture in fixtures(None) {
        let name = file_name(&fixture);
        let original = read(&fixture);
        let original_mode = mode(&fixture);

        // Dry run on the fixture itself: exit 0, nothing written (not even a mode).
        let out = run_on(&fixture, &["--dry-run"]);
        expect_code(&out, 0);
        assert_eq!(stderr(&out), "", "{name}");
        assert_eq!(read(&fixture), original, "{name}: dry run wrote");
        assert_eq!(
            mode(&fixture),
            original_mode,
            "{name}: dry run changed the mode"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = copy_fixture(dir.path(), &name, &name);
        let planned = json(&run_on(&path, &["-o", "json"]));
        let fixable = planned["summary"]["fixable"].as_u64().unwrap();

        let out = run_on(&path, &["--apply"]);
        expect_code(&out, 0);
        assert_eq!(stderr(&out), "", "{name}");
        let backups = backups_in(dir.path());
        if fixable > 0 {
            assert_ne!(read(&path), original, "{name}: fixable but unchanged");
            assert_eq!(backups.len(), 1, "{name}: {:?}", list(dir.path()));
            assert_eq!(read(&backups[0]), original, "{name}: backup");
        } else {
            assert_eq!(read(&path), original, "{name}: nothing fixable but changed");
            assert!(backups.is_empty(), "{name}: backup without a change");
        }
        let listing = list(dir.path());
        assert_eq!(listing.len(), 1 + backups.len(), "{name}: {listing:?}");

        // What remains has no fix.
        let out = run_on(&path, &["--check", "-o", "json"]);
        let report = json(&out);
        let left = findings(&report);
        for f in &left {
            assert_eq!(
                f["fixable"], false,
                "{name}: still fixable after apply: {f}"
            );
        }
        expect_code(&out, if left.is_empty() { 0 } else { 1 });

        // A second apply writes nothing.
        let after = read(&path);
        let out = run_on(&path, &["--apply", "-o", "json"]);
        expect_code(&out, 0);
        let report = json(&out);
        assert_eq!(report["files"][0]["changed"], false, "{name}");
        assert_eq!(report["files"][0]["backup"], Value::Null, "{name}");
        assert_eq!(read(&path), after, "{name}: second apply changed the file");
        assert_eq!(list(dir.path()), listing, "{name}: second apply left files");
    }
}

#[test]
fn crlf_bom_and_missing_final_newline_survive_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), "crlf-bom-no-newline.yaml", "config");
    let original = read(&path);
    expect_code(&run_on(&path, &["--apply"]), 0);
    let now = read(&path);
    assert!(now.starts_with(b"\xEF\xBB\xBF"), "BOM lost");
    assert!(now.ends_with(b"command: aws"), "final newline added");
    let count = |b: &[u8]| b.windows(2).filter(|w| w == b"\r\n").count();
    assert_eq!(count(&now), count(&original));
    let want = String::from_utf8(original)
        .unwrap()
        .replace(V1ALPHA1, V1BETA1);
    assert_eq!(String::from_utf8(now).unwrap(), want);
}

// ---------------------------------------------------------------------------------------
// 3. Broken inputs in testdata/bad

#[test]
fn every_bad_fixture_is_refused_with_a_position_and_nothing_written() {
    for fixture in fixtures(Some("bad")) {
        let name = file_name(&fixture);
        // kubectl reads these (as an empty config): see empty_files_are_read_as_kubectl_reads_them.
        if name == "empty.yaml" || name == "whitespace.yaml" {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = copy_fixture(dir.path(), &format!("bad/{name}"), &name);
        let original = read(&path);
        let shown = path.display().to_string();

        for args in [&["--dry-run"][..], &["--check"][..], &["--apply"][..]] {
            let out = run_on(&path, args);
            expect_code(&out, 2);
            let se = stderr(&out);
            assert!(
                se.contains(&shown),
                "{name} {args:?}: stderr must name the file: {se}"
            );
            assert!(se.starts_with("kubefix: error: "), "{name}: {se}");
            assert!(
                has_position(&se, &shown),
                "{name} {args:?}: no :LINE:COL: in {se}"
            );
            if args == ["--apply"] {
                assert!(se.contains("nothing was written"), "{name}: {se}");
            }
            // No "N fixes pending" summary after an error.
            assert!(!stdout(&out).contains("pending"), "{name}");
            assert_eq!(read(&path), original, "{name} {args:?}: file changed");
            assert_eq!(
                list(dir.path()),
                std::slice::from_ref(&name),
                "{name} {args:?}: backup, lock or temp file left behind"
            );
        }
    }
}

#[test]
fn bad_fixture_positions_point_at_the_problem() {
    // Where the README says the problem is; the column is whatever the parser reports.
    for (name, line) in [
        ("not-yaml.yaml", 6),
        ("tabs.yaml", 5),
        ("binary.yaml", 7),
        ("invalid-utf8.yaml", 6),
        ("top-level-list.yaml", 1),
    ] {
        let path = testdata(&format!("bad/{name}"));
        let out = run_on(&path, &[]);
        expect_code(&out, 2);
        let want = format!("{}:{line}:", path.display());
        assert!(stderr(&out).contains(&want), "{name}: {}", stderr(&out));
    }
}

#[test]
fn bad_fixture_json_report_is_still_json() {
    let path = testdata("bad/not-kubeconfig.yaml");
    let out = run_on(&path, &["--apply", "-o", "json"]);
    expect_code(&out, 2);
    let report = json(&out);
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["mode"], "apply");
    assert_eq!(report["files"].as_array().unwrap().len(), 0);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], path.display().to_string());
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("not a kubeconfig"));
    assert_eq!(report["summary"]["errors"], 1);
}

// ---------------------------------------------------------------------------------------
// 4. Other bad inputs

#[test]
fn missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.yaml");
    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains(&path.display().to_string()), "{se}");
    assert!(se.contains("cannot read"), "{se}");
    assert!(list(dir.path()).is_empty(), "{:?}", list(dir.path()));
}

#[test]
fn directory_as_kubeconfig_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("conf.d");
    fs::create_dir(&sub).unwrap();
    for args in [&[][..], &["--apply"][..]] {
        let out = run_on(&sub, args);
        expect_code(&out, 2);
        let se = stderr(&out);
        assert!(se.contains(&sub.display().to_string()), "{se}");
        assert!(se.contains("is a directory"), "{se}");
    }
    assert!(list(&sub).is_empty());
    assert_eq!(list(dir.path()), ["conf.d"]);
}

#[test]
fn path_through_a_regular_file_is_an_error() {
    // Unreadable input that even root cannot read: ENOTDIR.
    let dir = tempfile::tempdir().unwrap();
    let file = copy_fixture(dir.path(), EKS_ALPHA, "file");
    let before = read(&file);
    let path = file.join("config");
    for args in [&[][..], &["--check"][..], &["--apply"][..]] {
        let out = run_on(&path, args);
        expect_code(&out, 2);
        let se = stderr(&out);
        assert!(se.contains(&path.display().to_string()), "{se}");
        assert!(se.contains("cannot read"), "{se}");
    }
    assert_eq!(read(&file), before);
    assert_eq!(list(dir.path()), ["file"]);
}

#[test]
fn unreadable_file_is_an_error() {
    if is_root() {
        eprintln!(
            "skipping unreadable_file_is_an_error: running as root, chmod 000 does not stop reads \
             (ENOTDIR case is covered by path_through_a_regular_file_is_an_error)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_on(&path, &["--apply"]);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("cannot read"), "{se}");
    assert!(se.contains(&path.display().to_string()), "{se}");
    assert_eq!(read(&path), read(&testdata(EKS_ALPHA)));
    assert_eq!(list(dir.path()), ["config"]);
}

#[test]
fn existing_lock_file_refuses_apply_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    let lock = dir.path().join("config.lock");
    fs::write(&lock, b"held by kubectl\n").unwrap();
    let before = read(&path);

    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(
        se.contains(&lock.display().to_string()),
        "names the lock: {se}"
    );
    assert!(se.contains("lock file"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(read(&path), before, "file changed despite the lock");
    assert_eq!(
        read(&lock),
        b"held by kubectl\n",
        "someone else's lock was touched"
    );
    assert_eq!(list(dir.path()), ["config", "config.lock"]);

    // Reading does not need the lock.
    expect_code(&run_on(&path, &["--dry-run"]), 0);
    expect_code(&run_on(&path, &["--check"]), 1);
    assert!(lock.exists());
}

#[test]
fn kubeconfig_env_with_only_missing_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let list_env = format!(
        "{}:{}",
        dir.path().join("nope-a").display(),
        dir.path().join("nope-b").display()
    );
    let out = kubefix()
        .env("KUBECONFIG", &list_env)
        .arg("--check")
        .output()
        .unwrap();
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("$KUBECONFIG"), "{se}");
    assert!(se.contains(&list_env), "{se}");
    assert_eq!(stdout(&out), "");
}

#[test]
fn home_without_kube_config_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let out = kubefix()
        .env("HOME", home.path())
        .arg("--apply")
        .output()
        .unwrap();
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains(".kube/config"), "{se}");
    assert!(se.contains("does not exist"), "{se}");
    assert!(list(home.path()).is_empty(), "nothing created in HOME");
}

#[test]
fn missing_backup_dir_refuses_apply_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    let before = read(&path);
    let nowhere = dir.path().join("no-such-dir");
    let out = kubefix()
        .arg("--kubeconfig")
        .arg(&path)
        .arg("--apply")
        .arg("--backup-dir")
        .arg(&nowhere)
        .output()
        .unwrap();
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("backup"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(read(&path), before);
    assert_eq!(list(dir.path()), ["config"], "lock or temp file left");
}

// ---------------------------------------------------------------------------------------
// 5. File selection

#[test]
fn kubeconfig_env_list_checks_each_existing_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_fixture(dir.path(), EKS_ALPHA, "a");
    let b = copy_fixture(dir.path(), "k3s.yaml", "b");
    let missing = dir.path().join("missing");
    let env = format!(
        "{}:{}::{}:{}",
        a.display(),
        missing.display(),
        b.display(),
        a.display()
    );
    let out = kubefix()
        .env("KUBECONFIG", &env)
        .args(["--check", "-o", "json"])
        .output()
        .unwrap();
    expect_code(&out, 1);
    let report = json(&out);
    let paths: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [a.display().to_string(), b.display().to_string()],
        "{report}"
    );
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);

    // --apply fixes the one that needs it, each in place with its own backup.
    let b_before = read(&b);
    let out = kubefix()
        .env("KUBECONFIG", &env)
        .arg("--apply")
        .output()
        .unwrap();
    expect_code(&out, 0);
    assert!(String::from_utf8(read(&a)).unwrap().contains(V1BETA1));
    assert_eq!(read(&b), b_before);
    assert_eq!(backups_in(dir.path()).len(), 1);
    assert!(file_name(&backups_in(dir.path())[0]).starts_with("a.kubefix-"));
}

#[test]
fn kubeconfig_flag_wins_over_env() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_fixture(dir.path(), EKS_ALPHA, "a");
    let b = copy_fixture(dir.path(), EKS_BETA, "b");
    let a_before = read(&a);
    let out = kubefix()
        .env("KUBECONFIG", &a)
        .arg("--kubeconfig")
        .arg(&b)
        .args(["--apply", "-o", "json"])
        .output()
        .unwrap();
    expect_code(&out, 0);
    let report = json(&out);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], b.display().to_string());
    assert_eq!(read(&a), a_before, "the $KUBECONFIG file was touched");
    assert_eq!(list(dir.path()), ["a", "b"]);
}

#[test]
fn default_is_home_kube_config() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir(home.path().join(".kube")).unwrap();
    let path = copy_fixture(&home.path().join(".kube"), EKS_ALPHA, "config");

    for kubeconfig_env in [None, Some("")] {
        let mut cmd = kubefix();
        cmd.env("HOME", home.path()).args(["--check", "-o", "json"]);
        if let Some(v) = kubeconfig_env {
            cmd.env("KUBECONFIG", v);
        }
        let out = cmd.output().unwrap();
        expect_code(&out, 1);
        let report = json(&out);
        assert_eq!(
            report["files"][0]["path"],
            path.display().to_string(),
            "KUBECONFIG={kubeconfig_env:?}"
        );
    }

    // Text output shows the path under HOME as ~.
    let out = kubefix()
        .env("HOME", home.path())
        .arg("--apply")
        .output()
        .unwrap();
    expect_code(&out, 0);
    let so = stdout(&out);
    assert!(so.contains("~/.kube/config"), "{so}");
    assert!(String::from_utf8(read(&path)).unwrap().contains(V1BETA1));
    assert_eq!(backups_in(&home.path().join(".kube")).len(), 1);
}

#[test]
fn an_error_in_one_file_means_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let good = copy_fixture(dir.path(), EKS_ALPHA, "good");
    let bad = copy_fixture(dir.path(), "bad/tabs.yaml", "bad");
    let good_before = read(&good);
    let out = kubefix()
        .env(
            "KUBECONFIG",
            format!("{}:{}", good.display(), bad.display()),
        )
        .arg("--apply")
        .output()
        .unwrap();
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains(&bad.display().to_string()), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(read(&good), good_before);
    assert_eq!(list(dir.path()), ["bad", "good"]);
}

// ---------------------------------------------------------------------------------------
// 6. JSON

#[test]
fn json_report_shape_dry_run_apply_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    let original = read(&path);
    let shown = path.display().to_string();

    let out = run_on(&path, &["-o", "json"]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "");
    let r = json(&out);
    assert_eq!(r["schemaVersion"], 1);
    assert_eq!(r["mode"], "dry-run");
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let f = &files[0];
    assert_eq!(f["path"], shown);
    assert_eq!(f["changed"], false);
    assert_eq!(f["backup"], Value::Null);
    let diff = f["diff"].as_str().unwrap();
    assert!(
        diff.contains(&format!("-      apiVersion: {V1ALPHA1}")),
        "{diff}"
    );
    assert!(
        diff.contains(&format!("+      apiVersion: {V1BETA1}")),
        "{diff}"
    );
    assert!(!diff.contains('\x1b'));
    let fs_ = f["findings"].as_array().unwrap();
    assert_eq!(fs_.len(), 1);
    let x = &fs_[0];
    assert_eq!(x["rule"], "exec-api-version");
    assert_eq!(x["severity"], "error");
    assert_eq!(x["line"], 19);
    assert_eq!(x["fixable"], true);
    assert_eq!(x["fixed"], false);
    assert_eq!(x["entry"]["kind"], "users");
    assert_eq!(x["entry"]["name"], EKS_USER);
    assert!(x["fix"].as_str().unwrap().contains(V1BETA1));
    assert_eq!(
        x["kubectlError"],
        format!("exec plugin: invalid apiVersion \"{V1ALPHA1}\"")
    );
    assert_eq!(r["errors"].as_array().unwrap().len(), 0);
    assert_eq!(r["summary"]["files"], 1);
    assert_eq!(r["summary"]["findings"], 1);
    assert_eq!(r["summary"]["fixable"], 1);
    assert_eq!(r["summary"]["fixed"], 0);
    assert_eq!(read(&path), original);

    // --check -o json: exit 1, same findings, mode check.
    let out = run_on(&path, &["--check", "-o", "json"]);
    expect_code(&out, 1);
    assert_eq!(stderr(&out), "");
    let r = json(&out);
    assert_eq!(r["mode"], "check");
    assert_eq!(findings(&r).len(), 1);

    // --apply -o json.
    let out = run_on(&path, &["--apply", "-o", "json"]);
    expect_code(&out, 0);
    assert_eq!(stderr(&out), "", "stderr must be empty on success");
    let r = json(&out);
    assert_eq!(r["mode"], "apply");
    let f = &r["files"][0];
    assert_eq!(f["changed"], true);
    let backup = PathBuf::from(f["backup"].as_str().expect("backup is set"));
    assert!(backup.is_file(), "backup {backup:?} does not exist");
    assert_eq!(read(&backup), original);
    assert_eq!(backup.parent().unwrap(), dir.path());
    for x in f["findings"].as_array().unwrap() {
        assert_eq!(x["fixed"], true, "{x}");
        assert_eq!(x["fixable"], true, "{x}");
    }
    assert_eq!(r["summary"]["fixed"], 1);
    assert!(String::from_utf8(read(&path)).unwrap().contains(V1BETA1));

    // Afterwards: nothing left.
    let out = run_on(&path, &["--check", "-o", "json"]);
    expect_code(&out, 0);
    let r = json(&out);
    assert!(findings(&r).is_empty(), "{r}");
    assert_eq!(r["files"][0]["changed"], false);
    assert_eq!(r["files"][0]["diff"], "");
}

#[test]
fn json_unfixable_findings_have_hints_and_no_fix() {
    let out = run_on(
        &testdata("exec-unknown-version.yaml"),
        &["--check", "-o", "json", SKIP_MODE[0], SKIP_MODE[1]],
    );
    expect_code(&out, 1);
    let r = json(&out);
    let all = findings(&r);
    assert_eq!(all.len(), 3, "{r}");
    for x in all {
        assert_eq!(x["fixable"], false);
        assert_eq!(x["fixed"], false);
        assert_eq!(x["fix"], Value::Null);
        assert!(x["hint"].is_string(), "{x}");
        assert_eq!(x["entry"]["kind"], "users");
        assert!(x["line"].as_u64().unwrap() > 0);
    }
}

// ---------------------------------------------------------------------------------------
// 7. Secrets

/// The exec user's env value sits just above the changed line and a token user just below it,
/// so all three secrets fall in the diff's context.
const SECRETS: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: x
  context:
    cluster: c
    user: u
current-context: x
users:
- name: u
  user:
    exec:
      command: aws
      env:
      - name: AWS_SECRET
        value: SUPERSECRET-ENV
      apiVersion: client.authentication.k8s.io/v1alpha1
- user:
    token: SUPERSECRET-TOKEN
    client-key-data: U1VQRVJTRUNSRVQ=
  name: keyholder
";

const SECRET_STRINGS: [&str; 3] = ["SUPERSECRET-ENV", "SUPERSECRET-TOKEN", "U1VQRVJTRUNSRVQ="];

fn secrets_file(dir: &Path) -> PathBuf {
    let p = dir.join("config");
    fs::write(&p, SECRETS).unwrap();
    p
}

#[test]
fn secrets_are_redacted_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = secrets_file(dir.path());
    for args in [
        &[][..],
        &["--color", "always"][..],
        &["-o", "json"][..],
        &["--check"][..],
        &["--check", "-o", "json"][..],
        &["--exec-api-version", "v1"][..],
        &["--verbose"][..],
    ] {
        let out = run_on(&path, args);
        assert!(code(&out) <= 1, "{args:?}");
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for s in SECRET_STRINGS {
            assert!(!all.contains(s), "{args:?} leaked {s}:\n{all}");
        }
        if !args.contains(&"--check") {
            // All three are in the hunk, as redactions.
            assert_eq!(all.matches("<redacted:").count(), 3, "{args:?}:\n{all}");
        }
    }
    // --apply output is redacted too, and the file gets the real values, untouched.
    let out = run_on(&path, &["--apply"]);
    expect_code(&out, 0);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for s in SECRET_STRINGS {
        assert!(!all.contains(s), "--apply leaked {s}:\n{all}");
    }
    assert!(all.contains("<redacted:"), "{all}");
    assert_eq!(
        String::from_utf8(read(&path)).unwrap(),
        SECRETS.replace(V1ALPHA1, V1BETA1)
    );
}

#[test]
fn show_secrets_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = secrets_file(dir.path());
    for args in [
        &["--show-secrets"][..],
        &["--show-secrets", "-o", "json"][..],
    ] {
        let out = run_on(&path, args);
        expect_code(&out, 0);
        let so = stdout(&out);
        for s in SECRET_STRINGS {
            assert!(so.contains(s), "{args:?} did not show {s}:\n{so}");
        }
        assert!(!so.contains("<redacted:"), "{args:?}:\n{so}");
    }
    let out = run_on(&path, &["--show-secrets"]);
    let so = stdout(&out);
    assert!(so.contains("         value: SUPERSECRET-ENV\n"), "{so}");
    assert!(so.contains("     token: SUPERSECRET-TOKEN\n"), "{so}");
}

#[test]
fn secrets_in_flow_style_on_the_changed_line_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let text = SECRETS.split("users:\n").next().unwrap().to_string()
        + "users:\n- name: keyholder\n  user: {token: SUPERSECRET-TOKEN, client-key-data: U1VQRVJTRUNSRVQ=}\n\
           - name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws, env: [{name: S, value: SUPERSECRET-ENV}]}}\n";
    fs::write(&path, &text).unwrap();
    let out = run_on(&path, &[]);
    expect_code(&out, 0);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for s in SECRET_STRINGS {
        assert!(!all.contains(s), "leaked {s}:\n{all}");
    }
    assert!(all.contains(V1BETA1), "{all}");
    assert!(all.contains("<redacted:"), "{all}");
    let out = run_on(&path, &["--show-secrets"]);
    for s in SECRET_STRINGS {
        assert!(stdout(&out).contains(s), "{}", stdout(&out));
    }
}

// ---------------------------------------------------------------------------------------
// 8. Symlinks

#[test]
fn apply_through_a_symlink_edits_the_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    fs::create_dir(&real_dir).unwrap();
    let target = copy_fixture(&real_dir, EKS_ALPHA, "config");
    // A mode `file-permissions` leaves alone (see below for one it changes).
    fs::set_permissions(&target, fs::Permissions::from_mode(0o400)).unwrap();
    let original = String::from_utf8(read(&target)).unwrap();
    let link = dir.path().join("config");
    std::os::unix::fs::symlink("real/config", &link).unwrap();

    let out = run_on(&link, &["--apply"]);
    expect_code(&out, 0);
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/config"));
    assert_eq!(
        String::from_utf8(read(&target)).unwrap(),
        original.replace(V1ALPHA1, V1BETA1)
    );
    assert_eq!(mode(&target), 0o400);
    // The backup sits beside the real file; nothing else is left anywhere.
    let backups = backups_in(&real_dir);
    assert_eq!(backups.len(), 1, "{:?}", list(&real_dir));
    assert_eq!(read(&backups[0]), original.as_bytes());
    assert_eq!(list(dir.path()), ["config", "real"]);
    assert_eq!(list(&real_dir).len(), 2, "{:?}", list(&real_dir));

    // A mode-only fix through a link: the target becomes 0600, the link stays a link.
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    fs::create_dir(&real_dir).unwrap();
    let target = copy_fixture(&real_dir, EKS_BETA, "config");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let original = read(&target);
    let link = dir.path().join("config");
    std::os::unix::fs::symlink("real/config", &link).unwrap();
    let out = run_on(&link, &["--apply"]);
    expect_code(&out, 0);
    assert!(
        stdout(&out).contains("[file-permissions]"),
        "{}",
        stdout(&out)
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/config"));
    assert_eq!(mode(&target), 0o600);
    assert_eq!(read(&target), original);
    assert_eq!(list(dir.path()), ["config", "real"]);
    assert_eq!(list(&real_dir), ["config"], "a backup for a mode change");
}

// ---------------------------------------------------------------------------------------
// 9. --backup-dir

#[test]
fn backup_dir_receives_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let bdir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), EKS_ALPHA, "config");
    let original = read(&path);
    let out = kubefix()
        .arg("--kubeconfig")
        .arg(&path)
        .args(["--apply", "-o", "json", "--backup-dir"])
        .arg(bdir.path())
        .output()
        .unwrap();
    expect_code(&out, 0);
    let r = json(&out);
    let backup = PathBuf::from(r["files"][0]["backup"].as_str().unwrap());
    assert_eq!(backup.parent().unwrap(), bdir.path());
    let in_bdir = backups_in(bdir.path());
    assert_eq!(in_bdir, std::slice::from_ref(&backup));
    assert_eq!(read(&backup), original);
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(
        list(dir.path()),
        ["config"],
        "a backup was also left beside the file"
    );
}

// ---------------------------------------------------------------------------------------
// 10. Colour

#[test]
fn colour_only_when_asked_or_a_tty() {
    let p = testdata(EKS_ALPHA);
    let out = run_on(&p, &["--color", "always"]);
    expect_code(&out, 0);
    let so = stdout(&out);
    assert!(so.contains("\x1b["), "{so:?}");
    assert!(
        so.contains(&format!("\x1b[31m-      apiVersion: {V1ALPHA1}\x1b[0m")),
        "{so:?}"
    );

    for (args, no_color) in [
        (&[][..], None),
        (&["--color", "auto"][..], None),
        (&[][..], Some("1")),
        (&["--color", "never"][..], None),
        // JSON never carries colour.
        (&["--color", "always", "-o", "json"][..], None),
    ] {
        let mut cmd = kubefix();
        cmd.arg("--kubeconfig").arg(&p).args(args);
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().unwrap();
        expect_code(&out, 0);
        assert!(
            !out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b),
            "{args:?} NO_COLOR={no_color:?}: {:?}",
            stdout(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------
// 11. Help and version

/// `--help` groups its options (#14): mode, files, rules, credential sources, output, each
/// option under its heading.
#[test]
fn help_groups_options_by_purpose() {
    let out = kubefix().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = help.lines().collect();
    // The heading above the option's own line (`      --apply`, `  -o, --output <OUTPUT>`).
    let section_of = |flag: &str| -> String {
        let at = lines
            .iter()
            .position(|l| {
                let t = l.trim_start();
                l.starts_with("  ") && (t.starts_with(flag) || t.contains(&format!(", {flag}")))
            })
            .unwrap_or_else(|| panic!("{flag} missing:\n{help}"));
        lines[..at]
            .iter()
            .rev()
            .find(|l| l.ends_with(':') && !l.starts_with(' '))
            .unwrap_or(&"")
            .to_string()
    };
    for (flag, heading) in [
        ("--apply", "Mode:"),
        ("--kubeconfig <PATH>", "Files:"),
        ("--backup-dir <DIR>", "Files:"),
        ("--k3s-config <PATH>", "Credential sources:"),
        ("--force-identity <USER-ENTRY>", "Credential sources:"),
        ("--rule <ID>", "Rules:"),
        ("--probe-exec", "Rules:"),
        ("--output <OUTPUT>", "Output:"),
        ("--show-secrets", "Output:"),
    ] {
        assert_eq!(section_of(flag), heading, "{flag}:\n{help}");
    }
}

#[test]
fn help_documents_exit_codes() {
    kubefix().arg("--help").assert().code(0).stdout(
        predicate::str::contains("Exit codes:")
            .and(predicate::str::contains("0  success"))
            .and(predicate::str::contains("1  --check found something"))
            .and(predicate::str::contains("2  error"))
            .and(predicate::str::contains("--apply"))
            .and(predicate::str::contains("--dry-run"))
            .and(predicate::str::contains("--check"))
            .and(predicate::str::contains("--show-secrets"))
            .and(predicate::str::contains("--backup-dir")),
    );
    kubefix()
        .arg("-h")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes:"));
}

#[test]
fn version_exits_0() {
    kubefix()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "kubefix {}",
            env!("CARGO_PKG_VERSION")
        )));
}

// ---------------------------------------------------------------------------------------
// 12. --quiet and --verbose

#[test]
fn quiet_prints_nothing_but_errors() {
    let p = testdata(EKS_ALPHA);
    kubefix()
        .arg("--kubeconfig")
        .arg(&p)
        .args(["--dry-run", "--quiet"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    // Exit codes are unchanged by --quiet.
    kubefix()
        .arg("--kubeconfig")
        .arg(&p)
        .args(["--check", "-q"])
        .args(SKIP_MODE)
        .assert()
        .code(1)
        .stdout("");
    // Errors still reach stderr.
    let bad = testdata("bad/tabs.yaml");
    kubefix()
        .arg("--kubeconfig")
        .arg(&bad)
        .arg("--quiet")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(bad.display().to_string()));
}

#[test]
fn verbose_reports_healthy_files() {
    let p = testdata(EKS_BETA);
    let out = run_on(&p, &["--verbose", SKIP_MODE[0], SKIP_MODE[1]]);
    expect_code(&out, 0);
    assert!(
        stdout(&out).contains("no problems found"),
        "{}",
        stdout(&out)
    );
    let out = run_on(&p, &SKIP_MODE);
    assert!(!stdout(&out).contains("no problems found"));
}

#[test]
fn redacted_block_scalar_keeps_the_next_lines_indentation() {
    // Repro: kubefix --kubeconfig FILE  (FILE below). The redacted diff shows the context line
    // ` username: bob` instead of `     username: bob`: the secret span of a block scalar ends
    // at the next key, so the following line's indentation is redacted with the secret (the
    // redaction's size, 16 B, is `SECRETLINE1\n` plus those 4 spaces). --show-secrets is right.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let text = SECRETS.split("users:\n").next().unwrap().to_string()
        + "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n    password: |\n      SECRETLINE1\n    username: bob\n    token: tok\n";
    fs::write(&path, &text).unwrap();

    let shown = stdout(&run_on(&path, &["--show-secrets"]));
    assert!(shown.contains("\n     username: bob\n"), "{shown}");
    let out = run_on(&path, &[]);
    expect_code(&out, 0);
    let redacted = stdout(&out);
    assert!(!redacted.contains("SECRETLINE1"), "{redacted}");
    // Every diff line except the secret's own line is identical with and without redaction.
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| !l.starts_with("@@"))
            .map(str::to_string)
            .collect()
    };
    let (r, s) = (lines(&redacted), lines(&shown));
    assert_eq!(r.len(), s.len(), "{redacted}\n{shown}");
    for (a, b) in r.iter().zip(&s) {
        if b.contains("SECRETLINE1") {
            assert!(a.starts_with("       <redacted: "), "{a}");
        } else {
            assert_eq!(a, b, "context line changed by redaction:\n{redacted}");
        }
    }
}

#[test]
fn hunk_starting_inside_a_block_scalar_secret_keeps_indentation() {
    // Repro: kubefix --kubeconfig FILE  (FILE below). The hunk starts at SECRETLINE3; the
    // redacted diff shows `<redacted: …>`, an empty line and ` exec:` (4 spaces lost).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let text = SECRETS.split("users:\n").next().unwrap().to_string()
        + "users:\n- name: u\n  user:\n    password: |\n      SECRETLINE1\n      SECRETLINE2\n      SECRETLINE3\n      SECRETLINE4\n      SECRETLINE5\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n";
    fs::write(&path, &text).unwrap();
    let out = run_on(&path, &[]);
    expect_code(&out, 0);
    let so = stdout(&out);
    assert!(!so.contains("SECRETLINE"), "{so}");
    assert!(
        so.contains("\n     exec:\n"),
        "indentation of `exec:` lost:\n{so}"
    );
}

#[test]
fn partial_write_across_files_is_reported_truthfully() {
    // Two files in $KUBECONFIG, both fixable; the second is locked by someone else. Whatever
    // kubefix does with the first, it must say so: exit 2, the locked file and its lock are
    // untouched, and "nothing was written" appears only if nothing was.
    let dir = tempfile::tempdir().unwrap();
    let a = copy_fixture(dir.path(), EKS_ALPHA, "a");
    let b = copy_fixture(dir.path(), "flow-style.yaml", "b");
    let lock = dir.path().join("b.lock");
    fs::write(&lock, b"").unwrap();
    let (a0, b0) = (read(&a), read(&b));
    let out = kubefix()
        .env("KUBECONFIG", format!("{}:{}", a.display(), b.display()))
        .args(["--apply", "-o", "json"])
        .output()
        .unwrap();
    expect_code(&out, 2);
    let r = json(&out);
    let se = stderr(&out);
    assert!(se.contains(&lock.display().to_string()), "{se}");
    assert_eq!(read(&b), b0);
    assert!(lock.exists());
    assert_eq!(r["files"][1]["changed"], false);
    assert_eq!(r["errors"][0]["path"], b.display().to_string());
    let a_written = read(&a) != a0;
    assert_eq!(r["files"][0]["changed"], a_written, "{r}");
    assert_eq!(se.contains("nothing was written"), !a_written, "{se}");
    if a_written {
        let backup = PathBuf::from(r["files"][0]["backup"].as_str().unwrap());
        assert_eq!(read(&backup), a0);
        assert_eq!(
            String::from_utf8(read(&a)).unwrap(),
            String::from_utf8(a0).unwrap().replace(V1ALPHA1, V1BETA1)
        );
    } else {
        assert!(backups_in(dir.path()).is_empty());
    }
}

/// An empty file (or only blanks and comments) is an empty config to client-go: no finding,
/// a note under -v, and in `$KUBECONFIG` it does not keep the other files from being fixed.
#[test]
fn empty_files_are_read_as_kubectl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.yaml", "whitespace.yaml"] {
        let p = copy_fixture(dir.path(), &format!("bad/{name}"), name);
        let out = run_on(&p, &["--check"]);
        expect_code(&out, 0);
        assert_eq!(
            stdout(&out),
            format!("no fixes needed in {}\n", p.display()),
            "{name}"
        );
        let out = run_on(&p, &["-v"]);
        expect_code(&out, 0);
        assert!(
            stdout(&out).contains("note: the file is empty (no YAML content); kubectl reads it as a kubeconfig with nothing in it"),
            "{name}: {}",
            stdout(&out)
        );
    }
    let empty = copy_fixture(dir.path(), "bad/empty.yaml", "a-empty");
    let broken = copy_fixture(dir.path(), EKS_ALPHA, "b-broken");
    let joined = format!("{}:{}", empty.display(), broken.display());
    let out = kubefix()
        .env("KUBECONFIG", &joined)
        .arg("--apply")
        .output()
        .unwrap();
    expect_code(&out, 0);
    assert_eq!(read(&empty), b"");
    let fixed = String::from_utf8(read(&broken)).unwrap();
    assert!(fixed.contains("apiVersion: client.authentication.k8s.io/v1beta1"));
    assert!(!fixed.contains("v1alpha1"));
}
