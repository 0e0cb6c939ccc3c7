//! One parse of the source into a tree of nodes that remember their exact byte spans.
//!
//! The tree is built from granit-parser's event stream, whose spans are UTF-8 byte ranges into
//! the original text. Nothing here copies the source: a scalar's value is a range of the
//! source wherever the parser could borrow it (plain and unescaped quoted scalars), and every
//! node points back at its bytes. Aliases stay aliases (a reference to the anchored node), so
//! an "alias bomb" costs one node per alias, never an expansion.
//!
//! The layout is compact because merged kubeconfigs are big (a 15 MB file has ~190k nodes):
//! a node is 24 bytes of `u32`s, and the children of every collection sit contiguously in
//! one shared arena instead of a vector per collection.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use granit_parser::ScalarStyle;

use super::{LineIndex, Position};

/// Index of a node in a [`Document`].
pub type NodeId = u32;

/// How a scalar was written in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Self {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

/// Block (`key: value` on lines) or flow (`{key: value}`) notation of a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Block,
    Flow,
}

/// What a node is, borrowed from its [`Document`] (see [`Document::kind`]).
#[derive(Clone, Copy, Debug)]
pub enum NodeKind<'d> {
    /// A scalar. `value` is the decoded text. `null` marks YAML's null: an empty plain scalar
    /// (`key:` with nothing after it, recorded with an empty span at the end of the key and
    /// an empty `value`) or a plain `null` / `~`.
    Scalar {
        value: &'d str,
        style: Style,
        null: bool,
    },
    Mapping {
        layout: Layout,
        entries: &'d [(NodeId, NodeId)],
    },
    Sequence {
        layout: Layout,
        items: &'d [NodeId],
    },
    /// `*name`: refers to the node that carries `&name`.
    Alias {
        target: NodeId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Tag {
    Scalar,
    Mapping,
    Sequence,
    Alias,
}

/// Scalar flags.
pub(super) const NULL: u8 = 1;
/// The value is `owned[a]` (the parser had to decode it), not the source bytes `a..a+b`.
pub(super) const OWNED: u8 = 2;
/// A merge key as go-yaml (and so kubectl) recognises one: the scalar `<<` written plain
/// and untagged, or tagged `!!merge`, as a mapping key. An alias to a `<<`, a quoted `"<<"`
/// or `!!str <<` is an ordinary key.
pub(super) const MERGE: u8 = 4;
/// Collection flag: written in flow style (`{...}` / `[...]`), not block style.
pub(super) const FLOW: u8 = 8;
/// Scalar flag: written with a tag (`!!str`, `!!binary`, `!local`), which changes what
/// kubectl reads.
pub(super) const TAGGED: u8 = 16;

/// An explicit tag on a scalar, as go-yaml v2 (`resolve.go`) acts on it. `!!str` and any
/// tag outside `tag:yaml.org,2002:` it does not resolve (a custom `!foo` reads as a string);
/// `!!bool`, `!!int`, `!!float`, `!!null` and `!!timestamp` resolve the value and fail the
/// file when it is not one (`cannot decode !!str `x` as a !!bool`); `!!binary` is base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagClass {
    /// No tag: a plain scalar resolves by its text, a quoted one is a string.
    None,
    /// `!!str`, or a tag go-yaml does not resolve (`!foo`, `!!map` on a scalar): a string.
    Str,
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    /// `!!binary`: the node's value is the decoded text.
    Binary,
}

impl TagClass {
    /// The class of a tag, from its suffix in `tag:yaml.org,2002:` (`None` for another
    /// namespace).
    pub(super) fn of(core_suffix: Option<&str>) -> TagClass {
        match core_suffix {
            Some("bool") => TagClass::Bool,
            Some("int") => TagClass::Int,
            Some("float") => TagClass::Float,
            Some("null") => TagClass::Null,
            Some("timestamp") => TagClass::Timestamp,
            Some("binary") => TagClass::Binary,
            _ => TagClass::Str,
        }
    }

    /// The tag as go-yaml writes it in a message (`!!bool`).
    pub fn short(self) -> &'static str {
        match self {
            TagClass::None | TagClass::Str => "!!str",
            TagClass::Bool => "!!bool",
            TagClass::Int => "!!int",
            TagClass::Float => "!!float",
            TagClass::Null => "!!null",
            TagClass::Timestamp => "!!timestamp",
            TagClass::Binary => "!!binary",
        }
    }
}

