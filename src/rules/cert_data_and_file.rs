//! `cert-data-and-file`: a user with both `client-certificate-data` and
//! `client-certificate`, or both `client-key-data` and `client-key`.
//!
//! What the user saw (verified with kubectl 1.32, which refuses the pair):
//! `client-cert-data and client-cert are both specified for USER. client-cert-data will override.`
//! and `client-key-data and client-key are both specified for USER; client-key-data will override`
//! (client-go checks the key pair only for users with a client certificate).
//!
//! Fix: remove the file path (`client-certificate`, `client-key`), as `ca-data-and-file`
//! does: the embedded data is what client-go would have used, so the identity does not
//! change.

use super::support::view::has;
use super::support::view::key_line;
use super::support::{Context, Finding, Rule, Severity};
use crate::yaml::remove_entry;

rule!(CertDataAndFileRule, "cert-data-and-file", fixes, "users with client-certificate-data and client-certificate (or client-key-data and client-key); removes the file path (the data wins anyway)");

impl Rule for CertDataAndFileRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for user in &kc.users {
            let Some(body) = user.body else { continue };
            let name = user.name.as_deref().unwrap_or("");
            let has_cert =
                has(kc, body, "client-certificate-data") || has(kc, body, "client-certificate");
            if !has_cert {
                continue;
            }
            for (data, file, said) in [
                (
                    "client-certificate-data",
                    "client-certificate",
                    format!("client-cert-data and client-cert are both specified for {name}. client-cert-data will override."),
                ),
                (
                    "client-key-data",
                    "client-key",
                    format!("client-key-data and client-key are both specified for {name}; client-key-data will override"),
                ),
            ] {
                if !(has(kc, body, data) && has(kc, body, file)) {
                    continue;
                }
                let f = Finding::new(
                    ID,
                    Severity::Error,
                    key_line(kc, body, file),
                    format!("both {data} and {file} are set; kubectl refuses the pair (the data would win)"),
                )
                .entry(user)
                .kubectl_says(said);
                out.push(f.fix_or_hint(
                    format!("remove {file} ({data} stays)"),
                    remove_entry(kc.doc, body, file).map(|c| vec![c]),
                    format!("remove {file}"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, fixed};
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn removes_the_file_paths() {
        let src = "apiVersion: v1
kind: Config
users:
- name: u
  user:
    client-certificate: u.crt   # old copy
    client-certificate-data: LS0tCg==
    client-key-data: LS0tCg==
    client-key: u.key
- name: key-only
  user: {client-key-data: LS0tCg==, client-key: k}
";
        let f = findings(src, &RuleOptions::default());
        let f: Vec<_> = f.iter().filter(|f| f.rule == ID).collect();
        assert_eq!(f.iter().map(|f| f.line).collect::<Vec<_>>(), vec![6, 9]);
        assert_eq!(
            f[0].kubectl_error.as_deref(),
            Some("client-cert-data and client-cert are both specified for u. client-cert-data will override.")
        );
        assert_eq!(
            f[1].kubectl_error.as_deref(),
            Some("client-key-data and client-key are both specified for u; client-key-data will override")
        );
        assert_eq!(
            fixed(src, &RuleOptions::default()),
            "apiVersion: v1
kind: Config
users:
- name: u
  user:
    client-certificate-data: LS0tCg==
    client-key-data: LS0tCg==
- name: key-only
  user: {client-key-data: LS0tCg==, client-key: k}
"
        );
    }
}
