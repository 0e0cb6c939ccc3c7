//! Crash safety and write failures of `kubefix --apply`, on a real process.
//!
//! The crash tests need the test-only hook in `src/persist.rs`, compiled in by the
//! `fault-injection` feature: `KUBEFIX_FAULT=<step>` aborts the process at that step, and
//! `KUBEFIX_FAULT=<step>:pause` stops there until stdin closes, so a test can kill it with
//! SIGKILL or change the world under it. Run them with
//!
//! ```sh
//! cargo test --features fault-injection --test crash
//! ```
//!
//! (`.ci/run` does). Without the feature only the write-failure tests that need no hook run
//! (full disk through RLIMIT_FSIZE and a tmpfs, a read-only directory).
//!
//! Every child process runs with a deadline; tests work in directories under the target dir
//! (a real disk, where `chattr` works), never in the developer's files.

mod support;
use support::expect_code;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{dir_names as names, testdata};

const EKS_ALPHA: &str = "eks-aws-cli-v1alpha1.yaml";
const DEADLINE: Duration = Duration::from_secs(20);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubefix")
}

/// A fresh directory on the target dir's disk.
fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("crash-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

fn command() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("KUBECONFIG")
        .env_remove("KUBEFIX_FAULT")
        .env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-crash-test-home")
        // Keep exec plugins (aws, ...) out of reach: rules that ask a plugin its version
        // would cost a process start per run.
        .env("PATH", QUIET_PATH)
        .env("NO_COLOR", "1");
    cmd
}

const QUIET_PATH: &str = "/usr/bin:/bin";

/// Wait for `child` with a deadline; kill it and fail the test if it hangs.
fn wait_output(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "kubefix hung for {DEADLINE:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
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

fn apply(path: &Path, extra: &[&str]) -> Output {
    let mut cmd = command();
    cmd.arg("--kubeconfig").arg(path).arg("--apply").args(extra);
    run(cmd)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    names(dir)
        .into_iter()
        .filter(|n| n.contains(".kubefix-") && n.ends_with(".bak"))
        .map(|n| dir.join(n))
        .collect()
}

#[cfg(feature = "fault-injection")]
/// The fixture and what a clean `--apply` makes of it (computed on a throw-away copy).
fn original_and_fixed(extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = workdir();
    let p = dir.path().join("config");
    fs::copy(testdata(EKS_ALPHA), &p).unwrap();
    private(&p);
    let original = fs::read(&p).unwrap();
    expect_code(&apply(&p, extra), 0);
    let fixed = fs::read(&p).unwrap();
    assert_ne!(original, fixed);
    (original, fixed)
}

#[cfg(feature = "fault-injection")]
/// Mode 0600, so that only the exec fix is pending (a world-readable kubeconfig is a finding
/// of its own, fixed by a chmod).
fn private(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Makes `dir` refuse new entries, renames and removals for as long as it lives: `chattr +i`
/// as root (root ignores permission bits), `chmod 0555` otherwise. `None` if neither works.
struct ReadOnlyDir(PathBuf, bool);

impl ReadOnlyDir {
    fn new(dir: &Path) -> Option<ReadOnlyDir> {
        if is_root() {
            let ok = Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then(|| ReadOnlyDir(dir.to_path_buf(), true))
        } else {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).ok()?;
            Some(ReadOnlyDir(dir.to_path_buf(), false))
        }
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        } else {
            let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o755));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Write failures that need no hook

/// Full disk, simulated without privileges: RLIMIT_FSIZE (`ulimit -f`) makes write() fail
/// with EFBIG past the limit (SIGXFSZ ignored, as an ignored signal stays ignored across
/// exec). The original fits under the limit, the repaired text (`--exec-api-version v1` adds
/// a line) does not: the backup is written, the temp file is not.
#[test]
fn full_disk_by_file_size_limit_leaves_the_original_and_no_temp() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("skipping: bash not found");
        return;
    }
    let dir = workdir();
    let path = dir.path().join("config");
    // Pad the fixture with a comment so it ends 8 bytes under 2 KiB.
    let mut text = fs::read_to_string(testdata(EKS_ALPHA)).unwrap();
    let pad = 2048 - 8 - text.len() - 3;
    text.push_str(&format!("# {}\n", "x".repeat(pad)));
    assert_eq!(text.len(), 2040);
    fs::write(&path, &text).unwrap();

    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 2; exec "$0" --kubeconfig "$1" --apply --exec-api-version v1"#)
        .arg(bin())
        .arg(&path)
        .env_remove("KUBECONFIG")
        .env_remove("KUBEFIX_FAULT")
        .env("HOME", "/nonexistent/kubefix-crash-test-home")
        .env("PATH", QUIET_PATH);
    let out = run(cmd);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(
        se.contains("cannot write the temporary file") && se.contains("too large"),
        "{se}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "original intact");
    assert!(
        temps(dir.path()).is_empty(),
        "temp left: {:?}",
        names(dir.path())
    );
    assert!(!dir.path().join("config.lock").exists(), "lock left");
    // The backup that was written is complete.
    let b = backups(dir.path());
    assert_eq!(b.len(), 1);
    assert_eq!(fs::read_to_string(&b[0]).unwrap(), text);

    // Same limit, but now the backup itself does not fit: nothing at all is left behind.
    fs::remove_file(&b[0]).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 1; exec "$0" --kubeconfig "$1" --apply"#)
        .arg(bin())
        .arg(&path)
        .env_remove("KUBECONFIG")
        .env_remove("KUBEFIX_FAULT")
        .env("HOME", "/nonexistent/kubefix-crash-test-home")
        .env("PATH", QUIET_PATH);
    let out = run(cmd);
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("cannot write the backup"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        names(dir.path()),
        ["config"],
        "no partial backup, temp or lock"
    );
}