/// One node: 24 bytes. What `a` and `b` hold depends on the tag: a scalar's value (a source
/// range, or an index into the owned strings), a collection's children (start and length in
/// its arena), an alias's target.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub(super) start: u32,
    pub(super) end: u32,
    /// For a mapping value: the node id of its key (`u32::MAX` otherwise).
    pub(super) key_of: u32,
    pub(super) a: u32,
    pub(super) b: u32,
    pub(super) tag: Tag,
    /// Scalar style (`Plain` for other nodes).
    pub(super) style: Style,
    pub(super) flags: u8,
}

impl Node {
    /// Source bytes of the node's content. For block collections this runs from the first
    /// child to the end of the last child; for flow collections it includes the brackets.
    /// Anchors and tags are not part of it.
    pub fn span(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The key node this node is the value of, if it is a mapping value.
    pub fn key(&self) -> Option<NodeId> {
        (self.key_of != u32::MAX).then_some(self.key_of)
    }

    pub(super) fn layout(&self) -> Layout {
        if self.flags & FLOW != 0 {
            Layout::Flow
        } else {
            Layout::Block
        }
    }
}

/// A parsed single-document YAML text.
#[derive(Debug)]
pub struct Document<'a> {
    pub src: &'a str,
    pub(super) nodes: Vec<Node>,
    /// Mapping entries, each mapping's contiguous.
    pub(super) pairs: Vec<(NodeId, NodeId)>,
    /// Sequence items, each sequence's contiguous.
    pub(super) items: Vec<NodeId>,
    /// Scalar values that are not a slice of the source (escapes, folded lines).
    pub(super) owned: Vec<String>,
    /// The top node; `None` for a document with no content (empty or only comments).
    pub root: Option<NodeId>,
    pub lines: LineIndex,
    /// The line break the file uses: `"\r\n"` when its first line break is CRLF, else `"\n"`.
    pub newline: &'static str,
    /// `&name` written on a node, and the span of that token (few nodes have one, so they
    /// live here rather than in every node).
    pub anchors: HashMap<NodeId, (Cow<'a, str>, Range<usize>)>,
    /// Whether any mapping has a `<<` merge key (most files have none, and then a missing key
    /// needs no second look).
    pub(super) has_merge_keys: bool,
    /// Whether the text has any alias (without one, nothing can expand).
    pub(super) has_aliases: bool,
    /// Explicit tags written on scalars.
    pub(super) tags: HashMap<NodeId, TagClass>,
    /// Where a second YAML document starts (`---`), if the stream has one: kubectl reads the
    /// first document only, and nothing from here on was parsed.
    pub rest: Option<usize>,
    /// Keys written twice in one mapping: `(earlier, later)` key nodes (see
    /// [`Document::get`]: the later one is what kubectl reads).
    pub duplicates: Vec<(NodeId, NodeId)>,
}

impl<'a> Document<'a> {
    /// Every node under `root` (itself last), children before their parent, in document
    /// order otherwise: an alias comes after the node it refers to unless that node contains
    /// it. Iterative, so any nesting depth is safe. The bottom-up passes over the tree
    /// (alias expansion, "does this hold a target") are folds over this order.
    pub fn post_order(&self, root: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut stack = vec![(root, false)];
        std::iter::from_fn(move || loop {
            let (id, children_done) = stack.pop()?;
            match self.kind(id) {
                NodeKind::Mapping { entries, .. } if !children_done => {
                    stack.push((id, true));
                    for &(k, v) in entries.iter().rev() {
                        stack.push((v, false));
                        stack.push((k, false));
                    }
                }
                NodeKind::Sequence { items, .. } if !children_done => {
                    stack.push((id, true));
                    stack.extend(items.iter().rev().map(|&i| (i, false)));
                }
                _ => return Some(id),
            }
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether the text has any alias (without one, every node is seen in one place only).
    pub fn has_aliases(&self) -> bool {
        self.has_aliases
    }

    /// Whether key node `k` is a merge key (`<<`) as go-yaml reads one.
    pub fn is_merge_key(&self, k: NodeId) -> bool {
        self.nodes[k as usize].flags & MERGE != 0
    }

    /// Whether scalar `id` is written with a tag (`!!str 1`, `!!binary …`).
    pub fn is_tagged(&self, id: NodeId) -> bool {
        let n = &self.nodes[id as usize];
        n.tag == Tag::Scalar && n.flags & TAGGED != 0
    }

    /// Where the anchor (`&name`) written on node `id` is, if it has one.
    pub fn anchor_span(&self, id: NodeId) -> Option<Range<usize>> {
        self.anchors.get(&id).map(|(_, r)| r.clone())
    }

    /// Line of the anchor (`&name`) written on node `id`, if it has one.
    pub fn anchor_line(&self, id: NodeId) -> Option<usize> {
        let (_, range) = self.anchors.get(&id)?;
        Some(self.lines.line(range.start))
    }

    /// The anchor name written on a node (`&name`), if any.
    pub fn anchor(&self, id: NodeId) -> Option<&str> {
        if self.anchors.is_empty() {
            return None;
        }
        self.anchors.get(&id).map(|(name, _)| name.as_ref())
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// What node `id` is (aliases are not followed; see [`Document::resolve`]).
    pub fn kind(&self, id: NodeId) -> NodeKind<'_> {
        let n = &self.nodes[id as usize];
        let (a, b) = (n.a as usize, n.b as usize);
        match n.tag {
            Tag::Scalar => NodeKind::Scalar {
                value: self.value_of(n),
                style: n.style,
                null: n.flags & NULL != 0,
            },
            Tag::Mapping => NodeKind::Mapping {
                layout: n.layout(),
                entries: &self.pairs[a..a + b],
            },
            Tag::Sequence => NodeKind::Sequence {
                layout: n.layout(),
                items: &self.items[a..a + b],
            },
            Tag::Alias => NodeKind::Alias { target: n.a },
        }
    }

    fn value_of(&self, n: &Node) -> &str {
        if n.flags & OWNED != 0 {
            &self.owned[n.a as usize]
        } else {
            &self.src[n.a as usize..(n.a + n.b) as usize]
        }
    }

    /// Follow aliases to the node that holds the content.
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        // An alias always points at an earlier, complete node, so this terminates.
        loop {
            let n = &self.nodes[id as usize];
            if n.tag != Tag::Alias {
                return id;
            }
            id = n.a;
        }
    }

    /// The decoded text of a scalar (after resolving aliases); `None` for collections and null.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        let n = &self.nodes[self.resolve(id) as usize];
        (n.tag == Tag::Scalar && n.flags & NULL == 0).then(|| self.value_of(n))
    }

    /// Entries of a mapping (after resolving aliases), or `None` if the node is no mapping.
    pub fn entries(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        let n = &self.nodes[self.resolve(id) as usize];
        (n.tag == Tag::Mapping).then(|| &self.pairs[n.a as usize..(n.a + n.b) as usize])
    }

    /// Items of a sequence (after resolving aliases), or `None` if the node is no sequence.
    pub fn items(&self, id: NodeId) -> Option<&[NodeId]> {
        let n = &self.nodes[self.resolve(id) as usize];
        (n.tag == Tag::Sequence).then(|| &self.items[n.a as usize..(n.a + n.b) as usize])
    }

    /// Whether scalar `id` (aliases followed) reads `key`.
    fn is_key(&self, id: NodeId, key: &str) -> bool {
        let n = &self.nodes[self.resolve(id) as usize];
        n.tag == Tag::Scalar
            && n.flags & NULL == 0
            && (n.flags & OWNED != 0 || n.b as usize == key.len())
            && self.value_of(n) == key
    }

    /// The value under `key` in mapping `map`, as go-yaml v2 (and so kubectl) reads it.
    /// Returns the value's node id (unresolved, so callers can see aliases).
    ///
    /// go-yaml v2 decodes a mapping's entries in order into one map, so the last entry
    /// that sets a key wins: of a key written twice, the second; and a merge key
    /// (`<<: *a`, `<<: [*a, *b]`) sets every key of its mapping(s) where it stands,
    /// overriding keys written before it, and overridden by keys written after it. Of a
    /// merge list, the first mapping that has the key wins (go-yaml applies the list from
    /// its last item to its first). The YAML spec's rule (keys of the mapping itself always
    /// win) is not what kubectl does.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_depth(map, key, 0)
    }

