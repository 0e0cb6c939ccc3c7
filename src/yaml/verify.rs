//! Verifying a patch: does the new text mean the old one plus the intended changes, exactly?
//!
//! Each edit carries an [`Intent`] naming the node of the *old* document it changes. After the
//! patch is applied and the new text parsed, [`equivalent`] walks both trees in step: every
//! node must match (kind, decoded value, plain-or-quoted, anchor name, alias target) except
//! where an intent says otherwise, and there the new node must hold exactly the intended
//! value. The walk borrows both trees and allocates nothing per node, so it stays linear and
//! cheap on huge files. Aliases are compared as aliases, never expanded.
//!
//! That proves the new text is the old one with each intended node changed, but an anchored
//! node changes *everywhere it is aliased* (and a mapping merged with `<<: *base` changes every
//! mapping that merges it): what kubectl sees is the expanded document. [`occurrences`] lists
//! every place an edited node is seen in the expanded document, so the caller can check that
//! each of them is itself an intended change (see `plan::shared_anchor_guard`). Together, the
//! expanded documents before and after differ exactly by the intended changes.

use std::collections::{HashMap, HashSet};

use super::emit::reads_as_string_plain;
use super::{Document, NewValue, NodeId, NodeKind, Style};

impl Intent {
    /// The old node whose content the edit changes: the scalar, or the mapping.
    pub fn target(&self) -> NodeId {
        match *self {
            Intent::Set { node, .. } => node,
            Intent::Insert { map, .. }
            | Intent::Replace { map, .. }
            | Intent::Remove { map, .. } => map,
            Intent::Inline { alias, .. } => alias,
        }
    }
}

/// One step of a path in the expanded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The value under this key node.
    Key(NodeId),
    /// The item at this index; the item node, aliases followed.
    Index(usize, NodeId),
}

/// One place an old-document node is seen in the expanded document (aliases followed, merge
/// keys applied).
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub node: NodeId,
    /// From the root, as kubectl reads the document.
    pub path: Vec<Step>,
    /// The innermost alias (or merge source alias) followed to get here; `None` where the
    /// node is written.
    pub via: Option<NodeId>,
}

/// Every place each of `targets` is seen in the expanded document `doc`. Only the parts of
/// the tree that contain a target are walked, so the cost is one linear pass over the nodes
/// plus the paths to the occurrences (bounded by the parser's alias-expansion limit).
///
/// Keys are read as go-yaml v2 (and so kubectl) reads them: of a key written twice, the
/// last entry is seen; a merge key (`<<`) overrides the keys written before it and is
/// overridden by those after it, and of a merge list the first mapping with a key wins.
/// A merged mapping is itself seen wherever it is merged.
pub fn occurrences(doc: &Document<'_>, targets: &HashSet<NodeId>) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let Some(root) = doc.root else { return out };
    if targets.is_empty() {
        return out;
    }
    let contains = containing(doc, root, targets);
    let mut w = Occurrences {
        doc,
        targets,
        contains,
        path: Vec::new(),
        out: &mut out,
    };
    w.visit(root, None);
    out
}

/// For every node: does it or anything it contains (aliases followed) hold a target? One
/// iterative post-order pass in document order (an alias's target is complete before it).
fn containing(doc: &Document<'_>, root: NodeId, targets: &HashSet<NodeId>) -> Vec<bool> {
    let mut contains = vec![false; doc.len()];
    for id in doc.post_order(root) {
        let c = match doc.kind(id) {
            NodeKind::Scalar { .. } => false,
            NodeKind::Alias { target } => contains[target as usize],
            NodeKind::Mapping { entries, .. } => entries.iter().any(|&(_, v)| contains[v as usize]),
            NodeKind::Sequence { items, .. } => items.iter().any(|&i| contains[i as usize]),
        };
        contains[id as usize] = c || targets.contains(&id);
    }
    contains
}

struct Occurrences<'w, 'd, 'a> {
    doc: &'w Document<'d>,
    targets: &'w HashSet<NodeId>,
    contains: Vec<bool>,
    path: Vec<Step>,
    out: &'a mut Vec<Occurrence>,
}

impl<'w> Occurrences<'w, '_, '_> {
    fn follow(&self, id: NodeId, via: Option<NodeId>) -> (NodeId, Option<NodeId>) {
        match self.doc.kind(id) {
            NodeKind::Alias { .. } => (self.doc.resolve(id), Some(id)),
            _ => (id, via),
        }
    }

