//! `duplicate-key`: a key written twice in one mapping.
//!
//! What happens: nothing visible. kubectl (client-go v1.32, which reads YAML with go-yaml v2
//! through sigs.k8s.io/yaml) takes the last entry of a key and ignores the others without a
//! word: `kind: Config` twice (eksctl's minikube test file has it) is harmless, but a second
//! `server:` or `users:` quietly replaces the first, and whoever edits the first one sees no
//! effect.
//!
//! Detection: the parser records every key written again in its mapping (merge keys `<<`
//! are instructions, not keys, and are not counted). kubefix reads the file as kubectl does
//! (the last entry wins, see `Document::get`), and its fixes edit that last entry.
//!
//! Fix: none; which entry is meant is the user's call.

use super::support::{Context, Finding, Rule, Severity};

rule!(
    DuplicateKeyRule,
    "duplicate-key",
    reports,
    "keys written twice in one mapping: kubectl silently uses the last one"
);

impl Rule for DuplicateKeyRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let doc = cx.config.doc;
        for &(first, later) in &doc.duplicates {
            let key = doc.scalar(later).unwrap_or("");
            let (l1, l2) = (cx.config.line(first), cx.config.line(later));
            out.push(
                Finding::new(
                    ID,
                    Severity::Warning,
                    l2,
                    format!(
                        "key {key:?} is written twice in this mapping (at line {l1} and at line {l2}); kubectl uses the last one (line {l2}) and ignores the other"
                    ),
                )
                .hint(format!("remove the entry at line {l1}, or the one at line {l2} if that is the one meant")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, rule_findings};
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn a_key_written_twice_is_a_warning_naming_both_lines() {
        let src = "apiVersion: v1\nkind: Config\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://one', server: 'https://two'}\n";
        let found = rule_findings(&DuplicateKeyRule, src, &RuleOptions::default());
        let messages: Vec<(usize, &str)> =
            found.iter().map(|f| (f.line, f.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                (3, "key \"kind\" is written twice in this mapping (at line 2 and at line 3); kubectl uses the last one (line 3) and ignores the other"),
                (6, "key \"server\" is written twice in this mapping (at line 6 and at line 6); kubectl uses the last one (line 6) and ignores the other"),
            ]
        );
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        // The whole plan reads the file (it used to refuse it).
        assert!(findings(src, &RuleOptions::default())
            .iter()
            .any(|f| f.rule == ID));
    }

    #[test]
    fn merge_keys_are_not_duplicates() {
        let src = "x: &a {server: s}\nclusters:\n- name: a\n  cluster:\n    <<: *a\n    <<: *a\n";
        assert!(rule_findings(&DuplicateKeyRule, src, &RuleOptions::default()).is_empty());
    }
}
