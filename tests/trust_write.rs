//! Issue #12, the write path: kubefix run as root over users' kubeconfigs must do nothing a
//! file's owner could not do alone, must trust only its own backups, and must fail honestly.
//!
//! Most tests need root (they play a user, uid 4242, and an attacker, uid 4343) and skip
//! with a message otherwise. The race tests need the `fault-injection` hook to stop kubefix
//! at a step while holding the lock:
//!
//! ```sh
//! cargo test --features fault-injection --test trust_write
//! ```

mod support;
use support::expect_code;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{dir_names as names, testdata};

const EKS_ALPHA: &str = "eks-aws-cli-v1alpha1.yaml";
const USER: u32 = 4242;
const ATTACKER: u32 = 4343;
const DEADLINE: Duration = Duration::from_secs(20);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubefix")
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

fn command() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("KUBECONFIG")
        .env_remove("KUBEFIX_FAULT")
        .env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-trust-test-home")
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1");
    cmd
}

fn wait_output(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("kubefix hung\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run(mut cmd: Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_output(child)
}

fn kubefix(args: &[&str], path: &Path) -> Output {
    let mut cmd = command();
    cmd.args(args).arg("--kubeconfig").arg(path);
    run(cmd)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

/// A scratch directory everyone can search (the users below must reach their homes).
fn scratch() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("kubefix-trust-")
        .tempdir()
        .unwrap();
    chmod(d.path(), 0o755);
    d
}

/// `<base>/home` owned by USER, with `.kube/config` (the EKS fixture, 0600, a fix pending).
fn user_home(base: &Path) -> PathBuf {
    let home = base.join("home");
    fs::create_dir_all(home.join(".kube")).unwrap();
    let config = home.join(".kube/config");
    fs::copy(testdata(EKS_ALPHA), &config).unwrap();
    chmod(&config, 0o600);
    chmod(&home.join(".kube"), 0o700);
    for p in [&home, &home.join(".kube"), &config] {
        chown(p, USER);
    }
    home
}

/// A directory only root can enter, holding a root-owned `config` with `content`.
fn root_only_dir(base: &Path, content: &[u8]) -> PathBuf {
    let r = base.join("root-only");
    fs::create_dir(&r).unwrap();
    fs::write(r.join("config"), content).unwrap();
    chmod(&r.join("config"), 0o600);
    chmod(&r, 0o700);
    r
}

/// Every entry under `dir` (not following symlinks) with its owner.
fn owners(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let m = fs::symlink_metadata(e.path()).unwrap();
            out.push((e.path(), m.uid()));
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

#[track_caller]
fn assert_all_owned_by(dir: &Path, uid: u32) {
    let foreign: Vec<_> = owners(dir).into_iter().filter(|(_, u)| *u != uid).collect();
    assert!(foreign.is_empty(), "files not owned by {uid}: {foreign:?}");
}

/// Snapshot of a root-only directory: names, contents, owners and modes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u32, u32)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let m = fs::symlink_metadata(&p).unwrap();
            (n, fs::read(&p).unwrap_or_default(), m.uid(), m.mode())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Symlinks to files of another owner

#[test]
fn users_symlink_to_a_root_owned_kubeconfig_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to play a user");
        return;
    }
    let base = scratch();
    let home = user_home(base.path());
    let original = fs::read(testdata(EKS_ALPHA)).unwrap();
    let r = root_only_dir(base.path(), &original);
    // Root-only by its directory; world-searchable, so only the owner check stands between.
    chmod(&r, 0o755);
    let before = snapshot(&r);
    let config = home.join(".kube/config");
    fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink(r.join("config"), &config).unwrap();
    chown(&config, USER);

    let out = kubefix(&["--apply"], &config);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("symlink") && se.contains("uid 4242"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(snapshot(&r), before, "the root-owned file was touched");
    assert_all_owned_by(&home, USER);

    // The same through a symlinked directory (`~/.kube -> /etc/rancher/k3s`).
    fs::remove_file(&config).unwrap();
    fs::remove_dir(home.join(".kube")).unwrap();
    std::os::unix::fs::symlink(&r, home.join(".kube")).unwrap();
    chown(&home.join(".kube"), USER);
    let out = kubefix(&["--apply"], &config);
    expect_code(&out, 2);
    assert!(stderr(&out).contains("symlink"), "{}", stderr(&out));
    assert_eq!(snapshot(&r), before, "the root-owned file was touched");
    let out = kubefix(&["restore"], &config);
    expect_code(&out, 2);
    assert_eq!(snapshot(&r), before);
}

#[test]
fn users_own_symlinks_and_files_are_written_as_the_user() {
    if !is_root() {
        eprintln!("skipped: needs root to play a user");
        return;
    }
    let base = scratch();
    let home = user_home(base.path());
    // ~/.kube/config -> ~/dotfiles/kubeconfig, all the user's: fixed, and every new file
    // (backup) is the user's.
    let dot = home.join("dotfiles");
    fs::create_dir(&dot).unwrap();
    chown(&dot, USER);
    let config = home.join(".kube/config");
    fs::rename(&config, dot.join("kubeconfig")).unwrap();
    std::os::unix::fs::symlink("../dotfiles/kubeconfig", &config).unwrap();
    chown(&config, USER);
    let out = kubefix(&["--apply"], &config);
    expect_code(&out, 0);
    assert_ne!(
        fs::read(dot.join("kubeconfig")).unwrap(),
        fs::read(testdata(EKS_ALPHA)).unwrap()
    );
    assert!(fs::symlink_metadata(&config).unwrap().is_symlink());
    assert_eq!(names(&dot).len(), 2, "{:?}", names(&dot));
    assert_all_owned_by(&home, USER);
}

// ---------------------------------------------------------------------------------------
// Races while the lock is held (need the hook)

#[cfg(feature = "fault-injection")]
mod races {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;

    /// Start `kubefix --apply` stopped at `step`; returns it once it is there.
    fn pause_at(path: &Path, step: &str) -> (Child, mpsc::Receiver<String>) {
        let mut child = command()
            .arg("--kubeconfig")
            .arg(path)
            .arg("--apply")
            .env("KUBEFIX_FAULT", format!("{step}:pause"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let want = format!("kubefix: paused at {step}");
        loop {
            match rx.recv_timeout(DEADLINE) {
                Ok(line) if line == want => break,
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    panic!("kubefix never reached {step}");
                }
            }
        }
        (child, rx)
    }

    /// The attack: while root holds the lock, the user renames `~/.kube` away and puts a
    /// symlink to a root-only directory in its place (holding a root-owned `config` with the
    /// same text, so every content check passes). Root must not create, change or leave
    /// anything there, and must leave no root-owned file (lock, temp, backup) in the home.
    fn swap_kube_dir_at(step: &str) {
        let base = scratch();
        let home = user_home(base.path());
        let config = home.join(".kube/config");
        let r = root_only_dir(base.path(), &fs::read(&config).unwrap());
        let before = snapshot(&r);

        let (mut child, rx) = pause_at(&config, step);
        fs::rename(home.join(".kube"), home.join(".kube.moved")).unwrap();
        std::os::unix::fs::symlink(&r, home.join(".kube")).unwrap();
        chown(&home.join(".kube"), USER);
        drop(child.stdin.take());
        let out = wait_output(child);
        let mut se = String::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(2)) {
            se.push_str(&line);
            se.push('\n');
        }

        assert_eq!(
            snapshot(&r),
            before,
            "{step}: root-only directory changed\n{se}"
        );
        assert_all_owned_by(&home, USER);
        let locks: Vec<_> = owners(&home)
            .into_iter()
            .filter(|(p, _)| p.to_string_lossy().ends_with(".lock"))
            .collect();
        assert!(locks.is_empty(), "{step}: lock left behind: {locks:?}");
        let temps: Vec<_> = owners(&home)
            .into_iter()
            .filter(|(p, _)| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "{step}: temp left behind: {temps:?}");
        assert!(
            out.status.code().is_some(),
            "{step}: kubefix died: {:?}\n{se}",
            out.status
        );
    }

    #[test]
    fn swapping_the_kube_dir_for_a_symlink_after_the_lock() {
        if !is_root() {
            eprintln!("skipped: needs root to play a user");
            return;
        }
        swap_kube_dir_at("after-lock");
    }

    #[test]
    fn swapping_the_kube_dir_for_a_symlink_after_the_backup() {
        if !is_root() {
            eprintln!("skipped: needs root to play a user");
            return;
        }
        swap_kube_dir_at("after-backup");
    }
}

// ---------------------------------------------------------------------------------------
// Backups: only ours

fn stamp(rfc: &str) -> String {
    rfc.replace(['-', ':'], "")
}

fn kubeconfig_text(tag: &str) -> String {
    format!(
        "{}# {tag}\n",
        fs::read_to_string(testdata(EKS_ALPHA)).unwrap()
    )
}

#[test]
fn planted_backups_in_a_shared_dir_are_neither_pruned_over_nor_restored() {
    if !is_root() {
        eprintln!("skipped: needs root to play two users");
        return;
    }
    let base = scratch();
    let home = user_home(base.path());
    let config = home.join(".kube/config");
    let shared = base.path().join("shared");
    fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    // The victim's real backups, from earlier runs.
    let mine = [
        format!("config.kubefix-{}.bak", stamp("2024-01-01T00:00:00Z")),
        format!("config.kubefix-{}.bak", stamp("2024-02-01T00:00:00Z")),
    ];
    for (i, n) in mine.iter().enumerate() {
        let p = shared.join(n);
        fs::write(&p, kubeconfig_text(&format!("victim {i}"))).unwrap();
        chmod(&p, 0o600);
        chown(&p, USER);
    }
    // The attacker's, dated far in the future so they sort newest.
    let planted = [
        "config.kubefix-29991231T235959Z.bak",
        "config.kubefix-29991231T235959Z-1.bak",
    ];
    for n in planted {
        let p = shared.join(n);
        fs::write(&p, kubeconfig_text("attacker")).unwrap();
        chmod(&p, 0o644);
        chown(&p, ATTACKER);
    }
    let shared_s = shared.to_str().unwrap();

    let out = kubefix(
        &["--apply", "--backup-dir", shared_s, "--keep-backups", "3"],
        &config,
    );
    expect_code(&out, 0);
    for n in mine.iter().map(String::as_str).chain(planted) {
        assert!(
            shared.join(n).exists(),
            "{n} was pruned: {:?}",
            names(&shared)
        );
    }
    assert_eq!(names(&shared).len(), 5, "{:?}", names(&shared));
    let fixed = fs::read(&config).unwrap();

    // --list shows only the victim's three, and says what it ignored.
    let out = kubefix(&["restore", "--list", "--backup-dir", shared_s], &config);
    expect_code(&out, 0);
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(so.contains("3 backups"), "{so}");
    assert!(
        so.contains("ignored") && so.contains("another user"),
        "{so}"
    );

    // restore puts back the victim's newest backup (the original), not the attacker's.
    let out = kubefix(&["restore", "--backup-dir", shared_s], &config);
    expect_code(&out, 0);
    let now = fs::read_to_string(&config).unwrap();
    assert!(!now.contains("attacker"), "attacker's kubeconfig restored");
    assert_eq!(now, fs::read_to_string(testdata(EKS_ALPHA)).unwrap());
    assert_ne!(now.as_bytes(), fixed);
    assert_eq!(fs::metadata(&config).unwrap().uid(), USER);

    // Naming the attacker's file is refused.
    let before = fs::read(&config).unwrap();
    let out = kubefix(&["restore", "--backup-dir", shared_s, planted[0]], &config);
    expect_code(&out, 2);
    assert!(stderr(&out).contains("not a trusted"), "{}", stderr(&out));
    assert_eq!(fs::read(&config).unwrap(), before);
}

#[test]
fn future_dated_or_world_writable_backups_of_the_user_are_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(testdata(EKS_ALPHA), &config).unwrap();
    chmod(&config, 0o600);
    let future = dir.path().join(format!(
        "config.kubefix-{}.bak",
        stamp("2999-01-01T00:00:00Z")
    ));
    fs::write(&future, kubeconfig_text("future")).unwrap();
    chmod(&future, 0o600);
    let writable = dir.path().join(format!(
        "config.kubefix-{}.bak",
        stamp("2024-01-01T00:00:00Z")
    ));
    fs::write(&writable, kubeconfig_text("writable")).unwrap();
    chmod(&writable, 0o666);
    let before = fs::read(&config).unwrap();
    let out = kubefix(&["restore"], &config);
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("no kubefix backup"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&config).unwrap(), before);
    // And they do not count against --keep-backups, nor get deleted.
    let out = kubefix(&["--apply", "--keep-backups", "1"], &config);
    expect_code(&out, 0);
    assert!(future.exists() && writable.exists());
}