    fn visit(&mut self, id: NodeId, via: Option<NodeId>) {
        let (id, via) = self.follow(id, via);
        if !self.contains[id as usize] {
            return;
        }
        if self.targets.contains(&id) {
            self.out.push(Occurrence {
                node: id,
                path: self.path.clone(),
                via,
            });
        }
        match self.doc.kind(id) {
            NodeKind::Sequence { items, .. } => {
                for (i, &item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i, self.doc.resolve(item)));
                    self.visit(item, via);
                    self.path.pop();
                }
            }
            NodeKind::Mapping { .. } => {
                let mut hidden: HashSet<&str> = HashSet::new();
                self.mapping(id, via, &mut hidden, 0);
            }
            _ => {}
        }
    }

    /// The entries of mapping `map` as kubectl sees them where it is (merged into) the
    /// current path. `hidden` holds the keys that win over this mapping's; the keys this
    /// mapping sets are added to it.
    ///
    /// go-yaml v2 decodes a mapping's entries in order into one map, a merge key (`<<`)
    /// setting its mappings' keys where it stands (a merge list from its last item to its
    /// first). Walked from the last entry, an entry is seen unless a later one set its key.
    fn mapping(
        &mut self,
        map: NodeId,
        via: Option<NodeId>,
        hidden: &mut HashSet<&'w str>,
        depth: usize,
    ) {
        let doc: &'w Document<'_> = self.doc;
        let Some(entries) = doc.entries(map) else {
            return;
        };
        for &(k, v) in entries.iter().rev() {
            if doc.is_merge_key(k) {
                if depth <= 32 {
                    self.merge(v, via, hidden, depth);
                }
                continue;
            }
            let key = doc.scalar(k).unwrap_or("");
            if !hidden.insert(key) {
                continue; // a later entry (or an outer mapping) sets it
            }
            let (rv, _) = self.follow(v, via);
            if self.contains[rv as usize] {
                self.path.push(Step::Key(k));
                self.visit(v, via);
                self.path.pop();
            }
        }
    }

    /// The mappings of a merge key's value `merged`, seen in the current mapping.
    fn merge(
        &mut self,
        merged: NodeId,
        via: Option<NodeId>,
        hidden: &mut HashSet<&'w str>,
        depth: usize,
    ) {
        let doc: &'w Document<'_> = self.doc;
        let (rm, mvia) = self.follow(merged, via);
        let (sources, sources_via): (Vec<NodeId>, _) = match doc.kind(rm) {
            NodeKind::Sequence { items, .. } => (items.to_vec(), mvia),
            _ => (vec![merged], via),
        };
        // The first source wins over the later ones (go-yaml applies it last).
        for s in sources {
            let (sid, svia) = self.follow(s, sources_via);
            if doc.entries(sid).is_none() {
                continue;
            }
            if self.targets.contains(&sid) && self.contains[sid as usize] {
                self.out.push(Occurrence {
                    node: sid,
                    path: self.path.clone(),
                    via: svia,
                });
            }
            self.mapping(sid, svia, hidden, depth + 1);
        }
    }
}

/// What an edit means, in terms of the old document's nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Scalar `node` now reads `value` (plain or quoted).
    Set {
        node: NodeId,
        value: String,
        plain: bool,
    },
    /// Mapping `map` gains `key: value` as its last entry.
    Insert {
        map: NodeId,
        key: String,
        value: NewValue,
    },
    /// The entry of mapping `map` whose key node is `key` becomes `new_key: value`, in place.
    Replace {
        map: NodeId,
        key: NodeId,
        new_key: String,
        value: NewValue,
    },
    /// Mapping `map` loses the entry whose key node is `key`.
    Remove { map: NodeId, key: NodeId },
    /// Alias `alias` is written out as the node it refers to, anchor included (the anchored
    /// node itself is removed): the same value, seen the same way, wherever it was used.
    Inline { alias: NodeId },
}

struct Expect<'i> {
    sets: HashMap<NodeId, (&'i str, bool)>,
    inserts: HashMap<NodeId, Vec<(&'i str, &'i NewValue)>>,
    removes: HashMap<NodeId, Vec<NodeId>>,
    /// Replaced entries, by old key node.
    replaces: HashMap<NodeId, (&'i str, &'i NewValue)>,
    /// Aliases written out as their target.
    inlines: HashSet<NodeId>,
}

/// `Ok` when `new` equals `old` with `intents` applied; else where they first differ.
pub fn equivalent(
    old: &Document<'_>,
    new: &Document<'_>,
    intents: &[Intent],
) -> Result<(), String> {
    let mut ex = Expect {
        sets: HashMap::new(),
        inserts: HashMap::new(),
        removes: HashMap::new(),
        replaces: HashMap::new(),
        inlines: HashSet::new(),
    };
    for i in intents {
        match i {
            Intent::Set { node, value, plain } => {
                ex.sets.insert(*node, (value, *plain));
            }
            Intent::Insert { map, key, value } => {
                ex.inserts.entry(*map).or_default().push((key, value))
            }
            Intent::Replace {
                key,
                new_key,
                value,
                ..
            } => {
                ex.replaces.insert(*key, (new_key, value));
            }
            Intent::Remove { map, key } => {
                let keys = ex.removes.entry(*map).or_default();
                if !keys.contains(key) {
                    keys.push(*key);
                }
            }
            Intent::Inline { alias } => {
                ex.inlines.insert(*alias);
            }
        }
    }
    match (old.root, new.root) {
        (Some(o), Some(n)) => Walk { old, new, ex: &ex }.node(o, n),
        (None, None) => Ok(()),
        _ => Err("the document became empty, or stopped being empty".into()),
    }
}

