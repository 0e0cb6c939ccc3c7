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
//! An empty `current-context: ""` (or `current-context:` with nothing) when no loaded file
//! sets one: kubectl uses no context at all, so no cluster and no user, and talks to
//! `The connection to the server localhost:8080 was refused - did you specify the right host or port?`
//! (verified with kubectl 1.32; the same as no current-context). A warning that names the
//! contexts there are: kubectl itself does not refuse the file.
//!
//! Fix: none; kubefix cannot know what the reference should be. Report only. The hint lists
//! the names that do exist, nearest first (edit distance: a typo's target leads), at most
//! [`SHOWN`] and how many more, with the kubectl command that points the reference at the
//! nearest one (`kubectl config use-context`, `kubectl config set-context --cluster/--user`)
//! on the same files.

use std::collections::HashSet;

use super::support::spelling::distance;
use super::support::{Finding, Rule, RuleOptions, Severity};
use crate::kubeconfig::names::FileNames;
use crate::kubeconfig::Section;

rule!(
    DanglingReferenceRule,
    "dangling-reference",
    reports,
    "current-context, or a context's cluster or user, naming something no loaded file defines; an empty current-context"
);

impl Rule for DanglingReferenceRule {
    fn check_files(
        &self,
        files: &[&FileNames],
        options: &RuleOptions,
        out: &mut Vec<(usize, Finding)>,
    ) {
        let command = &options.command;
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
        let mut warned_empty = false;
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
                        .hint(match nearest(&contexts, &cc.name) {
                            None => "this file defines no context: add one, or load the file that defines it (KUBECONFIG=a:b)".to_string(),
                            Some(n) => format!(
                                "switch to a context that exists: run `{}`; the contexts: {}",
                                command.kubectl(&crate::shell::operands(&["config", "use-context"], &[n.first], &[])),
                                n.list
                            ),
                        })
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
            if let (Some(line), false, false) =
                (file.empty_current_context, effective_seen, warned_empty)
            {
                // Only when no file loaded later sets one either.
                let set_later = files[i..].iter().any(|f| f.current_context.is_some());
                let names: Vec<&str> = files
                    .iter()
                    .flat_map(|f| f.section(Section::Contexts))
                    .map(|n| n.name.as_str())
                    .collect();
                if !set_later && !names.is_empty() {
                    warned_empty = true;
                    let listed: Vec<String> = names
                        .iter()
                        .take(SHOWN)
                        .map(|n| crate::shell::quote(n))
                        .collect();
                    let more = if names.len() > SHOWN {
                        format!(", … {} more", names.len() - SHOWN)
                    } else {
                        String::new()
                    };
                    out.push((
                        i,
                        Finding::new(
                            ID,
                            Severity::Warning,
                            line,
                            "current-context is empty: kubectl uses no context and falls back to http://localhost:8080".into(),
                        )
                        .code("empty-current-context")
                        .kubectl_says("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
                        .hint(format!(
                            "choose a context: run `{}`; the contexts: {}{more}",
                            command.kubectl(&crate::shell::operands(
                                &["config", "use-context"],
                                &[if names.len() == 1 { names[0] } else { "NAME" }],
                                &[],
                            )),
                            listed.join(", ")
                        )),
                    ));
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
                    .hint(match nearest(defined, &t.name) {
                        None => format!("no {what} is defined: add the {what}, or load the file that defines it (KUBECONFIG=a:b)"),
                        Some(n) => format!(
                            "point it at a {what} that exists: run `{}`, or add the {what}, or load the file that defines it (KUBECONFIG=a:b); the {what}s: {}",
                            command.kubectl(&crate::shell::operands(
                                &["config", "set-context"],
                                &[&r.context.name],
                                &[&format!("--{what}={}", n.first)],
                            )),
                            n.list
                        ),
                    })
                    .named(Section::Contexts, r.context.name.clone());
                    out.push((i, f));
                }
            }
        }
    }
}

/// How many existing names a hint lists.
pub const SHOWN: usize = 5;

/// The names a hint offers instead of a dangling one.
struct Nearest<'n> {
    /// The nearest name (the one the suggested command uses).
    first: &'n str,
    /// Up to [`SHOWN`] names, nearest first, quoted, and `… N more`.
    list: String,
}

/// The existing names nearest to `missing` (edit distance, then name), or `None` when
/// there are none. Names are compared on their first [`CMP_CHARS`](super::support::spelling::CMP_CHARS) characters, so a hostile
/// file's huge names cost no more than short ones.
fn nearest<'n>(defined: &HashSet<&'n str>, missing: &str) -> Option<Nearest<'n>> {
    let mut ranked: Vec<(usize, &str)> =
        defined.iter().map(|n| (distance(n, missing), *n)).collect();
    ranked.sort_unstable();
    let first = ranked.first()?.1;
    let mut list: Vec<String> = ranked
        .iter()
        .take(SHOWN)
        .map(|(_, n)| crate::shell::quote(n))
        .collect();
    if ranked.len() > SHOWN {
        list.push(format!("… {} more", ranked.len() - SHOWN));
    }
    Some(Nearest {
        first,
        list: list.join(", "),
    })
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
    fn empty_current_context_names_the_contexts_unless_another_file_sets_one() {
        let a = FileNames {
            path: PathBuf::from("/k/a"),
            empty_current_context: Some(4),
            contexts: vec![named("prod", 5)],
            ..FileNames::default()
        };
        let mut out = Vec::new();
        DanglingReferenceRule.check_files(&[&a], &RuleOptions::default(), &mut out);
        assert_eq!(out.len(), 1);
        let f = &out[0].1;
        assert_eq!((f.line, f.severity), (4, Severity::Warning));
        assert_eq!(f.message, "current-context is empty: kubectl uses no context and falls back to http://localhost:8080");
        assert_eq!(
            f.hint.as_deref(),
            Some("choose a context: run `kubectl config use-context prod`; the contexts: prod")
        );
        let b = FileNames {
            path: PathBuf::from("/k/b"),
            current_context: Some(named("prod", 2)),
            ..FileNames::default()
        };
        let mut out = Vec::new();
        DanglingReferenceRule.check_files(&[&a, &b], &RuleOptions::default(), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // No context at all: nothing to point at (an empty file kubectl reads as empty).
        let empty = FileNames {
            empty_current_context: Some(1),
            ..FileNames::default()
        };
        let mut out = Vec::new();
        DanglingReferenceRule.check_files(&[&empty], &RuleOptions::default(), &mut out);
        assert!(out.is_empty());
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
        DanglingReferenceRule.check_files(&[&a, &b], &RuleOptions::default(), &mut out);
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

    #[test]
    fn nearest_names_first_capped_and_quoted() {
        let names: HashSet<&str> = [
            "production",
            "prod-eu",
            "staging",
            "dev",
            "dev 2",
            "qa",
            "test",
        ]
        .into_iter()
        .collect();
        let n = nearest(&names, "prodution").unwrap();
        assert_eq!(n.first, "production");
        assert!(n.list.starts_with("production, prod-eu, "), "{}", n.list);
        assert!(n.list.ends_with(", … 2 more"), "{}", n.list);
        let n = nearest(&names, "dev2").unwrap();
        assert_eq!(n.first, "dev");
        assert!(n.list.starts_with("dev, 'dev 2', "), "{}", n.list);
        assert!(nearest(&HashSet::new(), "x").is_none());
    }
}
