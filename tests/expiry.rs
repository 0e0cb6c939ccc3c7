//! The `credential-expiry` rule and the expiry table: JWT tokens (`exp`), client certificates
//! (inline and files) and cluster CAs, each with its date and days left; warnings within
//! `--renew-within`, errors once expired; the command that regenerates the credentials for
//! EKS, GKE, AKS and minikube shapes, and none for entries of no known shape.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::prelude::*;
use base64::Engine as _;
use support::pki::{Ca, Validity};

const DAY: i64 = 86_400;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes())
}

/// A bound service-account token for `ns/name` expiring `days` from now (no valid signature:
/// kubefix does not check it).
fn sa_token(ns: &str, name: &str, days: i64) -> String {
    let exp = now() + days * DAY + 3600;
    format!(
        "{}.{}.{}",
        b64url(r#"{"alg":"RS256","kid":"k1"}"#),
        b64url(&format!(
            r#"{{"aud":["https://kubernetes.default.svc"],"exp":{exp},"iat":{iat},"iss":"https://kubernetes.default.svc","kubernetes.io":{{"namespace":"{ns}","serviceaccount":{{"name":"{name}","uid":"0f"}}}},"sub":"system:serviceaccount:{ns}:{name}"}}"#,
            iat = now() - DAY
        )),
        b64url("not-a-real-signature")
    )
}

/// A JWT with only `exp` (no service account, no vendor).
fn bare_token(days: i64) -> String {
    format!(
        "{}.{}.c2ln",
        b64url(r#"{"alg":"ES256"}"#),
        b64url(&format!(r#"{{"exp":{}}}"#, now() + days * DAY + 3600))
    )
}

fn kubeconfig(cluster: &str, server: &str, user: &str, user_body: &str) -> String {
    let body: String = user_body.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {server}\ncontexts:\n- name: ctx\n  context:\n    cluster: {cluster}\n    user: {user}\ncurrent-context: ctx\nusers:\n- name: {user}\n  user:\n{body}"
    )
}

fn run(dir: &Path, text: &str, extra: &[&str]) -> Output {
    let config = dir.join("config");
    std::fs::write(&config, text).unwrap();
    // Mode 0600 whatever the umask: a group- or world-readable kubeconfig is a
    // `file-permissions` finding, which would make --check exit 1 on its own.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .arg("--kubeconfig")
        .arg(&config)
        // A source that does not exist but is not required: no K3s refresh here.
        .args(extra)
        .output()
        .unwrap()
}

fn json(dir: &Path, text: &str) -> serde_json::Value {
    let out = run(dir, text, &["-o", "json", "--check"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn expiry_findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "credential-expiry")
        .cloned()
        .collect()
}

#[test]
fn expiring_service_account_token_warns_with_name_date_and_command() {
    let dir = tempfile::tempdir().unwrap();
    let token = sa_token("ci", "deployer", 20);
    let text = kubeconfig(
        "prod",
        "https://203.0.113.5:6443",
        "ci-bot",
        &format!("token: {token}"),
    );
    let out = run(dir.path(), &text, &["--check"]);
    assert_eq!(out.status.code(), Some(1), "--check must flag it");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("warning users/ci-bot (line 16): token of ci/deployer expires on"),
        "{human}"
    );
    assert!(
        human.contains("(in 20 days) [credential-expiry: token-expiring]"),
        "{human}"
    );
    // The round trip (#14): minted and put back into the user, in the file checked.
    assert!(
        human.contains("hint: issue a new token for the service account and put it into user ci-bot: run `kubectl --kubeconfig "),
        "{human}"
    );
    assert!(
        human.contains(" config set-credentials ci-bot --token=\"$(kubectl --kubeconfig "),
        "{human}"
    );
    assert!(
        human.contains(" -n ci create token deployer --duration=8760h)\"`"),
        "{human}"
    );
    // The table: entry, kind, expires, days left, status.
    assert!(
        human.contains("ENTRY") && human.contains("DAYS LEFT") && human.contains("STATUS"),
        "{human}"
    );
    let row = human
        .lines()
        .find(|l| l.trim_start().starts_with("users/ci-bot"))
        .unwrap();
    assert!(
        row.contains("token") && row.contains(" 20 ") && row.ends_with("EXPIRING"),
        "{row}"
    );
    // The token itself is never printed.
    assert!(!human.contains(&token));
    let v = json(dir.path(), &text);
    let rows = v["files"][0]["expiry"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "token");
    assert_eq!(rows[0]["subject"], "ci/deployer");
    assert_eq!(rows[0]["daysLeft"], 20);
    assert_eq!(rows[0]["status"], "expiring");
    assert!(!v.to_string().contains(&token));

    // Outside --renew-within: no warning, the row says ok.
    let v = {
        let out = run(
            dir.path(),
            &text,
            &["-o", "json", "--check", "--renew-within", "14d"],
        );
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert!(expiry_findings(&v).is_empty());
    assert_eq!(v["files"][0]["expiry"][0]["status"], "ok");
}

#[test]
fn expired_token_is_an_error_and_opaque_tokens_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let text = kubeconfig(
        "prod",
        "https://203.0.113.5:6443",
        "ci-bot",
        &format!("token: {}", sa_token("ci", "deployer", -3)),
    );
    let v = json(dir.path(), &text);
    let f = expiry_findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["code"], "token-expired");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("token of ci/deployer expired on "),
        "{f:?}"
    );
    assert!(f[0]["kubectlError"]
        .as_str()
        .unwrap()
        .starts_with("You must be logged in to the server"));
    assert_eq!(f[0]["fixable"], false);

    let opaque = kubeconfig(
        "prod",
        "https://203.0.113.5:6443",
        "ci-bot",
        "token: 0123456789abcdef.0123456789abcdef",
    );
    let v = json(dir.path(), &opaque);
    assert!(expiry_findings(&v).is_empty());
    assert_eq!(v["files"][0]["expiry"].as_array().unwrap().len(), 0);
}

#[test]
fn certificates_inline_and_in_files_and_the_cluster_ca_are_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("lab-ca");
    let expiring = ca.client_cert("jane", &["devs"], Validity::ExpiresInDays(5));
    let fresh = ca.client_cert("bob", &["devs"], Validity::Valid);
    std::fs::write(dir.path().join("bob.crt"), &fresh.cert_pem).unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: https://203.0.113.9:6443\n    certificate-authority-data: {ca}\ncontexts: []\nusers:\n- name: jane\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n- name: bob\n  user:\n    client-certificate: bob.crt\n    client-key: bob.key\n",
        ca = ca.cert_b64(),
        cert = expiring.cert_b64(),
        key = expiring.key_b64(),
    );
    let v = json(dir.path(), &text);
    let rows = v["files"][0]["expiry"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0]["entry"]["name"], "jane");
    assert_eq!(rows[0]["status"], "expiring");
    assert_eq!(rows[0]["subject"], "O=devs, CN=jane");
    assert_eq!(rows[0]["issuer"], "CN=lab-ca");
    assert_eq!(rows[1]["entry"]["name"], "bob");
    assert_eq!(
        rows[1]["location"],
        dir.path().join("bob.crt").display().to_string()
    );
    assert_eq!(rows[1]["status"], "ok");
    assert_eq!(rows[2]["kind"], "certificate-authority");
    assert_eq!(rows[2]["status"], "ok");
    let f = expiry_findings(&v);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["entry"]["name"], "jane");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["code"], "cert-expiring");
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("client certificate (O=devs, CN=jane) expires on "));
    // jane's own certificate: a new one for jane, not an admin kubeconfig's (#14).
    let hint = f[0]["hint"].as_str().unwrap();
    assert!(
        hint.contains("`kubectl certificate approve jane`"),
        "{hint}"
    );
    assert!(!hint.contains("--k3s-config PATH"), "{hint}");
    let printed = v.to_string();
    assert!(!printed.contains(&expiring.key_b64()) && !printed.contains(&expiring.cert_b64()));
}