#[test]
fn a_backup_with_nul_bytes_or_broken_yaml_is_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(testdata(EKS_ALPHA), &config).unwrap();
    chmod(&config, 0o600);
    let before = fs::read(&config).unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("2024-01-01T00:00:00Z", {
            let mut b = kubeconfig_text("nul").into_bytes();
            b.extend_from_slice(b"\0\0garbage\0");
            b
        }),
        (
            "2024-01-02T00:00:00Z",
            b"apiVersion: v1\nclusters: [\n  - {name: x\n".to_vec(),
        ),
        ("2024-01-03T00:00:00Z", b"just: a map\n".to_vec()),
    ];
    for (when, bytes) in &cases {
        let name = format!("config.kubefix-{}.bak", stamp(when));
        let p = dir.path().join(&name);
        fs::write(&p, bytes).unwrap();
        chmod(&p, 0o600);
        let out = kubefix(&["restore", &name], &config);
        expect_code(&out, 2);
        let se = stderr(&out);
        assert!(
            se.contains("not restoring this backup") || se.contains("not a valid kubeconfig"),
            "{when}: {se}"
        );
        assert!(se.contains("nothing was written"), "{se}");
        assert_eq!(fs::read(&config).unwrap(), before, "{when}");
        assert!(!names(dir.path()).iter().any(|n| n.ends_with(".lock")));
    }
    assert_eq!(names(dir.path()).len(), 4, "{:?}", names(dir.path()));
}

