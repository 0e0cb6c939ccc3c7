//! Regressions from the second hostile review (branch `revB`, `poc/revB_findings.sh`); each
//! test is one finding. Where kubectl can settle a case, it is the judge: kubectl v1.32 on
//! PATH, skipped without it unless `KUBEFIX_REQUIRE_E2E=1`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::kubefix_in as kubefix;

use support::stdout_and_stderr as all;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// `kubectl config view` on `config`: what kubectl says when it cannot load it.
fn kubectl_view(kubectl: &Path, config: &Path) -> Output {
    let cache = config.parent().unwrap().join("kcache");
    support::kubectl_command(kubectl, config, &cache)
        .args(["config", "view"])
        .output()
        .unwrap()
}

/// `x: [&u {k0: v, …}, *u, *u, …]`: `m` keys, `k` aliases.
fn aliased(m: usize, k: usize) -> String {
    let inner: Vec<String> = (0..m).map(|i| format!("k{i}: v")).collect();
    format!(
        "apiVersion: v1\nkind: Config\nx-plain: {{}}\nx: [&u {{{}}}, {}]\n",
        inner.join(", "),
        vec!["*u"; k].join(", ")
    )
}

/// PoC §7: a file that is mostly aliases. kubectl refuses it ("yaml: document contains
/// excessive aliasing"); kubefix refuses exactly the same files, quoting it.
#[test]
fn excessive_aliasing_is_refused_like_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let kubectl = support::require_or_skip("kubectl");
    for (k, refused) in [(589, false), (590, true)] {
        let f = write(dir.path(), "a.yaml", &aliased(60, k));
        let out = kubefix(dir.path(), &["--check", "--kubeconfig", "a.yaml"]);
        let text = all(&out);
        assert_eq!(
            text.contains("yaml: document contains excessive aliasing"),
            refused,
            "k={k}: {text}"
        );
        assert_eq!(out.status.code() == Some(2), refused, "k={k}: {text}");
        if let Some(kubectl) = &kubectl {
            let k_out = all(&kubectl_view(kubectl, &f));
            assert_eq!(
                k_out.contains("yaml: document contains excessive aliasing"),
                refused,
                "kubectl, k={k}: {k_out}"
            );
        }
    }
}

/// PoC §7, below the aliasing limit: one user aliased 300 times lists each rule's first 50
/// findings and one "… and N more", not 300 copies of every finding.
#[test]
fn findings_per_rule_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let u = "{name: bob, user: {token: t, username: a, as-groups: [g]}}";
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: [&u {u}, {}]\n",
        vec!["*u"; 299].join(", ")
    );
    write(dir.path(), "c.yaml", &text);
    let out = kubefix(dir.path(), &["-o", "json", "--kubeconfig", "c.yaml"]);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", all(&out)));
    let findings = json["files"][0]["findings"].as_array().unwrap();
    let auth: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "auth-methods")
        .collect();
    assert_eq!(auth.len(), 51, "{findings:#?}");
    let more = auth[50]["message"].as_str().unwrap();
    assert!(
        more.contains("and 550 more auth-methods findings"),
        "{more}"
    );
    assert!(findings.len() < 400, "{}", findings.len());
    assert_eq!(auth[50]["count"], 550, "{:#?}", auth[50]);
    // Counts stay whole: every problem is counted, though only 50 are listed.
    let counted: u64 = findings.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert!(counted > findings.len() as u64 + 500, "{counted}");
    assert_eq!(json["summary"]["findings"], counted);
}

/// The cap hides findings, never fixes: 120 users on v1alpha1 are 120 fixes in the summary
/// (text and JSON), though the list stops at 50 (found when the benchmark's fix count fell
/// to 51).
#[test]
fn capped_lists_still_count_every_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("apiVersion: v1\nkind: Config\nusers:\n");
    for i in 0..120 {
        text.push_str(&format!(
            "- name: u{i}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: sh\n"
        ));
    }
    write(dir.path(), "c.yaml", &text);
    let out = kubefix(
        dir.path(),
        &["--rule", "exec-api-version", "--kubeconfig", "c.yaml"],
    );
    let last = String::from_utf8_lossy(&out.stdout);
    assert!(
        last.lines()
            .last()
            .unwrap_or("")
            .starts_with("120 fixes pending in c.yaml"),
        "{}",
        all(&out)
    );
    let out = kubefix(
        dir.path(),
        &[
            "--rule",
            "exec-api-version",
            "-o",
            "json",
            "--kubeconfig",
            "c.yaml",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["fixable"], 120, "{}", json["summary"]);
    assert_eq!(json["summary"]["findings"], 120, "{}", json["summary"]);
}