/// A tiny tmpfs: the real ENOSPC. Needs root and mount(2); skipped otherwise.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        if !is_root() {
            return None;
        }
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fill the filesystem of `dir` completely.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![b'x'; 4096];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(b"x").is_ok() {}
}

#[test]
fn full_disk_on_a_real_tmpfs() {
    let dir = workdir();
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let Some(_tmpfs) = Tmpfs::mount(&mnt, "256k") else {
        eprintln!("skipping: cannot mount a tmpfs (needs root)");
        return;
    };
    let path = mnt.join("config");
    fs::copy(testdata(EKS_ALPHA), &path).unwrap();
    let original = fs::read(&path).unwrap();
    fill(&mnt);
    let out = apply(&path, &[]);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("No space left on device"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(
        names(&mnt),
        ["config", "filler"],
        "no partial backup, temp or lock"
    );
    // With room again, the same run succeeds.
    fs::remove_file(mnt.join("filler")).unwrap();
    expect_code(&apply(&path, &[]), 0);
}

#[test]
fn read_only_directory_is_refused_cleanly() {
    let dir = workdir();
    let sub = dir.path().join("kube");
    fs::create_dir(&sub).unwrap();
    let path = sub.join("config");
    fs::copy(testdata(EKS_ALPHA), &path).unwrap();
    let original = fs::read(&path).unwrap();
    let Some(ro) = ReadOnlyDir::new(&sub) else {
        eprintln!("skipping: cannot make a directory read-only here");
        return;
    };
    let out = apply(&path, &[]);
    drop(ro);
    expect_code(&out, 2);
    let se = stderr(&out);
    assert!(se.contains("lock file"), "{se}");
    assert!(se.contains("nothing was written"), "{se}");
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(names(&sub), ["config"]);
}

#[test]
fn file_replaced_by_a_directory_before_the_run() {
    let dir = workdir();
    let path = dir.path().join("config");
    fs::create_dir(&path).unwrap();
    let out = apply(&path, &[]);
    expect_code(&out, 2);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    assert_eq!(names(dir.path()), ["config"]);
}

#[cfg(not(feature = "fault-injection"))]
#[test]
fn crash_tests_need_the_fault_injection_feature() {
    eprintln!(
        "note: the crash tests of tests/crash.rs run with `cargo test --features fault-injection --test crash`"
    );
}

// ---------------------------------------------------------------------------------------
// Crashes and mid-run changes (need the hook)

#[cfg(feature = "fault-injection")]
mod faults {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    use std::sync::mpsc;

    /// Every step of the write path, in order.
    const STEPS: [&str; 7] = [
        "before-lock",
        "after-lock",
        "after-backup",
        "temp-created",
        "after-temp",
        "before-rename",
        "after-rename",
    ];

    /// A kubefix stopped at `step`, waiting for stdin to close.
    struct Paused {
        child: Child,
        stderr: mpsc::Receiver<String>,
    }

    fn pause_at(path: &Path, step: &str, extra: &[&str]) -> Paused {
        let mut child = command()
            .arg("--kubeconfig")
            .arg(path)
            .arg("--apply")
            .args(extra)
            .env("KUBEFIX_FAULT", format!("{step}:pause"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
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
        Paused { child, stderr: rx }
    }

    impl Paused {
        /// Let it continue (close stdin) and collect its exit status and stderr.
        fn resume(mut self) -> (ExitStatus, String) {
            drop(self.child.stdin.take());
            let out = wait_output(self.child);
            let mut err = String::new();
            while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
                err.push_str(&line);
                err.push('\n');
            }
            (out.status, err)
        }

        fn kill(mut self) -> ExitStatus {
            self.child.kill().unwrap();
            wait_output(self.child).status
        }
    }

    /// After a crash: the path holds exactly the original or exactly the fixed file, every
    /// backup is a complete copy of the original, the lock is recognised as stale, and once
    /// the user removes it a new run succeeds and sweeps the dead run's temp file.
    fn check_after_crash(dir: &Path, step: &str, original: &[u8], fixed: &[u8]) {
        let path = dir.join("config");
        let now = fs::read(&path).unwrap();
        let expect_new = step == "after-rename";
        assert!(
            now == original || now == fixed,
            "{step}: the file is neither the original nor the fixed one"
        );
        assert_eq!(
            now == fixed,
            expect_new,
            "{step}: wrong version at the path"
        );
        for b in backups(dir) {
            assert_eq!(
                fs::read(&b).unwrap(),
                original,
                "{step}: incomplete backup {b:?}"
            );
            assert_eq!(fs::metadata(&b).unwrap().mode() & 0o777, 0o600);
        }
        let lock = dir.join("config.lock");
        let stale_temps = temps(dir);
        if step == "before-lock" {
            assert!(!lock.exists(), "{step}: lock without a lock step");
        } else if step == "after-rename" {
            // The fix is in place: a later run has nothing to write and needs no lock.
            assert!(
                lock.exists(),
                "{step}: a killed kubefix cannot remove its lock"
            );
            let out = apply(&path, &[]);
            expect_code(&out, 0);
            assert!(String::from_utf8_lossy(&out.stdout).contains("no fixes needed"));
            fs::remove_file(&lock).unwrap();
        } else {
            assert!(
                lock.exists(),
                "{step}: a killed kubefix cannot remove its lock"
            );
            // A later run refuses and explains; it never breaks a lock itself.
            let out = apply(&path, &[]);
            expect_code(&out, 2);
            let se = stderr(&out);
            assert!(se.contains("left behind by kubefix"), "{step}: {se}");
            assert!(se.contains("no longer running"), "{step}: {se}");
            assert_eq!(
                fs::read(&path).unwrap(),
                now,
                "{step}: written despite the lock"
            );
            // kubectl sees the same lock; the user removes it.
            fs::remove_file(&lock).unwrap();
        }
        // Make sure the temp file is strictly older than the next lock.
        std::thread::sleep(Duration::from_millis(20));
        let out = apply(&path, &[]);
        expect_code(&out, 0);
        assert_eq!(
            fs::read(&path).unwrap(),
            fixed,
            "{step}: later run did not fix"
        );
        assert!(
            temps(dir).is_empty(),
            "{step}: stale temp files {stale_temps:?} not cleaned: {:?}",
            names(dir)
        );
        assert!(!lock.exists());
        for b in backups(dir) {
            assert_eq!(fs::read(&b).unwrap(), original, "{step}: bad backup {b:?}");
        }
    }

    #[test]
    fn abort_at_every_step_leaves_a_whole_file() {
        let (original, fixed) = original_and_fixed(&[]);
        for step in STEPS {
            let dir = workdir();
            let path = dir.path().join("config");
            fs::write(&path, &original).unwrap();
            private(&path);
            let mut cmd = command();
            cmd.arg("--kubeconfig")
                .arg(&path)
                .arg("--apply")
                .env("KUBEFIX_FAULT", step);
            let out = run(cmd);
            assert_eq!(out.status.signal(), Some(6), "{step}: not aborted: {out:?}");
            if matches!(step, "temp-created" | "after-temp" | "before-rename") {
                assert_eq!(
                    temps(dir.path()).len(),
                    1,
                    "{step}: {:?}",
                    names(dir.path())
                );
            }
            check_after_crash(dir.path(), step, &original, &fixed);
        }
    }

    #[test]
    fn sigkill_at_every_step_leaves_a_whole_file() {
        let (original, fixed) = original_and_fixed(&[]);
        for step in STEPS {
            let dir = workdir();
            let path = dir.path().join("config");
            fs::write(&path, &original).unwrap();
            private(&path);
            let status = pause_at(&path, step, &[]).kill();
            assert_eq!(status.signal(), Some(9), "{step}");
            check_after_crash(dir.path(), step, &original, &fixed);
        }
    }

    #[test]
    fn backup_and_temp_are_0600_from_creation() {
        let dir = workdir();
        let path = dir.path().join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let p = pause_at(&path, "temp-created", &[]);
        let t = temps(dir.path());
        assert_eq!(t.len(), 1, "{:?}", names(dir.path()));
        let meta = fs::metadata(dir.path().join(&t[0])).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600, "temp file not 0600 at creation");
        assert_eq!(meta.len(), 0, "nothing written yet");
        let b = backups(dir.path());
        assert_eq!(fs::metadata(&b[0]).unwrap().mode() & 0o777, 0o600);
        let (status, err) = p.resume();
        assert_eq!(status.code(), Some(0), "{err}");
        // The 0644 original gets 0600 (the file-permissions fix); the backup stays 0600.
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&b[0]).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn file_replaced_by_a_directory_mid_run() {
        let dir = workdir();
        let path = dir.path().join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        let p = pause_at(&path, "after-temp", &[]);
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        let (status, err) = p.resume();
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("changed since kubefix read it"), "{err}");
        assert!(
            path.is_dir() && path.join("inside").exists(),
            "directory touched"
        );
        assert!(
            temps(dir.path()).is_empty(),
            "temp left: {:?}",
            names(dir.path())
        );
        assert!(!dir.path().join("config.lock").exists());
    }

    #[test]
    fn edit_without_the_lock_mid_run_is_never_overwritten() {
        for step in ["after-lock", "after-backup", "after-temp", "before-lock"] {
            let dir = workdir();
            let path = dir.path().join("config");
            fs::copy(testdata(EKS_ALPHA), &path).unwrap();
            let p = pause_at(&path, step, &[]);
            // An editor that ignores the lock appends a line.
            let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(b"# edited meanwhile\n").unwrap();
            drop(f);
            let edited = fs::read(&path).unwrap();
            let (status, err) = p.resume();
            assert_eq!(status.code(), Some(2), "{step}: {err}");
            assert!(
                err.contains("changed since kubefix read it"),
                "{step}: {err}"
            );
            assert_eq!(fs::read(&path).unwrap(), edited, "{step}: edit lost");
            assert!(temps(dir.path()).is_empty(), "{step}: temp left");
            assert!(
                !dir.path().join("config.lock").exists(),
                "{step}: lock left"
            );
        }
        // Same bytes, new mtime (an editor that rewrote identical content): still refused.
        let dir = workdir();
        let path = dir.path().join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        let original = fs::read(&path).unwrap();
        let p = pause_at(&path, "after-temp", &[]);
        std::thread::sleep(Duration::from_millis(10));
        fs::write(&path, &original).unwrap();
        let (status, err) = p.resume();
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("changed since kubefix read it"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), original);
    }

    #[test]
    fn directory_made_read_only_mid_run() {
        // Before the temp file: it cannot be created; nothing to clean up.
        let dir = workdir();
        let sub = dir.path().join("kube");
        fs::create_dir(&sub).unwrap();
        let path = sub.join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        let original = fs::read(&path).unwrap();
        let p = pause_at(&path, "after-backup", &[]);
        let Some(ro) = ReadOnlyDir::new(&sub) else {
            p.kill();
            eprintln!("skipping: cannot make a directory read-only here");
            return;
        };
        let (status, err) = p.resume();
        drop(ro);
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("cannot create a temporary file"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), original);
        assert!(temps(&sub).is_empty());
        fs::remove_file(sub.join("config.lock")).ok(); // could not be removed while read-only

        // After the temp file: the rename fails; the temp file and lock cannot be removed
        // while the directory is read-only, so the next run reports the stale lock and,
        // once it is removed, sweeps the temp file.
        let p = pause_at(&path, "after-temp", &[]);
        let ro = ReadOnlyDir::new(&sub).unwrap();
        let (status, err) = p.resume();
        drop(ro);
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("cannot replace the file"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), original, "original intact");
        let out = apply(&path, &[]);
        if sub.join("config.lock").exists() {
            expect_code(&out, 2);
            assert!(
                stderr(&out).contains("left behind by kubefix"),
                "{}",
                stderr(&out)
            );
            fs::remove_file(sub.join("config.lock")).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            expect_code(&apply(&path, &[]), 0);
        } else {
            expect_code(&out, 0);
        }
        assert!(
            temps(&sub).is_empty(),
            "stale temp not swept: {:?}",
            names(&sub)
        );
        assert_ne!(fs::read(&path).unwrap(), original, "fixed in the end");
    }

    #[test]
    fn full_disk_mid_run_on_a_real_tmpfs() {
        let dir = workdir();
        let mnt = dir.path().join("mnt");
        fs::create_dir(&mnt).unwrap();
        let Some(_tmpfs) = Tmpfs::mount(&mnt, "256k") else {
            eprintln!("skipping: cannot mount a tmpfs (needs root)");
            return;
        };
        let path = mnt.join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        let original = fs::read(&path).unwrap();
        let p = pause_at(&path, "temp-created", &[]);
        fill(&mnt);
        let (status, err) = p.resume();
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("cannot write the temporary file"), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), original);
        assert!(temps(&mnt).is_empty(), "temp left: {:?}", names(&mnt));
        assert!(!mnt.join("config.lock").exists());
    }

    /// A stale temp file is removed only when it is exactly ours and older than the lock.
    #[test]
    fn only_our_stale_temp_files_are_swept() {
        let dir = workdir();
        let path = dir.path().join("config");
        fs::copy(testdata(EKS_ALPHA), &path).unwrap();
        let d = dir.path();
        let ours = d.join(".config.kubefix-AbC123.tmp");
        let keep = [
            ".config.kubefix-AbC12.tmp",      // wrong length
            ".config.kubefix-AbC1234.tmp",    // wrong length
            ".other.kubefix-AbC123.tmp",      // another file's
            "config.kubefix-AbC123.tmp",      // no dot
            ".config.kubefix-AbC123.tmp.bak", // wrong suffix
        ];
        fs::write(&ours, "stale").unwrap();
        for k in keep {
            fs::write(d.join(k), "keep").unwrap();
        }
        // A symlink with our pattern is never followed or removed.
        let target = d.join("precious");
        fs::write(&target, "precious").unwrap();
        std::os::unix::fs::symlink(&target, d.join(".config.kubefix-Sym123.tmp")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        expect_code(&apply(&path, &[]), 0);
        assert!(!ours.exists(), "stale temp not swept");
        for k in keep {
            assert_eq!(fs::read_to_string(d.join(k)).unwrap(), "keep", "{k}");
        }
        assert!(d
            .join(".config.kubefix-Sym123.tmp")
            .symlink_metadata()
            .is_ok());
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
    }
}
