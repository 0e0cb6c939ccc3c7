//! `insecure-with-ca`: a cluster that both skips TLS verification and names a CA.
//!
//! What the user saw (verified with kubectl 1.32):
//! `error: specifying a root certificates file with the insecure flag is not allowed`.
//!
//! Detection: `clusters[].cluster` with `insecure-skip-tls-verify: true` and a non-empty
//! `certificate-authority-data` or `certificate-authority`.
//!
//! Fix: remove `insecure-skip-tls-verify` (with its line and any comment on it), so the
//! cluster's CA is used and verification stays on. The diff shows the removed line.

use super::support::view::{has, is_true};
use super::support::{Context, Finding, Rule, Severity};
use crate::yaml::remove_entry;

rule!(InsecureWithCaRule, "insecure-with-ca", fixes, "clusters with insecure-skip-tls-verify and a CA, which kubectl refuses; removes insecure-skip-tls-verify");

pub const KUBECTL_SAYS: &str =
    "specifying a root certificates file with the insecure flag is not allowed";

impl Rule for InsecureWithCaRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for cluster in &kc.clusters {
            let Some(body) = cluster.body else { continue };
            let Some(flag) = kc.get(body, "insecure-skip-tls-verify") else {
                continue;
            };
            if !is_true(kc, flag) {
                continue;
            }
            let ca = if has(kc, body, "certificate-authority-data") {
                "certificate-authority-data"
            } else if has(kc, body, "certificate-authority") {
                "certificate-authority"
            } else {
                continue;
            };
            let f = Finding::new(
                ID,
                Severity::Error,
                kc.line(
                    kc.doc
                        .get_key(body, "insecure-skip-tls-verify")
                        .unwrap_or(flag),
                ),
                format!(
                    "insecure-skip-tls-verify: true together with {ca}; kubectl accepts only one"
                ),
            )
            .entry(cluster)
            .kubectl_says(KUBECTL_SAYS);
            out.push(f.fix_or_hint(
                "remove insecure-skip-tls-verify (verify the server with the cluster's CA)",
                remove_entry(kc.doc, body, "insecure-skip-tls-verify").map(|c| vec![c]),
                "remove insecure-skip-tls-verify",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, fixed};
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn removes_the_flag_line_block_and_flow() {
        let src = "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://a.example:6443
    insecure-skip-tls-verify: true # self-signed, TODO
    certificate-authority-data: LS0tCg==
- name: b
  cluster: {server: https://b.example, insecure-skip-tls-verify: yes, certificate-authority: /etc/b.crt}
- name: ok
  cluster: {server: https://c.example, insecure-skip-tls-verify: true}
- name: disabled
  cluster: {server: https://d.example, insecure-skip-tls-verify: false, certificate-authority-data: LS0tCg==}
";
        let f: Vec<_> = findings(src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID)
            .collect();
        assert_eq!(f.iter().map(|f| f.line).collect::<Vec<_>>(), vec![7, 10]);
        assert_eq!(f[0].kubectl_error.as_deref(), Some(KUBECTL_SAYS));
        assert_eq!(
            fixed(src, &RuleOptions::default()),
            "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://a.example:6443
    certificate-authority-data: LS0tCg==
- name: b
  cluster: {server: https://b.example, certificate-authority: /etc/b.crt}
- name: ok
  cluster: {server: https://c.example, insecure-skip-tls-verify: true}
- name: disabled
  cluster: {server: https://d.example, insecure-skip-tls-verify: false, certificate-authority-data: LS0tCg==}
"
        );
    }
}