#[test]
fn restore_shows_the_redacted_diff() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(testdata(EKS_ALPHA), &config).unwrap();
    chmod(&config, 0o600);
    let secret = "c2VjcmV0LXRva2VuLXZhbHVlLTEyMzQ1Njc4OTA=";
    let backup = format!(
        "{}# restored\n",
        fs::read_to_string(testdata(EKS_ALPHA)).unwrap().replace(
            "users:\n",
            &format!("users:\n- name: extra\n  user:\n    token: {secret}\n")
        )
    );
    let name = format!("config.kubefix-{}.bak", stamp("2024-01-01T00:00:00Z"));
    fs::write(dir.path().join(&name), &backup).unwrap();
    chmod(&dir.path().join(&name), 0o600);
    let out = kubefix(&["restore"], &config);
    expect_code(&out, 0);
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(so.contains("+# restored"), "{so}");
    assert!(so.contains("+- name: extra"), "{so}");
    assert!(!so.contains(secret), "secret in the diff: {so}");
    assert_eq!(fs::read_to_string(&config).unwrap(), backup);
}

// ---------------------------------------------------------------------------------------
// Honest failures

/// The EKS fixture padded to 8 bytes under 2 KiB: with `ulimit -f 2` the backup fits, the
/// repaired text (`--exec-api-version v1` adds a line) does not.
fn padded(path: &Path) -> String {
    let mut text = fs::read_to_string(testdata(EKS_ALPHA)).unwrap();
    let pad = 2048 - 8 - text.len() - 3;
    text.push_str(&format!("# {}\n", "x".repeat(pad)));
    fs::write(path, &text).unwrap();
    chmod(path, 0o600);
    text
}

