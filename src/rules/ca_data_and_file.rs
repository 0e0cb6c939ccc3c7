//! `ca-data-and-file`: a cluster with both `certificate-authority-data` and
//! `certificate-authority`.
//!
//! What the user saw (verified with kubectl 1.32, which treats it as a configuration error,
//! not just a warning): `error: certificate-authority-data and certificate-authority are both
//! specified for NAME. certificate-authority-data will override.`
//!
//! Detection: both keys with non-empty values in one `clusters[].cluster`.
//!
//! Fix: remove `certificate-authority` (the file path). The embedded data is what client-go
//! would have used anyway, so the cluster's trust does not change.

use super::support::view::has;
use super::support::{Context, Finding, Rule, Severity};
use crate::yaml::remove_entry;

rule!(CaDataAndFileRule, "ca-data-and-file", fixes, "clusters with both certificate-authority-data and certificate-authority; removes the file path (the data wins anyway)");

impl Rule for CaDataAndFileRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        for cluster in &kc.clusters {
            let Some(body) = cluster.body else { continue };
            if !(has(kc, body, "certificate-authority-data")
                && has(kc, body, "certificate-authority"))
            {
                continue;
            }
            let name = cluster.name.as_deref().unwrap_or("");
            let key = kc.doc.get_key(body, "certificate-authority");
            let line = kc.line(
                key.or_else(|| kc.get(body, "certificate-authority"))
                    .unwrap_or(body),
            );
            let f = Finding::new(
                ID,
                Severity::Error,
                line,
                "both certificate-authority-data and certificate-authority are set; kubectl refuses the pair (the data would win)".into(),
            )
            .entry(cluster)
            .kubectl_says(format!(
                "certificate-authority-data and certificate-authority are both specified for {name}. certificate-authority-data will override."
            ));
            out.push(f.fix_or_hint(
                "remove certificate-authority (certificate-authority-data stays)",
                remove_entry(kc.doc, body, "certificate-authority").map(|c| vec![c]),
                "remove certificate-authority",
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
    fn removes_the_file_path() {
        let src = "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ca.crt   # old copy
    certificate-authority-data: LS0tCg==
    server: https://a.example:6443
  name: a
";
        let f = findings(src, &RuleOptions::default());
        let f: Vec<_> = f.iter().filter(|f| f.rule == ID).collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 5);
        assert_eq!(
            f[0].kubectl_error.as_deref(),
            Some("certificate-authority-data and certificate-authority are both specified for a. certificate-authority-data will override.")
        );
        assert_eq!(
            fixed(src, &RuleOptions::default()),
            "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tCg==
    server: https://a.example:6443
  name: a
"
        );
    }
}