fn hint_for(cluster: &str, server: &str, user: &str, body: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let v = json(dir.path(), &kubeconfig(cluster, server, user, body));
    let f = expiry_findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    f[0]["hint"].as_str().map(str::to_string)
}

#[test]
fn vendor_hints_name_the_exact_command() {
    let token = format!("token: {}", bare_token(-1));
    assert_eq!(
        hint_for(
            "arn:aws:eks:eu-west-1:123456789012:cluster/payments",
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            "arn:aws:eks:eu-west-1:123456789012:cluster/payments",
            &token
        )
        .as_deref(),
        Some("regenerate it: `aws eks update-kubeconfig --name payments --region eu-west-1`")
    );
    // Exec args and AWS_PROFILE from the exec env.
    let exec = format!(
        "{token}\nexec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: aws\n  args: [--region, us-east-2, eks, get-token, --cluster-name, search]\n  env:\n  - name: AWS_PROFILE\n    value: prod-admin\n"
    );
    assert_eq!(
        hint_for("search", "https://X.eks.amazonaws.com", "search-user", &exec).as_deref(),
        Some("regenerate it: `aws eks update-kubeconfig --name search --region us-east-2 --profile prod-admin`")
    );
    assert_eq!(
        hint_for(
            "gke_acme-prod_us-central1-a_web",
            "https://34.1.2.3",
            "gke_acme-prod_us-central1-a_web",
            &token
        )
        .as_deref(),
        Some("regenerate it: `gcloud container clusters get-credentials web --location us-central1-a --project acme-prod`")
    );
    assert_eq!(
        hint_for(
            "aks-west",
            "https://aks-west-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443",
            "clusterUser_rg_aks-west",
            &token
        )
        .as_deref(),
        Some("regenerate it: `az aks get-credentials --resource-group <RESOURCE_GROUP> --name aks-west --overwrite-existing`")
    );
    // Nothing recognisable, no service account: no hint at all.
    assert_eq!(
        hint_for("lab", "https://203.0.113.5:6443", "me", &token),
        None
    );
}

#[test]
fn minikube_hint_from_certificate_paths() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join(".minikube/profiles/dev");
    std::fs::create_dir_all(&profile).unwrap();
    let ca = Ca::new("minikubeCA");
    let old = ca.client_cert("minikube-user", &["system:masters"], Validity::Expired);
    std::fs::write(profile.join("client.crt"), &old.cert_pem).unwrap();
    std::fs::write(profile.join("client.key"), &old.key_pem).unwrap();
    let body = format!(
        "client-certificate: {}\nclient-key: {}",
        profile.join("client.crt").display(),
        profile.join("client.key").display()
    );
    let v = json(
        dir.path(),
        &kubeconfig("dev", "https://192.168.49.2:8443", "dev", &body),
    );
    let f = expiry_findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(
        f[0]["hint"],
        "regenerate it: `minikube update-context -p dev`"
    );
}

#[test]
fn the_create_token_hint_quotes_the_claims_of_the_token() {
    for w in support::HOSTILE_WORDS {
        let hint = hint_for(
            "c",
            "https://10.0.0.1:6443",
            "u",
            &format!("token: {}", sa_token(w, w, 3)),
        )
        .unwrap();
        let cmds = support::commands_in(&hint, &["kubectl "]);
        assert_eq!(cmds.len(), 1, "{hint}");
        let dir = tempfile::tempdir().unwrap();
        support::paste_is_harmless(&cmds[0], dir.path());
    }
}
