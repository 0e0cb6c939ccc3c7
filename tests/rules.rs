//! The rules of issue #4 through the `kubefix` binary: removed auth-providers, exec plugin
//! versions (fake `aws` and plugins on a temp PATH), CA and file problems, and the cross-file
//! rules over `$KUBECONFIG`.
//!
//! Every test that writes works on a copy in its own temp directory; every command runs with
//! no `KUBECONFIG`, a HOME that does not exist, and (where plugins matter) a PATH that holds
//! only the test's own scripts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const NO_HOME: &str = "/nonexistent/kubefix-rules-test-home";

fn kubefix(path_env: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kubefix").expect("binary kubefix is built");
    cmd.env_remove("KUBECONFIG")
        .env_remove("NO_COLOR")
        .env_remove("SUDO_USER")
        .env("HOME", NO_HOME)
        .env("PATH", path_env);
    cmd
}

fn run(path_env: &Path, config: &Path, args: &[&str]) -> Output {
    kubefix(path_env)
        .arg("--kubeconfig")
        .arg(config)
        .args(args)
        .output()
        .expect("kubefix runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// A temp dir with a copy of `name` as `config` (mode 0600), and an empty `bin/` for PATH.
fn copy(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::copy(fixture(name), &config).unwrap();
    private(&config);
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    (dir, config, bin)
}

/// Mode 0600 whatever the checkout or the umask gave: a group- or world-readable kubeconfig is
/// a `file-permissions` finding of its own, which would make `--check` exit 1 by itself.
fn private(config: &Path) {
    fs::set_permissions(config, fs::Permissions::from_mode(0o600)).unwrap();
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// The findings of one rule in a one-file JSON report.
fn findings_of(report: &Value, rule: &str) -> Vec<Value> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().clone())
        .filter(|f| f["rule"] == rule)
        .collect()
}

// ---------------------------------------------------------------------------------------
// gcp-auth-provider

#[test]
fn gcp_apply_writes_the_gcloud_exec_section_and_hints_when_plugin_missing() {
    let (_d, config, bin) = copy("gke-gcp-auth-provider.yaml");
    let out = run(&bin, &config, &[]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out);
    assert!(t.contains("[gcp-auth-provider]"), "{t}");
    assert!(t.contains("kubectl says: The gcp auth plugin has been removed. Please use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead."), "{t}");
    assert!(t.contains("hint: gke-gcloud-auth-plugin is not on PATH: install it with `gcloud components install gke-gcloud-auth-plugin`"), "{t}");
    // The cached access token is a secret: redacted in the diff.
    assert!(!t.contains("ya29.FAKE"), "{t}");
    assert!(t.contains("-        access-token: <redacted: "), "{t}");
    assert!(t.contains("+      command: gke-gcloud-auth-plugin"), "{t}");

    let out = run(&bin, &config, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fixed = fs::read_to_string(&config).unwrap();
    assert!(fixed.ends_with(
        "users:
- name: gke_acme-prod-123456_us-central1-c_web-cluster
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: \"Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\"
      provideClusterInfo: true
"
    ), "{fixed}");
    // Nothing left to fix; the plugin is still missing, which exec-on-path says with its
    // installHint, until it is installed.
    let again = run(&bin, &config, &["--check", "-o", "json"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let r = json(&again);
    assert!(r["files"][0]["diff"].as_str().unwrap().is_empty(), "{r}");
    let f = findings_of(&r, "exec-on-path");
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(
        f[0]["kubectlError"],
        "getting credentials: exec: executable gke-gcloud-auth-plugin not found"
    );
    assert!(f[0]["hint"]
        .as_str()
        .unwrap()
        .starts_with("Install gke-gcloud-auth-plugin for use with kubectl"));
    script(&bin, "gke-gcloud-auth-plugin", "exit 0");
    let again = run(&bin, &config, &["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn gcp_no_install_hint_when_plugin_on_path() {
    let (_d, config, bin) = copy("gke-gcp-auth-provider.yaml");
    script(&bin, "gke-gcloud-auth-plugin", "exit 0");
    let t = text(&run(&bin, &config, &[]));
    assert!(t.contains("[gcp-auth-provider]"));
    assert!(!t.contains("is not on PATH"), "{t}");
}

// ---------------------------------------------------------------------------------------
// azure-auth-provider

#[test]
fn azure_json_and_login_methods() {
    let (_d, config, bin) = copy("aks-azure-auth-provider.yaml");
    let out = run(&bin, &config, &["-o", "json"]);
    let r = json(&out);
    let f = findings_of(&r, "azure-auth-provider");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["line"], 18);
    assert_eq!(f[0]["fixable"], true);
    assert_eq!(f[0]["kubectlError"], "The azure auth plugin has been removed. Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.");
    let diff = r["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+      - devicecode\n"), "{diff}");
    assert!(!diff.contains("FAKE-aks-refresh-token"), "{diff}");

    let out = run(&bin, &config, &["--apply", "--azure-login", "azurecli"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fixed = fs::read_to_string(&config).unwrap();
    assert!(
        fixed.contains(
            "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --login
      - azurecli
      - --server-id
      - 00000000-aaaa-4bbb-8ccc-000000000001
      command: kubelogin
"
        ),
        "{fixed}"
    );
    assert!(!fixed.contains("auth-provider"));

    let bad = run(&bin, &config, &["--azure-login", "password"]);
    assert_eq!(bad.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------
// oidc-auth-provider

#[test]
fn oidc_warns_and_migrates_with_secret_redacted() {
    let (_d, config, bin) = copy("oidc-auth-provider.yaml");
    let check = run(&bin, &config, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let t = text(&check);
    assert!(
        t.contains("warning users/oidc-jane (line 19): the oidc auth-provider is deprecated"),
        "{t}"
    );
    // Without --migrate-oidc nothing changes.
    let dry = run(&bin, &config, &[]);
    assert!(!text(&dry).contains("+++"), "{}", text(&dry));

    let dry = run(&bin, &config, &["--migrate-oidc"]);
    let t = text(&dry);
    assert!(
        t.contains("+      - --oidc-issuer-url=https://dex.example.internal\n"),
        "{t}"
    );
    assert!(
        !t.contains("FAKE-oidc-client-secret"),
        "the client secret leaked:\n{t}"
    );
    assert!(t.contains("+      - <redacted: "), "{t}");
    let shown = text(&run(&bin, &config, &["--migrate-oidc", "--show-secrets"]));
    assert!(
        shown.contains("+      - --oidc-client-secret=FAKE-oidc-client-secret\n"),
        "{shown}"
    );

    let out = run(&bin, &config, &["--apply", "--migrate-oidc"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fixed = fs::read_to_string(&config).unwrap();
    assert!(fixed.contains("      command: kubectl\n"));
    assert!(fixed.contains("      - oidc-login\n      - get-token\n"));
    // The exec section runs kubectl (its oidc-login plugin): exec-on-path looks for it.
    assert_eq!(run(&bin, &config, &["--check"]).status.code(), Some(1));
    script(&bin, "kubectl", "exit 0");
    assert_eq!(run(&bin, &config, &["--check"]).status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// exec-plugin-version: aws --version (--probe-exec only)

/// A fake `aws` that logs each call and prints `version` (on stderr, as old v1 did, when
/// `stderr` is set).
fn fake_aws(bin: &Path, version: &str, stderr: bool) -> PathBuf {
    let log = bin.join("aws.calls");
    let redirect = if stderr { " >&2" } else { "" };
    script(
        bin,
        "aws",
        &format!(
            "echo \"$@\" >> '{}'\necho 'aws-cli/{version} Python/3.8.10 Linux/5.15 botocore/1.23.0'{redirect}",
            log.display()
        ),
    );
    log
}

fn calls(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The findings about the aws-cli version (not those of `--probe-exec`'s runs of the plugin).
fn aws_version_findings(report: &Value) -> Vec<Value> {
    findings_of(report, "exec-plugin-version")
        .into_iter()
        .filter(|f| f["message"].as_str().unwrap().starts_with("aws-cli "))
        .collect()
}

/// The calls that asked for the version.
fn version_calls(log: &Path) -> usize {
    calls(log).iter().filter(|c| *c == "--version").count()
}

#[test]
fn old_aws_cli_is_reported_once_per_run() {
    for (version, stderr) in [("1.22.0", true), ("2.6.2", false)] {
        // Two aws users and a v1alpha1 fix (so the rules run again during verification):
        // aws --version still runs once. It runs only with --probe-exec (issue #12): this
        // fake aws's layout does not tell its version.
        let (_d, config, bin) = copy("multi-merged.yaml");
        let log = fake_aws(&bin, version, stderr);
        let r = json(&run(&bin, &config, &["-o", "json"]));
        assert!(calls(&log).is_empty(), "aws ran without --probe-exec");
        let f = findings_of(&r, "exec-plugin-version");
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f["severity"] == "info"), "{f:?}");

        let r = json(&run(&bin, &config, &["--probe-exec", "-o", "json"]));
        let f = aws_version_findings(&r);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0]["line"], 80);
        assert!(f[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("aws-cli {version} (")));
        assert_eq!(f[0]["kubectlError"], "getting credentials: decoding stdout: no kind \"ExecCredential\" is registered for version \"client.authentication.k8s.io/v1alpha1\" in scheme \"pkg/client/auth/exec/exec.go:62\"");
        assert!(f[1]["hint"]
            .as_str()
            .unwrap()
            .contains("2.6.3 or later (v2)"));
        assert_eq!(version_calls(&log), 1, "{:?}", calls(&log));
    }
}

#[test]
fn current_aws_cli_is_fine_and_aws_runs_only_for_aws_users() {
    let (_d, config, bin) = copy("eks-aws-cli-v1beta1.yaml");
    let log = fake_aws(&bin, "2.6.3", false);
    let r = json(&run(&bin, &config, &["--probe-exec", "-o", "json"]));
    assert!(aws_version_findings(&r).is_empty(), "{r}");
    assert_eq!(version_calls(&log), 1, "{:?}", calls(&log));

    let (_d2, k3s, bin2) = copy("k3s.yaml");
    let log2 = fake_aws(&bin2, "1.0.0", false);
    let out = run(&bin2, &k3s, &["--probe-exec"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(calls(&log2).is_empty(), "aws ran without an aws user");
}

#[test]
fn aws_version_is_read_from_the_install_layout_without_running_aws() {
    // Homebrew: bin/aws -> Cellar/awscli/2.6.2/bin/aws. The script itself would claim
    // 2.6.3 (and log the call): the Cellar version is what counts, and aws does not run.
    let (d, config, bin) = copy("eks-aws-cli-v1beta1.yaml");
    let keg = d.path().join("Cellar/awscli/2.6.2/bin");
    fs::create_dir_all(&keg).unwrap();
    let log = fake_aws(&keg, "2.6.3", false);
    std::os::unix::fs::symlink(keg.join("aws"), bin.join("aws")).unwrap();
    let r = json(&run(&bin, &config, &["-o", "json"]));
    let f = findings_of(&r, "exec-plugin-version");
    assert_eq!(f.len(), 2, "{f:?}"); // two aws users
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("aws-cli 2.6.2 ("));
    assert!(calls(&log).is_empty(), "aws ran: {:?}", calls(&log));

    // pip: a script whose interpreter (never run; it is not even a program) has awscli
    // 1.22.0 in its site-packages.
    let (d, config, bin) = copy("eks-aws-cli-v1beta1.yaml");
    let prefix = d.path().join("python");
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::write(prefix.join("bin/python3.11"), "").unwrap();
    let pkg = prefix.join("lib/python3.11/site-packages/awscli");
    fs::create_dir_all(&pkg).unwrap();
    fs::write(pkg.join("__init__.py"), "__version__ = '1.22.0'\n").unwrap();
    let aws = bin.join("aws");
    fs::write(
        &aws,
        format!(
            "#!{}\nimport sys\nimport awscli.clidriver\nsys.exit(awscli.clidriver.main())\n",
            prefix.join("bin/python3.11").display()
        ),
    )
    .unwrap();
    fs::set_permissions(&aws, fs::Permissions::from_mode(0o755)).unwrap();
    let r = json(&run(&bin, &config, &["-o", "json"]));
    let f = findings_of(&r, "exec-plugin-version");
    assert_eq!(f.len(), 2, "{f:?}"); // two aws users
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("aws-cli 1.22.0 ({})", aws.display())));
}

// ---------------------------------------------------------------------------------------
// exec-plugin-version: --probe-exec

fn exec_config(dir: &Path, command: &str, extra: &str) -> PathBuf {
    let config = dir.join("config");
    fs::write(
        &config,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: probe
  cluster: {{server: https://127.0.0.1:6443}}
contexts:
- name: probe
  context: {{cluster: probe, user: probe-user}}
current-context: probe
users:
- name: probe-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: {command}
{extra}"
        ),
    )
    .unwrap();
    private(&config);
    config
}

#[test]
fn probe_exec_reports_wrong_version_and_missing_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    script(
        &bin,
        "alpha-plugin",
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'",
    );
    let config = exec_config(dir.path(), "alpha-plugin", "");
    // Not run without the flag.
    assert_eq!(run(&bin, &config, &["--check"]).status.code(), Some(0));
    let r = json(&run(&bin, &config, &["--probe-exec", "-o", "json"]));
    let f = findings_of(&r, "exec-plugin-version");
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["message"], "exec plugin \"alpha-plugin\" is asked for client.authentication.k8s.io/v1beta1 but returns client.authentication.k8s.io/v1alpha1");
    assert_eq!(f[0]["line"], 15);

    let missing = exec_config(
        dir.path(),
        "no-such-plugin",
        "      installHint: \"install it with: brew install no-such-plugin\"\n",
    );
    let t = text(&run(&bin, &missing, &["--probe-exec"]));
    assert!(
        t.contains("kubectl says: getting credentials: exec: executable no-such-plugin not found"),
        "{t}"
    );
    assert!(
        t.contains("hint: install it with: brew install no-such-plugin"),
        "{t}"
    );
}

#[test]
fn probe_exec_stops_a_hanging_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    // The test's PATH holds only bin/, so give sleep by its full path.
    let sleep = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("sleep"))
        .find(|p| p.is_file())
        .expect("sleep on PATH");
    script(&bin, "hang-plugin", &format!("exec {} 60", sleep.display()));
    let config = exec_config(dir.path(), "hang-plugin", "");
    let t0 = Instant::now();
    let out = run(&bin, &config, &["--probe-exec", "--check"]);
    let took = t0.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("did not answer within 10 s"),
        "{}",
        text(&out)
    );
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(30),
        "{took:?}"
    );
}

// ---------------------------------------------------------------------------------------
// insecure-with-ca, ca-data-and-file

#[test]
fn insecure_with_ca_apply_removes_the_flag_lines() {
    let (_d, config, bin) = copy("insecure-with-ca.yaml");
    let before = fs::read_to_string(&config).unwrap();
    let out = run(&bin, &config, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains(
        "kubectl says: specifying a root certificates file with the insecure flag is not allowed"
    ));
    let want = before
        .replace(
            "    insecure-skip-tls-verify: true # self-signed, TODO remove\n",
            "",
        )
        .replace(" insecure-skip-tls-verify: true,", "");
    assert_ne!(want, before);
    assert_eq!(fs::read_to_string(&config).unwrap(), want);
}

#[test]
fn ca_data_and_file_apply_removes_the_path() {
    let (_d, config, bin) = copy("ca-data-and-file.yaml");
    let before = fs::read_to_string(&config).unwrap();
    let r = json(&run(&bin, &config, &["-o", "json"]));
    let f = findings_of(&r, "ca-data-and-file");
    assert_eq!(f[0]["kubectlError"], "certificate-authority-data and certificate-authority are both specified for both-ca. certificate-authority-data will override.");
    // The missing old CA file is reported too, until the fix removes the path.
    assert_eq!(findings_of(&r, "missing-file").len(), 1);
    assert_eq!(run(&bin, &config, &["--apply"]).status.code(), Some(0));
    let after = fs::read_to_string(&config).unwrap();
    assert_eq!(
        after,
        before.replace(
            "    certificate-authority: /home/jdoe/.kube/old-ca.crt\n",
            ""
        )
    );
    assert_eq!(run(&bin, &config, &["--check"]).status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// missing-file

#[test]
fn missing_files_resolve_against_the_kubeconfig_directory() {
    let (d, config, bin) = copy("missing-file.yaml");
    // Run from another directory: relative paths still resolve next to the file.
    let out = kubefix(&bin)
        .current_dir("/")
        .arg("--kubeconfig")
        .arg(&config)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r = json(&out);
    let f = findings_of(&r, "missing-file");
    let dir = d.path().display().to_string();
    let said: Vec<&str> = f
        .iter()
        .map(|f| f["kubectlError"].as_str().unwrap())
        .collect();
    assert_eq!(
        said,
        vec![
            format!("unable to read certificate-authority {dir}/moved-certs/ca.crt for moved due to open {dir}/moved-certs/ca.crt: no such file or directory"),
            format!("unable to read client-cert {dir}/moved-certs/client.crt for moved-user due to open {dir}/moved-certs/client.crt: no such file or directory"),
            format!("unable to read client-key {dir}/moved-certs/client.key for moved-user due to open {dir}/moved-certs/client.key: no such file or directory"),
            format!("open {dir}/moved-certs/token: no such file or directory"),
        ]
    );
    // Restore the files (real ones: credential-pem reads them): nothing left to report.
    fs::create_dir(d.path().join("moved-certs")).unwrap();
    for (f, key) in [
        ("ca.crt", "certificate-authority-data"),
        ("client.crt", "client-certificate-data"),
        ("client.key", "client-key-data"),
    ] {
        let pem = unbase64(&fixture_value("k3s.yaml", key));
        fs::write(d.path().join("moved-certs").join(f), pem).unwrap();
    }
    fs::write(d.path().join("moved-certs/token"), "x").unwrap();
    assert_eq!(run(&bin, &config, &["--check"]).status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// dangling-reference, duplicate-name

#[test]
fn dangling_references_in_one_file() {
    let bin = tempfile::tempdir().unwrap();
    let out = run(
        bin.path(),
        &fixture("dangling-reference.yaml"),
        &["--check"],
    );
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    for want in [
        "error (line 14): current-context \"dangling-renamed\" is not a context in this file [dangling-reference]",
        "kubectl says: Error in configuration: context was not found for specified context: dangling-renamed",
        "error contexts/dangling-no-cluster (line 11): context \"dangling-no-cluster\" uses cluster \"dangling-deleted-cluster\", which is not defined in this file",
        "error contexts/dangling-no-user (line 13): context \"dangling-no-user\" uses user \"dangling-deleted-user\"",
        "kubectl says: Please enter Username:",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
}

#[test]
fn duplicates_in_one_file_and_across_kubeconfig() {
    let bin = tempfile::tempdir().unwrap();
    let dup = fixture("duplicate-name.yaml");
    let t = text(&run(bin.path(), &dup, &[]));
    assert!(t.contains("error clusters/dup-cluster (line 7): a second cluster named \"dup-cluster\" in this file (the first is on line 4); kubectl refuses the whole file [duplicate-name]"), "{t}");

    // The k3sup --merge trap: a second file redefines k3s-pi; client-go keeps the first.
    let merged = fixture("multi-merged.yaml");
    let stale = fixture("k3sup-stale-merge.yaml");
    let joined = format!("{}:{}", merged.display(), stale.display());
    let out = kubefix(bin.path())
        .env("KUBECONFIG", &joined)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let r = json(&out);
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let shadowed: Vec<&Value> = files[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "duplicate-name")
        .collect();
    let got: Vec<(String, u64)> = shadowed
        .iter()
        .map(|f| {
            (
                f["entry"]["kind"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("clusters".into(), 8),
            ("contexts".into(), 13),
            ("users".into(), 18)
        ]
    );
    assert!(shadowed[0]["message"].as_str().unwrap().contains(&format!(
        "is shadowed by the one in {} line 18, loaded first",
        merged.display()
    )));
    assert_eq!(shadowed[0]["severity"], "warning");
    // The first file has no duplicate findings, and no reference dangles across the two.
    assert!(findings_of(
        &serde_json::json!({"files": [files[0].clone()]}),
        "duplicate-name"
    )
    .is_empty());
    assert!(findings_of(&r, "dangling-reference").is_empty());
    // The second file's current-context is ignored by kubectl (the first file's wins), and
    // it exists anyway: nothing to say. Loaded alone, nothing dangles either.
    let alone = json(&run(bin.path(), &stale, &["-o", "json"]));
    assert!(findings_of(&alone, "duplicate-name").is_empty());
}

// ---------------------------------------------------------------------------------------
// credential-pem

/// The base64 value of `key` in a fixture (first occurrence).
fn fixture_value(name: &str, key: &str) -> String {
    fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{key}: "))
                .map(str::to_string)
        })
        .unwrap()
}

fn unbase64(v: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(v).unwrap()
}

#[test]
fn credential_pem_reads_files_and_never_shows_parser_internals() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let dir = tempfile::tempdir().unwrap();
    let ca = unbase64(&fixture_value("k3s.yaml", "certificate-authority-data"));
    let cert = unbase64(&fixture_value("k3s.yaml", "client-certificate-data"));
    // Another fixture's key: not the key of k3s.yaml's certificate.
    let other_key = unbase64(&fixture_value("k3sup-stale-merge.yaml", "client-key-data"));
    fs::write(dir.path().join("client.crt"), &cert).unwrap();
    fs::write(dir.path().join("other.key"), &other_key).unwrap();
    let damaged = b"-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n";
    let bundle = [&damaged[..], &ca[..]].concat();
    let config = dir.path().join("config");
    fs::write(
        &config,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: {}
contexts:
- name: x
  context: {{cluster: c, user: files}}
current-context: x
users:
- name: files
  user:
    client-certificate: client.crt
    client-key: other.key
- name: damaged
  user:
    client-certificate-data: {}
    client-key-data: {}
",
            b64(&bundle),
            b64(damaged),
            b64(&other_key),
        ),
    )
    .unwrap();
    private(&config);
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let out = run(&bin, &config, &["-o", "json"]);
    let r = json(&out);
    let f = findings_of(&r, "credential-pem");
    let got: Vec<(&str, u64, &str, &str)> = f
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap(),
                f["kubectlError"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // client-go skips the damaged block and uses the CA after it.
            ("warning", 7, "unreadable", ""),
            (
                "error",
                16,
                "bad-client-cert",
                "Unable to connect to the server: tls: private key does not match public key"
            ),
            (
                "error",
                19,
                "bad-client-cert",
                "x509: malformed certificate"
            ),
        ],
        "{r}"
    );
    // The parser's internals stay inside: not in the JSON, not in the text and its table.
    let t = text(&run(&bin, &config, &[]));
    assert!(
        t.contains("unreadable (malformed X.509 certificate)"),
        "{t}"
    );
    for shown in [t, String::from_utf8_lossy(&out.stdout).into_owned()] {
        for internal in ["NomError", "Parsing Error", "UnexpectedTag", "Der("] {
            assert!(!shown.contains(internal), "{internal} in\n{shown}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// exec-renamed

/// `heptio-authenticator-aws` and `aws2` point at their new names when those are on PATH
/// (looked up, never run: the scripts would leave a mark), and are reported with the new
/// name to install otherwise.
#[test]
fn renamed_exec_plugins_follow_their_new_name_only_when_it_is_installed() {
    for (old, new, args) in [
        (
            "heptio-authenticator-aws",
            "aws-iam-authenticator",
            "[token, -i, probe]",
        ),
        ("aws2", "aws", "[eks, get-token, --cluster-name, probe]"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let ran = dir.path().join("ran");
        let config = exec_config(dir.path(), old, &format!("      args: {args}\n"));
        let before = fs::read_to_string(&config).unwrap();
        // Not installed: reported, with the new name, and nothing changes.
        let out = run(&bin, &config, &["--apply"]);
        let t = text(&out);
        assert!(
            t.contains(&format!(
                "kubectl says: getting credentials: exec: executable {old} not found"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "{old} was renamed {new} (same arguments): install {new}"
            )),
            "{t}"
        );
        assert_eq!(fs::read_to_string(&config).unwrap(), before);
        // Installed under the new name: the command is changed, the arguments kept.
        script(&bin, new, &format!("touch {}", ran.display()));
        let out = run(&bin, &config, &["--apply"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("[exec-renamed"), "{}", text(&out));
        assert_eq!(
            fs::read_to_string(&config).unwrap(),
            before.replace(&format!("command: {old}"), &format!("command: {new}"))
        );
        assert!(!ran.exists(), "the plugin was run");
        let r = json(&run(&bin, &config, &["--check", "-o", "json"]));
        assert!(
            findings_of(&r, "exec-on-path").is_empty()
                && findings_of(&r, "exec-renamed").is_empty()
        );
    }
}
