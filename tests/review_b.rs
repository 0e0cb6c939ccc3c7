//! Regressions from the second hostile review (branch `revB`, `poc/revB_findings.sh`); each
//! test is one finding. Where kubectl can settle a case, it is the judge: kubectl v1.32 on
//! PATH, skipped without it unless `KUBEFIX_REQUIRE_E2E=1`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;

fn kubefix(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .current_dir(dir)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn all(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect(&all(&out));
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
}
