//! The kubeconfig view: clusters, contexts and users of one file, each pointing at its nodes
//! in the lossless [`Document`], so rules can read values and edit them in place.

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::yaml::{Document, NodeId};

pub mod names;

/// Which list an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Clusters,
    Contexts,
    Users,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Clusters, Section::Contexts, Section::Users];

    pub fn key(self) -> &'static str {
        match self {
            Section::Clusters => "clusters",
            Section::Contexts => "contexts",
            Section::Users => "users",
        }
    }

    /// The key of an item's body: `cluster`, `context`, `user`.
    pub fn body_key(self) -> &'static str {
        match self {
            Section::Clusters => "cluster",
            Section::Contexts => "context",
            Section::Users => "user",
        }
    }
}

/// One item of `clusters`, `contexts` or `users`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub section: Section,
    pub name: Option<String>,
    /// The item mapping (`- name: … user: …`).
    pub item: NodeId,
    /// The body mapping (`user: {…}`), if present and a mapping.
    pub body: Option<NodeId>,
}

/// A typed view over one parsed kubeconfig.
pub struct Kubeconfig<'d, 'a> {
    pub doc: &'d Document<'a>,
    pub root: Option<NodeId>,
    pub clusters: Vec<Entry>,
    pub contexts: Vec<Entry>,
    pub users: Vec<Entry>,
    pub current_context: Option<String>,
    /// The top level is a mapping without any kubeconfig key (`foo: bar`): kubectl reads it
    /// as an empty config, without a word.
    pub no_kubeconfig_keys: bool,
    /// Lookups by name, built on first use (a merged file has tens of thousands of entries,
    /// and rules look entries up per credential or per context).
    index: OnceCell<Index<'d>>,
}

