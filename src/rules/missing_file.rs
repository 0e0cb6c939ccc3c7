//! `missing-file`: certificate, key and token files the kubeconfig points at but that do not
//! exist.
//!
//! What the user saw (verified with kubectl 1.32; PATH is the resolved absolute path):
//! `unable to read certificate-authority PATH for CLUSTER due to open PATH: no such file or directory`,
//! `unable to read client-cert PATH for USER due to open PATH: no such file or directory`,
//! `unable to read client-key PATH for USER due to open PATH: no such file or directory`,
//! `open PATH: no such file or directory` (tokenFile).
//!
//! Detection: `clusters[].cluster.certificate-authority`, `users[].user.client-certificate`,
//! `client-key` and `tokenFile`; a relative path is resolved against the kubeconfig's own
//! directory, as client-go resolves it.
//!
//! A path that exists but is no regular file (a directory, a FIFO, a device such as
//! `/dev/zero`, a socket) is reported too, by `stat` alone: kubefix never opens it (a FIFO
//! would block, a device would be read without end).
//!
//! Fix: none (kubefix cannot conjure a certificate). Report with where it looked.

use std::path::{Path, PathBuf};

use super::support::{Context, Finding, Rule, Severity};
use crate::kubeconfig::Entry;

rule!(MissingFileRule, "missing-file", reports, "certificate-authority, client-certificate, client-key and tokenFile paths that do not exist or are no regular file");

/// `value` as client-go resolves it for the kubeconfig at `kubeconfig`, made absolute.
pub fn resolve(value: &str, kubeconfig: &Path) -> PathBuf {
    let p = Path::new(value);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        kubeconfig.parent().unwrap_or(Path::new("")).join(p)
    };
    std::path::absolute(&joined).unwrap_or(joined)
}

impl Rule for MissingFileRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let mut check = |entry: &Entry, key: &str, label: &str| {
            let Some(body) = entry.body else { return };
            let Some(node) = kc.get(body, key) else {
                return;
            };
            let Some(value) = kc.doc.scalar(node).filter(|v| !v.is_empty()) else {
                return;
            };
            let path = resolve(value, cx.path);
            // `stat` only: a FIFO or device named here is never opened (that would block, or
            // read without end); it is reported instead.
            match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(meta) if !meta.is_file() => {
                    let what = crate::source::non_regular(&path).unwrap_or("not a regular file");
                    let mut message = format!("{key} {value} is {what}, not a regular file");
                    if !Path::new(value).is_absolute() {
                        message.push_str(&format!(" (looked at {})", path.display()));
                    }
                    out.push(
                        Finding::new(ID, Severity::Error, kc.line(node), message)
                            .entry(entry)
                            .hint(format!(
                                "point {key} at the file that holds it; kubectl would block on a FIFO or read a device without end, and kubefix does not open either"
                            )),
                    );
                    return;
                }
                _ => return,
            }
            let name = entry.name.as_deref().unwrap_or("");
            let shown = path.display();
            let said = if key == "tokenFile" {
                format!("open {shown}: no such file or directory")
            } else {
                format!("unable to read {label} {shown} for {name} due to open {shown}: no such file or directory")
            };
            let data_key = match key {
                "certificate-authority" => Some("certificate-authority-data"),
                "client-certificate" => Some("client-certificate-data"),
                "client-key" => Some("client-key-data"),
                _ => None,
            };
            let hint = match data_key {
                Some(d) => format!(
                    "restore {shown}, point {key} at the right file, or embed its content as {d}"
                ),
                None => format!("restore {shown} or point {key} at the right file"),
            };
            out.push(
                Finding::new(
                    ID,
                    Severity::Error,
                    kc.line(node),
                    if Path::new(value).is_absolute() {
                        format!("{key} {value} does not exist")
                    } else {
                        format!("{key} {value} does not exist (looked for {shown})")
                    },
                )
                .entry(entry)
                .kubectl_says(said)
                .hint(hint),
            );
        };
        for c in &kc.clusters {
            check(c, "certificate-authority", "certificate-authority");
        }
        for u in &kc.users {
            check(u, "client-certificate", "client-cert");
            check(u, "client-key", "client-key");
            check(u, "tokenFile", "tokenFile");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::{Context, RuleOptions};
    use super::*;
    use crate::kubeconfig::Kubeconfig;
    use crate::yaml::Document;

    #[test]
    fn relative_paths_resolve_against_the_kubeconfig_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        std::fs::write(dir.path().join("certs/client.crt"), "x").unwrap();
        let cfg = dir.path().join("config");
        let src = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: https://x, certificate-authority: /nonexistent-kubefix/ca.crt}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
- name: t
  user: {tokenFile: tok}
";
        let doc = Document::parse(src).unwrap();
        let view = Kubeconfig::new(&doc).unwrap();
        let mut out = Vec::new();
        MissingFileRule.check(
            &Context::new(&cfg, &view, &RuleOptions::default()),
            &mut out,
        );
        let d = dir.path().display();
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.line, f.kubectl_error.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, "unable to read certificate-authority /nonexistent-kubefix/ca.crt for c due to open /nonexistent-kubefix/ca.crt: no such file or directory".to_string()),
                (10, format!("unable to read client-key {d}/certs/client.key for u due to open {d}/certs/client.key: no such file or directory")),
                (12, format!("open {d}/tok: no such file or directory")),
            ]
        );
        assert!(out
            .iter()
            .all(|f| f.fix.is_none() && f.severity == Severity::Error));
    }
}
