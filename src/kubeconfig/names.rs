//! The names one file defines and references, with their lines: what the cross-file rules
//! (`dangling-reference`, `duplicate-name`) need to see every loaded file at once.
//!
//! client-go merges every file of `$KUBECONFIG` into one config: for each name, the first file
//! that defines it wins, and so does the first non-empty `current-context`. Whether a
//! reference dangles or an entry is shadowed can only be told with all files at hand, so each
//! file's plan keeps this small summary, and after every file is planned the cross-file rules
//! run over all of them (linear: one hash map per section).

use std::path::{Path, PathBuf};

use crate::kubeconfig::{Kubeconfig, Section};

/// A name and the 1-based line where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub line: usize,
}

/// What one context points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextRefs {
    pub context: Named,
    pub cluster: Option<Named>,
    pub user: Option<Named>,
}

/// The names of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileNames {
    pub path: PathBuf,
    pub current_context: Option<Named>,
    /// The line of a `current-context` that is there but empty (`""`, `~`, nothing).
    pub empty_current_context: Option<usize>,
    pub clusters: Vec<Named>,
    pub contexts: Vec<Named>,
    pub users: Vec<Named>,
    /// Every named context's cluster and user references (empty ones left out).
    pub refs: Vec<ContextRefs>,
}

impl FileNames {
    pub fn collect(path: &Path, kc: &Kubeconfig<'_, '_>) -> FileNames {
        let named = |node, value: &str| Named {
            name: value.to_string(),
            line: kc.line(node),
        };
        let nonempty = |map, key| {
            kc.get(map, key).and_then(|n| {
                kc.doc
                    .scalar(n)
                    .filter(|v| !v.is_empty())
                    .map(|v| named(n, v))
            })
        };
        let section = |s: Section| {
            let entries = match s {
                Section::Clusters => &kc.clusters,
                Section::Contexts => &kc.contexts,
                Section::Users => &kc.users,
            };
            entries
                .iter()
                .filter_map(|e| nonempty(e.item, "name"))
                .collect::<Vec<_>>()
        };
        let refs = kc
            .contexts
            .iter()
            .filter_map(|e| {
                let context = nonempty(e.item, "name")?;
                let body = e.body;
                Some(ContextRefs {
                    context,
                    cluster: body.and_then(|b| nonempty(b, "cluster")),
                    user: body.and_then(|b| nonempty(b, "user")),
                })
            })
            .collect();
        FileNames {
            path: path.to_path_buf(),
            current_context: kc.root.and_then(|r| nonempty(r, "current-context")),
            empty_current_context: kc.root.and_then(|r| {
                let key = kc.doc.get_key(r, "current-context")?;
                let value = kc.get(r, "current-context")?;
                kc.doc
                    .scalar(value)
                    .is_none_or(str::is_empty)
                    .then(|| kc.line(key))
            }),
            clusters: section(Section::Clusters),
            contexts: section(Section::Contexts),
            users: section(Section::Users),
            refs,
        }
    }

    pub fn section(&self, s: Section) -> &[Named] {
        match s {
            Section::Clusters => &self.clusters,
            Section::Contexts => &self.contexts,
            Section::Users => &self.users,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Document;

    #[test]
    fn collects_names_and_references_with_lines() {
        let src = "apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster: {server: https://x}
contexts:
- name: a
  context:
    cluster: c1
    user: ''
users:
- name: u1
  user: {}
";
        let doc = Document::parse(src).unwrap();
        let kc = Kubeconfig::new(&doc).unwrap();
        let n = FileNames::collect(Path::new("f"), &kc);
        let named = |name: &str, line| Named {
            name: name.into(),
            line,
        };
        assert_eq!(n.current_context, Some(named("a", 3)));
        assert_eq!(n.clusters, vec![named("c1", 5)]);
        assert_eq!(n.users, vec![named("u1", 13)]);
        assert_eq!(
            n.refs,
            vec![ContextRefs {
                context: named("a", 8),
                cluster: Some(named("c1", 10)),
                user: None
            }]
        );
    }
}
