//! `extra-documents`: a kubeconfig with more than one YAML document (`---`).
//!
//! What happens: kubectl (client-go v1.32, go-yaml v2) decodes the first document of the
//! file and never looks at the rest: clusters, users or contexts after a second `---` are
//! silently ignored (even text there that is not YAML at all). A leading `---` starts the
//! first document; `---` followed by another `---` makes the first document empty, and
//! kubectl reads an empty config.
//!
//! Detection: the parser stops at the start of the second document and records where; a
//! second document of nothing (a trailing `---`, comments) is not worth a word.
//! kubefix reads and fixes the first document only; the bytes from the second `---` on are
//! kept exactly as they are.
//!
//! Fix: none; whether the rest belongs in the file is the user's call.

use super::support::{Context, Finding, Rule, Severity};

rule!(
    ExtraDocumentsRule,
    "extra-documents",
    reports,
    "files with more than one YAML document: kubectl reads only the first"
);

impl Rule for ExtraDocumentsRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let doc = cx.config.doc;
        let Some(at) = doc.rest else { return };
        // Only markers, comments and blank lines after it (a trailing `---`): nothing lost.
        let nothing = doc.src[at..].lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
        });
        if nothing {
            return;
        }
        out.push(
            Finding::new(
                ID,
                Severity::Warning,
                doc.lines.line(at),
                "a second YAML document starts here; kubectl reads only the first document of a kubeconfig and ignores everything from this line on".into(),
            )
            .hint("move what the later documents hold into the first one, or delete them"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::findings;
    use super::super::support::RuleOptions;
    use super::*;

    #[test]
    fn a_second_document_is_a_warning_at_its_start() {
        let src = "apiVersion: v1\nkind: Config\n---\nclusters: {not: [valid\n";
        let found: Vec<_> = findings(src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID)
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        assert_eq!(found[0].severity, Severity::Warning);
        // One document, even with a leading `---`: nothing to say.
        assert!(!findings(
            "---\napiVersion: v1\nkind: Config\n",
            &RuleOptions::default()
        )
        .iter()
        .any(|f| f.rule == ID));
    }
}