#[test]
fn file_size_limit_is_a_clean_error_not_a_killed_process() {
    // bash: its `ulimit -f` counts KiB (dash counts 512-byte blocks).
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let text = padded(&config);
    for script in [
        // SIGXFSZ at its default (kill): kubefix must ignore it itself.
        r#"ulimit -f 2; exec "$0" --kubeconfig "$1" --apply --exec-api-version v1"#,
        // Ignored by the parent already: the message must say a backup was written.
        r#"trap '' XFSZ; ulimit -f 2; exec "$0" --kubeconfig "$1" --apply --exec-api-version v1"#,
    ] {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .arg(bin())
            .arg(&config)
            .env_remove("KUBECONFIG")
            .env_remove("KUBEFIX_FAULT")
            .env("HOME", "/nonexistent/kubefix-trust-test-home")
            .env("PATH", "/usr/bin:/bin");
        let out = run(cmd);
        expect_code(&out, 2);
        let se = stderr(&out);
        assert!(se.contains("too large"), "{se}");
        assert!(
            !se.contains("nothing was written"),
            "a backup was written: {se}"
        );
        let backups: Vec<String> = names(dir.path())
            .into_iter()
            .filter(|n| n.ends_with(".bak"))
            .collect();
        assert_eq!(backups.len(), 1, "{backups:?}");
        assert!(se.contains(&backups[0]), "backup not named: {se}");
        assert_eq!(fs::read_to_string(&config).unwrap(), text);
        assert_eq!(
            names(dir.path()).len(),
            2,
            "lock or temp left: {:?}",
            names(dir.path())
        );
        fs::remove_file(dir.path().join(&backups[0])).unwrap();
    }
}