const RESTORE_CFG: &str = "apiVersion: v1\nkind: Config\n# bidi \u{202e} here\n# old password: COMMENT_PW_3\nclusters:\n- name: c\n  cluster: {server: \"https://u:URL_PW_4@1.2.3.4\"}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n";

/// PoC §3: `kubefix restore` prints its diff as every other diff: context lines redacted by
/// pattern (a password in a comment, a URL password), controls and bidi overrides escaped.
#[test]
fn restore_diff_is_redacted_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "rcfg", RESTORE_CFG);
    let out = kubefix(dir.path(), &["--apply", "--kubeconfig", "rcfg"]);
    assert!(out.status.success(), "{}", all(&out));
    // A change near the comments, so they are context lines of the restore diff.
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("# old", "# older");
    std::fs::write(&f, text).unwrap();
    for json in [false, true] {
        let mut args = vec!["restore", "--kubeconfig", "rcfg"];
        if json {
            args.extend(["-o", "json"]);
        }
        // Restoring twice in a row goes back and forth between the two contents.
        let out = kubefix(dir.path(), &args);
        let shown = all(&out);
        assert!(out.status.success(), "{shown}");
        assert!(shown.contains("@@ "), "{shown}");
        for secret in ["COMMENT_PW_3", "URL_PW_4", "\u{202e}"] {
            assert!(
                !shown.contains(secret),
                "json={json}: {secret:?} in\n{shown}"
            );
        }
        if !json {
            assert!(shown.contains("\\u{202e}"), "{shown}");
        }
    }
}

/// PoC §4/§8: a file name with an ESC sequence is printed escaped by `restore`,
/// `restore --list`, and in the JSON `files[].path` / `files[].backup` / `errors[].path`.
#[test]
fn control_characters_in_paths_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "k\u{1b}]0;TITLE\u{7}";
    write(dir.path(), name, RESTORE_CFG);
    let apply = kubefix(dir.path(), &["--apply", "-o", "json", "--kubeconfig", name]);
    let json: serde_json::Value =
        serde_json::from_slice(&apply.stdout).unwrap_or_else(|_| panic!("{}", all(&apply)));
    let file = &json["files"][0];
    for field in ["path", "backup"] {
        let v = file[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {file}"));
        assert!(
            !v.contains('\u{1b}') && v.contains("\\x1b"),
            "{field}: {v:?}"
        );
    }
    for args in [
        vec!["restore", "--list", "--kubeconfig", name],
        vec!["restore", "--list", "-o", "json", "--kubeconfig", name],
        vec!["restore", "--kubeconfig", name],
        vec!["restore", "-o", "json", "--kubeconfig", name],
    ] {
        let out = kubefix(dir.path(), &args);
        let shown = all(&out);
        assert!(out.status.success(), "{args:?}: {shown}");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{args:?}: {shown:?}"
        );
        assert!(shown.contains("\\x1b"), "{args:?}: {shown:?}");
    }
    // An error about such a file: its JSON path is escaped too.
    let bad = "b\u{1b}[2J";
    write(dir.path(), bad, "apiVersion: v1\nkind: [\n");
    let out = kubefix(dir.path(), &["-o", "json", "--kubeconfig", bad]);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", all(&out)));
    let p = json["errors"][0]["path"].as_str().unwrap();
    assert!(!p.contains('\u{1b}') && p.contains("\\x1b"), "{p:?}");
}

