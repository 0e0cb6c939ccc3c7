//! `no-kubeconfig-keys`: a YAML mapping without any kubeconfig key (`foo: bar`).
//!
//! What happens: kubectl (client-go v1.32) ignores keys it does not know, so such a file
//! reads as an empty config: no error, and nothing from it. In a `$KUBECONFIG` list it
//! simply adds nothing; as the only file, kubectl has no cluster to talk to.
//!
//! Detection: the top-level mapping has none of `apiVersion`, `kind`, `clusters`,
//! `contexts`, `users`, `current-context`, `preferences` (nor a merge key that could bring
//! them).
//!
//! Fix: none; the file is probably not a kubeconfig at all (a values file, a manifest).

use super::support::{Context, Finding, Rule, Severity};

rule!(
    NoKubeconfigKeysRule,
    "no-kubeconfig-keys",
    reports,
    "files with none of the kubeconfig keys: kubectl reads them as an empty config"
);

impl Rule for NoKubeconfigKeysRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        if !kc.no_kubeconfig_keys {
            return;
        }
        out.push(Finding::new(
            ID,
            Severity::Warning,
            kc.root.map_or(1, |r| kc.line(r)),
            "none of the kubeconfig keys (apiVersion, kind, clusters, contexts, users, current-context) is present; kubectl reads this file as an empty config".into(),
        )
        .hint("is this file a kubeconfig? kubectl takes nothing from it"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::findings;
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn a_mapping_without_kubeconfig_keys_is_a_warning() {
        // One warning for the file, not one per key (`unknown-key` stays quiet).
        let found = findings("# values\nfoo: bar\nbaz: 1\n", &RuleOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].rule, found[0].line), (ID, 2));
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(findings("kind: Config\n", &RuleOptions::default()).is_empty());
    }
}