/// Positions in the entry lists, by name.
#[derive(Default)]
struct Index<'d> {
    /// Cluster, context and user by name (the first of a name, as client-go picks it).
    by_name: [HashMap<&'d str, usize>; 3],
    /// Contexts naming a cluster, and contexts naming a user, in file order.
    contexts_of: [HashMap<&'d str, Vec<usize>>; 2],
}

fn slot(section: Section) -> usize {
    match section {
        Section::Clusters => 0,
        Section::Contexts => 1,
        Section::Users => 2,
    }
}

/// Why a parsed YAML document is not a kubeconfig; `at` is a byte offset.
#[derive(Debug, Clone)]
pub struct NotKubeconfig {
    pub at: usize,
    pub message: String,
}

impl<'d, 'a> Kubeconfig<'d, 'a> {
    pub fn new(doc: &'d Document<'a>) -> Result<Kubeconfig<'d, 'a>, NotKubeconfig> {
        let empty = Kubeconfig {
            doc,
            root: None,
            clusters: Vec::new(),
            contexts: Vec::new(),
            users: Vec::new(),
            current_context: None,
            no_kubeconfig_keys: false,
            index: OnceCell::new(),
        };
        let Some(root) = doc.root else {
            // No YAML content (empty or only comments): client-go reads an empty config.
            return Ok(empty);
        };
        if matches!(
            doc.kind(doc.resolve(root)),
            crate::yaml::NodeKind::Scalar { null: true, .. }
        ) {
            // A document that is null (`null`, `~`, an empty first document `---`): go-yaml
            // decodes nothing, and client-go reads an empty config too.
            return Ok(empty);
        }
        let not = |at: usize, message: String| NotKubeconfig { at, message };
        if doc.entries(root).is_none() {
            return Err(not(
                doc.node(root).span().start,
                format!(
                    "the top level is {}, but a kubeconfig is a mapping (apiVersion, kind, clusters, contexts, users)",
                    doc.describe(root)
                ),
            ));
        }
        if let Some(kind) = doc.get(root, "kind") {
            if let Some(k) = doc.scalar(kind) {
                if k != "Config" {
                    return Err(not(
                        doc.node(kind).span().start,
                        format!("kind is {k:?}, not \"Config\": this is not a kubeconfig"),
                    ));
                }
            }
        }
        let known = [
            "apiVersion",
            "kind",
            "clusters",
            "contexts",
            "users",
            "current-context",
            "preferences",
        ];
        // No kubeconfig key at all (`foo: bar`): kubectl reads an empty config; the
        // `no-kubeconfig-keys` rule says so.
        let no_kubeconfig_keys = !doc
            .entries(root)
            .unwrap_or(&[])
            .iter()
            .any(|&(k, _)| doc.scalar(k).is_some_and(|k| known.contains(&k)))
            && doc.merge_value(root).is_none();
        let mut view = Kubeconfig {
            doc,
            root: Some(root),
            clusters: Vec::new(),
            contexts: Vec::new(),
            users: Vec::new(),
            current_context: doc
                .get(root, "current-context")
                .and_then(|n| doc.scalar(n))
                .map(str::to_string),
            no_kubeconfig_keys,
            index: OnceCell::new(),
        };
        for section in Section::ALL {
            let Some(list) = doc.get(root, section.key()) else {
                continue;
            };
            let items = match doc.items(list) {
                Some(items) => items,
                None if doc.scalar(list).is_none() && doc.entries(list).is_none() => continue, // null
                None => {
                    return Err(not(
                        doc.node(list).span().start,
                        format!(
                            "{} must be a list, but it is {}",
                            section.key(),
                            doc.describe(list)
                        ),
                    ))
                }
            };
            let mut entries = Vec::with_capacity(items.len());
            for &item in items {
                let item = doc.resolve(item);
                if doc.entries(item).is_none() {
                    return Err(not(
                        doc.node(item).span().start,
                        format!(
                            "each item of {} must be a mapping with name and {}, but this one is {}",
                            section.key(),
                            section.body_key(),
                            doc.describe(item)
                        ),
                    ));
                }
                let name = doc
                    .get(item, "name")
                    .and_then(|n| doc.scalar(n))
                    .map(str::to_string);
                let body = match doc.get(item, section.body_key()) {
                    Some(b) if doc.entries(b).is_some() => Some(doc.resolve(b)),
                    Some(b) if doc.scalar(b).is_none() && doc.items(b).is_none() => None, // null
                    Some(b) => {
                        return Err(not(
                            doc.node(b).span().start,
                            format!(
                                "{} must be a mapping, but it is {}",
                                section.body_key(),
                                doc.describe(b)
                            ),
                        ))
                    }
                    None => None,
                };
                entries.push(Entry {
                    section,
                    name,
                    item,
                    body,
                });
            }
            match section {
                Section::Clusters => view.clusters = entries,
                Section::Contexts => view.contexts = entries,
                Section::Users => view.users = entries,
            }
        }
        Ok(view)
    }

    /// Value node of `key` inside a mapping node, resolving aliases of the mapping.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.doc.get(map, key)
    }

    pub fn str_of(&self, map: NodeId, key: &str) -> Option<&str> {
        self.doc.get(map, key).and_then(|n| self.doc.scalar(n))
    }

    /// The entries of one section.
    pub fn section(&self, section: Section) -> &[Entry] {
        match section {
            Section::Clusters => &self.clusters,
            Section::Contexts => &self.contexts,
            Section::Users => &self.users,
        }
    }

    /// The entry named `name` in `section` (the first of that name, as client-go picks it).
    pub fn entry(&self, section: Section, name: &str) -> Option<&Entry> {
        let i = *self.index().by_name[slot(section)].get(name)?;
        Some(&self.section(section)[i])
    }

    /// The contexts whose `cluster` (for [`Section::Clusters`]) or `user` (for
    /// [`Section::Users`]) is `name`, in file order.
    pub fn contexts_using<'s>(
        &'s self,
        section: Section,
        name: &str,
    ) -> impl Iterator<Item = &'s Entry> + use<'s, 'd, 'a> {
        let refs = match section {
            Section::Clusters => self.index().contexts_of[0].get(name),
            Section::Users => self.index().contexts_of[1].get(name),
            Section::Contexts => None,
        };
        refs.into_iter().flatten().map(|&i| &self.contexts[i])
    }

    fn index(&self) -> &Index<'d> {
        self.index.get_or_init(|| {
            let doc = self.doc;
            let name_of = |e: &Entry| doc.get(e.item, "name").and_then(|n| doc.scalar(n));
            let mut index = Index::default();
            for section in Section::ALL {
                let map = &mut index.by_name[slot(section)];
                for (i, e) in self.section(section).iter().enumerate() {
                    if let Some(name) = name_of(e) {
                        map.entry(name).or_insert(i);
                    }
                }
            }
            for (i, ctx) in self.contexts.iter().enumerate() {
                let Some(body) = ctx.body else { continue };
                for (j, key) in ["cluster", "user"].into_iter().enumerate() {
                    if let Some(name) = doc.get(body, key).and_then(|n| doc.scalar(n)) {
                        index.contexts_of[j].entry(name).or_default().push(i);
                    }
                }
            }
            index
        })
    }

    /// 1-based line of a node.
    pub fn line(&self, node: NodeId) -> usize {
        // Only the line: counting characters for a column would read long base64 lines.
        self.doc.lines.line(self.doc.node(node).span().start)
    }
}

/// The named entry a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EntryRef {
    pub kind: Section,
    pub name: String,
}

impl std::fmt::Display for EntryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.key(), self.name)
    }
}
