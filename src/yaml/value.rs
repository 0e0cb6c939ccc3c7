//! Verifying a patch: does the new text mean the old one plus the intended changes, exactly?
//!
//! Each edit carries an [`Intent`] naming the node of the *old* document it changes. After the
//! patch is applied and the new text parsed, [`equivalent`] walks both trees in step: every
//! node must match (kind, decoded value, plain-or-quoted, anchor name, alias target) except
//! where an intent says otherwise, and there the new node must hold exactly the intended
//! value. The walk borrows both trees and allocates nothing per node, so it stays linear and
//! cheap on huge files. Aliases are compared as aliases, never expanded.

use std::collections::HashMap;

use super::{render_scalar, Document, NewValue, NodeId, NodeKind, Style};

/// What an edit means, in terms of the old document's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

struct Expect<'i> {
    sets: HashMap<NodeId, (&'i str, bool)>,
    inserts: HashMap<NodeId, Vec<(&'i str, &'i NewValue)>>,
    removes: HashMap<NodeId, Vec<NodeId>>,
    /// Replaced entries, by old key node.
    replaces: HashMap<NodeId, (&'i str, &'i NewValue)>,
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
            Intent::Remove { map, key } => ex.removes.entry(*map).or_default().push(*key),
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

    /// Does new node `n` hold exactly `value`?
    fn is_new(&self, n: NodeId, value: &NewValue) -> bool {
        if self.new.anchor(n).is_some() {
            return false;
        }
        match (value, self.new.kind(n)) {
            (NewValue::Map(want), NodeKind::Mapping { entries, .. }) => {
                want.len() == entries.len()
                    && want.iter().zip(entries).all(|((k, v), &(nk, nv))| {
                        self.scalar_is(nk, k, true) && self.is_new(nv, v)
                    })
            }
            (NewValue::List(want), NodeKind::Sequence { items, .. }) => {
                want.len() == items.len() && want.iter().zip(items).all(|(v, &i)| self.is_new(i, v))
            }
            (NewValue::Str(s), _) => self.scalar_is(n, s, render_scalar(s, Style::Plain).1),
            (NewValue::Bool(b), _) => self.scalar_is(n, if *b { "true" } else { "false" }, true),
            _ => false,
        }
    }

    fn node(&self, o: NodeId, n: NodeId) -> Result<(), String> {
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
                        if !self.scalar_is(nk, key, true) || !self.is_new(nv, value) {
                            return self.differ(nk, &format!("expected the replaced entry {key}"));
                        }
                        continue;
                    }
                    self.node(ok, nk)?;
                    self.node(ov, nv)?;
                }
                for (&(key, value), &(nk, nv)) in inserted.iter().zip(&b[kept_len..]) {
                    if !self.scalar_is(nk, key, true) || !self.is_new(nv, value) {
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