/// PoC §1: secrets kubectl does not read (a merge source shadowed by the user's own token, a
/// token at the wrong indentation) are still secrets, and diff context shows their lines.
#[test]
fn secrets_kubectl_does_not_read_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "shadow.yaml",
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://1.2.3.4\"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n      x-old: &old {token: SHADOWED_SECRET_1, password: SHADOWED_PW_3, refresh-token: SHADOWED_RT_4}\n  token: MISPLACED_SECRET_2\n- name: v\n  user:\n    <<: *old\n    token: NEWTOKEN\n",
    );
    for args in [
        vec!["--kubeconfig", "shadow.yaml"],
        vec!["-o", "json", "--kubeconfig", "shadow.yaml"],
    ] {
        let out = kubefix(dir.path(), &args);
        let shown = all(&out);
        assert!(shown.contains("v1beta1"), "no diff: {shown}");
        for secret in [
            "SHADOWED_SECRET_1",
            "MISPLACED_SECRET_2",
            "SHADOWED_PW_3",
            "SHADOWED_RT_4",
        ] {
            assert!(!shown.contains(secret), "{args:?}: {secret} in\n{shown}");
        }
    }
}

/// PoC §2: URL passwords with unescaped `/` or `#` are redacted in findings (`kubectl says:`
/// lines), diff context and JSON.
#[test]
fn url_passwords_with_delimiters_are_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "url.yaml",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"https://admin:SRV/PW1@10.0.0.1:6443\"\n    proxy-url: \"http://bob:PX#PW2@proxy:3128\"\n    insecure-skip-tls-verify: true\n    certificate-authority-data: Q0E=\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: abc}}]\n",
    );
    for args in [
        vec!["--kubeconfig", "url.yaml"],
        vec!["-o", "json", "--kubeconfig", "url.yaml"],
    ] {
        let shown = all(&kubefix(dir.path(), &args));
        assert!(shown.contains("@10.0.0.1:6443"), "{shown}");
        for secret in ["SRV/PW1", "PX#PW2"] {
            assert!(!shown.contains(secret), "{args:?}: {secret} in\n{shown}");
        }
    }
}

/// PoC §9: the value after an exec arg `--pass` (or `--passwd`, `--passphrase`, `--pw`) is a
/// secret, redacted in diff context.
#[test]
fn exec_pass_flags_are_secret() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.yaml",
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://1.2.3.4\"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: vault-login\n      args: [--pass, PASS_1, --passwd, PASS_2, --passphrase, PASS_3, --pw, PASS_4]\n",
    );
    for args in [
        vec!["--kubeconfig", "p.yaml"],
        vec!["-o", "json", "--kubeconfig", "p.yaml"],
    ] {
        let shown = all(&kubefix(dir.path(), &args));
        assert!(
            shown.contains("v1beta1") && shown.contains("--passphrase"),
            "{shown}"
        );
        for secret in ["PASS_1", "PASS_2", "PASS_3", "PASS_4"] {
            assert!(!shown.contains(secret), "{args:?}: {secret} in\n{shown}");
        }
    }
}

