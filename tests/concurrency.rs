//! Concurrent writers: real `kubectl config set-credentials` / `set-context` calls race
//! `kubefix --apply` on one file, a bounded number of times, and afterwards nothing is lost:
//! every kubectl edit that reported success is in the file, every kubefix fix that reported
//! success is in the file, and every failure on either side was a refusal (the lock, or a
//! file that changed under kubefix), never a corrupt file or a crash.
//!
//! kubectl (client-go) takes `<file>.lock` for its whole read-modify-write and fails if the
//! lock exists; kubefix takes the same lock, re-reads under it, and refuses if the file
//! changed since it planned. Needs kubectl (skips without it, unless KUBEFIX_REQUIRE_E2E=1).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
/// kubectl edits per run: each adds a broken exec user and a context (2 kubectl calls).
const KUBECTL_EDITS: usize = 25;
/// Upper bound on kubefix runs racing them.
const MAX_KUBEFIX_RUNS: usize = 500;

fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} hung");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait_with_output().unwrap()
}

fn kubectl(bin: &Path, config: &Path, cache: &Path, args: &[&str]) -> Output {
    let mut cmd = support::kubectl_command(bin, config, cache);
    cmd.args(args);
    run_with_deadline(&mut cmd, Duration::from_secs(30))
}

fn kubefix(config: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubefix"));
    cmd.env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent/kubefix-concurrency-home")
        .env("PATH", "/usr/bin:/bin")
        .arg("--kubeconfig")
        .arg(config)
        .args(args);
    run_with_deadline(&mut cmd, Duration::from_secs(30))
}

/// users[].name -> exec apiVersion, contexts[].name, from `kubectl config view`.
fn state(bin: &Path, config: &Path, cache: &Path) -> (Vec<(String, String)>, Vec<String>) {
    let out = kubectl(
        bin,
        config,
        cache,
        &["config", "view", "--raw", "-o", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = v["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                u["user"]["exec"]["apiVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let contexts = v["contexts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    (users, contexts)
}

#[test]
fn kubectl_and_kubefix_racing_lose_nothing() {
    let Some(bin) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config: PathBuf = dir.path().join("config");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/eks-aws-cli-v1alpha1.yaml"),
        &config,
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let done = Arc::new(AtomicBool::new(false));

    // kubectl side: add user-i (broken: v1alpha1) and ctx-i.
    let kubectl_side = {
        let (bin, config, cache, done) = (bin.clone(), config.clone(), cache.clone(), done.clone());
        std::thread::spawn(move || {
            let mut ok_users = Vec::new();
            let mut ok_contexts = Vec::new();
            let mut refused = 0;
            for i in 0..KUBECTL_EDITS {
                let user = format!("user-{i}");
                let out = kubectl(
                    &bin,
                    &config,
                    &cache,
                    &[
                        "config",
                        "set-credentials",
                        &user,
                        "--exec-command=aws",
                        &format!("--exec-api-version={V1ALPHA1}"),
                    ],
                );
                let mut judge = |out: &Output, name: String, ok: &mut Vec<String>| {
                    if out.status.success() {
                        ok.push(name);
                    } else {
                        let se = String::from_utf8_lossy(&out.stderr);
                        assert!(
                            se.contains(".lock"),
                            "kubectl failed other than on the lock: {se}"
                        );
                        refused += 1;
                    }
                };
                judge(&out, user.clone(), &mut ok_users);
                let ctx = format!("ctx-{i}");
                let out = kubectl(
                    &bin,
                    &config,
                    &cache,
                    &[
                        "config",
                        "set-context",
                        &ctx,
                        "--cluster=c",
                        &format!("--user={user}"),
                    ],
                );
                judge(&out, ctx, &mut ok_contexts);
            }
            done.store(true, Ordering::SeqCst);
            (ok_users, ok_contexts, refused)
        })
    };

    // kubefix side: apply until kubectl is done.
    let mut fixed_users: Vec<String> = Vec::new();
    let (mut applied, mut refused, mut runs) = (0, 0, 0);
    while !done.load(Ordering::SeqCst) && runs < MAX_KUBEFIX_RUNS {
        runs += 1;
        let out = kubefix(&config, &["--apply", "-o", "json"]);
        match out.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                for f in v["files"][0]["findings"].as_array().unwrap() {
                    // Fixes of users (other rules may fix file-level things).
                    if f["fixed"] != true || f["entry"]["kind"] != "users" {
                        continue;
                    }
                    if let Some(name) = f["entry"]["name"].as_str() {
                        fixed_users.push(name.to_string());
                        applied += 1;
                    }
                }
            }
            Some(2) => {
                // Refused: kubectl held the lock, or the file changed (or was half-written by
                // kubectl, which writes in place) while kubefix read it.
                let se = String::from_utf8_lossy(&out.stderr);
                assert!(
                    se.contains("lock file")
                        || se.contains("changed since kubefix read it")
                        || se.contains("kubefix: error:") && !se.contains("bug"),
                    "kubefix failed other than by refusing: {se}"
                );
                assert!(se.contains("nothing was written"), "{se}");
                refused += 1;
            }
            other => panic!(
                "kubefix exited {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    let (ok_users, ok_contexts, kubectl_refused) = kubectl_side.join().unwrap();

    let (users, contexts) = state(&bin, &config, &cache);
    for u in &ok_users {
        assert!(
            users.iter().any(|(n, _)| n == u),
            "kubectl's user {u} was lost"
        );
    }
    for c in &ok_contexts {
        assert!(contexts.contains(c), "kubectl's context {c} was lost");
    }
    for u in &fixed_users {
        let (_, api) = users
            .iter()
            .find(|(n, _)| n == u)
            .expect("fixed user exists");
        assert_ne!(api, V1ALPHA1, "kubefix's fix of {u} was lost");
    }
    assert!(!dir.path().join("config.lock").exists());
    assert!(fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));

    // Quiet now: one more run fixes whatever is left, and then nothing is.
    let out = kubefix(&config, &["--apply"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (users, _) = state(&bin, &config, &cache);
    assert!(users.iter().all(|(_, api)| api != V1ALPHA1), "{users:?}");
    let out = kubefix(&config, &["-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "exec-api-version" && f["fixable"] == true)
        .count();
    assert_eq!(left, 0, "{v}");
    eprintln!(
        "race: {} kubectl edits ok, {kubectl_refused} refused on the lock; {runs} kubefix runs, \
         {applied} fixes applied, {refused} runs refused",
        ok_users.len() + ok_contexts.len()
    );
}

/// Deterministic version of the race: kubefix has planned (paused before taking the lock)
/// when kubectl edits the file; kubefix must refuse, and kubectl's edit must survive.
#[cfg(feature = "fault-injection")]
#[test]
fn kubectl_edit_between_plan_and_lock_is_never_overwritten() {
    use std::io::{BufRead, BufReader};
    let Some(bin) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/eks-aws-cli-v1alpha1.yaml"),
        &config,
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubefix"))
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent/kubefix-concurrency-home")
        .env("PATH", "/usr/bin:/bin")
        .env("KUBEFIX_FAULT", "before-lock:pause")
        .arg("--kubeconfig")
        .arg(&config)
        .arg("--apply")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "kubefix: paused at before-lock");
    let out = kubectl(
        &bin,
        &config,
        &cache,
        &["config", "set-context", "added-meanwhile", "--cluster=c"],
    );
    assert!(out.status.success());
    drop(child.stdin.take());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(rest.contains("changed since kubefix read it"), "{rest}");
    let (_, contexts) = state(&bin, &config, &cache);
    assert!(contexts.contains(&"added-meanwhile".to_string()));
}
