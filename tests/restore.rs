//! `kubefix restore`, `restore --list` and `--keep-backups`, on the real binary.

mod support;
use support::expect_code;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use assert_cmd::Command;
use serde_json::Value;
use support::{dir_names as names, testdata};

const EKS_ALPHA: &str = "eks-aws-cli-v1alpha1.yaml";

fn kubefix() -> Command {
    let mut cmd = Command::cargo_bin("kubefix").unwrap();
    cmd.env_remove("KUBECONFIG")
        .env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-restore-test-home")
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(20));
    cmd
}

/// Copy `testdata/<name>` to `dst` with mode 0600, whatever the checkout gave testdata/: a
/// group- or world-readable kubeconfig is a `file-permissions` finding of its own.
fn copy_fixture(name: &str, dst: &Path) {
    fs::copy(testdata(name), dst).unwrap();
    fs::set_permissions(dst, fs::Permissions::from_mode(0o600)).unwrap();
}

fn backups(dir: &Path, file: &str) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(&format!("{file}.kubefix-")) && n.ends_with(".bak"))
        .collect()
}

fn run(args: &[&str], path: &Path) -> std::process::Output {
    kubefix()
        .args(args)
        .arg("--kubeconfig")
        .arg(path)
        .output()
        .unwrap()
}

/// A valid kubeconfig (restore refuses anything else) that says `tag` in a comment.
fn kubeconfig_text(tag: &str) -> String {
    format!(
        "{}# {tag}\n",
        fs::read_to_string(testdata(EKS_ALPHA)).unwrap()
    )
}

fn stamp(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs))
        .to_string()
        .replace(['-', ':'], "")
}

#[test]
fn restore_puts_the_newest_backup_back_and_backs_up_the_current_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    copy_fixture(EKS_ALPHA, &path);
    // Not 0600, which `file-permissions` would set anyway; no group or other bits, which it
    // would remove (below).
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    let original = fs::read(&path).unwrap();
    expect_code(&run(&["--apply"], &path), 0);
    let fixed = fs::read(&path).unwrap();
    assert_ne!(original, fixed);

    let out = run(&["restore"], &path);
    expect_code(&out, 0);
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(so.contains("restored"), "{so}");
    assert_eq!(fs::read(&path).unwrap(), original, "original is back");
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o400,
        "mode kept"
    );
    let b = backups(dir.path(), "config");
    assert_eq!(b.len(), 2, "{b:?}");
    // The fixed content was backed up before it was replaced: restoring again undoes it.
    assert!(b
        .iter()
        .any(|n| fs::read(dir.path().join(n)).unwrap() == fixed));
    for n in &b {
        assert_eq!(
            fs::metadata(dir.path().join(n))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    expect_code(&run(&["restore"], &path), 0);
    assert_eq!(fs::read(&path).unwrap(), fixed, "restore of the restore");
    assert!(!dir.path().join("config.lock").exists());
    assert!(names(dir.path()).iter().all(|n| !n.ends_with(".tmp")));

    // Group-readable: --apply makes it 0600, and restoring the content keeps that mode (a
    // backup holds the text only; it does not make the file readable to others again).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    copy_fixture(EKS_ALPHA, &path);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let original = fs::read(&path).unwrap();
    let out = run(&["--apply", "-o", "json"], &path);
    expect_code(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "file-permissions" && f["fixed"] == true),
        "{v}"
    );
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    expect_code(&run(&["restore"], &path), 0);
    assert_eq!(fs::read(&path).unwrap(), original, "original is back");
    assert_eq!(
        mode(&path),
        0o600,
        "restore made the file group-readable again"
    );
}

#[test]
fn restore_list_shows_backups_newest_first_with_dates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    copy_fixture(EKS_ALPHA, &path);
    let old = format!("config.kubefix-{}.bak", stamp(1_700_000_000));
    let newer = format!("config.kubefix-{}.bak", stamp(1_700_000_100));
    fs::write(dir.path().join(&old), kubeconfig_text("old")).unwrap();
    fs::write(dir.path().join(&newer), kubeconfig_text("newer")).unwrap();
    fs::write(dir.path().join("config.bak"), "not ours").unwrap();

    let out = run(&["restore", "--list"], &path);
    expect_code(&out, 0);
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(so.contains("2 backups"), "{so}");
    assert!(so.contains("2023-11-14T22:13:20Z"), "dates shown: {so}");
    assert!(
        so.find(&newer).unwrap() < so.find(&old).unwrap(),
        "newest first: {so}"
    );
    assert!(
        !so.contains("config.bak\n") && !so.contains(" config.bak"),
        "{so}"
    );

    let out = run(&["restore", "--list", "-o", "json"], &path);
    expect_code(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "restore-list");
    let list = v["files"][0]["backups"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0]["path"].as_str().unwrap().ends_with(&newer));
    assert_eq!(list[1]["time"], "2023-11-14T22:13:20Z");
    assert_eq!(list[0]["size"], kubeconfig_text("newer").len());
    // Listing writes nothing.
    assert_eq!(names(dir.path()).len(), 4);

    // A named backup instead of the newest.
    let out = run(&["restore", &old], &path);
    expect_code(&out, 0);
    assert_eq!(fs::read_to_string(&path).unwrap(), kubeconfig_text("old"));
    let out = run(&["restore", "config.bak"], &path);
    expect_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not one of its kubefix backups"));
    assert_eq!(fs::read_to_string(&path).unwrap(), kubeconfig_text("old"));
}