/// PoC §5: removing a key that a merge key (`<<: *base`) supplies again changes nothing for
/// kubectl. kubefix must not claim such a fix: it gives a hint naming the merged mapping's
/// line, writes nothing, and kubectl (the judge) still fails the same way.
#[test]
fn a_removal_a_merge_key_undoes_is_not_offered() {
    let dir = tempfile::tempdir().unwrap();
    let kubectl = support::require_or_skip("kubectl");
    let cases = [
        (
            "insecure.yaml",
            "apiVersion: v1\nkind: Config\nx-base: &base\n  insecure-skip-tls-verify: true\nclusters:\n- name: a\n  cluster:\n    <<: *base\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n    certificate-authority-data: Q0E=\ncontexts: [{name: x, context: {cluster: a, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: abc}}]\n",
            "specifying a root certificates file with the insecure flag is not allowed",
        ),
        (
            "ca.yaml",
            "apiVersion: v1\nkind: Config\nx-base: &base\n  certificate-authority: /nonexistent/ca.crt\nclusters:\n- name: a\n  cluster:\n    <<: [*base]\n    server: https://127.0.0.1:1\n    certificate-authority: /nonexistent/ca.crt\n    certificate-authority-data: Q0E=\ncontexts: [{name: x, context: {cluster: a, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: abc}}]\n",
            "certificate-authority-data and certificate-authority are both specified for a",
        ),
        (
            "cert.yaml",
            "apiVersion: v1\nkind: Config\nx-base: &base\n  client-certificate: /nonexistent/c.crt\nclusters: [{name: a, cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}}]\ncontexts: [{name: x, context: {cluster: a, user: u}}]\ncurrent-context: x\nusers:\n- name: u\n  user:\n    <<: *base\n    client-certificate: /nonexistent/c.crt\n    client-certificate-data: Q0E=\n    client-key-data: Q0E=\n",
            "client-cert-data and client-cert are both specified for u",
        ),
    ];
    for (name, text, kubectl_says) in cases {
        let f = write(dir.path(), name, text);
        let kubectl_fails = |when: &str| {
            if let Some(kubectl) = &kubectl {
                let cache = dir.path().join("kcache");
                let out = support::kubectl_command(kubectl, &f, &cache)
                    .args(["get", "--raw", "/version", "--request-timeout=2s"])
                    .output()
                    .unwrap();
                let said = all(&out);
                assert!(
                    said.contains(kubectl_says),
                    "{name} {when}: kubectl said {said}"
                );
            }
        };
        kubectl_fails("before");
        let out = kubefix(dir.path(), &["--apply", "--kubeconfig", name]);
        let shown = all(&out);
        assert!(
            shown.contains("the value also comes from the merged mapping at line 4"),
            "{name}: {shown}"
        );
        assert!(!shown.contains(" applied in "), "{name}: {shown}");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), text, "{name}");
        kubectl_fails("after");
    }
}

/// PoC §6: plain scalars go-yaml v2 reads as numbers (`1e3`, `0b101`, `0o17`, `6E10`, …) in
/// a name or namespace make kubectl refuse the file ("json: cannot unmarshal number into Go
/// struct field …"); kubefix must refuse exactly those, and accept the look-alikes kubectl
/// reads as strings. kubectl is asked about every value.
#[test]
fn numbers_go_yaml_reads_are_refused_like_kubectl() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let values = [
        "1e3",
        "0b101",
        "0o17",
        "6E10",
        "0X1F",
        "017",
        "08",
        "1_000",
        "_1000",
        "-_1",
        ".5_0",
        "._5",
        "1.",
        "1e",
        "1e400",
        "1e-400",
        "0b2",
        "0o8",
        "0x",
        "0b-1",
        "-0b-1",
        "0xFFFFFFFFFFFFFFFF",
        "0xFFFFFFFFFFFFFFFFFF",
        "-0x8000000000000001",
        ".5e1_0",
        ".5e_3",
        "1e3.5",
        "0x1p3",
        "1:20",
        "2001-12-14",
        "NaN",
        ".nan",
    ];
    for v in values {
        for (what, text) in [
            (
                "name",
                format!("apiVersion: v1\nkind: Config\nclusters:\n- name: {v}\n  cluster: {{server: \"https://127.0.0.1:1\"}}\ncontexts: [{{name: x, context: {{cluster: \"{v}\", user: u}}}}]\ncurrent-context: x\nusers: [{{name: u, user: {{token: abc}}}}]\n"),
            ),
            (
                "namespace",
                format!("apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"https://127.0.0.1:1\"}}}}]\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: {v}}}\ncurrent-context: x\nusers: [{{name: u, user: {{token: abc}}}}]\n"),
            ),
        ] {
            let f = write(dir.path(), "n.yaml", &text);
            let said = all(&kubectl_view(&kubectl, &f));
            let kubectl_refuses = said.contains("error loading config file");
            let out = kubefix(dir.path(), &["--check", "--kubeconfig", "n.yaml"]);
            let kubefix_refuses = out.status.code() == Some(2);
            assert_eq!(
                kubefix_refuses,
                kubectl_refuses,
                "{what} {v}: kubectl said\n{said}\nkubefix said\n{}",
                all(&out)
            );
        }
    }
}
