//! `duplicate-name`: two clusters, contexts or users with one name.
//!
//! What the user saw: in one file, kubectl refuses the whole file (verified with kubectl
//! 1.32): `error loading config file "FILE": error converting *[]NamedCluster into
//! *map[string]*api.Cluster: duplicate name "NAME" in list: […]` (kubectl goes on to print
//! every entry of the list, secrets included; we do not). Across the files of `$KUBECONFIG`
//! nothing is printed: client-go keeps the first and silently ignores the later one — the
//! stale-merge trap of `k3sup --merge` and friends, where a re-created cluster's new
//! credentials sit unused behind old ones.
//!
//! Detection: after every file is planned, one pass over all files in load order, one hash
//! map per section (see [`super::names`]).
//!
//! Fix: none; which entry is right is the user's call. Report the shadowed entry, and which
//! file and line shadow it.

use std::collections::HashMap;

use super::support::{Finding, Rule, Severity};
use crate::kubeconfig::names::FileNames;
use crate::kubeconfig::Section;

rule!(DuplicateNameRule, "duplicate-name", reports, "two clusters, contexts or users of one name: kubectl refuses the file, or across files silently uses the first");

fn go_types(s: Section) -> (&'static str, &'static str) {
    match s {
        Section::Clusters => ("NamedCluster", "Cluster"),
        Section::Contexts => ("NamedContext", "Context"),
        Section::Users => ("NamedAuthInfo", "AuthInfo"),
    }
}

impl Rule for DuplicateNameRule {
    fn check_files(
        &self,
        files: &[&FileNames],
        _options: &super::support::RuleOptions,
        out: &mut Vec<(usize, Finding)>,
    ) {
        for section in Section::ALL {
            let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
            for (i, file) in files.iter().enumerate() {
                for n in file.section(section) {
                    let Some(&(fi, line)) = first.get(n.name.as_str()) else {
                        first.insert(&n.name, (i, n.line));
                        continue;
                    };
                    let kind = section.body_key();
                    let f = if fi == i {
                        let (list, map) = go_types(section);
                        Finding::new(
                            ID,
                            Severity::Error,
                            n.line,
                            format!("a second {kind} named {:?} in this file (the first is on line {line}); kubectl refuses the whole file", n.name),
                        )
                        .kubectl_says(format!(
                            "error loading config file \"{}\": error converting *[]{list} into *map[string]*api.{map}: duplicate name \"{}\" in list: […]",
                            files[i].path.display(),
                            n.name
                        ))
                        .hint(format!("rename or remove one of the two {}", section.key()))
                    } else {
                        Finding::new(
                            ID,
                            Severity::Warning,
                            n.line,
                            format!(
                                "{kind} {:?} is shadowed by the one in {} line {line}, loaded first; kubectl ignores this one",
                                n.name,
                                crate::error::display_path(&files[fi].path)
                            ),
                        )
                        .hint(format!("rename this {kind}, or remove the stale one (client-go uses the first file that defines a name)"))
                    };
                    out.push((i, f.named(section, n.name.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::names::Named;
    use std::path::PathBuf;

    fn named(name: &str, line: usize) -> Named {
        Named {
            name: name.into(),
            line,
        }
    }

    #[test]
    fn same_file_is_an_error_other_file_is_shadowed() {
        let a = FileNames {
            path: PathBuf::from("/k/a"),
            users: vec![named("u", 3), named("u", 9)],
            clusters: vec![named("c", 4)],
            ..FileNames::default()
        };
        let b = FileNames {
            path: PathBuf::from("/k/b"),
            clusters: vec![named("c", 7), named("d", 8)],
            ..FileNames::default()
        };
        let mut out = Vec::new();
        DuplicateNameRule.check_files(&[&a, &b], &Default::default(), &mut out);
        assert_eq!(out.len(), 2);
        let (i, f) = &out[0];
        assert_eq!((*i, f.line, f.severity), (1, 7, Severity::Warning));
        assert_eq!(f.message, "cluster \"c\" is shadowed by the one in /k/a line 4, loaded first; kubectl ignores this one");
        let (i, f) = &out[1];
        assert_eq!((*i, f.line, f.severity), (0, 9, Severity::Error));
        assert_eq!(
            f.kubectl_error.as_deref(),
            Some("error loading config file \"/k/a\": error converting *[]NamedAuthInfo into *map[string]*api.AuthInfo: duplicate name \"u\" in list: […]")
        );
        assert_eq!(f.entry.as_ref().unwrap().to_string(), "users/u");
    }
}