    fn get_depth(&self, map: NodeId, key: &str, depth: usize) -> Option<NodeId> {
        let entries = self.entries(map)?;
        if !self.has_merge_keys {
            return entries
                .iter()
                .rev()
                .find(|&&(k, _)| self.is_key(k, key))
                .map(|&(_, v)| v);
        }
        for &(k, v) in entries.iter().rev() {
            if self.is_merge_key(k) {
                if depth > 32 {
                    continue;
                }
                let found = match self.items(v) {
                    Some(sources) => sources
                        .iter()
                        .find_map(|&s| self.get_depth(s, key, depth + 1)),
                    None => self.get_depth(v, key, depth + 1),
                };
                if found.is_some() {
                    return found;
                }
            } else if self.is_key(k, key) {
                return Some(v);
            }
        }
        None
    }

    /// The entries written in mapping `map` that kubectl reads, in document order: not an
    /// entry whose key is written again later, nor one a later merge key overrides (see
    /// [`Document::get`]). Linear in the mapping and what it merges.
    pub fn read_entries(&self, map: NodeId) -> Cow<'_, [(NodeId, NodeId)]> {
        let entries = self.entries(map).unwrap_or(&[]);
        if self.duplicates.is_empty() && !self.has_merge_keys {
            return Cow::Borrowed(entries);
        }
        let mut set: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(entries.len());
        for &(k, v) in entries.iter().rev() {
            if self.is_merge_key(k) {
                self.merged_keys(v, &mut set, 0);
            } else if self.scalar(k).is_none_or(|key| set.insert(key)) {
                out.push((k, v));
            }
        }
        out.reverse();
        Cow::Owned(out)
    }