#[test]
fn a_hard_linked_kubeconfig_is_not_split_silently() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(testdata(EKS_ALPHA), &config).unwrap();
    chmod(&config, 0o600);
    let other = dir.path().join("other-name");
    fs::hard_link(&config, &other).unwrap();
    let original = fs::read(&config).unwrap();

    let out = kubefix(&["--apply"], &config);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(
        se.contains("hard link") && se.contains("--break-hardlink"),
        "{se}"
    );
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(fs::read(&config).unwrap(), original);
    assert_eq!(names(dir.path()), ["config", "other-name"]);

    let out = kubefix(&["--apply", "--break-hardlink"], &config);
    expect_code(&out, 0);
    assert_ne!(fs::read(&config).unwrap(), original);
    assert_eq!(
        fs::read(&other).unwrap(),
        original,
        "the other name keeps its content"
    );
    assert_eq!(fs::metadata(&other).unwrap().nlink(), 1);
}

#[test]
fn a_bind_mounted_kubeconfig_is_rewritten_in_place() {
    if !is_root() {
        eprintln!("skipped: needs root for mount --bind");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("host-config");
    fs::copy(testdata(EKS_ALPHA), &src).unwrap();
    chmod(&src, 0o600);
    let kube = dir.path().join("container");
    fs::create_dir(&kube).unwrap();
    let config = kube.join("config");
    fs::write(&config, "").unwrap();
    let mounted = Command::new("mount")
        .arg("--bind")
        .arg(&src)
        .arg(&config)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: mount --bind is not available here");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(config.clone());
    let original = fs::read(&config).unwrap();
    let out = kubefix(&["--apply"], &config);
    expect_code(&out, 0);
    let se = stderr(&out);
    assert!(
        se.contains("rewritten in place") && se.contains("mount"),
        "{se}"
    );
    let now = fs::read(&config).unwrap();
    assert_ne!(now, original);
    assert_eq!(
        fs::read(&src).unwrap(),
        now,
        "the host's file is the fixed one"
    );
    let names = names(&kube);
    assert!(names.iter().any(|n| n.ends_with(".bak")), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".tmp") || n.ends_with(".lock")),
        "{names:?}"
    );
    let b = names.iter().find(|n| n.ends_with(".bak")).unwrap();
    assert_eq!(fs::read(kube.join(b)).unwrap(), original);
    // Writing something shorter truncates: restore the original back in place.
    let out = kubefix(&["restore"], &config);
    expect_code(&out, 0);
    assert_eq!(fs::read(&src).unwrap(), original);
    let _ = std::io::stderr().flush();
}
