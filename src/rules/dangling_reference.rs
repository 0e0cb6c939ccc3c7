//! `dangling-reference`: a `current-context`, or a context's `cluster` or `user`, that names
//! something no loaded file defines.
//!
//! What the user saw (verified with kubectl 1.32):
//! current-context: `Error in configuration: context was not found for specified context: NAME`;
//! a context's cluster: kubectl falls back to the default server, `The connection to the
//! server localhost:8080 was refused - did you specify the right host or port?`;
//! a context's user: kubectl has no credentials and asks `Please enter Username:`.
//!
//! Detection: after every file is planned, names are collected from all loaded files
//! (`$KUBECONFIG` is one merged config to client-go) and every reference is looked up. Only
//! the first non-empty current-context counts for kubectl; a later file's dangling one is
//! reported as info.
//!
//! Fix: none; kubefix cannot know what the reference should be. Report only.

use std::collections::HashSet;

use super::support::{Finding, Rule, Severity};
use crate::kubeconfig::names::FileNames;
use crate::kubeconfig::Section;

rule!(
    DanglingReferenceRule,
    "dangling-reference",
    reports,
    "current-context, or a context's cluster or user, naming something no loaded file defines"
);

impl Rule for DanglingReferenceRule {
    fn check_files(&self, files: &[&FileNames], out: &mut Vec<(usize, Finding)>) {
        let names = |s: Section| -> HashSet<&str> {
            files
                .iter()
                .flat_map(|f| f.section(s))
                .map(|n| n.name.as_str())
                .collect()
        };
        let (clusters, contexts, users) = (
            names(Section::Clusters),
            names(Section::Contexts),
            names(Section::Users),
        );
        let loaded = if files.len() == 1 {
            "this file".to_string()
        } else {
            format!("any of the {} loaded files", files.len())
        };
        let mut effective_seen = false;
        for (i, file) in files.iter().enumerate() {
            if let Some(cc) = &file.current_context {
                let effective = !effective_seen;
                effective_seen = true;
                if !contexts.contains(cc.name.as_str()) {
                    let f = if effective {
                        Finding::new(
                            ID,
                            Severity::Error,
                            cc.line,
                            format!("current-context {:?} is not a context in {loaded}", cc.name),
                        )
                        .kubectl_says(format!(
                            "Error in configuration: context was not found for specified context: {}",
                            cc.name
                        ))
                        .hint("switch with kubectl config use-context NAME, or fix the name")
                    } else {
                        Finding::new(
                            ID,
                            Severity::Info,
                            cc.line,
                            format!(
                                "current-context {:?} is not a context in {loaded} (kubectl ignores it: {} sets current-context first)",
                                cc.name,
                                crate::error::display_path(&files.iter().find(|f| f.current_context.is_some()).expect("seen").path)
                            ),
                        )
                    };
                    out.push((i, f));
                }
            }
            for r in &file.refs {
                let checks = [
                    (&r.cluster, &clusters, "cluster", "The connection to the server localhost:8080 was refused - did you specify the right host or port?"),
                    (&r.user, &users, "user", "Please enter Username:"),
                ];
                for (target, defined, what, said) in checks {
                    let Some(t) = target else { continue };
                    if defined.contains(t.name.as_str()) {
                        continue;
                    }
                    let f = Finding::new(
                        ID,
                        Severity::Error,
                        t.line,
                        format!("context {:?} uses {what} {:?}, which is not defined in {loaded}", r.context.name, t.name),
                    )
                    .kubectl_says(said)
                    .hint(format!("fix the {what} name, add the {what}, or load the file that defines it (KUBECONFIG=a:b)"))
                    .named(Section::Contexts, r.context.name.clone());
                    out.push((i, f));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::names::{ContextRefs, Named};
    use std::path::PathBuf;

    fn named(name: &str, line: usize) -> Named {
        Named {
            name: name.into(),
            line,
        }
    }

    #[test]
    fn references_resolve_across_files() {
        let a = FileNames {
            path: PathBuf::from("/k/a"),
            current_context: Some(named("gone", 2)),
            contexts: vec![named("ctx", 5)],
            refs: vec![ContextRefs {
                context: named("ctx", 5),
                cluster: Some(named("c-in-b", 6)),
                user: Some(named("nobody", 7)),
            }],
            ..FileNames::default()
        };
        let b = FileNames {
            path: PathBuf::from("/k/b"),
            current_context: Some(named("also-gone", 3)),
            clusters: vec![named("c-in-b", 9)],
            ..FileNames::default()
        };
        let mut out = Vec::new();
        DanglingReferenceRule.check_files(&[&a, &b], &mut out);
        let got: Vec<_> = out.iter().map(|(i, f)| (*i, f.line, f.severity)).collect();
        assert_eq!(
            got,
            vec![
                (0, 2, Severity::Error),
                (0, 7, Severity::Error),
                (1, 3, Severity::Info)
            ]
        );
        assert_eq!(
            out[0].1.kubectl_error.as_deref(),
            Some("Error in configuration: context was not found for specified context: gone")
        );
        assert_eq!(out[1].1.message, "context \"ctx\" uses user \"nobody\", which is not defined in any of the 2 loaded files");
        assert_eq!(
            out[1].1.kubectl_error.as_deref(),
            Some("Please enter Username:")
        );
    }
}
