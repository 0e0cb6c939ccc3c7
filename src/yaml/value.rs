//! The meaning of a document, for verifying a patch.
//!
//! After a patch is applied the new text is parsed again and its [`Value`] compared with the
//! original's [`Value`] with the patch's [`Intent`]s applied. If they differ, the patch changed
//! something it did not mean to (or failed to change what it meant to), and nothing is written.
//! Aliases are compared as aliases, never expanded, so the check stays linear.

use super::{Document, NodeId, NodeKind, Slot, Style};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    /// `plain` matters: `true` and `"true"` are different values.
    Scalar {
        text: String,
        plain: bool,
    },
    Map(Vec<(Value, Value)>),
    Seq(Vec<Value>),
    Alias(String),
    Anchored(String, Box<Value>),
}

/// One step of a path from the root: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl std::fmt::Display for PathSeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSeg::Key(k) => write!(f, ".{k}"),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// What an edit means: the value at a path becomes something else, an entry is added to a
/// mapping, or an entry is removed from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Set {
        path: Vec<PathSeg>,
        value: Value,
    },
    Insert {
        path: Vec<PathSeg>,
        key: String,
        value: Value,
    },
    Remove {
        path: Vec<PathSeg>,
        key: String,
    },
}

impl Value {
    pub fn of_document(doc: &Document<'_>) -> Value {
        match doc.root {
            Some(root) => Value::of_node(doc, root),
            None => Value::Null,
        }
    }

    pub fn of_node(doc: &Document<'_>, id: NodeId) -> Value {
        let node = doc.node(id);
        let inner = match &node.kind {
            NodeKind::Scalar { null: true, .. } => Value::Null,
            NodeKind::Scalar { value, style, .. } => Value::Scalar {
                text: value.to_string(),
                plain: *style == Style::Plain,
            },
            NodeKind::Mapping { entries, .. } => Value::Map(
                entries
                    .iter()
                    .map(|&(k, v)| (Value::of_node(doc, k), Value::of_node(doc, v)))
                    .collect(),
            ),
            NodeKind::Sequence { items, .. } => {
                Value::Seq(items.iter().map(|&i| Value::of_node(doc, i)).collect())
            }
            NodeKind::Alias { target } => Value::Alias(
                doc.node(*target)
                    .anchor
                    .as_ref()
                    .map(|(n, _)| n.to_string())
                    .unwrap_or_default(),
            ),
        };
        match &node.anchor {
            Some((name, _)) => Value::Anchored(name.to_string(), Box::new(inner)),
            None => inner,
        }
    }

    fn strip_anchor_mut(&mut self) -> &mut Value {
        match self {
            Value::Anchored(_, inner) => inner.strip_anchor_mut(),
            other => other,
        }
    }

    fn key_is(&self, key: &str) -> bool {
        match self {
            Value::Scalar { text, .. } => text == key,
            Value::Anchored(_, inner) => inner.key_is(key),
            _ => false,
        }
    }

    fn at_mut(&mut self, path: &[PathSeg]) -> Option<&mut Value> {
        let mut cur = self;
        for seg in path {
            cur = match (cur.strip_anchor_mut(), seg) {
                (Value::Map(entries), PathSeg::Key(k)) => {
                    &mut entries.iter_mut().find(|(key, _)| key.key_is(k))?.1
                }
                (Value::Seq(items), PathSeg::Index(i)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Apply an intent; `Err` names the path that does not exist.
    pub fn apply(&mut self, intent: &Intent) -> Result<(), String> {
        let show = |p: &[PathSeg]| p.iter().map(ToString::to_string).collect::<String>();
        match intent {
            Intent::Set { path, value } => {
                let slot = self.at_mut(path).ok_or_else(|| show(path))?;
                *slot.strip_anchor_mut() = value.clone();
            }
            Intent::Insert { path, key, value } => {
                let slot = self.at_mut(path).ok_or_else(|| show(path))?;
                match slot.strip_anchor_mut() {
                    Value::Map(entries) => entries.push((
                        Value::Scalar {
                            text: key.clone(),
                            plain: true,
                        },
                        value.clone(),
                    )),
                    _ => return Err(show(path)),
                }
            }
            Intent::Remove { path, key } => {
                let slot = self.at_mut(path).ok_or_else(|| show(path))?;
                match slot.strip_anchor_mut() {
                    Value::Map(entries) => {
                        let before = entries.len();
                        entries.retain(|(k, _)| !k.key_is(key));
                        if entries.len() == before {
                            return Err(format!("{}.{key}", show(path)));
                        }
                    }
                    _ => return Err(show(path)),
                }
            }
        }
        Ok(())
    }
}

/// The physical path of a node from the root (through mapping keys and sequence indexes).
pub fn path_of(doc: &Document<'_>, mut id: NodeId) -> Vec<PathSeg> {
    let mut rev = Vec::new();
    loop {
        match &doc.node(id).slot {
            Slot::Root => break,
            Slot::Value { parent, key } => {
                let k = match &doc.node(*key).kind {
                    NodeKind::Scalar { value, .. } => value.to_string(),
                    _ => String::new(),
                };
                rev.push(PathSeg::Key(k));
                id = *parent;
            }
            Slot::Item { parent, index } => {
                rev.push(PathSeg::Index(*index));
                id = *parent;
            }
            Slot::Key { parent } => {
                // Edits never target keys; treat as the mapping itself.
                id = *parent;
            }
        }
    }
    rev.reverse();
    rev
}