struct Walk<'w, 'o, 'n, 'i> {
    old: &'w Document<'o>,
    new: &'w Document<'n>,
    ex: &'w Expect<'i>,
}

impl Walk<'_, '_, '_, '_> {
    fn differ(&self, n: NodeId, what: &str) -> Result<(), String> {
        let p = self.new.position(self.new.node(n).span().start);
        Err(format!("line {}: {what}", p.line))
    }

    fn scalar_is(&self, n: NodeId, value: &str, plain: bool) -> bool {
        matches!(self.new.kind(n),
            NodeKind::Scalar { value: v, style, null: false } if v == value && (style == Style::Plain) == plain)
    }

    /// Does new node `n` read as the string `value`: quoted, or plain where plain text
    /// cannot resolve to anything else (a new key or string value, in the file's style)?
    fn string_is(&self, n: NodeId, value: &str) -> bool {
        matches!(self.new.kind(n),
            NodeKind::Scalar { value: v, style, null: false }
                if v == value && (style != Style::Plain || reads_as_string_plain(value)))
    }

    /// Does new node `n` hold exactly `value`?
    fn is_new(&self, n: NodeId, value: &NewValue) -> bool {
        if self.new.anchor(n).is_some() {
            return false;
        }
        match (value, self.new.kind(n)) {
            (NewValue::Map(want), NodeKind::Mapping { entries, .. }) => {
                want.len() == entries.len()
                    && want
                        .iter()
                        .zip(entries)
                        .all(|((k, v), &(nk, nv))| self.string_is(nk, k) && self.is_new(nv, v))
            }
            (NewValue::List(want), NodeKind::Sequence { items, .. }) => {
                want.len() == items.len() && want.iter().zip(items).all(|(v, &i)| self.is_new(i, v))
            }
            (NewValue::Str(s), _) => self.string_is(n, s),
            (NewValue::Bool(b), _) => self.scalar_is(n, if *b { "true" } else { "false" }, true),
            _ => false,
        }
    }