    /// Every key a merge key's value `merged` sets, into `set`.
    fn merged_keys<'s>(
        &'s self,
        merged: NodeId,
        set: &mut std::collections::HashSet<&'s str>,
        depth: usize,
    ) {
        if depth > 32 {
            return;
        }
        let sources = match self.items(merged) {
            Some(items) => items,
            None => std::slice::from_ref(&merged),
        };
        for &s in sources {
            for &(k, v) in self.entries(s).unwrap_or(&[]) {
                if self.is_merge_key(k) {
                    self.merged_keys(v, set, depth + 1);
                } else if let Some(key) = self.scalar(k) {
                    set.insert(key);
                }
            }
        }
    }

    /// The value of mapping `map`'s first merge key (`<<: *a` or `<<: [*a, *b]`), if any.
    pub fn merge_value(&self, map: NodeId) -> Option<NodeId> {
        self.merge_values(map).next()
    }

    /// The values of all of mapping `map`'s merge keys, in document order.
    pub fn merge_values(&self, map: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let entries = if self.has_merge_keys {
            self.entries(map).unwrap_or(&[])
        } else {
            &[]
        };
        entries
            .iter()
            .filter(|&&(k, _)| self.nodes[k as usize].flags & MERGE != 0)
            .map(|&(_, v)| v)
    }

    /// The key node of the entry `key` written in mapping `map` (of a key written twice,
    /// the last: the one kubectl reads).
    pub fn get_key(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entries(map)?
            .iter()
            .rev()
            .find(|&&(k, _)| self.is_key(k, key))
            .map(|&(k, _)| k)
    }

    /// The explicit tag written on scalar `id` (aliases followed), if any.
    pub fn tag_class(&self, id: NodeId) -> TagClass {
        if self.tags.is_empty() {
            return TagClass::None;
        }
        self.tags
            .get(&self.resolve(id))
            .copied()
            .unwrap_or(TagClass::None)
    }

    /// Every scalar with an explicit tag, with its class.
    pub fn tagged(&self) -> impl Iterator<Item = (NodeId, TagClass)> + '_ {
        self.tags.iter().map(|(&id, &c)| (id, c))
    }

    /// 1-based line and character column of a byte offset.
    pub fn position(&self, byte: usize) -> Position {
        self.lines.position_in(self.src, byte)
    }

    /// Short name of what a node is, for messages ("a mapping", "a string", ...).
    pub fn describe(&self, id: NodeId) -> &'static str {
        match self.kind(self.resolve(id)) {
            NodeKind::Scalar { null: true, .. } => "empty (null)",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Mapping { .. } => "a mapping",
            NodeKind::Sequence { .. } => "a list",
            NodeKind::Alias { .. } => "an alias",
        }
    }

    /// The text of a scalar key node as written (no alias following), for key comparisons.
    pub(super) fn key_text(&self, k: NodeId) -> Option<&str> {
        let n = &self.nodes[k as usize];
        (n.tag == Tag::Scalar).then(|| self.value_of(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(text: &str, map: &str, key: &str) -> Option<String> {
        let doc = Document::parse(text).unwrap();
        let m = doc.get(doc.root.unwrap(), map).unwrap();
        doc.get(m, key)
            .and_then(|v| doc.scalar(v))
            .map(str::to_string)
    }

    #[test]
    fn merge_keys_are_what_go_yaml_merges() {
        let base = "base: &b {y: merged}\n";
        // Plain and untagged, or tagged !!merge: a merge key.
        assert_eq!(
            lookup(&format!("{base}c:\n  <<: *b\n"), "c", "y").as_deref(),
            Some("merged")
        );
        assert_eq!(
            lookup(&format!("{base}c:\n  !!merge \"<<\": *b\n"), "c", "y").as_deref(),
            Some("merged")
        );
        assert_eq!(
            lookup(&format!("{base}c:\n  <<: [{{z: 1}}, *b]\n"), "c", "y").as_deref(),
            Some("merged")
        );
        // A key written after the merge key wins; one written before it is overridden by
        // the merge (go-yaml v2's order, which kubectl v1.32 shows).
        assert_eq!(
            lookup(&format!("{base}c:\n  <<: *b\n  y: own\n"), "c", "y").as_deref(),
            Some("own")
        );
        assert_eq!(
            lookup(&format!("{base}c:\n  y: own\n  <<: *b\n"), "c", "y").as_deref(),
            Some("merged")
        );
        // Two merge keys: each applies where it stands.
        assert_eq!(
            lookup(
                &format!("{base}c:\n  <<: *b\n  y: own\n  <<: *b\n"),
                "c",
                "y"
            )
            .as_deref(),
            Some("merged")
        );
        // A merged mapping with a duplicate key: its last one.
        assert_eq!(
            lookup("b: &b {y: 1, y: 2}\nc:\n  <<: *b\n", "c", "y").as_deref(),
            Some("2")
        );
        // Of a merge list, the first mapping that has the key, even before an own key.
        assert_eq!(
            lookup(
                "a: &a {y: first}\nb: &b {y: second}\nc:\n  y: own\n  <<: [*a, *b]\n",
                "c",
                "y"
            )
            .as_deref(),
            Some("first")
        );
        // Quoted, !!str, or an alias to a `<<` scalar: an ordinary key named `<<`, even when
        // the file has a real merge key elsewhere.
        let real = "other:\n  <<: {}\n";
        for key in ["\"<<\"", "'<<'", "!!str <<", "*m"] {
            let text = format!("{base}{real}m: &m <<\nc:\n  {key} : *b\n");
            assert_eq!(lookup(&text, "c", "y"), None, "{key}");
        }
    }

    #[test]
    fn a_key_written_twice_reads_as_the_last() {
        let text = "kind: Config\nkind: Other\nm: {a: 1, b: 2, a: 3}\n";
        let doc = Document::parse(text).unwrap();
        let root = doc.root.unwrap();
        assert_eq!(
            doc.get(root, "kind").and_then(|v| doc.scalar(v)),
            Some("Other")
        );
        assert_eq!(lookup(text, "m", "a").as_deref(), Some("3"));
        let lines: Vec<(usize, usize)> = doc
            .duplicates
            .iter()
            .map(|&(a, b)| {
                (
                    doc.position(doc.node(a).start as usize).line,
                    doc.position(doc.node(b).start as usize).column,
                )
            })
            .collect();
        assert_eq!(lines, [(1, 1), (3, 17)]);
        assert_eq!(
            doc.get_key(root, "kind").map(|k| doc.node(k).start),
            Some(13)
        );
    }

    /// Edits go to the entry kubectl reads, and removing it is refused when an earlier
    /// entry of the same key would take its place.
    #[test]
    fn edits_of_a_key_written_twice_go_to_the_last() {
        let text = "m:\n  a: 1\n  b: 2\n  a: 3\n";
        let doc = Document::parse(text).unwrap();
        let m = doc.get(doc.root.unwrap(), "m").unwrap();
        let e = crate::yaml::remove_entry(&doc, m, "a").unwrap_err();
        assert!(e.to_string().contains("also written at line 2"), "{e}");
        let c = crate::yaml::replace_entry(&doc, m, "a", "a", &crate::yaml::NewValue::str("x"))
            .unwrap();
        assert_eq!(doc.lines.line(c.edit.range.start), 4);
    }

    #[test]
    fn only_the_first_document_is_read() {
        let text = "a: 1\n---\na: 2\n: : [ not yaml\n";
        let doc = Document::parse(text).unwrap();
        assert_eq!(doc.rest, Some(5));
        assert_eq!(
            doc.get(doc.root.unwrap(), "a").and_then(|v| doc.scalar(v)),
            Some("1")
        );
        let lead = Document::parse("---\na: 1\n").unwrap();
        assert_eq!(lead.rest, None);
        let empty_first = Document::parse("---\n---\na: 1\n").unwrap();
        assert_eq!(empty_first.rest, Some(4));
        assert!(empty_first.scalar(empty_first.root.unwrap()).is_none());
    }

    #[test]
    fn explicit_tags_are_recorded() {
        let doc = Document::parse(
            "a: !!bool \"true\"\nb: !!str ~\nc: !!null \"\"\nd: !!binary aHR0cHM6Ly9i\ne: !foo 5\n",
        )
        .unwrap();
        let root = doc.root.unwrap();
        let v = |k| doc.get(root, k).unwrap();
        assert_eq!(doc.tag_class(v("a")), TagClass::Bool);
        assert_eq!(doc.scalar(v("b")), Some("~"));
        assert_eq!(doc.scalar(v("c")), None);
        assert_eq!(doc.scalar(v("d")), Some("https://b"));
        assert_eq!(doc.tag_class(v("e")), TagClass::Str);
        assert!(Document::parse("a: !!binary '%%%'\n").is_err());
        // Go's base64 skips line breaks, not spaces (a plain scalar folds lines to spaces).
        let block = Document::parse("a: !!binary |\n  aHR0cHM6\n  Ly9i\n").unwrap();
        assert_eq!(
            block.scalar(block.get(block.root.unwrap(), "a").unwrap()),
            Some("https://b")
        );
        assert!(Document::parse("a: !!binary aHR0cHM6\n  Ly9i\n").is_err());
    }

    #[test]
    fn spans_children_and_values() {
        let text = "a: {k: v, l: [1, 2]}\nb:\n- x\n- 'q''s'\nc:\nd: |\n  text\n";
        let doc = Document::parse(text).unwrap();
        let root = doc.root.unwrap();
        let a = doc.get(root, "a").unwrap();
        assert_eq!(&text[doc.node(a).span()], "{k: v, l: [1, 2]}");
        assert!(
            matches!(doc.kind(a), NodeKind::Mapping { layout: Layout::Flow, entries } if entries.len() == 2)
        );
        let b = doc.get(root, "b").unwrap();
        assert!(
            matches!(doc.kind(b), NodeKind::Sequence { layout: Layout::Block, items } if items.len() == 2)
        );
        // A block sequence's span runs from its first item (the first dash is its parent's).
        assert_eq!(&text[doc.node(b).span()], "x\n- 'q''s'");
        let q = doc.items(b).unwrap()[1];
        // Decoded (owned) value, source span with the quotes.
        assert_eq!(doc.scalar(q), Some("q's"));
        assert_eq!(&text[doc.node(q).span()], "'q''s'");
        assert_eq!(doc.node(q).key(), None);
        let c = doc.get(root, "c").unwrap();
        assert!(matches!(
            doc.kind(c),
            NodeKind::Scalar {
                null: true,
                value: "",
                ..
            }
        ));
        assert_eq!(doc.scalar(c), None);
        let d = doc.get(root, "d").unwrap();
        assert_eq!(doc.scalar(d), Some("text\n"));
        assert_eq!(doc.scalar(doc.node(d).key().unwrap()), Some("d"));
        assert_eq!(doc.len(), 17);
    }
}