#[test]
fn restore_without_backups_or_under_a_lock_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    copy_fixture(EKS_ALPHA, &path);
    let before = fs::read(&path).unwrap();
    let out = run(&["restore"], &path);
    expect_code(&out, 2);
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(se.contains("no kubefix backup"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(names(dir.path()), ["config"]);

    fs::write(
        dir.path()
            .join(format!("config.kubefix-{}.bak", stamp(1_700_000_000))),
        kubeconfig_text("old"),
    )
    .unwrap();
    fs::write(dir.path().join("config.lock"), "").unwrap();
    let out = run(&["restore"], &path);
    expect_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("lock file"));
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(names(dir.path()).len(), 3, "no new backup");
}

#[test]
fn restore_honours_backup_dir_and_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real-config");
    copy_fixture(EKS_ALPHA, &real);
    let link = dir.path().join("config");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let bdir = dir.path().join("backups");
    fs::create_dir(&bdir).unwrap();
    let original = fs::read(&real).unwrap();
    let bd = bdir.to_str().unwrap();
    expect_code(&run(&["--apply", "--backup-dir", bd], &link), 0);
    assert_eq!(backups(&bdir, "real-config").len(), 1);
    let out = run(&["restore", "--list", "--backup-dir", bd], &link);
    expect_code(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 backup"));
    let out = run(&["restore", "--backup-dir", bd, "-o", "json"], &link);
    expect_code(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "restore");
    assert_eq!(v["files"][0]["changed"], true);
    assert_eq!(fs::read(&real).unwrap(), original);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "link kept"
    );
    assert_eq!(backups(&bdir, "real-config").len(), 2);
}

#[test]
fn keep_backups_prunes_only_our_oldest_backups_of_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("config");
    let mut old = Vec::new();
    for i in 0..12 {
        let n = format!("config.kubefix-{}.bak", stamp(1_700_000_000 + i * 60));
        fs::write(d.join(&n), "old").unwrap();
        old.push(n);
    }
    let untouchable = [
        "config.bak",
        "config.kubefix-garbage.bak",
        "config.kubefix-20231114T221320Z.bak.orig",
        "other.kubefix-20231114T221320Z.bak",
        "xconfig.kubefix-20231114T221320Z.bak",
    ];
    for u in untouchable {
        fs::write(d.join(u), "keep").unwrap();
    }
    // A symlink and a directory with backup names are not backups.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("precious");
    fs::write(&target, "precious").unwrap();
    let sym = format!("config.kubefix-{}.bak", stamp(1_600_000_000));
    std::os::unix::fs::symlink(&target, d.join(&sym)).unwrap();
    let dirname = format!("config.kubefix-{}.bak", stamp(1_600_000_060));
    fs::create_dir(d.join(&dirname)).unwrap();

    copy_fixture(EKS_ALPHA, &path);
    let out = run(&["--apply"], &path);
    expect_code(&out, 0);
    // 12 old + 1 new, default keep 10: the 3 oldest go.
    let b = backups(d, "config");
    let regular: Vec<&String> = b
        .iter()
        .filter(|n| d.join(n).is_file() && !d.join(n).is_symlink())
        .filter(|n| !untouchable.contains(&n.as_str()))
        .collect();
    assert_eq!(regular.len(), 10, "{b:?}");
    for n in &old[..3] {
        assert!(!d.join(n).exists(), "{n} should be pruned");
    }
    for n in &old[3..] {
        assert!(d.join(n).exists(), "{n} should stay");
    }
    for u in untouchable {
        assert_eq!(fs::read_to_string(d.join(u)).unwrap(), "keep", "{u}");
    }
    assert!(fs::symlink_metadata(d.join(&sym))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
    assert!(d.join(&dirname).is_dir());

    // --keep-backups 2 on the next fix; 0 keeps everything.
    copy_fixture(EKS_ALPHA, &path);
    expect_code(&run(&["--apply", "--keep-backups", "0"], &path), 0);
    assert_eq!(backups(d, "config").len(), b.len() + 1, "0 keeps all");
    copy_fixture(EKS_ALPHA, &path);
    expect_code(&run(&["--apply", "--keep-backups", "2"], &path), 0);
    let left: Vec<String> = backups(d, "config")
        .into_iter()
        .filter(|n| *n != sym && *n != dirname && !untouchable.contains(&n.as_str()))
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    for n in &left {
        assert_eq!(
            fs::read(d.join(n)).unwrap(),
            fs::read(testdata(EKS_ALPHA)).unwrap()
        );
    }
    for u in untouchable {
        assert!(d.join(u).exists(), "{u}");
    }
}