    fn node(&self, o: NodeId, n: NodeId) -> Result<(), String> {
        if self.ex.inlines.contains(&o) {
            if let NodeKind::Alias { target } = self.old.kind(o) {
                return self.node(target, n);
            }
        }
        if self.old.anchor(o) != self.new.anchor(n) {
            return self.differ(n, "an anchor changed");
        }
        if let Some(&(value, plain)) = self.ex.sets.get(&o) {
            return if self.scalar_is(n, value, plain) {
                Ok(())
            } else {
                self.differ(n, &format!("expected the value {value:?}"))
            };
        }
        match (self.old.kind(o), self.new.kind(n)) {
            (
                NodeKind::Scalar {
                    value: a,
                    style: sa,
                    null: na,
                },
                NodeKind::Scalar {
                    value: b,
                    style: sb,
                    null: nb,
                },
            ) => {
                if a != b || sa != sb || na != nb {
                    return self.differ(n, "a value changed that no fix meant to change");
                }
                Ok(())
            }
            (NodeKind::Alias { target: a }, NodeKind::Alias { target: b }) => {
                if self.old.anchor(a) != self.new.anchor(b) {
                    return self.differ(n, "an alias now points elsewhere");
                }
                Ok(())
            }
            (NodeKind::Sequence { items: a, .. }, NodeKind::Sequence { items: b, .. }) => {
                if a.len() != b.len() {
                    return self.differ(n, "a list changed length");
                }
                a.iter().zip(b).try_for_each(|(&x, &y)| self.node(x, y))
            }
            (NodeKind::Mapping { entries: a, .. }, NodeKind::Mapping { entries: b, .. }) => {
                let removed = self.ex.removes.get(&o).map(Vec::as_slice).unwrap_or(&[]);
                let inserted = self.ex.inserts.get(&o).map(Vec::as_slice).unwrap_or(&[]);
                let kept = a.iter().filter(|(k, _)| !removed.contains(k));
                let kept_len = a.len() - removed.len();
                if b.len() != kept_len + inserted.len() {
                    return self.differ(n, "a mapping gained or lost an entry no fix meant to");
                }
                for (&(ok, ov), &(nk, nv)) in kept.zip(b) {
                    if let Some(&(key, value)) = self.ex.replaces.get(&ok) {
                        if !self.string_is(nk, key) || !self.is_new(nv, value) {
                            return self.differ(nk, &format!("expected the replaced entry {key}"));
                        }
                        continue;
                    }
                    self.node(ok, nk)?;
                    self.node(ov, nv)?;
                }
                for (&(key, value), &(nk, nv)) in inserted.iter().zip(&b[kept_len..]) {
                    if !self.string_is(nk, key) || !self.is_new(nv, value) {
                        return self.differ(nk, &format!("expected the new entry {key}"));
                    }
                }
                Ok(())
            }
            _ => self.differ(n, "a node changed its kind"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each scalar reading `value` is seen in `text`, as kubectl reads it: the key
    /// paths, one per occurrence.
    fn seen(text: &str, value: &str) -> Vec<String> {
        let doc = Document::parse(text).unwrap();
        let targets: HashSet<NodeId> = (0..doc.len() as NodeId)
            .filter(|&id| {
                matches!(doc.kind(id), NodeKind::Scalar { .. })
                    && doc.node(id).key().is_some()
                    && doc.scalar(id) == Some(value)
            })
            .collect();
        let mut paths: Vec<String> = occurrences(&doc, &targets)
            .iter()
            .map(|o| {
                let keys: Vec<&str> = o
                    .path
                    .iter()
                    .map(|s| match *s {
                        Step::Key(k) => doc.scalar(k).unwrap_or("?"),
                        Step::Index(..) => "#",
                    })
                    .collect();
                format!(
                    "{}@{}",
                    keys.join("."),
                    doc.position(doc.node(o.node).span().start).line
                )
            })
            .collect();
        paths.sort();
        paths
    }

    /// What kubectl sees is go-yaml v2's reading: the last of a key written twice, a merge
    /// overriding the keys before it and overridden by those after it.
    #[test]
    fn occurrences_follow_go_yaml_v2s_order() {
        let base = "b: &b {y: merged}\n";
        // The merged value where no own key follows the merge key.
        assert_eq!(
            seen(&format!("{base}c:\n  y: own\n  <<: *b\n"), "merged"),
            ["b.y@1", "c.y@1"]
        );
        assert!(seen(&format!("{base}c:\n  y: own\n  <<: *b\n"), "own").is_empty());
        assert_eq!(
            seen(&format!("{base}c:\n  <<: *b\n  y: own\n"), "merged"),
            ["b.y@1"]
        );
        assert_eq!(
            seen(&format!("{base}c:\n  <<: *b\n  y: own\n"), "own"),
            ["c.y@4"]
        );
        // A key written twice: the last one only.
        assert_eq!(seen("c: {y: one, y: two}\n", "one"), Vec::<String>::new());
        assert_eq!(seen("c: {y: one, y: two}\n", "two"), ["c.y@1"]);
        // Of a merge list, the first source wins over the later ones.
        let two = "a: &a {y: first}\nb: &b {y: second}\nc:\n  <<: [*a, *b]\n";
        assert_eq!(seen(two, "first"), ["a.y@1", "c.y@1"]);
        assert_eq!(seen(two, "second"), ["b.y@2"]);
    }

    #[test]
    fn detects_unintended_change() {
        let old = Document::parse("a: 1\nb: [x, y]\n").unwrap();
        let new = Document::parse("a: 1\nb: [x, z]\n").unwrap();
        assert!(equivalent(&old, &new, &[]).is_err());
        assert!(equivalent(&old, &old, &[]).is_ok());
    }

    #[test]
    fn accepts_intended_set_insert_remove() {
        let old = Document::parse("m:\n  a: 1\n  b: 2\n").unwrap();
        let new = Document::parse("m:\n  a: \"one\"\n  c: \"3\"\n").unwrap();
        let root = old.root.unwrap();
        let m = old.get(root, "m").unwrap();
        let a = old.get(m, "a").unwrap();
        let b_key = old.get_key(m, "b").unwrap();
        let intents = vec![
            Intent::Set {
                node: a,
                value: "one".into(),
                plain: false,
            },
            Intent::Remove { map: m, key: b_key },
            Intent::Insert {
                map: m,
                key: "c".into(),
                value: NewValue::str("3"),
            },
        ];
        assert_eq!(equivalent(&old, &new, &intents), Ok(()));
        // Quoting matters: the string "3" is not the number 3.
        let number = Document::parse("m:\n  a: \"one\"\n  c: 3\n").unwrap();
        assert!(equivalent(&old, &number, &intents).is_err());
    }

    #[test]
    fn anchors_and_aliases_must_survive() {
        let old = Document::parse("a: &x 1\nb: *x\n").unwrap();
        let lost = Document::parse("a: 1\nb: 1\n").unwrap();
        assert!(equivalent(&old, &lost, &[]).is_err());
    }
}
